"""KPI targets and weights: per agency, in `Agency.settings` (defaults from the
domain rules), editable by its admins, every change audited. `evaluate()` turns
a month's raw figures into KPIs against the targets."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import cast, select, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm.attributes import set_committed_value

from saas import audit, db
from saas.errors import DomainError, register_messages
from saas.models import Agency

TARGETS_KEY = "quality_targets"
WEIGHTS_KEY = "quality_weights"


@dataclass(frozen=True)
class Kpi:
    key: str
    unit: str  # "percent", "minutes" or "score"
    higher_is_better: bool
    default_target: float
    default_weight: float = 1.0


# Domain defaults: response time <= 2 hours (general; community services set 30
# minutes), resolution >= 90%, coverage 100%, satisfaction >= 4.0/5, on-time
# response >= 95%, complaints handled on time >= 98%.
KPIS: tuple[Kpi, ...] = (
    Kpi("visits_delivered", "percent", True, 95),
    Kpi("visits_on_time", "percent", True, 95),
    Kpi("coverage", "percent", True, 100, 2),
    Kpi("response_time", "minutes", False, 120),
    Kpi("resolution_rate", "percent", True, 90),
    Kpi("responses_on_time", "percent", True, 95),
    Kpi("complaints_on_time", "percent", True, 98, 2),
    Kpi("satisfaction", "score", True, 4.0, 2),
    Kpi("training", "percent", True, 100),
    Kpi("caseload", "percent", True, 100),
    Kpi("return_visits", "percent", True, 100),
    Kpi("follow_ups", "percent", True, 100),
)
BY_KEY = {k.key: k for k in KPIS}
UNIT_RANGE = {"percent": (0.0, 100.0), "score": (1.0, 5.0), "minutes": (1.0, 7 * 24 * 60.0)}
MAX_WEIGHT = 100.0


class TargetError(DomainError):
    """Refused targets: the first problem, and `others` (field -> code), each
    shown next to its own field (`by_field`)."""

    def __init__(self, code: str, field: str | None = None, *, others: dict[str, str] | None = None) -> None:
        super().__init__(code, field)
        self.others = others or {}

    @classmethod
    def of(cls, problems: dict[str, str]) -> TargetError:
        (field, code), *rest = problems.items()
        return cls(code, field, others=dict(rest))

    def by_field(self) -> list[DomainError]:
        return [TargetError(self.code, self.field), *(TargetError(c, f) for f, c in self.others.items())]


register_messages(
    {
        "required": _l("This field is required."),
        "not_number": _l("Enter a number."),
        "percent_range": _l("Enter a percentage from 0 to 100."),
        "score_range": _l("Enter a score from 1 to 5."),
        "minutes_range": _l("Enter a number of minutes greater than 0 (at most 7 days)."),
        "weight_range": _l("Enter a weight from 0 to 100."),
    },
    error=TargetError,
)


@dataclass(frozen=True)
class Targets:
    targets: dict[str, float]
    weights: dict[str, float]


def _valid(kpi: Kpi, value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    low, high = UNIT_RANGE[kpi.unit]
    return number if low <= number <= high else None


def targets_of(agency: Agency) -> Targets:
    # targets and weights are a structure of their own (validated below), not typed settings
    stored = agency.settings or {}
    stored_t = stored.get(TARGETS_KEY) or {}
    stored_w = stored.get(WEIGHTS_KEY) or {}
    targets, weights = {}, {}
    for kpi in KPIS:
        value = _valid(kpi, stored_t.get(kpi.key)) if isinstance(stored_t, dict) else None
        targets[kpi.key] = kpi.default_target if value is None else value
        try:
            weight = float(stored_w.get(kpi.key, kpi.default_weight)) if isinstance(stored_w, dict) else None
        except (TypeError, ValueError):
            weight = None
        weights[kpi.key] = kpi.default_weight if weight is None or not 0 <= weight <= MAX_WEIGHT else weight
    return Targets(targets, weights)


def parse(form: dict[str, Any]) -> Targets:
    """Check every target and weight; nothing is saved unless all are valid.
    Codes: required, not_number, percent_range, score_range, minutes_range, weight_range."""
    problems: dict[str, str] = {}
    targets, weights = {}, {}
    for kpi in KPIS:
        raw = str(form.get(f"target_{kpi.key}", "") or "").strip()
        if not raw:
            problems[f"target_{kpi.key}"] = "required"
        else:
            try:
                number = float(raw)
            except ValueError:
                problems[f"target_{kpi.key}"] = "not_number"
            else:
                low, high = UNIT_RANGE[kpi.unit]
                if number != number or not low <= number <= high:  # NaN too
                    problems[f"target_{kpi.key}"] = f"{kpi.unit}_range"
                else:
                    targets[kpi.key] = number
        raw_w = str(form.get(f"weight_{kpi.key}", "") or "").strip()
        try:
            weight = float(raw_w)
        except ValueError:
            problems[f"weight_{kpi.key}"] = "not_number" if raw_w else "required"
            continue
        if weight != weight or not 0 <= weight <= MAX_WEIGHT:
            problems[f"weight_{kpi.key}"] = "weight_range"
        else:
            weights[kpi.key] = weight
    if problems:
        raise TargetError.of(problems)
    return Targets(targets, weights)


def change(agency: Agency, form: Any) -> Targets:
    """The targets and weights of the form, checked, stored and audited."""
    new = parse(form)
    save(agency, new)
    return new


def save(agency: Agency, new: Targets) -> dict[str, Any]:
    """Merge into the agency's settings in one statement and audit what changed."""
    old = targets_of(agency)
    changes = {f"target_{k}": [old.targets[k], v] for k, v in new.targets.items() if old.targets[k] != v} | {
        f"weight_{k}": [old.weights[k], v] for k, v in new.weights.items() if old.weights[k] != v
    }
    patch = {TARGETS_KEY: new.targets, WEIGHTS_KEY: new.weights}
    db.session.execute(
        update(Agency)
        .where(Agency.id == agency.id)
        .values(settings=Agency.settings.op("||")(cast(patch, JSONB)))
    )
    set_committed_value(
        agency, "settings", db.session.scalar(select(Agency.settings).where(Agency.id == agency.id))
    )
    if changes:
        audit.record("quality.targets_changed", agency.slug, changes=changes)
    return changes


def _pct(num: float, den: float) -> float | None:
    return round(100.0 * num / den, 1) if den else None


def evaluate(figures: dict[str, Any], targets: Targets) -> dict[str, dict[str, Any]]:
    """Each KPI: value (None when there was nothing to measure), the counts it
    comes from, target, weight, whether it is met and the gap."""
    v, fb, c = figures["visits"], figures["feedback"], figures["complaints"]
    sat, tr, cl = figures["satisfaction"], figures["training"], figures["caseload"]
    rv, fu = figures["return_visits"], figures["follow_ups"]
    dims = sat.get("dimensions") or {}
    ratios: dict[str, tuple[Any, float, float]] = {
        "visits_delivered": (_pct(v["delivered"], v["planned"]), v["planned"] - v["delivered"], v["planned"]),
        "visits_on_time": (
            _pct(v["delivered_on_time"], v["delivered"]),
            v["delivered"] - v["delivered_on_time"],
            v["delivered"],
        ),
        "coverage": (
            _pct(v["clients_served"], v["clients_planned"]),
            v["clients_planned"] - v["clients_served"],
            v["clients_planned"],
        ),
        "response_time": (
            round(fb["step_minutes"] / fb["stepped"], 1) if fb["stepped"] else None,
            fb["stepped"] - fb["stepped_in_target"],
            fb["stepped"],
        ),
        "resolution_rate": (
            _pct(fb["resolved"], fb["received"]),
            fb["received"] - fb["resolved"],
            fb["received"],
        ),
        "responses_on_time": (
            _pct(fb["answered_on_time"], fb["received"]),
            fb["received"] - fb["answered_on_time"],
            fb["received"],
        ),
        "complaints_on_time": (
            _pct(c["answered_on_time"], c["received"]),
            c["received"] - c["answered_on_time"],
            c["received"],
        ),
        "satisfaction": (
            round(sum(d["mean"] for d in dims.values()) / len(dims), 2) if dims else None,
            0,
            sat["n"],
        ),
        "training": (_pct(tr["workers"] - tr["behind"], tr["workers"]), tr["behind"], tr["workers"]),
        "caseload": (_pct(cl["workers"] - cl["over_limit"], cl["workers"]), cl["over_limit"], cl["workers"]),
        "return_visits": (
            _pct(rv["on_time"], rv["expected"]),
            rv["expected"] - rv["on_time"],
            rv["expected"],
        ),
        "follow_ups": (_pct(fu["on_time"], fu["due"]), fu["due"] - fu["on_time"], fu["due"]),
    }
    out: dict[str, dict[str, Any]] = {}
    for kpi in KPIS:
        value, short, of = ratios[kpi.key]
        target = targets.targets[kpi.key]
        met = None if value is None else (value >= target if kpi.higher_is_better else value <= target)
        out[kpi.key] = {
            "value": value,
            "target": target,
            "weight": targets.weights[kpi.key],
            "met": met,
            "short": int(short),  # how many fell short (late, missed, unanswered ...)
            "of": int(of),
            "gap": None if value is None else round(abs(value - target), 2),
        }
    return out


def score(kpis: dict[str, dict[str, Any]]) -> float | None:
    """Weighted share of targets achieved (each KPI capped at 100%)."""
    total = weighted = 0.0
    for key, k in kpis.items():
        if k["value"] is None or not k["weight"]:
            continue
        kpi = BY_KEY[key]
        if kpi.higher_is_better:
            achieved = min(1.0, k["value"] / k["target"]) if k["target"] else 1.0
        else:
            achieved = min(1.0, k["target"] / k["value"]) if k["value"] else 1.0
        total += k["weight"]
        weighted += k["weight"] * achieved
    return round(100 * weighted / total, 1) if total else None
