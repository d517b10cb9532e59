"""Monthly quality summaries: asking for a build (once at a time), building it
(set-based, idempotent), the peer position, the wording of each KPI's gap, and
the email to the agency's admins."""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, text, update
from sqlalchemy.dialects.postgresql import Insert, insert

from billing.lifecycle import external_url
from saas import audit, db, mail
from saas.i18n import agency_language
from saas.jobs import enqueue, enqueue_many
from saas.models import Agency, Membership, Role, User
from saas.signals import announce
from tenants.quality import kpis, targets
from tenants.quality.models import BuildState, QualitySummary
from tenants.quality.signals import MonthBounds, section_figures
from tenants.scheduling.services import return_visit_due_day
from tenants.staffing.settings import workforce_settings

BUSY = (BuildState.QUEUED, BuildState.BUILDING)
MIN_PEERS = 5
# agencies are comparable when their planned visits in the month are within this factor
PEER_VOLUME_FACTOR = 2.0


def previous_month(agency: Agency, now: datetime | None = None) -> date:
    """The last complete month on the agency's wall clock."""
    local = (now or db.utcnow()).astimezone(agency.zone)
    return kpis.add_months(local.date().replace(day=1), -1)


def parse_month(value: str) -> date | None:
    try:
        year, month = (int(p) for p in value.split("-", 1))
        return date(year, month, 1)
    except (ValueError, TypeError):
        return None


def summary_for(month: date) -> QualitySummary | None:
    return db.session.scalar(select(QualitySummary).where(QualitySummary.month == month))


def _queued_row(agency: Agency, month: date, now: datetime) -> Insert:
    """The INSERT of a queued summary of `month` (the caller adds the conflict rule)."""
    return insert(QualitySummary).values(
        tenant_id=db.current_tenant_id(),
        id=db.new_id(),
        month=month,
        state=BuildState.QUEUED,
        figures={},
        locale=agency.locale,
        requested_at=now,
        rebuilds=0,
    )


def request_build(agency: Agency, month: date, *, by: User | None = None) -> tuple[QualitySummary, bool]:
    """Queue a (re)build of the agency's summary of `month`.

    One statement decides it: insert the row, or flip an existing one back to
    queued only if no build is queued or running. Two requests at once meet on
    the row's lock, so exactly one of them queues a build; the other gets
    False. Returns the summary and whether a build was queued."""
    month = month.replace(day=1)
    if month >= agency.today().replace(day=1):
        raise ValueError("month_not_over")
    now = db.utcnow()
    stmt = (
        _queued_row(agency, month, now)
        .on_conflict_do_update(
            index_elements=["tenant_id", "month"],
            set_={"state": BuildState.QUEUED, "requested_at": now},
            where=QualitySummary.state.notin_([s.value for s in BUSY]),
        )
        .returning(QualitySummary.id)
    )
    summary_id = db.session.scalar(stmt)
    summary = summary_for(month)
    if summary is None:  # pragma: no cover - the row exists after the upsert
        raise RuntimeError("summary row missing")
    db.session.refresh(summary)
    if summary_id is None:
        return summary, False
    enqueue("quality.build", agency_id=agency.id, summary_id=summary_id)
    audit.record("quality.build_requested", month.isoformat(), by_user=str(by.id) if by else None)
    return summary, True


def ensure_build(agency: Agency, month: date) -> bool:
    """The monthly sweep: queue the month's first build unless a summary (in
    any state) already exists. True when a build was queued."""
    summary_id = db.session.scalar(
        _queued_row(agency, month, db.utcnow())
        .on_conflict_do_nothing(index_elements=["tenant_id", "month"])
        .returning(QualitySummary.id)
    )
    if summary_id is None:
        return False
    enqueue("quality.build", agency_id=agency.id, summary_id=summary_id, show_progress=False)
    return True


def build_settings(agency: Agency, goals: targets.Targets) -> kpis.Settings:
    workforce = workforce_settings(agency)
    return kpis.Settings(
        response_target_minutes=int(goals.targets["response_time"]),
        annual_training_hours=float(workforce.annual_training_hours),
        certificate_expiring_days=workforce.certificate_expiring_days,
        limit_individual=workforce.caseload_limit_individual,
        limit_community=workforce.caseload_limit_community,
        return_visit_due_day=return_visit_due_day(agency),
        community_response_target_minutes=int(goals.targets["response_time_community"]),
        community_topics=tuple(goals.community_topics),
    )


def _with_kpis(
    agency: Agency, month: date, window: kpis.Window, goals: targets.Targets, figures: dict[str, Any]
) -> dict[str, Any]:
    # the other areas' figures of the month, with the agency in scope (tenants/quality/signals.py)
    bounds = MonthBounds(agency, month, window.lo, window.hi, window.as_of)
    figures["sections"] = section_figures(db.session(), [bounds])[agency.id]
    figures["kpis"] = targets.evaluate(figures, goals)
    figures["score"] = targets.score(figures["kpis"])
    if figures["score"] is not None:
        figures.setdefault("score_trend", []).append({"month": month.isoformat(), "score": figures["score"]})
    figures["empty"] = kpis.is_empty(figures)
    figures["month"] = month.isoformat()
    figures["timezone"] = agency.timezone
    figures["window"] = {"from": window.lo.isoformat(), "to": window.hi.isoformat()}
    figures["as_of"] = window.as_of.isoformat()
    return figures


def compute_figures(agency: Agency, month: date, as_of: datetime | None = None) -> dict[str, Any]:
    """The month's figures and KPIs, as stored (numbers only, no personal data)."""
    goals = targets.targets_of(agency)
    window = kpis.Window.of(month, agency.zone, as_of or db.utcnow())
    figures = kpis.compute(db.session(), window, build_settings(agency, goals))
    return _with_kpis(agency, month, window, goals, figures)


def compute_batch(
    due: list[tuple[Agency, date]], as_of: datetime | None = None
) -> dict[uuid.UUID, dict[str, Any]]:
    """Each due agency's figures (one month each, with its own time zone and
    settings): the statement of `compute_figures`, once per agency, each run
    under that agency's own scope in the caller's transaction, so every one is
    about one agency (a router query on Citus) and row-level security checks
    it; the scope goes back to the caller's at the end. The agencies were
    chosen through the platform reader (`jobs.due_agencies`)."""
    as_of = as_of or db.utcnow()
    sess = db.session()
    previous = db.current_tenant_id(sess)
    out: dict[uuid.UUID, dict[str, Any]] = {}
    try:
        for agency, month in due:
            # one SET LOCAL per agency, none back to the caller's in between
            db.set_tenant(agency.id, sess)
            goals = targets.targets_of(agency)
            window = kpis.Window.of(month, agency.zone, as_of)
            raw = kpis.compute(sess, window, build_settings(agency, goals))
            out[agency.id] = _with_kpis(agency, month, window, goals, raw)
    finally:
        db.set_tenant(previous, sess)
    return out


# the sweep's first builds of a batch of agencies, each under its own scope in
# turn, in one round trip (migration d8b3f5a61c2e): each agency's summary
# inserted as built unless one exists in any state, and its audit entry only
# when it was stored
_STORE_FIRST_BUILDS = text(
    "select agency_id, summary_id from quality_store_first_builds(cast(:builds as jsonb))"
)


def store_batch(due: list[tuple[Agency, date]], figures: dict[uuid.UUID, dict[str, Any]]) -> int:
    """Store a batch of the sweep's first builds (one month per agency, their
    figures from `compute_batch`), all in the caller's transaction:

    - each summary and its audit entry under its own agency's scope, the
      agencies one after the other (one `quality_store_first_builds` call each,
      in that agency's scope), so
      row-level security checks every row against its own agency and each
      agency's audit chain is appended under its own lock; a summary that
      exists in any state (an earlier sweep, or a build someone asked for
      meanwhile, left to its own job) is left alone, with no audit entry;
    - the jobs that email each agency's admins (delivery, after the commit, is
      the worker's): outbox rows, which belong to the platform, written
      together in one INSERT.

    Returns how many were stored."""
    now = db.utcnow()
    builds = [
        {
            "agency_id": str(agency.id),
            "summary_id": str(db.new_id()),
            "month": month.isoformat(),
            "figures": figures[agency.id],
            "locale": agency.locale,
            "built_at": now.isoformat(),
            **audit.agency_entry_params(
                agency.id, "quality.summary_built", month.isoformat(), details={"rebuild": 0}
            ),
        }
        for agency, month in due
    ]
    # one agency a call, each under its own scope set by SET LOCAL: the function's
    # own set_config reaches only the coordinator, where Citus's shards on the
    # workers check row-level security against what SET LOCAL replayed there
    stored = []
    for (agency, _month), build in zip(due, builds, strict=True):
        with db.tenant_scope(agency.id):
            stored += db.session.execute(
                _STORE_FIRST_BUILDS, {"builds": json.dumps([build], default=str)}
            ).all()
    enqueue_many("quality.email", ((r.agency_id, {"summary_id": str(r.summary_id)}) for r in stored))
    return len(stored)


def build_batch(due: list[tuple[Agency, date]], as_of: datetime | None = None) -> int:
    """The sweep's bulk path for a batch of agencies (one month each): each
    agency's figures under its own scope (`compute_batch`), then each stored
    under its own scope (`store_batch`), all in the caller's transaction.
    Returns how many were stored."""
    return store_batch(due, compute_batch(due, as_of))


def _set_state_apart(tenant_id: uuid.UUID, summary_id: uuid.UUID, state: BuildState) -> None:
    """Set a summary that is not done to `state`, in a short transaction of its
    own (seen at once, whatever becomes of the caller's)."""
    sess = db.new_session(tenant_id=tenant_id)
    table = QualitySummary.__table__
    try:
        sess.execute(
            table.update()
            .where(table.c.id == summary_id, table.c.state != BuildState.DONE.value)
            .values(state=state.value)
        )
        sess.commit()
    finally:
        sess.close()


def build_summary(
    agency: Agency, summary_id: uuid.UUID, *, show_progress: bool = True
) -> QualitySummary | None:
    """Compute and store one summary; idempotent (a redelivered job finds it
    done and changes nothing). A rebuild replaces the figures and says so.

    Four statements of its own (claim, figures, store, admins) besides the
    audit entry: the sweep's first builds skip the separate "building"
    transaction (`show_progress=False`), nobody is watching them."""
    if show_progress:  # a rebuild someone asked for from the page and is watching
        _set_state_apart(agency.id, summary_id, BuildState.BUILDING)
    table = QualitySummary.__table__
    # the claim locks the row until this transaction ends: a second delivery of
    # the same job waits here, then finds it done
    claimed = db.session.execute(
        table.update()
        .where(table.c.id == summary_id, table.c.state != BuildState.DONE.value)
        .values(state=BuildState.BUILDING.value)
        .returning(table.c.month, table.c.built_at)
    ).first()
    if claimed is None:
        return None
    figures = compute_figures(agency, claimed.month)
    now = db.utcnow()
    replacing = claimed.built_at is not None
    values: dict[str, Any] = {
        "figures": figures,
        "locale": agency.locale,
        "state": BuildState.DONE,
        "built_at": now,
    }
    if replacing:
        values["rebuilds"] = QualitySummary.rebuilds + 1
        values["replaced_at"] = now
    summary = db.session.scalar(
        update(QualitySummary)
        .where(QualitySummary.id == summary_id)
        .values(**values)
        .returning(QualitySummary)
        .execution_options(populate_existing=True)
    )
    if summary is None:  # pragma: no cover - the row is locked by the claim
        return None
    audit.record("quality.summary_built", summary.month.isoformat(), rebuild=summary.rebuilds)
    announce("summary.built", summary.id, month=summary.month.isoformat(), rebuild=summary.rebuilds)
    send_summary(agency, summary)
    return summary


def mark_failed(agency_id: uuid.UUID, summary_id: uuid.UUID) -> None:
    """After an error: shown as failed, and a rebuild may be asked for again."""
    _set_state_apart(agency_id, summary_id, BuildState.FAILED)


def _admins() -> list[Any]:
    return list(
        db.session.execute(
            select(User.email, User.locale)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.role == str(Role.ADMIN), Membership.active.is_(True))
        ).all()
    )


def send_summary(agency: Agency, summary: QualitySummary) -> int:
    """The key figures to each admin in their own language; once per build
    (the dedupe key carries the rebuild number)."""
    link = external_url("quality.show", slug=agency.slug, summary_id=summary.id)
    sent = 0
    for email, locale in _admins():
        with agency_language(locale, agency):
            lines = key_lines(summary.figures)
        if mail.send(
            email,
            "quality_summary",
            locale=locale or agency.locale,
            kind="quality.summary",
            agency_id=agency.id,
            dedupe_key=f"{agency.id}:quality:{summary.month.isoformat()}:{summary.rebuilds}:{email}",
            agency_name=agency.name,
            month=summary.month,
            lines=lines,
            empty=summary.figures.get("empty", False),
            replaces=summary.rebuilds > 0,
            link=link,
        ):
            sent += 1
    return sent


# -- the peer position ------------------------------------------------------------------------


def peer_percentiles(agency_id: uuid.UUID, month: date, own: dict[str, Any]) -> dict[str, int] | None:
    """Where each KPI stands among comparable agencies (planned visits in the
    month within a factor of 2), as a percentile: the share of peers this
    agency does at least as well as. Read through the platform reader from the
    other agencies' stored KPI numbers only (no re-scan of their data), and
    returned only as percentiles: never another agency's name or figures.
    None when fewer than 5 peers."""
    planned = (own.get("visits") or {}).get("planned") or 0
    if not planned:
        return None
    lo, hi = planned / PEER_VOLUME_FACTOR, planned * PEER_VOLUME_FACTOR
    volume = QualitySummary.figures[("visits", "planned")].as_float()
    keys = [k.key for k in targets.KPIS]
    with db.platform_reader() as reader:
        rows = reader.execute(
            select(*(QualitySummary.figures[("kpis", k, "value")].as_float() for k in keys)).where(
                QualitySummary.month == month,
                QualitySummary.state == BuildState.DONE,
                QualitySummary.tenant_id != agency_id,
                volume.between(lo, hi),
            )
        ).all()
    if len(rows) < MIN_PEERS:
        return None
    out: dict[str, int] = {}
    for i, key in enumerate(keys):
        mine = own["kpis"].get(key, {}).get("value")
        values = [r[i] for r in rows if r[i] is not None]
        if mine is None or len(values) < MIN_PEERS:
            continue
        better = targets.BY_KEY[key].higher_is_better
        at_least = sum(1 for v in values if (mine >= v if better else mine <= v))
        out[key] = round(100 * at_least / len(values))
    return out


# -- wording ----------------------------------------------------------------------------------


# each msgid translated only when used (a summary's email words 14 of them)
LABELS = {
    "visits_delivered": _l("Planned visits delivered"),
    "visits_on_time": _l("Visits on time"),
    "coverage": _l("Coverage of planned clients"),
    "hours_delivered": _l("Contracted hours delivered"),
    "response_time_community": _l("Response time, community-service requests"),
    "response_time": _l("Response time, general requests"),
    "resolution_rate": _l("Resolution rate"),
    "responses_on_time": _l("Opinions and complaints answered on time"),
    "complaints_on_time": _l("Complaints answered on time"),
    "satisfaction": _l("Average satisfaction"),
    "training": _l("Workers on track with training hours"),
    "caseload": _l("Workers within their caseload limit"),
    "return_visits": _l("Return visits on time"),
    "follow_ups": _l("Follow-ups on time"),
}


def kpi_label(key: str) -> str:
    return str(LABELS[key])


def format_value(key: str, value: float | None) -> str:
    if value is None:
        return "–"
    unit = targets.BY_KEY[key].unit
    if unit == "percent":
        return f"{value:g}%"
    if unit == "minutes":
        return _("%(n)s min", n=f"{value:g}")
    return f"{value:.2f}"


SHORT_WORDS = {
    "visits_delivered": _l("%(short)d of %(of)d planned visits were not delivered"),
    "visits_on_time": _l("%(short)d of %(of)d delivered visits were late"),
    "coverage": _l("%(short)d of %(of)d clients had no delivered visit"),
    "hours_delivered": _l("%(short)d of %(of)d contracted hours were not delivered"),
    "response_time_community": _l(
        "%(short)d of %(of)d requests waited longer than the target for a first response"
    ),
    "response_time": _l("%(short)d of %(of)d items waited longer than the target for a first response"),
    "resolution_rate": _l("%(short)d of %(of)d items are not closed with a response"),
    "responses_on_time": _l("%(short)d of %(of)d were not answered on time"),
    "complaints_on_time": _l("%(short)d of %(of)d were late"),
    "satisfaction": _l("from %(of)d ratings"),
    "training": _l("%(short)d of %(of)d workers are behind on training hours"),
    "caseload": _l("%(short)d of %(of)d workers are over their limit"),
    "return_visits": _l("%(short)d of %(of)d return visits were late or not done"),
    "follow_ups": _l("%(short)d of %(of)d follow-ups were late or not done"),
}


def _short_words(key: str, short: int, of: int) -> str:
    return str(SHORT_WORDS[key]) % {"short": short, "of": of}


def describe(key: str, k: dict[str, Any]) -> str:
    """The KPI against its target in plain words, e.g. "Complaints answered on
    time: 91% against a target of 98%: 3 of 34 were late"."""
    label = kpi_label(key)
    if k["value"] is None:
        return _("%(label)s: nothing to measure this month.", label=label)
    value, target = format_value(key, k["value"]), format_value(key, k["target"])
    detail = _short_words(key, k["short"], k["of"])
    if k["met"]:
        return _(
            "%(label)s: %(value)s, target %(target)s met (%(detail)s).",
            label=label,
            value=value,
            target=target,
            detail=detail,
        )
    return _(
        "%(label)s: %(value)s against a target of %(target)s: %(detail)s.",
        label=label,
        value=value,
        target=target,
        detail=detail,
    )


def key_lines(figures: dict[str, Any]) -> list[str]:
    if not figures or figures.get("empty"):
        return [_("There was no activity to report this month.")]
    return [describe(k.key, figures["kpis"][k.key]) for k in targets.kpis_in(figures)]


def archive() -> list[QualitySummary]:
    return list(db.session.scalars(select(QualitySummary).order_by(QualitySummary.month.desc()).limit(60)))
