"""The operator console's agency list, with each agency's billing figures, and
its creation wizard (plan, trial, starting catalogue): routes on the core's
operator blueprint, added before it is registered (`Area.routes`)."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, select
from wtforms import IntegerField, SelectField
from wtforms.validators import NumberRange, Optional

from billing import onboarding
from billing.lifecycle import trial_days
from billing.models import BillingState
from billing.reports import agency_figures, platform_totals
from saas import agencies, db
from saas.auth.services import invite
from saas.dashboard import operator_dashboard
from saas.errors import DomainError
from saas.lifecycle import refuse
from saas.models import Agency, Membership, Role
from saas.operator.forms import CreateAgencyForm
from saas.operator.views import bp
from saas.pagination import paginate


class OnboardingForm(CreateAgencyForm):
    """The agency's details, then its plan, trial and starting catalogue."""

    plan = SelectField(_l("Plan"), default="")
    trial_days = IntegerField(
        _l("Trial days"), validators=[Optional(), NumberRange(min=0, max=365)], default=14
    )
    catalogue_preset = SelectField(_l("Starting service catalogue"), default="")

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.plan.choices = onboarding.plan_choices()
        self.catalogue_preset.choices = onboarding.catalogue_choices()
        if not self.is_submitted():
            self.trial_days.data = trial_days()


@bp.route("/")
def index() -> Any:
    with db.platform_reader() as reader:
        counts = dict(
            reader.execute(
                select(Membership.tenant_id, func.count())
                .where(Membership.active.is_(True))
                .group_by(Membership.tenant_id)
            ).all()
        )
    state = request.args.get("state", "")
    listed = select(Agency).order_by(Agency.created_at.desc())
    if state in {s.value for s in BillingState}:
        listed = listed.where(Agency.billing_state == state)
    else:
        state = ""
    page = paginate(listed)
    return render_template(
        "operator/index.html",
        page=page,
        state=state,
        dashboard=operator_dashboard(),
        counts=counts,
        figures=agency_figures(page.items),
        totals=platform_totals(),
    )


@bp.route("/agencies/new", methods=["GET", "POST"])
def create_agency() -> Any:
    form = OnboardingForm()
    if form.validate_on_submit():
        try:
            agency = agencies.create_agency(
                form.name.data, form.slug.data, form.timezone.data, form.locale.data
            )
            if form.admin_email.data:
                with db.tenant_scope(agency.id):
                    invite(agency, form.admin_email.data, Role.ADMIN, invited_by=current_user)
            onboarding.apply(
                agency,
                plan_id=form.plan.data or None,
                trial_days=form.trial_days.data,
                catalogue_preset=form.catalogue_preset.data or None,
                by=current_user,
            )
        except DomainError as exc:
            refuse(form, exc)
        else:
            flash(_("Agency %(name)s created.", name=agency.name), "success")
            return redirect(url_for("operator.agency", agency_id=agency.id))
    return render_template("operator/create_agency.html", form=form)
