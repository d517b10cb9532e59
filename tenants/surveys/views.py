"""Survey templates, campaigns, tracking and results (admins and
coordinators), and the survey settings (admins)."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from saas import db
from saas.labels import Labels
from saas.lifecycle import attempt, form_status
from saas.permissions import MANAGE_SETTINGS, require
from saas.settings import agency_setting
from saas.settings_pages import settings_page as generated_settings_page
from saas.tenancy import current_agency, get_or_404
from tenants.surveys import RUN_SURVEYS, queries, services
from tenants.surveys.forms import (
    KIND_CHOICES,
    PURPOSE_CHOICES,
    CampaignForm,
    QuestionForm,
    TemplateForm,
)
from tenants.surveys.models import (
    CampaignStatus,
    SurveyCampaign,
    SurveyInvitation,
    SurveyQuestion,
    SurveyTemplate,
)

bp = Blueprint("surveys", __name__, url_prefix="/a/<slug>")


def purpose_label(purpose: str) -> str:
    return str(dict(PURPOSE_CHOICES).get(purpose, purpose))


def kind_label(kind: str) -> str:
    return str(dict(KIND_CHOICES).get(kind, kind))


status_label = Labels({"draft": _l("Prepared, not sent"), "sent": _l("Sent"), "closed": _l("Closed")})


bp.app_template_global("survey_purpose_label")(purpose_label)
bp.app_template_global("survey_status_label")(status_label)
bp.app_template_global("survey_kind_label")(kind_label)
bp.app_template_global("survey_text")(services.localized)


# -- the campaigns page -------------------------------------------------------------------------


@bp.route("/surveys")
@require(RUN_SURVEYS)
def index() -> Any:
    agency = current_agency()
    last_outcome = services.last_outcome_sent(agency)
    due = services.next_outcome_due(agency, last_outcome)
    return render_template(
        "surveys/index.html",
        rows=queries.campaign_rows(),
        last_outcome=last_outcome,
        due=due,
        overdue=due is not None and due <= agency.today(),
    )


# -- templates ----------------------------------------------------------------------------------


@bp.route("/surveys/templates", methods=["GET", "POST"])
@require(RUN_SURVEYS)
def templates() -> Any:
    form = TemplateForm()
    if form.validate_on_submit():
        created: list[SurveyTemplate] = []
        if attempt(
            form,
            lambda: created.append(
                services.create_template(form.name.data, form.purpose.data, by=current_user)
            ),
        ):
            flash(_("Survey created. Now add its questions."), "success")
            return redirect(url_for("surveys.template", survey_template_id=created[0].id))
    return render_template("surveys/templates.html", rows=queries.templates(), form=form), form_status()


def _template_page(
    template: SurveyTemplate,
    form: TemplateForm | None = None,
    qform: QuestionForm | None = None,
    status: int = 200,
) -> Any:
    if form is None:
        form = TemplateForm(formdata=None, obj=template)
    return render_template(
        "surveys/template.html",
        template=template,
        questions=services.questions_of(template.id),
        locked=services.is_locked(template),
        form=form,
        qform=qform or QuestionForm(formdata=None),
    ), status


@bp.route("/surveys/templates/<uuid:survey_template_id>", methods=["GET", "POST"])
@require(RUN_SURVEYS)
def template(survey_template_id: uuid.UUID) -> Any:
    row = get_or_404(SurveyTemplate, survey_template_id)
    if request.method == "GET":
        return _template_page(row)
    form = TemplateForm()
    if form.validate_on_submit():
        if attempt(form, lambda: services.rename_template(row, form.name.data, form.purpose.data)):
            flash(_("Saved."), "success")
            return redirect(url_for("surveys.template", survey_template_id=row.id))
        row = get_or_404(SurveyTemplate, survey_template_id)
    return _template_page(row, form=form, status=422)


def _lines(value: str | None) -> list[str]:
    return [line.strip() for line in (value or "").splitlines() if line.strip()]


@bp.route("/surveys/templates/<uuid:survey_template_id>/questions", methods=["POST"])
@require(RUN_SURVEYS)
def add_question(survey_template_id: uuid.UUID) -> Any:
    row = get_or_404(SurveyTemplate, survey_template_id)
    qform = QuestionForm()
    if qform.validate_on_submit():
        data = services.QuestionData(
            kind=qform.kind.data,
            text={"en": qform.text_en.data or "", "zh_CN": qform.text_zh_CN.data or ""},
            choices={"en": _lines(qform.choices_en.data), "zh_CN": _lines(qform.choices_zh_CN.data)},
            required=bool(qform.required.data),
        )
        if attempt(qform, lambda: services.add_question(row, data)):
            flash(_("Question added."), "success")
            return redirect(url_for("surveys.template", survey_template_id=row.id) + "#add-question")
        row = get_or_404(SurveyTemplate, survey_template_id)
    return _template_page(row, qform=qform, status=422)


def _question(template: SurveyTemplate, question_id: uuid.UUID) -> SurveyQuestion:
    question = get_or_404(SurveyQuestion, question_id)
    if question.template_id != template.id:
        abort(404)
    return question


@bp.route(
    "/surveys/templates/<uuid:survey_template_id>/questions/<uuid:survey_question_id>/<any(up,down,remove):action>",
    methods=["POST"],
)
@require(RUN_SURVEYS)
def change_question(survey_template_id: uuid.UUID, survey_question_id: uuid.UUID, action: str) -> Any:
    row = get_or_404(SurveyTemplate, survey_template_id)
    question = _question(row, survey_question_id)
    if action == "remove":
        attempt(None, lambda: services.remove_question(row, question))
    else:
        attempt(None, lambda: services.move_question(row, question, -1 if action == "up" else 1))
    return redirect(url_for("surveys.template", survey_template_id=survey_template_id))


@bp.route("/surveys/templates/<uuid:survey_template_id>/copy", methods=["POST"])
@require(RUN_SURVEYS)
def copy_template(survey_template_id: uuid.UUID) -> Any:
    row = get_or_404(SurveyTemplate, survey_template_id)
    copy = services.copy_template(row, by=current_user)
    flash(_("Copied: this is the new version, which you can change."), "success")
    return redirect(url_for("surveys.template", survey_template_id=copy.id))


# -- campaigns ----------------------------------------------------------------------------------


def _template_choices() -> list[tuple[str, str]]:
    return [(str(i), f"{name} ({purpose_label(purpose)})") for i, name, purpose in queries.template_options()]


@bp.route("/surveys/campaigns/new", methods=["GET", "POST"])
@require(RUN_SURVEYS)
def new_campaign() -> Any:
    agency = current_agency()
    form = CampaignForm()
    form.template.choices = _template_choices()
    minimum = agency_setting(agency, "survey_sample_min")
    if request.method == "GET":
        form.sample_size.data = minimum
        if request.args.get("template"):
            form.template.data = request.args["template"]
    if form.validate_on_submit():
        try:
            template_id = uuid.UUID(form.template.data)
        except (TypeError, ValueError):
            abort(404)
        template = get_or_404(SurveyTemplate, template_id)
        created: list[SurveyCampaign] = []
        if attempt(
            form,
            lambda: created.append(
                services.create_campaign(
                    agency,
                    template,
                    form.title.data or "",
                    form.audience.data,
                    form.sample_size.data,
                    by=current_user,
                )
            ),
        ):
            flash(_("Campaign prepared. Check it, then send it."), "success")
            return redirect(url_for("surveys.campaign", survey_campaign_id=created[0].id))
    return render_template(
        "surveys/campaign_new.html",
        form=form,
        minimum=minimum,
        eligible=len(services.eligible_client_ids()),
    ), form_status()


@bp.route("/surveys/campaigns/<uuid:survey_campaign_id>")
@require(RUN_SURVEYS)
def campaign(survey_campaign_id: uuid.UUID) -> Any:
    row = get_or_404(SurveyCampaign, survey_campaign_id)
    eligible = (
        len(services.eligible_client_ids()) if row.status == CampaignStatus.DRAFT else row.eligible_count
    )
    now = db.utcnow()
    return render_template(
        "surveys/campaign.html",
        campaign=row,
        template=queries.template_of(row.template_id),
        invitations=queries.invitations(row.id),
        tracking=queries.tracking(row.id),
        eligible=eligible,
        links_open=row.status == CampaignStatus.SENT
        and row.links_expire_at is not None
        and row.links_expire_at > now,
    )


@bp.route("/surveys/campaigns/<uuid:survey_campaign_id>/send", methods=["POST"])
@require(RUN_SURVEYS)
def send_campaign(survey_campaign_id: uuid.UUID) -> Any:
    row = get_or_404(SurveyCampaign, survey_campaign_id)
    invited: list[int] = []
    if attempt(None, lambda: invited.append(services.send_campaign(current_agency(), row, by=current_user))):
        flash(_("Sent to %(n)d clients.", n=invited[0]), "success")
    return redirect(url_for("surveys.campaign", survey_campaign_id=survey_campaign_id))


@bp.route("/surveys/campaigns/<uuid:survey_campaign_id>/close", methods=["POST"])
@require(RUN_SURVEYS)
def close_campaign(survey_campaign_id: uuid.UUID) -> Any:
    row = get_or_404(SurveyCampaign, survey_campaign_id)
    if attempt(None, lambda: services.close_campaign(row)):
        flash(_("Campaign closed: its links no longer work."), "success")
    return redirect(url_for("surveys.campaign", survey_campaign_id=survey_campaign_id))


@bp.route(
    "/surveys/campaigns/<uuid:survey_campaign_id>/invitations/<uuid:survey_invitation_id>/link",
    methods=["POST"],
)
@require(RUN_SURVEYS)
def invitation_link(survey_campaign_id: uuid.UUID, survey_invitation_id: uuid.UUID) -> Any:
    row = get_or_404(SurveyCampaign, survey_campaign_id)
    invitation = get_or_404(SurveyInvitation, survey_invitation_id)
    if invitation.campaign_id != row.id:
        abort(404)
    issued: list[str] = []
    if not attempt(
        None, lambda: issued.append(services.issue_printed_link(current_agency(), row, invitation))
    ):
        return redirect(url_for("surveys.campaign", survey_campaign_id=row.id))
    return render_template(
        "surveys/link_issued.html",
        campaign=row,
        url=services.link_url(issued[0]),
        expires_at=row.links_expire_at,
    )


@bp.route("/surveys/campaigns/<uuid:survey_campaign_id>/results")
@require(RUN_SURVEYS)
def results(survey_campaign_id: uuid.UUID) -> Any:
    row = get_or_404(SurveyCampaign, survey_campaign_id)
    return render_template(
        "surveys/results.html",
        campaign=row,
        tracking=queries.tracking(row.id),
        results=queries.results(row),
    )


# -- settings -----------------------------------------------------------------------------------


@bp.route("/surveys/settings", methods=["GET", "POST"])
@require(MANAGE_SETTINGS)
def settings_page() -> Any:
    return generated_settings_page(
        "surveys", title=_("Survey settings"), endpoint="surveys.settings_page", saved=_("Saved.")
    )
