"""A client's address placed on the map by a geocoder: a real HTTP server on
this machine answers as Nominatim's /search does (a thread of the test
process), so the request the app sends and every way a provider fails are
tried over the wire, never mocked."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest
from sqlalchemy import select

from saas import db, geocoding
from tenants.clients.models import Client
from tests.clients.test_clients import agency_admin_coordinator, client_form  # noqa: F401
from tests.factories import login

PLACES = {
    # q -> Nominatim's jsonv2 answer (the fields the app reads, and a few it ignores)
    "12 Harbour Street": [
        {
            "place_id": 1,
            "lat": "51.5033635",
            "lon": "-0.1276248",
            "display_name": "12 Harbour Street, London",
            "importance": 0.6,
        }
    ],
    "5 Mill Lane": [{"lat": "53.4807593", "lon": "-2.2426307", "display_name": "5 Mill Lane, Manchester"}],
    "Nowhere At All": [],
}


class StandIn(BaseHTTPRequestHandler):
    """Nominatim's /search: a known address, none, or a failure chosen by the query."""

    seen: list[dict] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        url = urlparse(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        StandIn.seen.append({"path": url.path, **query, "agent": self.headers.get("User-Agent", "")})
        StandIn.seen[-1]["language"] = self.headers.get("Accept-Language", "")
        q = query.get("q", "")
        if url.path != "/search":
            return self._send(404, b"not found", "text/plain")
        if q == "Slow Road":
            time.sleep(2)
            return self._send(200, b"[]")
        if q == "Broken Road":
            return self._send(502, b"<html>Bad gateway</html>", "text/html")
        if q == "Garbled Road":
            return self._send(200, b'[{"lat": "north", "lon": "west"}]')
        return self._send(200, json.dumps(PLACES.get(q, [])).encode())

    def _send(self, status: int, body: bytes, kind: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the app gave up waiting (the slow road)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - http.server's name
        pass


@pytest.fixture
def stand_in() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), StandIn)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    StandIn.seen = []
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def geocoder(app, stand_in, monkeypatch) -> str:
    monkeypatch.setitem(app.config, "GEOCODER_URL", stand_in)
    monkeypatch.setitem(app.config, "GEOCODER_TIMEOUT", 0.5)
    return stand_in


def _client(agency, name: str = "Margaret Thornbury") -> Client:
    with db.tenant_scope(agency.id):
        return db.session.scalar(
            select(Client).where(Client.full_name == name).execution_options(populate_existing=True)
        )


def _position(row: Client) -> tuple:
    return (row.latitude, row.longitude)


def test_a_new_address_is_placed_on_the_map(client, agency_admin_coordinator, geocoder):  # noqa: F811
    agency, admin, _ = agency_admin_coordinator
    login(client, admin)
    form = client_form(latitude="", longitude="")
    page = client.get(f"/a/{agency.slug}/clients/new")
    assert "Found from the address when it is entered or changed" in page.text
    added = client.post(f"/a/{agency.slug}/clients/new", data=form, follow_redirects=True)
    assert added.status_code == 200 and "The address was placed on the map." in added.text
    assert _position(_client(agency)) == (Decimal("51.503364"), Decimal("-0.127625"))
    (asked,) = StandIn.seen
    assert asked["path"] == "/search" and asked["q"] == "12 Harbour Street"
    assert asked["format"] == "jsonv2" and asked["limit"] == "1"
    assert asked["agent"].startswith("CareHub/") and asked["language"] == "en"


def test_an_edit_looks_up_only_a_changed_address_and_a_typed_position_wins(
    client,
    agency_admin_coordinator,  # noqa: F811
    geocoder,
):
    agency, admin, _ = agency_admin_coordinator
    login(client, admin)
    client.post(f"/a/{agency.slug}/clients/new", data=client_form(latitude="", longitude=""))
    row = _client(agency)
    edit = f"/a/{agency.slug}/clients/{row.id}/edit"
    found = {"latitude": str(row.latitude), "longitude": str(row.longitude)}
    # the address unchanged (another field edited): not asked again
    assert client.post(edit, data=client_form(phone="01234 000000", **found)).status_code == 302
    assert len(StandIn.seen) == 1
    # a new address, the position left as it was: looked up again
    assert client.post(edit, data=client_form(address="5 Mill Lane", **found)).status_code == 302
    assert len(StandIn.seen) == 2
    assert _position(_client(agency)) == (Decimal("53.480759"), Decimal("-2.242631"))
    # a new address with a position typed by hand: the typed one is kept, nobody asked
    typed = {"latitude": "52.000001", "longitude": "-1.000001"}
    assert client.post(edit, data=client_form(address="12 Harbour Street", **typed)).status_code == 302
    assert len(StandIn.seen) == 2
    assert _position(_client(agency)) == (Decimal("52.000001"), Decimal("-1.000001"))
    # the address removed: its position goes with it
    assert client.post(edit, data=client_form(address="", **typed)).status_code == 302
    assert _position(_client(agency)) == (None, None) and len(StandIn.seen) == 2


@pytest.mark.parametrize(
    ("address", "message"),
    [
        ("Nowhere At All", "No map position was found for this address, so the position is empty"),
        ("Slow Road", "The map service did not answer, so the position is empty"),
        ("Broken Road", "The map service did not answer, so the position is empty"),
        ("Garbled Road", "The map service did not answer, so the position is empty"),
    ],
)
def test_a_failed_lookup_leaves_the_position_empty_and_says_so(
    client,
    agency_admin_coordinator,  # noqa: F811
    geocoder,
    address,
    message,
):
    agency, admin, _ = agency_admin_coordinator
    login(client, admin)
    started = time.monotonic()
    added = client.post(
        f"/a/{agency.slug}/clients/new",
        data=client_form(address=address, latitude="", longitude=""),
        follow_redirects=True,
    )
    assert time.monotonic() - started < 1.8, "the page does not wait past the geocoder's timeout"
    assert added.status_code == 200 and "Client added." in added.text and message in added.text
    row = _client(agency)
    assert row is not None and row.address == address and _position(row) == (None, None)


def test_without_a_geocoder_the_position_is_typed_by_hand(client, agency_admin_coordinator, app):  # noqa: F811
    agency, admin, _ = agency_admin_coordinator
    assert not app.config.get("GEOCODER_URL")
    with app.app_context():
        assert geocoding.configured() is None
    login(client, admin)
    page = client.get(f"/a/{agency.slug}/clients/new")
    assert "Optional map position, for check-in distance" in page.text
    added = client.post(f"/a/{agency.slug}/clients/new", data=client_form(), follow_redirects=True)
    assert (
        added.status_code == 200 and "placed on the map" not in added.text and "map service" not in added.text
    )
    assert _position(_client(agency)) == (Decimal("51.501000"), Decimal("-0.141000"))
    # and without any position, the client is saved all the same
    client.post(
        f"/a/{agency.slug}/clients/new", data=client_form(full_name="No Map", latitude="", longitude="")
    )
    assert _position(_client(agency, "No Map")) == (None, None)


def test_the_nominatim_answer_is_read_strictly(app, stand_in):
    finder = geocoding.NominatimGeocoder(stand_in, timeout=0.5)
    assert finder.locate("12 Harbour Street", language="zh_CN") == geocoding.Position(
        Decimal("51.503364"), Decimal("-0.127625")
    )
    assert StandIn.seen[-1]["language"] == "zh-CN"
    assert finder.locate("Nowhere At All") is None
    assert finder.locate("   ") is None and len(StandIn.seen) == 2, "a blank address is not sent"
    for failing in ("Slow Road", "Broken Road", "Garbled Road"):
        with pytest.raises(geocoding.GeocodingFailed):
            finder.locate(failing)
    with pytest.raises(geocoding.GeocodingFailed):
        geocoding.NominatimGeocoder("http://127.0.0.1:9", timeout=0.5).locate("12 Harbour Street")
