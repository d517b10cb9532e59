"""The `saas` command."""

from __future__ import annotations

from sqlalchemy import select

from saas import db
from saas.cli import main
from saas.models import Agency, MailMessage, Membership, User
from tests.factories import run_jobs


def test_tenants_create_list_suspend(app, dbconn):
    runner = app.test_cli_runner()
    result = runner.invoke(main, ["tenants", "create", "Bay Care", "baycare", "--timezone", "Asia/Shanghai",
                                  "--locale", "zh_CN", "--admin-email", "boss@baycare.example"])  # fmt: skip
    assert result.exit_code == 0, result.output
    agency = db.session.scalar(select(Agency).where(Agency.slug == "baycare"))
    assert agency.timezone == "Asia/Shanghai"
    assert run_jobs("auth.send_invitation") == 1, "the worker mails the invitation"
    assert db.session.scalar(select(MailMessage).where(MailMessage.to_address == "boss@baycare.example"))
    listing = runner.invoke(main, ["tenants", "list"])
    assert "baycare" in listing.output and "Bay Care" in listing.output
    dup = runner.invoke(main, ["tenants", "create", "Again", "baycare"])
    assert dup.exit_code != 0 and "slug_taken" in dup.output
    suspended = runner.invoke(main, ["tenants", "suspend", "baycare", "--reason", "test"])
    assert suspended.exit_code == 0 and "suspended" in suspended.output
    db.session.expire_all()
    assert db.session.scalar(select(Agency.status).where(Agency.slug == "baycare")) == "suspended"
    assert runner.invoke(main, ["tenants", "suspend", "nope"]).exit_code != 0


def test_demo_refuses_unless_empty_or_forced(app, dbconn, factory):
    factory.agency()
    runner = app.test_cli_runner()
    refused = runner.invoke(main, ["demo"])
    assert refused.exit_code != 0 and "not empty" in refused.output
    forced = runner.invoke(main, ["demo", "--force"])
    assert forced.exit_code == 0, forced.output
    assert "operator@demo.example" in forced.output and "JBSWY3DPEHPK3PXP" in forced.output
    for slug, locale, tz in (("sunrise", "en", "Europe/London"), ("kangning", "zh_CN", "Asia/Shanghai")):
        agency = db.session.scalar(select(Agency).where(Agency.slug == slug))
        assert (agency.locale, agency.timezone) == (locale, tz)
        with db.tenant_scope(agency.id):
            roles = sorted(db.session.scalars(select(Membership.role)))
        assert roles == ["admin", "carer", "carer", "carer", "client", "client", "client", "client", "client",
                         "coordinator"]  # fmt: skip
    from tenants.scheduling.models import Visit
    from tenants.staffing.models import StaffFile

    sunrise = db.session.scalar(select(Agency).where(Agency.slug == "sunrise"))
    carer1 = db.session.scalar(select(User).where(User.email == "carer1@sunrise.example"))
    with db.tenant_scope(sunrise.id):
        staff_id = db.session.scalar(
            select(StaffFile.id)
            .join(Membership, Membership.id == StaffFile.membership_id)
            .where(Membership.user_id == carer1.id)
        )
        assert db.session.scalar(select(Visit.id).where(Visit.staff_file_id == staff_id).limit(1)), (
            "carer1 has visits"
        )
    assert_demo_quality_areas()
    assert_demo_incidents()
    admin = db.session.scalar(select(User).where(User.email == "admin@sunrise.example"))
    carer = db.session.scalar(select(User).where(User.email == "carer1@sunrise.example"))
    coordinator = db.session.scalar(select(User).where(User.email == "coordinator@sunrise.example"))
    assert admin.totp_secret == "JBSWY3DPEHPK3PXP" and carer.totp_secret is None
    assert coordinator.totp_secret == "JBSWY3DPEHPK3PXP", "coordinators open client files: two-factor"
    assert db.session.scalar(select(User.is_operator).where(User.email == "operator@demo.example"))


def assert_demo_incidents():
    """Each demo agency has a fall reported from a visit, under investigation,
    and an outage closed by its admin."""
    from tenants.incidents.models import Incident

    for slug in ("sunrise", "kangning"):
        agency = db.session.scalar(select(Agency).where(Agency.slug == slug))
        with db.tenant_scope(agency.id):
            rows = {i.type: i for i in db.session.scalars(select(Incident))}
        assert set(rows) == {"fall", "outage"}
        assert rows["fall"].status == "investigating" and rows["fall"].visit_id is not None
        assert rows["outage"].status == "closed"


def assert_demo_quality_areas():
    """Each demo agency has last week's visits done and rated, feedback, a
    survey, the opinion box, a stakeholder round, a funder and last month's
    quality summary asked for, in the agency's language."""
    from datetime import timedelta

    from sqlalchemy import func

    from tenants.clients.models import PortalLink
    from tenants.feedback.models import FeedbackItem, FollowUpTask, Rectification, VisitRating
    from tenants.outreach import services as outreach
    from tenants.outreach.models import BoxLocation, BoxLog, Funder, FunderVisit, StakeholderRound
    from tenants.quality import services as quality
    from tenants.scheduling.models import ServiceRecord, Visit
    from tenants.staffing.models import Team
    from tenants.surveys.models import SurveyCampaign, SurveyInvitation, SurveyQuestion, SurveyTemplate

    for slug, survey_name in (("sunrise", "Client satisfaction"), ("kangning", "服务满意度调查")):
        agency = db.session.scalar(select(Agency).where(Agency.slug == slug))
        today = agency.today()
        with db.tenant_scope(agency.id):
            week = today - timedelta(days=7)
            past = list(
                db.session.scalars(select(Visit).where(Visit.local_day < today, Visit.local_day >= week))
            )
            assert len(past) == 6 and all(v.status == "completed" and v.checked_out_at for v in past)
            records = (
                select(func.count())
                .select_from(ServiceRecord)
                .join(Visit, Visit.id == ServiceRecord.visit_id)
            )
            assert db.session.scalar(records.where(Visit.local_day >= week, Visit.local_day < today)) == 6
            # before that week, the back office's month of delivered visits (and one cancelled late)
            earlier = list(db.session.scalars(select(Visit).where(Visit.local_day < week)))
            assert earlier and all(
                (v.status == "completed" and v.checked_out_at) or v.status == "cancelled" for v in earlier
            )
            ratings = list(db.session.scalars(select(VisitRating)))
            assert len(ratings) == 5 and {r.channel for r in ratings} == {"portal", "phone"}
            low = [
                r for r in ratings if min(r.attitude, r.process, r.effect, r.environment, r.timeliness) <= 2
            ]
            assert len(low) == 1 and low[0].channel == "phone"
            task = db.session.scalar(select(FollowUpTask))
            supervisor = db.session.scalar(select(Team.supervisor_membership_id))
            assert task.rating_id == low[0].id and task.assignee_membership_id == supervisor is not None
            client1 = db.session.scalar(
                select(PortalLink.client_id)
                .join(Membership, Membership.id == PortalLink.membership_id)
                .join(User, User.id == Membership.user_id)
                .where(User.email == f"client1@{slug}.example")
            )
            rated = {r.visit_id for r in ratings}
            assert [v for v in past if v.client_id == client1 and v.id not in rated], (
                "client1 has one to rate"
            )
            items = list(db.session.scalars(select(FeedbackItem)))
            assert sorted(i.kind for i in items) == ["complaint", "complaint", "opinion"]
            answered = [i for i in items if i.status == "responded"]
            assert len(answered) == 1 and answered[0].kind == "complaint" and answered[0].response
            rect = db.session.scalar(select(Rectification))
            assert rect.feedback_item_id == answered[0].id and rect.status == "open"
            template = db.session.scalar(select(SurveyTemplate))
            assert template.name == survey_name and template.purpose == "satisfaction"
            questions = list(db.session.scalars(select(SurveyQuestion).order_by(SurveyQuestion.position)))
            assert [q.kind for q in questions] == ["scale5", "single", "text"]
            assert all(set(q.text) == {"en", "zh_CN"} for q in questions)
            assert db.session.scalar(select(SurveyCampaign.status)) == "sent"
            assert db.session.scalar(select(func.count(SurveyInvitation.responded_at))) == 3
            assert db.session.scalar(select(func.count()).select_from(BoxLocation)) == 1
            assert not db.session.scalar(select(BoxLog.id).where(BoxLog.day == today - timedelta(days=1)))
            assert db.session.scalar(select(func.count()).select_from(BoxLog)) == 6
            gaps = outreach.missed_days(today - timedelta(days=10), today, agency)
            assert [g.day for g in gaps] == [today - timedelta(days=1)], "yesterday is the gap"
            assert db.session.scalar(select(func.count()).select_from(StakeholderRound)) == 1
            assert db.session.scalar(select(func.count()).select_from(Funder)) == 1
            last_month = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
            visited = db.session.scalar(select(FunderVisit.visited_on))
            assert visited.replace(day=1) == last_month
            assert outreach.funders_without_visit(last_month, agency) == []
            assert quality.summary_for(quality.previous_month(agency)) is not None
