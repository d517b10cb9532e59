"""The monthly quality summary pages: the archive, one month's summary (from
its stored figures), its PDF, (re)building on demand, and the targets."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user

from saas.i18n import agency_language
from saas.labels import Labels
from saas.lifecycle import attempt
from saas.links import UrlPattern
from saas.permissions import MANAGE_SETTINGS, can, require
from saas.settings import SettingsError
from saas.tenancy import current_agency, get_or_404, public_agency_page
from tenants.feedback.labels import dimension_label
from tenants.feedback.models import DIMENSIONS
from tenants.quality import (
    BUILD_QUALITY_SUMMARIES,
    PUBLISH_QUALITY_SUMMARIES,
    VIEW_QUALITY,
    charts,
    kpis,
    publishing,
    queries,
    services,
    targets,
)
from tenants.quality import jobs as _jobs  # noqa: F401 - registers the build job
from tenants.quality.forms import PublishForm
from tenants.quality.models import BuildState, QualitySummary
from tenants.quality.pdf import render as render_pdf
from tenants.quality.signals import sections_for

bp = Blueprint("quality", __name__, url_prefix="/a/<slug>")


state_label = Labels(
    {
        "queued": _l("Waiting to be built"),
        "building": _l("Being built"),
        "done": _l("Built"),
        "failed": _l("The build failed: ask for it again"),
    }
)


bp.app_template_global("quality_state_label")(state_label)


def _months_open(agency: Any) -> list[date]:
    """The last 12 complete months, newest first, to build a missing one."""
    last = services.previous_month(agency)
    return [kpis.add_months(last, -i) for i in range(12)]


@bp.route("/quality/")
@require(VIEW_QUALITY)
def index() -> Any:
    agency = current_agency()
    rows = queries.archive()
    have = {s.month for s in rows}
    missing = [m for m in _months_open(agency) if m not in have]
    return render_template(
        "quality/index.html",
        rows=rows,
        missing=missing,
        can_build=can(BUILD_QUALITY_SUMMARIES),
        summary_url=UrlPattern("quality.show", "summary_id"),
    )


@bp.route("/quality/build", methods=["POST"])
@require(BUILD_QUALITY_SUMMARIES)
def build() -> Any:
    agency = current_agency()
    month = services.parse_month(request.form.get("month", ""))
    if month is None or month not in _months_open(agency):
        flash(_("Choose a month that is over."), "error")
        return redirect(url_for("quality.index"))
    summary, queued = services.request_build(agency, month, by=current_user)
    _flash_queued(queued)
    return redirect(url_for("quality.show", summary_id=summary.id))


def _flash_queued(queued: bool) -> None:
    if queued:
        flash(_("The summary is being built. This page shows its progress."), "info")
    else:
        flash(_("A build of this summary is already under way."), "info")


@bp.route("/quality/<uuid:summary_id>")
@require(VIEW_QUALITY)
def show(summary_id: uuid.UUID) -> Any:
    return _show(get_or_404(QualitySummary, summary_id))


def _publish_form(summary: QualitySummary, form: PublishForm | None = None) -> PublishForm:
    form = form or PublishForm(formdata=None, kpis=summary.published_kpis or [k.key for k in targets.KPIS])
    form.kpis.choices = [(k.key, services.kpi_label(k.key)) for k in targets.kpis_in(summary.figures or {})]
    return form


def _show(summary: QualitySummary, publish_form: PublishForm | None = None) -> Any:
    figures = summary.figures or {}
    peers = queries.peer_positions(summary)
    can_publish = can(PUBLISH_QUALITY_SUMMARIES) and summary.built_at is not None
    published = summary.published_at is not None
    return render_template(
        "quality/show.html",
        can_publish=can_publish,
        publish_form=_publish_form(summary, publish_form) if can_publish and not published else None,
        public_url=publishing.public_url(current_agency(), summary.month) if published else None,
        # read only for who may send the link, once the month is published
        funders=publishing.funders_with_email() if can_publish and published else [],
        summary=summary,
        f=figures,
        kpis=targets.kpis_in(figures),
        peers=peers,
        busy=summary.state in (BuildState.QUEUED, BuildState.BUILDING),
        trend_svg=_trend_chart(figures),
        score_svg=charts.score_chart(summary.month, figures.get("score_trend") or [], "quality-score")
        if figures.get("kpis")
        else None,
        # the other areas' sections (incidents ...), from their own figures
        sections=sections_for(summary),
        dimensions=DIMENSIONS,
        can_build=can(BUILD_QUALITY_SUMMARIES),
        min_peers=services.MIN_PEERS,
        rv_month=date.fromisoformat(figures["return_visits"]["month"])
        if figures.get("return_visits")
        else None,
        # summaries built before the due day was stored say "the 7th"
        rv_due=date.fromisoformat(figures["return_visits"]["due_on"])
        if figures.get("return_visits", {}).get("due_on")
        else None,
    )


def _trend_chart(figures: dict[str, Any]) -> Any:
    trend = (figures.get("satisfaction") or {}).get("trend") or []
    month = figures.get("month")
    if not month:
        return None
    return charts.satisfaction_chart(date.fromisoformat(month), trend, "quality-trend")


@bp.route("/quality/<uuid:summary_id>/publish", methods=["POST"])
@require(PUBLISH_QUALITY_SUMMARIES)
def publish(summary_id: uuid.UUID) -> Any:
    summary = get_or_404(QualitySummary, summary_id)
    form = _publish_form(summary, PublishForm())
    if form.validate() and attempt(
        form, lambda: publishing.publish(current_agency(), summary, form.kpis.data or [], by=current_user)
    ):
        flash(_("Published. Copy the link to share it with residents and funders."), "info")
        return redirect(url_for("quality.show", summary_id=summary.id))
    return _show(summary, form), 422


@bp.route("/quality/<uuid:summary_id>/unpublish", methods=["POST"])
@require(PUBLISH_QUALITY_SUMMARIES)
def unpublish(summary_id: uuid.UUID) -> Any:
    summary = get_or_404(QualitySummary, summary_id)
    if attempt(None, lambda: publishing.unpublish(summary, by=current_user)):
        flash(_("Unpublished: the public page is no longer available."), "info")
    return redirect(url_for("quality.show", summary_id=summary.id))


@bp.route("/quality/<uuid:summary_id>/send-to-funders", methods=["POST"])
@require(PUBLISH_QUALITY_SUMMARIES)
def send_to_funders(summary_id: uuid.UUID) -> Any:
    summary = get_or_404(QualitySummary, summary_id)
    sent: list[int] = []
    if attempt(
        None, lambda: sent.append(publishing.send_to_funders(current_agency(), summary, by=current_user))
    ):
        flash(
            ngettext(
                "The link is on its way to %(num)d funder.",
                "The link is on its way to %(num)d funders.",
                sent[0],
            ),
            "info",
        )
    return redirect(url_for("quality.show", summary_id=summary.id))


@bp.route("/quality/public/<month>")
@public_agency_page
def public(month: str) -> Any:
    """A published month's figures, for anyone (no sign-in), in the agency's
    language; not found when not published (or unpublished since)."""
    agency = current_agency()
    day = publishing.month_of(month)
    found = publishing.published(day) if day is not None else None
    if found is None:
        abort(404)
    with agency_language(agency.locale, agency):
        return render_template(
            "quality/public.html",
            agency=agency,
            summary=found,
            trend_svg=charts.satisfaction_chart(found.month, found.trend, "quality-public-trend")
            if found.trend
            else None,
        )


@bp.route("/quality/<uuid:summary_id>/rebuild", methods=["POST"])
@require(BUILD_QUALITY_SUMMARIES)
def rebuild(summary_id: uuid.UUID) -> Any:
    summary = get_or_404(QualitySummary, summary_id)
    summary, queued = services.request_build(current_agency(), summary.month, by=current_user)
    _flash_queued(queued)
    return redirect(url_for("quality.show", summary_id=summary.id))


@bp.route("/quality/<uuid:summary_id>/summary.pdf")
@require(VIEW_QUALITY)
def pdf(summary_id: uuid.UUID) -> Any:
    summary = get_or_404(QualitySummary, summary_id)
    if summary.state != BuildState.DONE and not summary.built_at:
        flash(_("The summary is not built yet."), "error")
        return redirect(url_for("quality.show", summary_id=summary.id))
    data = render_pdf(summary, current_agency())
    name = f"quality-{summary.month:%Y-%m}.pdf"
    return Response(
        data,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@bp.route("/quality/targets", methods=["GET", "POST"])
@require(MANAGE_SETTINGS)
def targets_page() -> Any:
    agency = current_agency()
    current = targets.targets_of(agency)
    values = {f"target_{k}": f"{v:g}" for k, v in current.targets.items()}
    values |= {f"weight_{k}": f"{v:g}" for k, v in current.weights.items()}
    values[targets.COMMUNITY_TOPICS_KEY] = ", ".join(current.community_topics)
    errors: dict[str, str] = {}
    if request.method == "POST":
        values = {key: request.form.get(key, "") for key in values}
        try:
            targets.change(agency, request.form)
        except SettingsError as exc:
            # shown with 400, so nothing is kept
            errors = exc.messages()
        else:
            flash(_("Targets saved. They apply to summaries built from now on."), "info")
            return redirect(url_for("quality.targets_page"))
    status = 400 if errors else 200
    return render_template(
        "quality/targets.html",
        kpis=targets.KPIS,
        values=values,
        errors=errors,
        topics_key=targets.COMMUNITY_TOPICS_KEY,
    ), status


bp.app_template_global("quality_kpi_label")(services.kpi_label)
bp.app_template_global("quality_describe")(services.describe)
bp.app_template_global("quality_value")(services.format_value)
bp.app_template_global("quality_dimension_label")(dimension_label)
