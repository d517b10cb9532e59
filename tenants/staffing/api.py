"""The carer's own staff file and certificates, for their phone (/api/v1/my/...)."""

from __future__ import annotations

from typing import Any

from flask import abort, g, jsonify

from saas.api.views import bp, operation
from tenants.staffing import services
from tenants.staffing.certificates import CERTIFICATE_SCHEMA
from tenants.staffing.models import StaffFile
from tenants.staffing.settings import local_today, workforce_settings

NO_FILE = {"404": {"$ref": "#/components/responses/NotFound"}}
STAFF_FILE_SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "string", "format": "uuid"},
        "staff_role": {"type": "string", "enum": ["carer", "social_worker", "coordinator"]},
        "staff_number": {"type": "string", "nullable": True},
        "employment_start": {"type": "string", "format": "date"},
        "employment_end": {"type": "string", "format": "date", "nullable": True},
        "contracted_hours": {"type": "number"},
        "home_area": {"type": "string"},
        "skills": {"type": "array", "items": {"type": "string"}},
        "languages": {"type": "array", "items": {"type": "string"}},
        "availability": {
            "type": "object",
            "description": 'Weekday (mon..sun) to time ranges [["08:00", "12:00"], ...]',
            "additionalProperties": {
                "type": "array",
                "items": {"type": "array", "items": {"type": "string"}},
            },
        },
        "assignable": {"type": "boolean"},
        "reasons": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
            },
        },
        "override": {
            "type": "object",
            "nullable": True,
            "properties": {
                "reason": {"type": "string"},
                "expires_on": {"type": "string", "format": "date", "nullable": True},
            },
        },
        "caseload": {
            "type": "object",
            "properties": {
                "individual": {"type": "integer"},
                "individual_limit": {"type": "integer"},
                "community_residents": {"type": "integer"},
                "community_limit": {"type": "integer"},
            },
        },
    },
}


def own_staff_file() -> StaffFile:
    """The token's member's staff file; 404 for someone without one (clients included)."""
    staff = services.staff_of_membership(g.membership.id)
    if staff is None:
        abort(404)
    return staff


@bp.route("/my/staff-file")
@operation(
    get={
        "summary": "Your staff file in the token's agency",
        "description": "Role, employment, skills, languages, weekly availability, whether you can be "
        "assigned to visits today and, if not, why.",
        "tags": ["workforce"],
        "responses": {
            "200": {
                "description": "Your staff file",
                "content": {"application/json": {"schema": STAFF_FILE_SCHEMA}},
            },
            **NO_FILE,
        },
    }
)
def my_staff_file() -> Any:
    staff = own_staff_file()
    today = local_today()
    fit = services.assignability(staff.id, today)[staff.id]
    load = services.current_loads([staff.id], today).get(staff.id, (0, 0))
    settings = workforce_settings()
    return jsonify(
        id=str(staff.id),
        staff_role=staff.staff_role,
        staff_number=staff.staff_number,
        employment_start=staff.employment_start.isoformat(),
        employment_end=staff.employment_end.isoformat() if staff.employment_end else None,
        contracted_hours=float(staff.contracted_hours),
        home_area=staff.home_area,
        skills=list(staff.skills or []),
        languages=list(staff.languages or []),
        availability=staff.availability or {},
        assignable=fit.assignable,
        reasons=[{"code": r.code, "message": r.message()} for r in fit.reasons],
        override=(
            {
                "reason": fit.override.reason,
                "expires_on": fit.override.expires_on.isoformat() if fit.override.expires_on else None,
            }
            if fit.override
            else None
        ),
        caseload={
            "individual": load[0],
            "individual_limit": services.caseload_limit(staff, "individual", settings),
            "community_residents": load[1],
            "community_limit": services.caseload_limit(staff, "community", settings),
        },
    )


@bp.route("/my/certificates")
@operation(
    get={
        "summary": "Your certificates and qualifications, with their status",
        "description": "`status` is valid, expiring (within the agency's window) or expired.",
        "tags": ["workforce"],
        "responses": {
            "200": {
                "description": "Your certificates",
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "properties": {"certificates": {"type": "array", "items": CERTIFICATE_SCHEMA}},
                        }
                    }
                },
            },
            **NO_FILE,
        },
    }
)
def my_certificates() -> Any:
    staff = own_staff_file()
    rows = services.certificates_of([staff.id]).get(staff.id, [])
    return jsonify(certificates=[r.as_json() for r in rows])
