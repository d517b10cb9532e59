"""Samples for ratings, opinions and complaints, rectifications."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from saas import db
from tests.samples import AgencyWorld, sample


def _scoped(world: AgencyWorld):
    return db.tenant_scope(world.agency.id)


def _add(world: AgencyWorld, row) -> uuid.UUID:
    with _scoped(world):
        db.session.add(row)
        db.session.commit()
        return row.id


@sample("visit_ratings")
def _rating(factory, world: AgencyWorld) -> uuid.UUID:
    from tenants.feedback.models import VisitRating

    return _add(
        world,
        VisitRating(
            visit_id=world.ids["visits"],
            client_id=world.ids["clients"],
            attitude=1,
            process=3,
            effect=3,
            environment=3,
            timeliness=3,
            channel="portal",
        ),
    )


@sample("rating_links")
def _link(factory, world: AgencyWorld) -> uuid.UUID:
    from tenants.feedback.models import RatingLink

    return _add(
        world,
        RatingLink(
            visit_id=world.ids["visits"],
            token_hash=uuid.uuid4().hex * 2,
            expires_at=db.utcnow() + timedelta(days=14),
        ),
    )


@sample("feedback_tasks")
def _task(factory, world: AgencyWorld) -> uuid.UUID:
    from tenants.feedback.models import FollowUpTask

    return _add(world, FollowUpTask(rating_id=world.ids["visit_ratings"], title="low_rating"))


@sample("feedback_items")
def _item(factory, world: AgencyWorld) -> uuid.UUID:
    from tenants.feedback.models import FeedbackItem

    return _add(
        world,
        FeedbackItem(
            kind="complaint",
            description="Late again",
            channel="phone",
            due_at=db.utcnow() + timedelta(days=3),
        ),
    )


@sample("feedback_transitions")
def _transition(factory, world: AgencyWorld) -> uuid.UUID:
    from tenants.feedback.models import FeedbackTransition

    return _add(world, FeedbackTransition(item_id=world.ids["feedback_items"], to_status="received"))


@sample("rectifications")
def _rectification(factory, world: AgencyWorld) -> uuid.UUID:
    from tenants.feedback.models import Rectification

    return _add(
        world,
        Rectification(
            source="complaint",
            feedback_item_id=world.ids["feedback_items"],
            problem="Late arrivals",
            measures="Rota change",
            owner_membership_id=world.ids["memberships"],
            deadline=date(2026, 12, 31),
        ),
    )


@sample("rectification_inspections")
def _inspection(factory, world: AgencyWorld) -> uuid.UUID:
    from tenants.feedback.models import ReInspection

    return _add(
        world,
        ReInspection(
            rectification_id=world.ids["rectifications"],
            inspector_membership_id=world.ids["memberships"],
            passed=False,
        ),
    )
