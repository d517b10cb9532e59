"""Every business event, and a visit's check-out, become deliveries to the
endpoints that chose them."""

from __future__ import annotations

from saas import db
from saas.signals import BusinessEvent, business_event
from tenants.scheduling.signals import VisitCompleted, visit_completed
from tenants.webhooks import jobs as _jobs  # noqa: F401 - registers the delivery job
from tenants.webhooks import services


def on_business_event(event: BusinessEvent) -> None:
    agency_id = db.current_tenant_id()
    if agency_id is not None and event.event in services.EVENTS:
        services.emit(agency_id, event.event, event.subject_id, event.data)


def on_visit_completed(event: VisitCompleted) -> None:
    visit = event.visit
    services.emit(
        event.agency.id,
        "visit.checked_out",
        str(visit.id),
        {
            "client_id": str(visit.client_id),
            "staff_id": str(visit.staff_file_id) if visit.staff_file_id else None,
            "checked_out_at": visit.checked_out_at.isoformat() if visit.checked_out_at else None,
            "needs_attention": bool(event.record.needs_attention),
        },
    )


business_event.connect(on_business_event)
visit_completed.connect(on_visit_completed)
