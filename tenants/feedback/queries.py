"""Read models of the feedback pages: the columns a list shows, read in one
statement bounded by the page, never by the agency's history.

The inbox lists what is still open by its deadline (the partial index
ix_feedback_items_open_due holds only open items), a page at a time; with the
closed ones, everything, the latest received first (ix_feedback_items_received),
a page at a time. tests/test_performance.py reads the plans.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, select, tuple_

from saas import db
from saas.pagination import Keyset
from tenants.feedback.models import FeedbackItem, FeedbackStatus
from tenants.feedback.services import deadline_state

INBOX_PAGE = 100
# the inbox shows a description cut to 120 characters: read a few more, so that
# the cut (at a word, with a leeway of 5) falls where it would on the whole text
DESCRIPTION_READ = 126


@dataclass(frozen=True, slots=True)
class InboxRow:
    """One line of the inbox, as it shows it."""

    id: uuid.UUID
    received_at: datetime
    kind: str
    contact_name: str
    contact: str
    confidential: bool
    description: str
    status: str
    due_at: datetime
    responded_at: datetime | None
    state: str  # answered, overdue, due_soon or on_time
    left: timedelta


@dataclass(frozen=True, slots=True)
class InboxPage:
    rows: list[InboxRow]
    # where the next page starts: the last row's Keyset token
    next: str | None


_COLUMNS = (
    FeedbackItem.id,
    FeedbackItem.received_at,
    FeedbackItem.kind,
    FeedbackItem.contact_name,
    FeedbackItem.contact,
    FeedbackItem.confidential,
    func.left(FeedbackItem.description, DESCRIPTION_READ).label("description"),
    FeedbackItem.status,
    FeedbackItem.due_at,
    FeedbackItem.responded_at,
)


def open_statement(after: Keyset | None) -> Select[Any]:
    """Open items by deadline, from `after` on: the partial index, in order."""
    stmt = select(*_COLUMNS).where(FeedbackItem.status != FeedbackStatus.CLOSED)
    if after is not None:
        stmt = stmt.where(
            FeedbackItem.due_at >= after.at,
            tuple_(FeedbackItem.due_at, FeedbackItem.id) > tuple_(after.at, after.id),
        )
    return stmt.order_by(FeedbackItem.due_at, FeedbackItem.id).limit(INBOX_PAGE + 1)


def everything_statement(before: Keyset | None) -> Select[Any]:
    """Every item, the latest received first, from `before` back:
    ix_feedback_items_received read backwards."""
    stmt = select(*_COLUMNS)
    if before is not None:
        stmt = stmt.where(
            FeedbackItem.received_at <= before.at,
            tuple_(FeedbackItem.received_at, FeedbackItem.id) < tuple_(before.at, before.id),
        )
    return stmt.order_by(FeedbackItem.received_at.desc(), FeedbackItem.id.desc()).limit(INBOX_PAGE + 1)


def inbox(*, with_closed: bool, start: str | None) -> InboxPage:
    """A page of the inbox. `start` is the `next` of the page before (a
    malformed one starts from the beginning)."""
    cursor = Keyset.parse(start)
    stmt = everything_statement(cursor) if with_closed else open_statement(cursor)
    found = db.session.execute(stmt).all()
    now = db.utcnow()
    rows = [
        InboxRow(
            **r._asdict(),
            state=deadline_state(r, now),  # type: ignore[arg-type]
            left=r.due_at - now,
        )
        for r in found[:INBOX_PAGE]
    ]
    following = None
    if len(found) > INBOX_PAGE:
        last = rows[-1]
        following = Keyset(last.received_at if with_closed else last.due_at, last.id).token()
    return InboxPage(rows, following)
