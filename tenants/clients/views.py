"""Clients, their file, and their cases. Only admins and coordinators see
client files; every view of one is logged."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import and_, or_, select

from billing.lifecycle import require_can_grow
from saas import db
from saas.links import UrlPattern
from saas.models import Membership, Role, User
from saas.pagination import Keyset, contains_pattern, paginate
from saas.permissions import MANAGE_SETTINGS, READ_AUDIT_LOG, require
from saas.tenancy import current_agency, get_or_404
from tenants.clients import GRANT_PORTAL_ACCESS, MANAGE_CASES, labels, queries, services
from tenants.clients.forms import (
    AssessmentForm,
    ClientForm,
    CloseCaseForm,
    FollowUpForm,
    OpenCaseForm,
    PortalLinkForm,
    domain_label,
)
from tenants.clients.models import (
    ASSESSMENT_DOMAINS,
    Case,
    CaseStatus,
    CaseTransition,
    Client,
    ClientFileAccess,
    EmergencyContact,
    FollowUp,
    NeedsAssessment,
    RiskAssessment,
    ServicePlan,
)
from tenants.clients.services import ClientData, ClientError, ContactData

bp = Blueprint("clients", __name__, url_prefix="/a/<slug>")
labels.register(bp)


def error_message(exc: ClientError) -> str:
    messages = {
        "required": lambda: _("This field is required."),
        "birth_in_future": lambda: _("The date of birth cannot be in the future."),
        "position_incomplete": lambda: _("Give both latitude and longitude, or neither."),
        "latitude_range": lambda: _("Latitude is between -90 and 90."),
        "longitude_range": lambda: _("Longitude is between -180 and 180."),
        "radius_range": lambda: _("Choose a radius between 10 and 50,000 metres."),
        "consent_needed": lambda: _("Services need the client's recorded consent."),
        "channel_unknown": lambda: _("Choose how the client reached us."),
        "case_open": lambda: _("This client already has an open case."),
        "transition_not_allowed": lambda: _("A case cannot move from this stage to that one."),
        "case_closed": lambda: _("The case is closed."),
        "method_unknown": lambda: _("Choose a method from the list."),
        "date_in_future": lambda: _("The date cannot be in the future."),
        "review_in_past": lambda: _("The review date cannot be in the past."),
        "level_range": lambda: _("Give a level from 1 to 5."),
        "score_range": lambda: _("Scores go from 1 to 5."),
        "no_hazards": lambda: _("Describe at least one hazard."),
        "reason_required": lambda: _("Say why the case is closed."),
        "before_opening": lambda: _("A case cannot close before it was opened."),
        "before_closure": lambda: _("A follow-up cannot be before the case was closed."),
        "portal_role": lambda: _("Only active members with the client role can be linked."),
        # plans (one table, so a plan's error shown next to its field reads the same as flashed)
        "assess_first": lambda: _("Record a needs assessment before planning."),
        "draft_exists": lambda: _("This case already has a plan waiting to be approved."),
        "not_draft": lambda: _("Only a draft can be changed. Start a new version instead."),
        "negative": lambda: _("This cannot be negative."),
        "end_before_start": lambda: _("The end cannot be before the start."),
        "review_before_start": lambda: _("The review cannot be before the plan starts."),
        "item_unknown": lambda: _("Choose an active service from the catalogue."),
        "weekdays_needed": lambda: _("Choose at least one day."),
        "time_format": lambda: _("Give the time as HH:MM."),
        "duration_range": lambda: _("Between 5 minutes and 24 hours."),
        "goals_needed": lambda: _("Write the plan's goals."),
        "items_needed": lambda: _("A plan needs at least one service."),
        "start_needed": lambda: _("Give the date the plan starts."),
        "not_submitted": lambda: _("Only a submitted plan can be approved or returned."),
        "approver_role": lambda: _("Your role cannot approve plans."),
        "approver_is_author": lambda: _("A plan must be approved by someone other than its author."),
        "not_approved": lambda: _("Only an approved plan can be made active."),
    }
    return messages.get(exc.code, lambda: _("This change is not allowed."))()


def attach_error(form: Any, exc: ClientError) -> None:
    """Show a service's refusal next to its field (or at the top of the form)."""
    target = None
    if exc.field:
        target = form
        for part in exc.field.split("-"):
            try:
                target = target[int(part)] if part.isdigit() else target[part]
            except (KeyError, IndexError, TypeError):
                target = None
                break
    if target is not None and hasattr(target, "errors") and isinstance(target.errors, list):
        target.errors.append(error_message(exc))
    else:
        flash(error_message(exc), "error")


# -- clients -------------------------------------------------------------------------


@bp.route("/clients")
@require(MANAGE_CASES)
def index() -> Any:
    q = (request.args.get("q") or "").strip()[:100]
    status = request.args.get("status") or ""
    open_case = and_(Case.client_id == Client.id, Case.status != CaseStatus.CLOSED)
    stmt = select(Client, Case).outerjoin(Case, open_case).where(Client.archived_at.is_(None))
    if q:
        stmt = stmt.where(
            or_(
                Client.full_name.ilike(contains_pattern(q), escape="\\"),
                Client.preferred_name.ilike(contains_pattern(q), escape="\\"),
            )
        )
    if status == "none":
        stmt = stmt.where(Case.id.is_(None))
    elif status in {s.value for s in CaseStatus if s != CaseStatus.CLOSED}:
        stmt = stmt.where(Case.status == status)
    page = paginate(db.session, stmt.order_by(Client.full_name, Client.id), scalars=False)
    return render_template("clients/index.html", page=page, q=q, status=status)


def _client_data(form: ClientForm) -> ClientData:
    return ClientData(
        full_name=form.full_name.data or "",
        preferred_name=form.preferred_name.data or "",
        date_of_birth=form.date_of_birth.data,
        gender=form.gender.data,
        phone=form.phone.data or "",
        email=(form.email.data or "").lower(),
        address=form.address.data or "",
        latitude=form.latitude.data,
        longitude=form.longitude.data,
        checkin_radius_m=form.checkin_radius_m.data or 300,
        languages=[x.strip() for x in (form.languages.data or "").split(",") if x.strip()][:10],
        family_status=form.family_status.data or None,
        economic_status=form.economic_status.data or None,
        health_status=form.health_status.data or None,
        psychological_state=form.psychological_state.data or None,
        consent_services=bool(form.consent_services.data),
        consent_data=bool(form.consent_data.data),
        contacts=[
            ContactData(c.form.name.data, c.form.relationship.data or "", c.form.phone.data or "")
            for c in form.contacts
            if c.form.name.data and c.form.phone.data
        ],
    )


def _contacts_complete(form: ClientForm) -> bool:
    ok = True
    for entry in form.contacts:
        name, phone = entry.form.name.data, entry.form.phone.data
        if bool(name) != bool(phone):
            (entry.form.phone if name else entry.form.name).errors.append(
                _("Give both a name and a phone number.")
            )
            ok = False
    return ok


@bp.route("/clients/new", methods=["GET", "POST"])
@require(MANAGE_CASES)
def create() -> Any:
    from sqlalchemy import func

    from billing.lifecycle import client_limit_refusal

    clients_now = db.session.scalar(select(func.count()).where(Client.archived_at.is_(None))) or 0
    refusal = client_limit_refusal(current_agency(), clients_now)
    if refusal:
        return render_template("billing/refused.html", message=refusal), 403
    form = ClientForm()
    if form.validate_on_submit() and _contacts_complete(form):
        try:
            client = services.save_client(current_agency(), _client_data(form))
        except ClientError as exc:
            db.session.rollback()
            attach_error(form, exc)
        else:
            db.session.commit()
            flash(_("Client added."), "success")
            return redirect(url_for("clients.show", client_id=client.id))
    return render_template(
        "clients/form.html", form=form, client=None
    ), 200 if request.method == "GET" else 422


@bp.route("/clients/<uuid:client_id>/edit", methods=["GET", "POST"])
@require(MANAGE_CASES)
def edit(client_id: uuid.UUID) -> Any:
    client = get_or_404(Client, client_id)
    contacts = db.session.scalars(
        select(EmergencyContact).where(EmergencyContact.client_id == client.id)
    ).all()
    form = ClientForm(obj=client)
    if request.method == "GET":
        form.languages.data = ", ".join(client.languages or [])
        for entry, contact in zip(form.contacts, contacts, strict=False):
            entry.form.name.data, entry.form.relationship.data, entry.form.phone.data = (
                contact.name,
                contact.relationship,
                contact.phone,
            )
        services.log_file_access(client.id, current_user.id, "edit")
        db.session.commit()
    if form.validate_on_submit() and _contacts_complete(form):
        try:
            services.save_client(current_agency(), _client_data(form), client)
        except ClientError as exc:
            db.session.rollback()
            attach_error(form, exc)
        else:
            db.session.commit()
            flash(_("Saved."), "success")
            return redirect(url_for("clients.show", client_id=client.id))
    return render_template(
        "clients/form.html", form=form, client=client
    ), 200 if request.method == "GET" else 422


@bp.route("/clients/<uuid:client_id>")
@require(MANAGE_CASES)
def show(client_id: uuid.UUID) -> Any:
    """One matter, one file: the client and a page of everything about them,
    newest first, in one statement that also logs the read."""
    agency = current_agency()
    found = queries.client_file(agency, client_id, current_user.id, Keyset.parse(request.args.get("before")))
    if found is None:
        abort(404)
    db.session.commit()
    client = found.client
    return render_template(
        "clients/show.html",
        client=client,
        contacts=found.contacts,
        portal=found.portal,
        cases=found.cases,
        timeline=found.timeline,
        older=found.older,
        paged=request.args.get("before") is not None,
        case_url=UrlPattern("clients.case", "case_id"),
        age_group=services.age_group(
            client.date_of_birth, services.agency_today(agency), agency.setting("elderly_from_age", 60)
        ),
        open_case_form=OpenCaseForm(),
    )


@bp.route("/clients/<uuid:client_id>/cases", methods=["POST"])
@require(MANAGE_CASES)
def open_case(client_id: uuid.UUID) -> Any:
    client = get_or_404(Client, client_id)
    form = OpenCaseForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(error, "error")
        return redirect(url_for("clients.show", client_id=client.id))
    try:
        case = services.open_case(
            current_agency(),
            client,
            channel=form.intake_channel.data,
            referrer=form.referrer.data or "",
            materials=form.materials_received.data or "",
            by=current_user,
        )
    except ClientError as exc:
        db.session.rollback()
        flash(error_message(exc), "error")
        return redirect(url_for("clients.show", client_id=client.id))
    db.session.commit()
    flash(_("Case %(n)s opened.", n=case.number), "success")
    return redirect(url_for("clients.case", case_id=case.id))


@bp.route("/clients/<uuid:client_id>/portal", methods=["GET", "POST"])
@require(GRANT_PORTAL_ACCESS)
def portal(client_id: uuid.UUID) -> Any:
    client = get_or_404(Client, client_id)
    members = db.session.execute(
        select(Membership, User)
        .join(User, User.id == Membership.user_id)
        .where(Membership.role == Role.CLIENT, Membership.active.is_(True))
        .order_by(User.name, User.email)
        .limit(500)
    ).all()
    form = PortalLinkForm()
    form.membership_id.choices = [(str(m.id), f"{u.name} <{u.email}>") for m, u in members]
    if form.validate_on_submit():
        membership = get_or_404(Membership, uuid.UUID(form.membership_id.data))
        try:
            services.link_portal_member(client, membership, form.relationship.data)
        except ClientError as exc:
            db.session.rollback()
            attach_error(form, exc)
        else:
            db.session.commit()
            flash(_("Linked to the client portal."), "success")
            return redirect(url_for("clients.show", client_id=client.id))
    return render_template("clients/portal.html", client=client, form=form)


@bp.route("/clients/<uuid:client_id>/access-log")
@require(READ_AUDIT_LOG)
def access_log(client_id: uuid.UUID) -> Any:
    client = get_or_404(Client, client_id)
    page = paginate(
        db.session,
        select(ClientFileAccess, User)
        .outerjoin(User, User.id == ClientFileAccess.user_id)
        .where(ClientFileAccess.client_id == client.id)
        .order_by(ClientFileAccess.at.desc()),
        scalars=False,
    )
    return render_template("clients/access_log.html", client=client, page=page)


# -- cases -----------------------------------------------------------------------------


def _case_and_client(case_id: uuid.UUID) -> tuple[Case, Client]:
    case = get_or_404(Case, case_id)
    client = db.session.scalar(select(Client).where(Client.id == case.client_id))
    if client is None:
        abort(404)
    return case, client


@bp.route("/cases/<uuid:case_id>")
@require(MANAGE_CASES)
def case(case_id: uuid.UUID) -> Any:
    case, client = _case_and_client(case_id)
    assessments = db.session.scalars(
        select(NeedsAssessment)
        .where(NeedsAssessment.case_id == case.id)
        .order_by(NeedsAssessment.assessed_on.desc())
    ).all()
    risks = db.session.scalars(
        select(RiskAssessment)
        .where(RiskAssessment.case_id == case.id)
        .order_by(RiskAssessment.assessed_on.desc())
    ).all()
    plans = db.session.scalars(
        select(ServicePlan).where(ServicePlan.case_id == case.id).order_by(ServicePlan.version.desc())
    ).all()
    follow_ups = db.session.scalars(
        select(FollowUp).where(FollowUp.case_id == case.id).order_by(FollowUp.due_on)
    ).all()
    transitions = db.session.execute(
        select(CaseTransition, User)
        .outerjoin(User, User.id == CaseTransition.by_user_id)
        .where(CaseTransition.case_id == case.id)
        .order_by(CaseTransition.at)
    ).all()
    services.log_file_access(client.id, current_user.id, "case")
    db.session.commit()
    return render_template(
        "clients/case.html",
        case=case,
        client=client,
        assessments=assessments,
        risks=risks,
        high=services.high_risks(current_agency(), risks[0] if risks else None),
        plans=plans,
        follow_ups=follow_ups,
        transitions=transitions,
        domains=ASSESSMENT_DOMAINS,
        domain_label=domain_label,
        risk_score=services.risk_score,
    )


@bp.route("/cases/<uuid:case_id>/stage", methods=["POST"])
@require(MANAGE_CASES)
def move_case(case_id: uuid.UUID) -> Any:
    case, _client = _case_and_client(case_id)
    target = request.form.get("to", "")
    if target not in {s.value for s in CaseStatus} or target == CaseStatus.CLOSED:
        abort(400)
    try:
        services.transition(case, target, by=current_user, note=(request.form.get("note") or "")[:500])
    except ClientError as exc:
        db.session.rollback()
        flash(error_message(exc), "error")
    else:
        db.session.commit()
    return redirect(url_for("clients.case", case_id=case.id))


@bp.route("/cases/<uuid:case_id>/assessments/new", methods=["GET", "POST"])
@require(MANAGE_CASES)
def assess(case_id: uuid.UUID) -> Any:
    case, client = _case_and_client(case_id)
    form = AssessmentForm()
    if request.method == "GET":
        form.assessed_on.data = services.agency_today(current_agency())
    if form.validate_on_submit():
        domains = {
            d: {"level": form[f"{d}_level"].data, "notes": form[f"{d}_notes"].data}
            for d in ASSESSMENT_DOMAINS
        }
        try:
            services.record_assessment(
                case,
                method=form.method.data,
                assessed_on=form.assessed_on.data,
                domains=domains,
                summary=form.summary.data or "",
                by=current_user,
                today=services.agency_today(current_agency()),
            )
        except ClientError as exc:
            db.session.rollback()
            attach_error(form, exc)
        else:
            db.session.commit()
            flash(_("Assessment recorded."), "success")
            return redirect(url_for("clients.case", case_id=case.id))
    return render_template(
        "clients/assessment_form.html",
        form=form,
        case=case,
        client=client,
        domains=ASSESSMENT_DOMAINS,
        domain_label=domain_label,
    ), (200 if request.method == "GET" else 422)


@bp.route("/cases/<uuid:case_id>/risks/new", methods=["GET", "POST"])
@require(MANAGE_CASES)
def assess_risk(case_id: uuid.UUID) -> Any:
    from tenants.clients.forms import RiskForm

    case, client = _case_and_client(case_id)
    form = RiskForm()
    if request.method == "GET":
        form.assessed_on.data = services.agency_today(current_agency())
    if form.validate_on_submit():
        hazards = [
            {
                "hazard": h.form.hazard.data,
                "likelihood": h.form.likelihood.data,
                "impact": h.form.impact.data,
                "mitigation": h.form.mitigation.data,
            }
            for h in form.hazards
        ]
        try:
            services.record_risks(
                case,
                assessed_on=form.assessed_on.data,
                hazards=hazards,
                by=current_user,
                today=services.agency_today(current_agency()),
            )
        except ClientError as exc:
            db.session.rollback()
            attach_error(form, exc)
        else:
            db.session.commit()
            flash(_("Risk assessment recorded."), "success")
            return redirect(url_for("clients.case", case_id=case.id))
    return render_template("clients/risk_form.html", form=form, case=case, client=client), (
        200 if request.method == "GET" else 422
    )


@bp.route("/cases/<uuid:case_id>/close", methods=["GET", "POST"])
@require(MANAGE_CASES)
def close(case_id: uuid.UUID) -> Any:
    case, client = _case_and_client(case_id)
    form = CloseCaseForm()
    if request.method == "GET":
        form.closed_on.data = services.agency_today(current_agency())
    if form.validate_on_submit():
        try:
            services.close_case(
                current_agency(),
                case,
                reason=form.reason.data,
                closed_on=form.closed_on.data,
                by=current_user,
            )
        except ClientError as exc:
            db.session.rollback()
            attach_error(form, exc)
        else:
            db.session.commit()
            flash(_("Case closed. Follow-ups are scheduled."), "success")
            return redirect(url_for("clients.case", case_id=case.id))
    return render_template("clients/close.html", form=form, case=case, client=client), (
        200 if request.method == "GET" else 422
    )


@bp.route("/follow-ups/<uuid:follow_up_id>", methods=["GET", "POST"])
@require(MANAGE_CASES)
def follow_up(follow_up_id: uuid.UUID) -> Any:
    item = get_or_404(FollowUp, follow_up_id)
    case, client = _case_and_client(item.case_id)
    form = FollowUpForm(obj=item)
    if request.method == "GET" and item.done_on is None:
        form.done_on.data = services.agency_today(current_agency())
    if form.validate_on_submit():
        try:
            services.record_follow_up(
                item,
                case,
                done_on=form.done_on.data,
                method=form.method.data,
                outcome=form.outcome.data,
                new_intervention=bool(form.new_intervention.data),
                reopen=bool(form.reopen.data),
                by=current_user,
                today=services.agency_today(current_agency()),
            )
        except ClientError as exc:
            db.session.rollback()
            attach_error(form, exc)
        else:
            db.session.commit()
            flash(_("Follow-up recorded."), "success")
            return redirect(url_for("clients.case", case_id=case.id))
    return render_template("clients/follow_up.html", form=form, item=item, case=case, client=client), (
        200 if request.method == "GET" else 422
    )


# -- service plans ---------------------------------------------------------------------


def _plan_context(plan: ServicePlan) -> dict[str, Any]:
    from tenants.catalogue.models import ServiceItem
    from tenants.clients.models import ServicePlanItem

    case, client = _case_and_client(plan.case_id)
    items = db.session.execute(
        select(ServicePlanItem, ServiceItem)
        .join(ServiceItem, ServiceItem.id == ServicePlanItem.service_item_id)
        .where(ServicePlanItem.plan_id == plan.id)
        .order_by(ServiceItem.name)
    ).all()
    people = db.session.execute(
        select(User.id, User.name).where(User.id.in_([plan.author_user_id, plan.approved_by_user_id]))
    ).all()
    return {"plan": plan, "case": case, "client": client, "items": items, "people": dict(people)}


def _plan_forms(plan: ServicePlan) -> tuple[Any, Any]:
    from tenants.catalogue.models import ServiceItem
    from tenants.clients.forms import PlanForm, PlanItemForm

    form = PlanForm(obj=plan, prefix="plan")
    item_form = PlanItemForm(prefix="item")
    item_form.service_item_id.choices = [
        (str(i.id), i.name)
        for i in db.session.scalars(
            select(ServiceItem).where(ServiceItem.active.is_(True)).order_by(ServiceItem.name).limit(1000)
        )
    ]
    carers = db.session.execute(
        select(Membership.id, User.name)
        .join(User, User.id == Membership.user_id)
        .where(Membership.role == Role.CARER, Membership.active.is_(True))
        .order_by(User.name)
        .limit(1000)
    ).all()
    item_form.preferred_staff.choices = [(str(m), n) for m, n in carers]
    return form, item_form


@bp.route("/cases/<uuid:case_id>/plans", methods=["POST"])
@require(MANAGE_CASES)
@require_can_grow
def new_plan(case_id: uuid.UUID) -> Any:
    case, _client = _case_and_client(case_id)
    try:
        plan = services.new_plan(case, by=current_user)
    except ClientError as exc:
        db.session.rollback()
        flash(error_message(exc), "error")
        return redirect(url_for("clients.case", case_id=case.id))
    db.session.commit()
    return redirect(url_for("clients.plan", plan_id=plan.id))


@bp.route("/plans/<uuid:plan_id>", methods=["GET", "POST"])
@require(MANAGE_CASES)
def plan(plan_id: uuid.UUID) -> Any:
    plan = get_or_404(ServicePlan, plan_id)
    form, item_form = _plan_forms(plan)
    status = 200
    if request.method == "POST" and form.validate_on_submit():
        try:
            services.update_plan(
                plan,
                services.PlanFields(
                    goals=form.goals.data or "",
                    budget=form.budget.data,
                    risk_plan=form.risk_plan.data or "",
                    review_on=form.review_on.data,
                    starts_on=form.starts_on.data,
                    ends_on=form.ends_on.data,
                ),
                by=current_user,
            )
        except ClientError as exc:
            db.session.rollback()
            attach_error(form, exc) if exc.field else flash(error_message(exc), "error")
            status = 422
        else:
            db.session.commit()
            flash(_("Saved."), "success")
            return redirect(url_for("clients.plan", plan_id=plan.id))
    elif request.method == "POST":
        status = 422
    context = _plan_context(plan)
    services.log_file_access(context["client"].id, current_user.id, "plan")
    db.session.commit()
    return render_template("clients/plan.html", form=form, item_form=item_form, **context), status


@bp.route("/plans/<uuid:plan_id>/items", methods=["POST"])
@require(MANAGE_CASES)
def add_plan_item(plan_id: uuid.UUID) -> Any:
    plan = get_or_404(ServicePlan, plan_id)
    form, item_form = _plan_forms(plan)
    if item_form.validate_on_submit():
        try:
            services.add_plan_item(
                plan,
                services.PlanItemData(
                    service_item_id=uuid.UUID(item_form.service_item_id.data),
                    weekdays=item_form.weekdays.data or [],
                    start_time=item_form.start_time.data,
                    duration_minutes=item_form.duration_minutes.data,
                    preferred_staff_ids=[uuid.UUID(s) for s in item_form.preferred_staff.data or []],
                    notes=item_form.notes.data or "",
                ),
                by=current_user,
            )
        except ClientError as exc:
            db.session.rollback()
            if exc.field and exc.field in item_form:
                item_form[exc.field].errors.append(error_message(exc))
            else:
                flash(error_message(exc), "error")
        else:
            db.session.commit()
            flash(_("Service added to the plan."), "success")
            return redirect(url_for("clients.plan", plan_id=plan.id))
    context = _plan_context(plan)
    return render_template("clients/plan.html", form=form, item_form=item_form, **context), 422


@bp.route("/plans/<uuid:plan_id>/items/<uuid:plan_item_id>/remove", methods=["POST"])
@require(MANAGE_CASES)
def remove_plan_item(plan_id: uuid.UUID, plan_item_id: uuid.UUID) -> Any:
    from tenants.clients.models import ServicePlanItem

    plan = get_or_404(ServicePlan, plan_id)
    item = get_or_404(ServicePlanItem, plan_item_id)
    try:
        services.remove_plan_item(plan, item, by=current_user)
    except ClientError as exc:
        db.session.rollback()
        flash(error_message(exc), "error")
    else:
        db.session.commit()
    return redirect(url_for("clients.plan", plan_id=plan.id))


@bp.route("/plans/<uuid:plan_id>/<any(submit,approve,return,activate):action>", methods=["POST"])
@require(MANAGE_CASES)
def plan_action(plan_id: uuid.UUID, action: str) -> Any:
    from tenants.clients.services import activate_plan, approve_plan, return_plan, submit_plan

    plan = get_or_404(ServicePlan, plan_id)
    case, _client = _case_and_client(plan.case_id)
    messages = {
        "submit": _("Plan submitted for approval."),
        "approve": _("Plan approved."),
        "return": _("Plan returned to its author."),
        "activate": _("Plan is now active."),
    }
    try:
        if action == "submit":
            submit_plan(plan, case, by=current_user)
        elif action == "approve":
            approve_plan(current_agency(), plan, case, by=current_user, role=g_role())
        elif action == "return":
            return_plan(plan, case, by=current_user, note=request.form.get("note", ""))
        else:
            activate_plan(plan, case, by=current_user)
    except ClientError as exc:
        db.session.rollback()
        flash(error_message(exc), "error")
    else:
        db.session.commit()
        flash(messages[action], "success")
    return redirect(url_for("clients.plan", plan_id=plan.id))


def g_role() -> str:
    from saas.tenancy import current_membership

    membership = current_membership()
    return membership.role if membership else ""


# -- the agency's care settings -------------------------------------------------------------

FOLLOW_UP_LABEL = __import__("re").compile(r"^[1-9][0-9]{0,2}[dwm]$")


@bp.route("/settings/care", methods=["GET", "POST"])
@require(MANAGE_SETTINGS)
def care_settings() -> Any:
    from saas import audit
    from tenants.clients.forms import CareSettingsForm

    agency = current_agency()
    form = CareSettingsForm()
    if request.method == "GET":
        form.visit_window_days.data = agency.setting("visit_window_days", 28)
        form.travel_buffer_minutes.data = agency.setting("travel_buffer_minutes", 15)
        form.late_grace_minutes.data = agency.setting("late_grace_minutes", 15)
        form.checkin_location.data = bool(agency.setting("checkin_location", False))
        form.high_risk_score.data = agency.setting("high_risk_score", 15)
        form.elderly_from_age.data = agency.setting("elderly_from_age", 60)
        form.follow_up_schedule.data = ", ".join(
            agency.setting("follow_up_schedule", list(services.DEFAULT_FOLLOW_UPS))
        )
        form.coordinators_approve.data = "coordinator" in agency.setting(
            "plan_approver_roles", ["admin", "coordinator"]
        )
    if form.validate_on_submit():
        labels = [x.strip().lower() for x in form.follow_up_schedule.data.split(",") if x.strip()]
        if not labels or len(labels) > 8 or not all(FOLLOW_UP_LABEL.match(x) for x in labels):
            form.follow_up_schedule.errors.append(
                _("Write intervals like 7d, 2w or 1m, separated by commas.")
            )
        else:
            values = {
                "visit_window_days": form.visit_window_days.data,
                "travel_buffer_minutes": form.travel_buffer_minutes.data or 0,
                "late_grace_minutes": form.late_grace_minutes.data or 0,
                "checkin_location": bool(form.checkin_location.data),
                "high_risk_score": form.high_risk_score.data,
                "elderly_from_age": form.elderly_from_age.data,
                "follow_up_schedule": list(dict.fromkeys(labels)),
                "plan_approver_roles": ["admin", "coordinator"]
                if form.coordinators_approve.data
                else ["admin"],
            }
            changed = {k: v for k, v in values.items() if agency.setting(k, None) != v}
            agency.settings = {**(agency.settings or {}), **values}
            audit.record("settings.care_changed", agency.slug, **{k: str(v) for k, v in changed.items()})
            db.session.commit()
            flash(_("Saved."), "success")
            return redirect(url_for("clients.care_settings"))
    return render_template("clients/settings.html", form=form), 200 if request.method == "GET" else 422
