"""Scheduled sweep: remind the clients who have not answered a survey, agency by agency."""

from __future__ import annotations

from sqlalchemy import select

from saas import db
from saas.agencies import active_agencies
from saas.jobs import periodic
from tenants.surveys import services
from tenants.surveys.models import CampaignStatus, SurveyCampaign, SurveyInvitation


def remind_all_now() -> int:
    now = db.utcnow()
    with db.platform_reader() as reader:
        # agencies with a campaign still open and someone not yet reminded;
        # each agency's own delay is applied in services.send_reminders
        ids = set(
            reader.scalars(
                select(SurveyCampaign.tenant_id)
                .join(
                    SurveyInvitation,
                    (SurveyInvitation.tenant_id == SurveyCampaign.tenant_id)
                    & (SurveyInvitation.campaign_id == SurveyCampaign.id),
                )
                .where(
                    SurveyCampaign.status == CampaignStatus.SENT,
                    SurveyCampaign.links_expire_at > now,
                    SurveyInvitation.responded_at.is_(None),
                    SurveyInvitation.reminded_at.is_(None),
                )
                .distinct()
            )
        )
    total = 0
    for agency in active_agencies(ids):
        with db.tenant_scope(agency.id):
            total += services.send_reminders(agency, now)
            db.session.commit()
    return total


@periodic
def remind_all() -> int:
    return remind_all_now()
