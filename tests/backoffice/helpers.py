"""A month of care delivered in March 2026, built through the services as it
happened: a plan (Mondays and Thursdays 09:00, an hour, 33.33 a visit) active
from 2 March with its visits given to a carer, some delivered (checked in and
out at their time), one cancelled at short notice and one in good time, and a
one-off hourly visit outside the plan."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import time_machine
from sqlalchemy import select

from saas import db
from saas.models import Role
from saas.settings import update_settings
from tenants.scheduling.models import Visit

MARCH = (date(2026, 3, 1), date(2026, 3, 31))
T0 = datetime(2026, 3, 1, 12, tzinfo=UTC)


class Month:
    def __init__(self, factory, *, price: str = "33.33", tz: str = "Europe/London") -> None:
        from tenants.catalogue import services as catalogue
        from tenants.catalogue.models import ServiceCategory
        from tenants.scheduling import services as scheduling

        self.factory = factory
        with time_machine.travel(T0, tick=False):
            self.agency = factory.agency(tz=tz)
            with db.tenant_scope(self.agency.id):
                update_settings(self.agency, {"pre_service_hours": 0})
                db.session.commit()
            self.admin, self.admin_membership = factory.member(self.agency, Role.ADMIN, name="Ada Admin")
            self.coordinator, self.coordinator_membership = factory.member(
                self.agency, Role.COORDINATOR, name="Cora Coordinator"
            )
            self.item_id = factory.service_item(
                self.agency, "Bathing", price=price, checklist=("Skin check",)
            )
            with db.tenant_scope(self.agency.id):
                category = db.session.scalar(select(ServiceCategory.id).limit(1))
                self.hourly_id = catalogue.create_item(
                    catalogue.ItemInput(category_id=category, name="Companionship"),
                    catalogue.TermsInput(price=Decimal("18.50"), unit="per_hour", duration_minutes=90),
                    by=None,
                ).id
                db.session.commit()
            self.funder = factory.funder(self.agency, "Harbour Council")
            self.client = factory.client(self.agency, "Edith Carver")
            self.other = factory.client(self.agency, "Tom Baker")
            self.case = factory.case(self.agency, self.client, by=self.admin)
            self.plan = factory.plan(
                self.agency,
                self.case,
                self.item_id,
                author=self.coordinator,
                approver=self.admin,
                weekdays=(1, 4),
                starts_on=date(2026, 3, 2),
                active=True,
            )
            self.carer_user, self.carer = self.staff("Pat Carer", hours=30, number="P-0042")
            with db.tenant_scope(self.agency.id):
                plan = db.session.merge(self.plan)
                scheduling.bulk_assign(self.agency, plan, self.carer.id, by=None)
                db.session.commit()

    def staff(self, name: str, hours: int = 20, number: str | None = None):
        from tenants.staffing import services as staffing

        user, _membership = self.factory.member(self.agency, Role.CARER, name=name)
        data = staffing.StaffInput(
            staff_role="carer",
            employment_start=date(2020, 1, 1),
            contracted_hours=Decimal(hours),
            staff_number=number,
        )
        with db.tenant_scope(self.agency.id):
            staff = staffing.add_staff(user.email, "", data, by=None)
            db.session.commit()
        return user, staff

    def plan_visits(self) -> list[Visit]:
        with db.tenant_scope(self.agency.id):
            return list(
                db.session.scalars(
                    select(Visit)
                    .where(Visit.plan_id == self.plan.id)
                    .order_by(Visit.starts_at)
                    .execution_options(populate_existing=True)
                )
            )

    def deliver(self, visit: Visit, *, late_minutes: int = 1) -> None:
        self.factory.complete_visit(self.agency, visit.id, self.carer.id, late_minutes=late_minutes)

    def work(self, visit: Visit, checked_in: str, checked_out: str) -> None:
        """The carer checks in and out of their visit at these local times of its day."""
        from tenants.scheduling import services as scheduling

        zone = self.agency.zone
        day = visit.starts_at.astimezone(zone).date()
        at_in, at_out = (
            datetime.combine(day, datetime.strptime(t, "%H:%M").time(), tzinfo=zone)
            for t in (checked_in, checked_out)
        )
        self.factory.check_in(self.agency, visit.id, self.carer.id, at_in)
        with time_machine.travel(at_out, tick=False), self.factory.app.test_request_context():
            with db.tenant_scope(self.agency.id):
                row = db.session.scalar(
                    select(Visit).where(Visit.id == visit.id).execution_options(populate_existing=True)
                )
                scheduling.check_out(
                    self.agency,
                    row,
                    scheduling.RecordData(
                        [True] * len(row.checklist), "Washed and dressed", "", "", "", False
                    ),
                    staff_id=self.carer.id,
                    by=None,
                )
                db.session.commit()

    def one_off(self, day: date, start: str, minutes: int = 90) -> Visit:
        """A one-off visit of the hourly service to the second client, the carer's."""
        starts_at = datetime.combine(day, datetime.strptime(start, "%H:%M").time(), tzinfo=self.agency.zone)
        return self.factory.visit(
            self.agency, self.other.id, self.hourly_id, starts_at, minutes=minutes, staff_id=self.carer.id
        )

    def cancel(self, visit: Visit, hours_before: float) -> None:
        from tenants.scheduling import services as scheduling

        at = visit.starts_at - timedelta(hours=hours_before)
        with time_machine.travel(at, tick=False), self.factory.app.test_request_context():
            with db.tenant_scope(self.agency.id):
                row = db.session.scalar(
                    select(Visit).where(Visit.id == visit.id).execution_options(populate_existing=True)
                )
                scheduling.cancel(self.agency, row, reason="Client in hospital", by=None)
                db.session.commit()

    def rule(self, percent: str | None) -> None:
        from tenants.backoffice import invoicing

        with db.tenant_scope(self.agency.id):
            invoicing.set_payment_rule(
                self.plan.id, self.funder.id if percent else None, percent or "", by=None
            )
            db.session.commit()

    def hourly_visit(self, starts_at: datetime) -> Visit:
        """A one-off visit of the hourly service to the second client, delivered."""
        visit = self.factory.visit(
            self.agency, self.other.id, self.hourly_id, starts_at, minutes=90, staff_id=self.carer.id
        )
        self.factory.complete_visit(self.agency, visit.id, self.carer.id)
        return visit

    def settings(self, **values) -> None:
        with db.tenant_scope(self.agency.id):
            update_settings(self.agency, values)
            db.session.commit()
