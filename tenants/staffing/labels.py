"""Words for the workforce codes (roles, statuses, categories...), in the
user's language. Templates reach them through `workforce_label(group, code)`."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

LABELS: dict[str, dict[str, Any]] = {
    "staff_role": {
        "carer": _l("Carer"),
        "social_worker": _l("Social worker"),
        "coordinator": _l("Coordinator"),
    },
    "certificate_status": {
        "valid": _l("Valid"),
        "expiring": _l("Expiring soon"),
        "expired": _l("Expired"),
    },
    "stage_result": {"pending": _l("Pending"), "passed": _l("Passed"), "failed": _l("Failed")},
    "decision": {"pending": _l("Pending"), "hired": _l("Hired"), "rejected": _l("Not hired")},
    "caseload_kind": {"individual": _l("Individual client"), "community": _l("Community programme")},
    "review_kind": {"quarterly": _l("Quarterly"), "yearly": _l("Yearly")},
    "rating_source": {"self": _l("Self"), "peer": _l("Peer"), "supervisor": _l("Supervisor")},
    "dimension": {
        "quality_of_care": _l("Quality of care"),
        "reliability": _l("Reliability"),
        "communication": _l("Communication"),
        "teamwork": _l("Teamwork"),
        "professionalism": _l("Professionalism"),
    },
    "reward_kind": {"reward": _l("Reward"), "penalty": _l("Penalty")},
    "weekday": {
        "mon": _l("Monday"),
        "tue": _l("Tuesday"),
        "wed": _l("Wednesday"),
        "thu": _l("Thursday"),
        "fri": _l("Friday"),
        "sat": _l("Saturday"),
        "sun": _l("Sunday"),
    },
    "course_category": {
        "ethics": _l("Ethics and professionalism"),
        "theory_practice": _l("Theory and practice"),
        "policy_law": _l("Policy, law and standards"),
        "assessment_intervention": _l("Assessment and intervention"),
        "communication_teamwork": _l("Communication and teamwork"),
        "emergency_first_aid": _l("Emergency response and psychological first aid"),
        "case_analysis": _l("Case analysis"),
    },
    "course_form": {
        "online": _l("Online"),
        "classroom": _l("Classroom or workshop"),
        "practicum": _l("Practicum"),
        "exchange_visit": _l("Exchange visit"),
        "mentorship": _l("Mentorship"),
    },
    "counts_as": {"pre_service": _l("Pre-service training"), "annual": _l("Annual role training")},
    "attendance": {
        "enrolled": _l("Enrolled"),
        "completed": _l("Completed"),
        "partial": _l("Partly attended"),
        "absent": _l("Absent"),
    },
    "unit": {"per_visit": _l("per visit"), "per_hour": _l("per hour")},
    "import_kind": {
        "staff": _l("Staff"),
        "certificates": _l("Certificates"),
        "catalogue": _l("Catalogue items"),
    },
}


def workforce_label(group: str, code: str | None) -> str:
    if code is None:
        return ""
    label = LABELS.get(group, {}).get(code)
    return str(label) if label is not None else code


def choices(group: str) -> list[tuple[str, str]]:
    return [(code, str(label)) for code, label in LABELS[group].items()]
