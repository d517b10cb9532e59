"""Staff changes ask for a subscription quantity sync.

One ORM listener rather than a call in every place that adds, removes,
deactivates or re-roles a member (invitations, the members page, the demo,
features to come): a carer membership that is added, deactivated,
reactivated, deleted or changes role marks its agency; the sweep then syncs
each marked agency once it has been quiet for a minute (the debounce).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, inspect, update
from sqlalchemy.orm import Session

from saas.db import utcnow
from saas.models import Agency, Membership, Role

INFO_KEY = "billing_sync_agencies"


def _touches_carers(obj: Membership, state: str) -> bool:
    if state in ("new", "deleted"):
        return obj.role == Role.CARER
    attrs = inspect(obj).attrs
    role, active = attrs.role.history, attrs.active.history
    if not (role.has_changes() or active.has_changes()):
        return False
    roles = set(role.added or ()) | set(role.deleted or ()) | set(role.unchanged or ())
    return Role.CARER in roles


@event.listens_for(Session, "before_flush")
def _collect(sess: Session, flush_context: Any, instances: Any) -> None:
    if sess.info.get("platform_reader"):
        return
    marked: set = sess.info.setdefault(INFO_KEY, set())
    for state, objects in (("new", sess.new), ("dirty", sess.dirty), ("deleted", sess.deleted)):
        for obj in objects:
            if isinstance(obj, Membership) and obj.tenant_id is not None and _touches_carers(obj, state):
                marked.add(obj.tenant_id)
    if not marked:
        sess.info.pop(INFO_KEY, None)


@event.listens_for(Session, "after_flush")
def _mark(sess: Session, flush_context: Any) -> None:
    marked = sess.info.pop(INFO_KEY, None)
    if marked:
        table = Agency.__table__
        sess.connection().execute(
            update(table).where(table.c.id.in_(list(marked))).values(billing_sync_requested_at=utcnow())
        )


@event.listens_for(Session, "after_rollback")
def _forget(sess: Session) -> None:
    sess.info.pop(INFO_KEY, None)
