"""Samples for the notification centre: a reminder, a notification of the
agency's sample coordinator, a preference and their settings."""

from __future__ import annotations

import uuid
from datetime import time

from saas import db
from tests.samples import URL_PARAMS, AgencyWorld, sample


def _add(world: AgencyWorld, row) -> uuid.UUID:
    with db.tenant_scope(world.agency.id):
        db.session.add(row)
        db.session.commit()
        return row.id


@sample("reminders")
def _reminder(factory, world: AgencyWorld) -> uuid.UUID:
    from saas.notifications.models import Reminder

    return _add(world, Reminder(kind="visit.missed", subject=str(uuid.uuid4()), due_at=db.utcnow()))


@sample("notifications")
def _notification(factory, world: AgencyWorld) -> uuid.UUID:
    from saas.notifications.models import Notification

    return _add(
        world,
        Notification(
            membership_id=world.ids["memberships"],
            reminder_id=world.ids["reminders"],
            kind="visit.missed",
            title="Missed visit",
            link=f"/a/{world.agency.slug}/visits",
        ),
    )


@sample("notification_preferences")
def _preference(factory, world: AgencyWorld) -> uuid.UUID:
    from saas.notifications.models import NotificationPreference

    return _add(
        world,
        NotificationPreference(
            membership_id=world.ids["memberships"], kind="visit.unassigned", in_app=True, email=False
        ),
    )


@sample("notification_settings")
def _settings(factory, world: AgencyWorld) -> uuid.UUID:
    from saas.notifications.models import NotificationSettings

    return _add(
        world,
        NotificationSettings(
            membership_id=world.ids["memberships"], quiet_start=time(22, 0), quiet_end=time(7, 0)
        ),
    )


URL_PARAMS.update({"notification_id": "notifications"})


class Care:
    """An agency (any time zone) with an admin, a coordinator, a client, a
    service item, and carers and visits made on demand: what the reminder
    tests need, without the plan machinery."""

    def __init__(self, factory, *, tz: str = "Europe/London", locale: str = "en") -> None:
        from saas.models import Role
        from tenants.catalogue.models import ServiceCategory, ServiceItem
        from tenants.clients.models import Client

        self.factory = factory
        self.agency = factory.agency(tz=tz, locale=locale)
        self.admin_user, self.admin = factory.member(self.agency, Role.ADMIN)
        self.coordinator_user, self.coordinator = factory.member(self.agency, Role.COORDINATOR)
        with db.tenant_scope(self.agency.id):
            category = ServiceCategory(name="Personal care")
            db.session.add(category)
            db.session.flush()
            item = ServiceItem(category_id=category.id, name="Bathing")
            client = Client(full_name="Edith Carver", consent_services=True)
            db.session.add_all([item, client])
            db.session.commit()
            self.item_id, self.client_id = item.id, client.id

    def carer(self, name: str = "Cara Carer", **user_kwargs):
        from datetime import date
        from decimal import Decimal

        from saas.models import Role
        from tenants.staffing.models import StaffFile

        user, membership = self.factory.member(self.agency, Role.CARER, name=name, **user_kwargs)
        with db.tenant_scope(self.agency.id):
            staff = StaffFile(
                membership_id=membership.id,
                staff_role="carer",
                employment_start=date(2020, 1, 1),
                contracted_hours=Decimal(20),
            )
            db.session.add(staff)
            db.session.commit()
        return user, membership, staff

    def visit(self, starts_at, staff=None, minutes: int = 60, **fields):
        from datetime import timedelta

        from tenants.scheduling.models import Visit

        with db.tenant_scope(self.agency.id):
            row = Visit(
                client_id=self.client_id,
                service_item_id=self.item_id,
                local_day=starts_at.astimezone(self.agency.zone).date(),
                starts_at=starts_at,
                ends_at=starts_at + timedelta(minutes=minutes),
                staff_file_id=staff.id if staff is not None else None,
                checklist=["Tidy"],
                **fields,
            )
            db.session.add(row)
            db.session.commit()
            return row
