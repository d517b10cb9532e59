"""What a check-in or check-out made on the carer's phone brings: the phone's
own time (the carer may have been offline for hours), and presence shown by
the client's printed QR code instead of, or as well as, the position.

The time: the phone sends when the carer acted (`at`, its own clock) and,
with each sending, its clock at that moment (`sent`). The server's clock
minus `sent` is how far the phone's clock is off (give or take the network's
delay), so the moment of the action is `at` corrected by it. A phone further
off than the agency allows (`phone_clock_tolerance_minutes`) flags the visit
for the office; both raw times are kept.

The code: `carehub-presence:<client id>.<version>.<signature>`, signed with
the app's key per client and version. The office bumps the version to revoke
a printed code (lost, copied); a code of an earlier version is refused with
its own message, never taken as presence.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import segno
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from saas import audit, db
from saas.auth import tokens
from saas.models import Agency, ApiToken, Membership
from saas.settings import settings_of
from tenants.clients.models import Client
from tenants.members.services import create_token, revoke_token
from tenants.scheduling.errors import VisitError

PRESENCE_PREFIX = "carehub-presence:"
PRESENCE_MODES = ("position", "qr", "either")
# a phone's time more than this after the server's is not a clock that is off:
# it is a time typed or made up
_FUTURE_LIMIT = timedelta(days=1)


@dataclass(frozen=True)
class PhoneTime:
    """The phone's clock when the carer acted, and when it sent the request
    (None: not said; the action's own time is then taken as sent)."""

    at: datetime
    sent: datetime | None = None


@dataclass(frozen=True)
class Moment:
    when: datetime  # the action's time on the server's clock
    phone_at: datetime | None
    received: datetime
    off_s: int | None
    flagged: bool


def parse_phone_time(raw: object, field: str) -> datetime | None:
    """An ISO 8601 time with its offset (what a phone's `toISOString()`
    writes); absent is None; anything else is refused next to the field."""
    if raw in (None, ""):
        return None
    if not isinstance(raw, str) or len(raw) > 40:
        raise VisitError("phone_time_invalid", field)
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise VisitError("phone_time_invalid", field) from None
    if moment.tzinfo is None:
        raise VisitError("phone_time_invalid", field)
    return moment


def moment_of(agency: Agency, phone: PhoneTime | None) -> Moment:
    """When the action happened, on the server's clock."""
    received = db.utcnow()
    if phone is None:
        return Moment(received, None, received, None, False)
    tolerance = timedelta(minutes=settings_of(agency).get("phone_clock_tolerance_minutes"))
    if phone.sent is None:
        # how far the clock is off cannot be told: only a time ahead of ours shows it
        if phone.at - received > _FUTURE_LIMIT:
            raise VisitError("phone_time_invalid", "phone_time")
        ahead = phone.at - received
        return Moment(min(phone.at, received), phone.at, received, None, ahead > tolerance)
    off = received - phone.sent
    if phone.at > phone.sent or -off > _FUTURE_LIMIT:
        raise VisitError("phone_time_invalid", "phone_time")
    when = min(phone.at + off, received)
    return Moment(when, phone.at, received, int(off.total_seconds()), abs(off) > tolerance)


# -- presence by code ------------------------------------------------------------------------------


def _signature(client_id: uuid.UUID, version: int) -> str:
    key = current_app.config["SECRET_KEY"]
    key = key.encode() if isinstance(key, str) else key
    message = f"presence:{client_id}:{version}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:32]


def presence_code(client: Client) -> str:
    """The text the client's printed QR code holds."""
    version = client.presence_code_version
    return f"{PRESENCE_PREFIX}{client.id.hex}.{version}.{_signature(client.id, version)}"


def check_presence_code(client: Client, code: str) -> None:
    """The scanned code is this client's current one; otherwise a refusal that
    says which: not a CareHub code, another client's, or revoked."""
    if not isinstance(code, str) or not code.startswith(PRESENCE_PREFIX):
        raise VisitError("code_unknown", "presence_code")
    parts = code[len(PRESENCE_PREFIX) :].split(".")
    if len(parts) != 3 or not parts[1].isdigit() or len(parts[1]) > 9:
        raise VisitError("code_unknown", "presence_code")
    try:
        client_id = uuid.UUID(hex=parts[0])
    except ValueError:
        raise VisitError("code_unknown", "presence_code") from None
    version = int(parts[1])
    if not hmac.compare_digest(parts[2], _signature(client_id, version)):
        raise VisitError("code_unknown", "presence_code")
    if client_id != client.id:
        raise VisitError("code_other_client", "presence_code")
    if version != client.presence_code_version:
        raise VisitError("code_revoked", "presence_code")


def presence_of(client: Client | None, *, position_given: bool, code: str | None) -> tuple[str | None, bool]:
    """How presence was shown ("qr", "position" or None) and whether the
    client's rule asked for more (flagged for the office, never refused: the
    client is waiting)."""
    mode = client.presence_mode if client is not None else "position"
    shown = None
    if code:
        if client is None:
            raise VisitError("code_unknown", "presence_code")
        check_presence_code(client, code)
        shown = "qr"
    elif position_given:
        shown = "position"
    missing = (mode == "qr" and shown != "qr") or (mode == "either" and shown is None)
    return shown, missing


# -- the phone's own token -------------------------------------------------------------------------


def issue_phone_token(membership: Membership) -> tuple[uuid.UUID, str]:
    """A personal API token for the phone app of this member (listed with
    their tokens, revoked at sign-out or when the membership ends): its id and
    the token, shown once."""
    day = db.utcnow().date().isoformat()
    token = create_token(membership, _("Phone app, %(day)s", day=day))
    _agency, secret = token.split(".", 1)
    token_id = db.session.scalar(select(ApiToken.id).where(ApiToken.token_hash == tokens.digest(secret)))
    assert token_id is not None  # just made, in this transaction
    return token_id, token


def revoke_phone_token(membership: Membership, token_id: uuid.UUID) -> None:
    """The member's own token only; another's id is ignored."""
    token = db.session.scalar(
        select(ApiToken).where(ApiToken.id == token_id, ApiToken.membership_id == membership.id)
    )
    if token is not None:
        revoke_token(token)


# -- the client's presence rule and code sheet ------------------------------------------------------


def set_presence_mode(client: Client, mode: str) -> None:
    """How carers show they are at this client's home: position, the printed
    code, or either."""
    if mode not in PRESENCE_MODES:
        raise VisitError("presence_mode_unknown", "presence_mode")
    if client.presence_mode != mode:
        client.presence_mode = mode
        audit.record("client.presence_mode", str(client.id), mode=mode)


def replace_presence_code(client: Client) -> None:
    """A new code for the home (a sheet lost or copied): the printed one stops
    counting at once, also for a check-in queued on a phone with it."""
    client.presence_code_version += 1
    audit.record("client.presence_code_replaced", str(client.id), version=client.presence_code_version)


def sheet_locale(client: Client, agency: Agency) -> str:
    """The language of the client's code sheet: the first of the client's
    languages that the app speaks, else the agency's."""
    for language in client.languages or []:
        word = language.strip().lower()
        if word.startswith(("zh", "chinese", "mandarin", "cantonese", "中文", "汉语", "普通话", "粤语")):
            return "zh_CN"
        if word.startswith(("en", "english", "英语")):
            return "en"
    return "zh_CN" if agency.locale.startswith("zh") else "en"


def presence_qr_svg(client: Client) -> str:
    """The client's code as an SVG drawing, to print."""
    out = io.BytesIO()
    code = segno.make(presence_code(client), error="m")
    code.save(out, kind="svg", scale=8, border=4, xmldecl=False, svgns=True)
    return out.getvalue().decode()
