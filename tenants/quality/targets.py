"""KPI targets and weights: per agency, two structured typed settings the area
declares (`quality_targets` and `quality_weights`, KPI -> number, defaults from
the domain rules), read and written through `saas.settings` (so every change is
checked and audited there), set by the agency's admins on the targets page.
`evaluate()` turns a month's raw figures into KPIs against the targets."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from flask_babel import lazy_gettext as _l

from saas.models import Agency
from saas.settings import Invalid, Kind, Setting, Shape, settings_of, update_settings

TARGETS_KEY = "quality_targets"
WEIGHTS_KEY = "quality_weights"
# the topics of opinions and complaints that are community-service requests (the
# 30-minute target); every other item is a general request
COMMUNITY_TOPICS_KEY = "quality_community_topics"


@dataclass(frozen=True)
class Kpi:
    key: str
    unit: str  # "percent", "minutes" or "score"
    higher_is_better: bool
    default_target: float
    default_weight: float = 1.0


# Domain defaults: response time <= 30 minutes for community-service requests
# and <= 2 hours for general ones, resolution >= 90%, coverage 100%,
# satisfaction >= 4.0/5, on-time response >= 95%, complaints handled on time >= 98%.
# `response_time` is the general requests' (the key it always had).
KPIS: tuple[Kpi, ...] = (
    Kpi("visits_delivered", "percent", True, 95),
    Kpi("visits_on_time", "percent", True, 95),
    Kpi("coverage", "percent", True, 100, 2),
    Kpi("hours_delivered", "percent", True, 95),
    Kpi("response_time_community", "minutes", False, 30),
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


class KpiNumbers(Shape):
    """KPI -> a number: each KPI's target (within its unit's range) or weight
    (0 to `MAX_WEIGHT`; 0 leaves the KPI out of the score). A KPI not given
    keeps its default; one given blank is refused. Each part's form field is
    `<prefix>_<kpi>` ("target_coverage")."""

    messages = {
        "required": _l("This field is required."),
        "not_number": _l("Enter a number."),
        "percent_range": _l("Enter a percentage from 0 to 100."),
        "score_range": _l("Enter a score from 1 to 5."),
        "minutes_range": _l("Enter a number of minutes greater than 0 (at most 7 days)."),
        "weight_range": _l("Enter a weight from 0 to 100."),
    }

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    def default(self) -> Mapping[str, float]:
        if self.prefix == "target":
            return MappingProxyType({k.key: k.default_target for k in KPIS})
        return MappingProxyType({k.key: k.default_weight for k in KPIS})

    def _range(self, kpi: Kpi) -> tuple[tuple[float, float], str]:
        if self.prefix == "target":
            return UNIT_RANGE[kpi.unit], f"{kpi.unit}_range"
        return (0.0, MAX_WEIGHT), "weight_range"

    def clean(self, raw: Any) -> Mapping[str, float]:
        if raw is None:
            raw = {}
        if not isinstance(raw, Mapping) or not set(raw) <= set(BY_KEY):
            raise Invalid("format")
        value = dict(self.default())
        parts: dict[str, Invalid] = {}
        for kpi in KPIS:
            if kpi.key not in raw:
                continue
            field = f"{self.prefix}_{kpi.key}"
            item = raw[kpi.key]
            if item is None or (isinstance(item, str) and not item.strip()):
                parts[field] = Invalid("required")
                continue
            try:
                if isinstance(item, bool):
                    raise ValueError(item)
                number = float(item.strip() if isinstance(item, str) else item)
            except (TypeError, ValueError):
                parts[field] = Invalid("not_number")
                continue
            (low, high), out_of_range = self._range(kpi)
            if number != number or not low <= number <= high:  # NaN too
                parts[field] = Invalid(out_of_range)
                continue
            value[kpi.key] = number
        if parts:
            raise Invalid("parts", parts=parts)
        return MappingProxyType(value)


TARGETS, WEIGHTS = KpiNumbers("target"), KpiNumbers("weight")

# declared in `tenants.quality.AREA`; set on the targets page (`quality/targets.html`)
SETTINGS = (
    Setting(TARGETS_KEY, Kind.MAPPING, TARGETS.default(), _l("Quality targets"), shape=TARGETS),
    Setting(WEIGHTS_KEY, Kind.MAPPING, WEIGHTS.default(), _l("Weight"), shape=WEIGHTS),
    Setting(
        COMMUNITY_TOPICS_KEY,
        Kind.STR_LIST,
        (),
        _l("Topics of community-service requests"),
        help=_l(
            "Opinions and complaints with one of these topics are community-service requests and are "
            "held to the community-service response time; all others to the general one. "
            "Separate topics with commas."
        ),
        max_items=20,
        pattern=r"[^,]{1,100}",
        format_message=_l("Write each topic in at most 100 characters, separated by commas."),
    ),
)


@dataclass(frozen=True)
class Targets:
    targets: Mapping[str, float]
    weights: Mapping[str, float]
    community_topics: tuple[str, ...] = ()


def targets_of(agency: Agency) -> Targets:
    values = settings_of(agency)
    return Targets(values.get(TARGETS_KEY), values.get(WEIGHTS_KEY), values.get(COMMUNITY_TOPICS_KEY))


def change(agency: Agency, form: Mapping[str, Any]) -> Targets:
    """The targets and weights of the form (`target_<kpi>`, `weight_<kpi>`)
    and the community-service topics (when the form has them), every one
    checked before any is stored; each changed setting audited. A KPI missing
    from the form keeps its value. Raises `saas.settings.SettingsError` naming
    each refused field."""
    current = targets_of(agency)
    changes: dict[str, Any] = {
        TARGETS_KEY: {k.key: form.get(f"target_{k.key}", f"{current.targets[k.key]:g}") for k in KPIS},
        WEIGHTS_KEY: {k.key: form.get(f"weight_{k.key}", f"{current.weights[k.key]:g}") for k in KPIS},
    }
    if COMMUNITY_TOPICS_KEY in form:
        changes[COMMUNITY_TOPICS_KEY] = form.get(COMMUNITY_TOPICS_KEY, "")
    update_settings(agency, changes)
    return targets_of(agency)


def kpis_in(figures: Mapping[str, Any]) -> list[Kpi]:
    """The KPIs a stored summary has (one built before a KPI was added has
    not got it), in their order."""
    have = figures.get("kpis") or {}
    return [k for k in KPIS if k.key in have]


def _pct(num: float, den: float) -> float | None:
    return round(100.0 * num / den, 1) if den else None


def evaluate(figures: dict[str, Any], targets: Targets) -> dict[str, dict[str, Any]]:
    """Each KPI: value (None when there was nothing to measure), the counts it
    comes from, target, weight, whether it is met and the gap."""
    v, fb, c = figures["visits"], figures["feedback"], figures["complaints"]
    sat, tr, cl = figures["satisfaction"], figures["training"], figures["caseload"]
    rv, fu = figures["return_visits"], figures["follow_ups"]
    dims = sat.get("dimensions") or {}
    hours = figures["hours"]
    community = fb["community"]
    general = fb["stepped"] - community["stepped"]
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
        "hours_delivered": (
            _pct(hours["delivered_on_plans"], hours["contracted"]),
            round(max(hours["contracted"] - hours["delivered_on_plans"], 0)),
            round(hours["contracted"]),
        ),
        "response_time_community": (
            round(community["step_minutes"] / community["stepped"], 1) if community["stepped"] else None,
            community["stepped"] - community["stepped_in_target"],
            community["stepped"],
        ),
        "response_time": (
            round((fb["step_minutes"] - community["step_minutes"]) / general, 1) if general else None,
            general - (fb["stepped_in_target"] - community["stepped_in_target"]),
            general,
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
