"""The `saas` command."""

from __future__ import annotations

from sqlalchemy import select

from saas import db
from saas.cli import main
from saas.models import Agency, MailMessage, Membership, User


def test_tenants_create_list_suspend(app, dbconn):
    runner = app.test_cli_runner()
    result = runner.invoke(main, ["tenants", "create", "Bay Care", "baycare", "--timezone", "Asia/Shanghai",
                                  "--locale", "zh_CN", "--admin-email", "boss@baycare.example"])  # fmt: skip
    assert result.exit_code == 0, result.output
    agency = db.session.scalar(select(Agency).where(Agency.slug == "baycare"))
    assert agency.timezone == "Asia/Shanghai"
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
    admin = db.session.scalar(select(User).where(User.email == "admin@sunrise.example"))
    carer = db.session.scalar(select(User).where(User.email == "carer1@sunrise.example"))
    assert admin.totp_secret == "JBSWY3DPEHPK3PXP" and carer.totp_secret is None
    assert db.session.scalar(select(User.is_operator).where(User.email == "operator@demo.example"))
