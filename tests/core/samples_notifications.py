"""Samples for the notification centre: a reminder, a notification of the
agency's sample coordinator, a preference and their settings."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time

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
    """An agency (any time zone) with an admin, a coordinator, a client and a
    service item (checklist: "Tidy"), set up through the services on `since`
    (by default 1 March 2026, before the days the notification tests book
    visits on, so the item's terms are in effect then), and carers and
    visits made on demand, through the staffing and scheduling services:
    what the reminder tests need, without the plan machinery. Carers need no
    pre-service training in this agency."""

    SINCE = datetime(2026, 3, 1, 12, tzinfo=UTC)

    def __init__(
        self, factory, *, tz: str = "Europe/London", locale: str = "en", since: datetime | None = None
    ) -> None:
        import time_machine

        from saas.models import Role

        self.factory = factory
        with time_machine.travel(min(since or self.SINCE, db.utcnow()), tick=True):
            self.agency = factory.agency(tz=tz, locale=locale)
            self.admin_user, self.admin = factory.member(self.agency, Role.ADMIN)
            self.coordinator_user, self.coordinator = factory.member(self.agency, Role.COORDINATOR)
            self.settings(pre_service_hours=0)
            self.item_id = factory.service_item(self.agency, checklist=("Tidy",))
            self.client_id = factory.client(self.agency).id

    def settings(self, **values) -> None:
        """Change the agency's settings through `update_settings`, as its settings pages do."""
        from saas.models import Agency
        from saas.settings import update_settings

        with self.factory.app.test_request_context(), db.tenant_scope(self.agency.id):
            agency = db.session.get(Agency, self.agency.id, populate_existing=True)
            update_settings(agency, values)
            db.session.commit()
        self.agency = agency

    def carer(self, name: str = "Cara Carer"):
        """A carer's membership and staff file (20 contracted hours), through
        the staffing service."""
        from decimal import Decimal

        from tests.staffing import workforce_helpers as wf

        user, membership, staff_id = wf.staff(
            self.factory, self.agency, name=name, contracted_hours=Decimal(20)
        )
        with db.tenant_scope(self.agency.id):
            return user, membership, wf.staff_file(staff_id)

    def visit(self, starts_at, staff=None, minutes: int = 60, *, checked_in_at=None, completed=False):
        """A one-off visit booked (an hour before it, if it is in the past) and
        assigned to `staff` through the scheduling services; the carer checked
        in at `checked_in_at`, or in and out at its time if `completed`."""
        factory, staff_id = self.factory, staff.id if staff is not None else None
        row = factory.visit(
            self.agency, self.client_id, self.item_id, starts_at, minutes=minutes, staff_id=staff_id
        )
        if completed:
            row, _record = factory.complete_visit(self.agency, row.id, staff_id, late_minutes=0)
        elif checked_in_at is not None:
            row = factory.check_in(self.agency, row.id, staff_id, checked_in_at)
        return row
