"""A client's profile: who they are, their emergency contacts, consent, the
portal members linked to them, every read of their file."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from sqlalchemy import select

from saas import audit, db
from saas.models import Agency, Membership, Role
from saas.settings import default_of
from tenants.clients.errors import ClientError
from tenants.clients.models import Client, EmergencyContact, PortalLink
from tenants.clients.read_log import log_reads


def age_group(dob: date | None, today: date, elderly_from: int | None = None) -> str | None:
    """child (under 12), adolescent (12-17), adult, elderly (from the agency's
    `elderly_from_age`; its declared default, 60, when not given)."""
    if dob is None:
        return None
    if elderly_from is None:
        elderly_from = int(default_of("elderly_from_age"))
    age = relativedelta(today, dob).years
    if age < 12:
        return "child"
    if age < 18:
        return "adolescent"
    if age < elderly_from:
        return "adult"
    return "elderly"


def agency_today(agency: Agency) -> date:
    return agency.today()


@dataclass
class ContactData:
    name: str
    relationship: str
    phone: str


@dataclass
class ClientData:
    full_name: str
    preferred_name: str = ""
    date_of_birth: date | None = None
    gender: str = "undisclosed"
    phone: str = ""
    email: str = ""
    address: str = ""
    area: str = ""
    access_notes: str = ""
    latitude: Decimal | None = None
    longitude: Decimal | None = None
    checkin_radius_m: int = 300
    languages: list[str] = field(default_factory=list)
    family_status: str | None = None
    economic_status: str | None = None
    health_status: str | None = None
    psychological_state: str | None = None
    consent_services: bool = False
    consent_data: bool = False
    contacts: list[ContactData] = field(default_factory=list)


def _validate_client(data: ClientData, today: date) -> None:
    if not data.full_name.strip():
        raise ClientError("required", "full_name")
    if data.date_of_birth and data.date_of_birth > today:
        raise ClientError("birth_in_future", "date_of_birth")
    if (data.latitude is None) != (data.longitude is None):
        raise ClientError("position_incomplete", "latitude")
    if data.latitude is not None and not (-90 <= data.latitude <= 90):
        raise ClientError("latitude_range", "latitude")
    if data.longitude is not None and not (-180 <= data.longitude <= 180):
        raise ClientError("longitude_range", "longitude")
    if not 10 <= data.checkin_radius_m <= 50000:
        raise ClientError("radius_range", "checkin_radius_m")
    if not data.consent_services:
        raise ClientError("consent_needed", "consent_services")


def save_client(agency: Agency, data: ClientData, client: Client | None = None) -> Client:
    """Create or update a client with their emergency contacts, all or nothing."""
    _validate_client(data, agency_today(agency))
    creating = client is None
    if client is None:
        client = Client()
        db.session.add(client)
    consent_changed = creating or (client.consent_services, client.consent_data) != (
        data.consent_services,
        data.consent_data,
    )
    for name in (
        "full_name",
        "preferred_name",
        "date_of_birth",
        "gender",
        "phone",
        "email",
        "address",
        "area",
        "access_notes",
        "latitude",
        "longitude",
        "checkin_radius_m",
        "languages",
        "family_status",
        "economic_status",
        "health_status",
        "psychological_state",
        "consent_services",
        "consent_data",
    ):
        setattr(client, name, getattr(data, name))
    if consent_changed:
        client.consent_recorded_at = db.utcnow()
    db.session.flush()
    db.session.execute(
        EmergencyContact.__table__.delete().where(
            EmergencyContact.tenant_id == client.tenant_id, EmergencyContact.client_id == client.id
        )
    )
    for contact in data.contacts:
        db.session.add(
            EmergencyContact(
                client_id=client.id, name=contact.name, relationship=contact.relationship, phone=contact.phone
            )
        )
    audit.record("client.created" if creating else "client.updated", str(client.id))
    return client


def link_portal_member(client: Client, membership: Membership, relationship: str) -> PortalLink:
    if membership.role != Role.CLIENT or not membership.active:
        raise ClientError("portal_role", "membership_id")
    existing = db.session.scalar(
        select(PortalLink).where(PortalLink.client_id == client.id, PortalLink.membership_id == membership.id)
    )
    if existing is not None:
        existing.relationship = relationship
        return existing
    link = PortalLink(client_id=client.id, membership_id=membership.id, relationship=relationship)
    db.session.add(link)
    audit.record(
        "client.portal_linked", str(client.id), membership=str(membership.id), relationship=relationship
    )
    return link


def log_file_access(client_id: uuid.UUID, user_id: uuid.UUID | None, section: str) -> None:
    """One client's read: `tenants.clients.read_log` logs every read, one insert a request."""
    log_reads([client_id], section, user_id)


@dataclass(frozen=True, slots=True)
class EmergencyContactRow:
    name: str
    relationship: str
    phone: str

    @property
    def tel(self) -> str:
        """The phone as a `tel:` link: the digits and a leading +, without
        the spaces and dashes people write."""
        digits = re.sub(r"[^0-9+]", "", self.phone)
        return f"tel:{digits[:1]}{digits[1:].replace('+', '')}"


def emergency_contacts_of(client_id: uuid.UUID) -> list[EmergencyContactRow]:
    """A client's emergency contacts for someone about to need them (a carer on
    the visit sheet or the phone). They are part of that page's read of the
    client's file, which the page logs (`tenants.clients.read_log`: one insert
    a request, as "visit" or "api")."""
    rows = db.session.execute(
        select(EmergencyContact.name, EmergencyContact.relationship, EmergencyContact.phone)
        .where(EmergencyContact.client_id == client_id)
        .order_by(EmergencyContact.id)
    ).all()
    return [EmergencyContactRow(*row) for row in rows]


def has_emergency_contact(client_id: uuid.UUID) -> bool:
    return (
        db.session.scalar(select(EmergencyContact.id).where(EmergencyContact.client_id == client_id).limit(1))
        is not None
    )


def portal_client_ids(membership: Membership) -> list[uuid.UUID]:
    """The clients whose portal this member (a client's account) opens."""
    return list(
        db.session.scalars(select(PortalLink.client_id).where(PortalLink.membership_id == membership.id))
    )
