"""Where an address is: a geocoding provider behind a small interface.

`Geocoder.locate(address)` answers a `Position`, None when the provider knows
no such place, and raises `GeocodingFailed` when it could not be asked (no
answer within the timeout, an error status, a document it cannot read).
`NominatimGeocoder` speaks Nominatim's search API (`GET <url>/search?q=...
&format=jsonv2&limit=1`), which OpenStreetMap's servers, a self-hosted
Nominatim and several commercial providers answer. `GEOCODER_URL` configures
it (with `GEOCODER_TIMEOUT`, seconds); without it `configured()` is None and
positions are typed by hand.

An address is personal data: it goes only to the provider the platform's
operator configured, and it is never logged."""

from __future__ import annotations

import json
import logging
import math
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from flask import current_app, has_app_context

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 3.0  # seconds: the page waits for it
MAX_BODY = 256 * 1024  # a search answer is a few kB


@dataclass(frozen=True)
class Position:
    latitude: Decimal
    longitude: Decimal


class GeocodingFailed(Exception):
    """The provider could not be asked or gave no readable answer."""


class Geocoder(Protocol):
    def locate(self, address: str, *, language: str | None = None) -> Position | None: ...


class NominatimGeocoder:
    """A Nominatim-compatible search endpoint at `base_url`."""

    def __init__(
        self, base_url: str, *, timeout: float = DEFAULT_TIMEOUT, user_agent: str = "CareHub"
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.user_agent = user_agent  # Nominatim's usage policy asks every client to name itself

    def locate(self, address: str, *, language: str | None = None) -> Position | None:
        query = " ".join(address.split())
        if not query:
            return None
        params = {"q": query, "format": "jsonv2", "limit": "1", "addressdetails": "0"}
        request = urllib.request.Request(  # noqa: S310 - the operator's configured http(s) URL
            f"{self.base_url}/search?{urllib.parse.urlencode(params)}",
            headers={
                "User-Agent": self.user_agent,
                "Accept": "application/json",
                **({"Accept-Language": language.replace("_", "-")} if language else {}),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                body = response.read(MAX_BODY + 1)
        except (urllib.error.URLError, TimeoutError, OSError, ValueError) as exc:
            # the reason, never the address
            log.warning("geocoding failed: %s", type(exc).__name__)
            raise GeocodingFailed(type(exc).__name__) from exc
        if len(body) > MAX_BODY:
            raise GeocodingFailed("answer too large")
        return _first_position(body)


def _first_position(body: bytes) -> Position | None:
    try:
        found = json.loads(body)
    except ValueError as exc:
        raise GeocodingFailed("not JSON") from exc
    if not isinstance(found, list):
        raise GeocodingFailed("not a list of places")
    if not found:
        return None
    place = found[0]
    try:
        latitude, longitude = float(place["lat"]), float(place["lon"])
    except (TypeError, KeyError, ValueError) as exc:
        raise GeocodingFailed("no position in the answer") from exc
    if not (math.isfinite(latitude) and math.isfinite(longitude)):
        raise GeocodingFailed("no position in the answer")
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise GeocodingFailed("position out of range")
    # the precision the clients' positions are stored with (6 places: about 10 cm)
    return Position(round(Decimal(str(latitude)), 6), round(Decimal(str(longitude)), 6))


def configured() -> Geocoder | None:
    """The platform's geocoder, or None when `GEOCODER_URL` is not set (or
    outside the app: a script writing data has no provider)."""
    if not has_app_context():
        return None
    url = current_app.config.get("GEOCODER_URL") or ""
    if not url:
        return None
    timeout = float(current_app.config.get("GEOCODER_TIMEOUT") or DEFAULT_TIMEOUT)
    base = current_app.config.get("BASE_URL") or ""
    return NominatimGeocoder(url, timeout=timeout, user_agent=f"CareHub/1.0 ({base})")


__all__ = ["Geocoder", "GeocodingFailed", "NominatimGeocoder", "Position", "configured"]
