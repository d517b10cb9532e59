"""Scheduled sweep: remind the clients who have not answered a survey, agency by agency."""

from __future__ import annotations

from sqlalchemy import select

from saas import db
from saas.agencies import sweep_agencies
from saas.jobs import periodic
from saas.models import Agency
from tenants.surveys import services
from tenants.surveys.models import CampaignStatus, SurveyCampaign, SurveyInvitation


def remind_all_now() -> int:
    """Agencies with a campaign still open and someone not yet reminded (each
    agency's own delay is applied in services.send_reminders); one agency's
    failure does not stop the others (`sweep_agencies`)."""
    now = db.utcnow()

    def work(agency: Agency) -> int:
        sent = services.send_reminders(agency, now)
        db.session.commit()
        return sent

    return sweep_agencies(
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
        ),
        work,
    )


@periodic
def remind_all() -> int:
    return remind_all_now()
