"""The carer's own staff file and certificates, for their phone (/api/v1/my/...)."""

from __future__ import annotations

import uuid
from typing import Any

from flask import abort, g, jsonify, request
from flask_babel import gettext as _

from saas.api.body import refuse
from saas.api.conditional import respond
from saas.api.paging import PARAMETERS, cursor_page, page_schema
from saas.api.views import bp, operation, uuid_path
from saas.permissions import require
from saas.tenancy import get_or_404
from tenants.staffing import VIEW_STAFF, queries, services
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
    return jsonify(staff_files_json([own_staff_file()])[0])


def staff_files_json(
    rows: list[StaffFile], names: dict[uuid.UUID, str] | None = None
) -> list[dict[str, Any]]:
    """Staff files as the API shows them, with assignability and caseload,
    in a fixed number of queries for the whole page."""
    today = local_today()
    ids = [s.id for s in rows]
    fits = services.assignability(ids, today) if ids else {}
    loads = services.current_loads(ids, today) if ids else {}
    settings = workforce_settings()
    documents = []
    for staff in rows:
        fit = fits[staff.id]
        load = loads.get(staff.id, (0, 0))
        document = {
            "id": str(staff.id),
            "staff_role": staff.staff_role,
            "staff_number": staff.staff_number,
            "employment_start": staff.employment_start.isoformat(),
            "employment_end": staff.employment_end.isoformat() if staff.employment_end else None,
            "contracted_hours": float(staff.contracted_hours),
            "home_area": staff.home_area,
            "skills": list(staff.skills or []),
            "languages": list(staff.languages or []),
            "availability": staff.availability or {},
            "assignable": fit.assignable,
            "reasons": [{"code": r.code, "message": r.message()} for r in fit.reasons],
            "override": (
                {
                    "reason": fit.override.reason,
                    "expires_on": fit.override.expires_on.isoformat() if fit.override.expires_on else None,
                }
                if fit.override
                else None
            ),
            "caseload": {
                "individual": load[0],
                "individual_limit": services.caseload_limit(staff, "individual", settings),
                "community_residents": load[1],
                "community_limit": services.caseload_limit(staff, "community", settings),
            },
        }
        if names is not None:
            document["name"] = names.get(staff.id, "")
        documents.append(document)
    return documents


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


# -- every staff file, for the office ---------------------------------------------------------

NAMED_STAFF_FILE_SCHEMA = {
    **STAFF_FILE_SCHEMA,
    "properties": {**STAFF_FILE_SCHEMA["properties"], "name": {"type": "string"}},
}


@bp.route("/staff")
@operation(
    get={
        "summary": "The agency's staff files, with whether each can be assigned today and why not",
        "tags": ["workforce"],
        "parameters": [
            *PARAMETERS,
            {
                "name": "staff_role",
                "in": "query",
                "required": False,
                "schema": {"type": "string", "enum": ["carer", "social_worker", "coordinator"]},
            },
            {
                "name": "employed",
                "in": "query",
                "required": False,
                "schema": {"type": "boolean"},
                "description": "Only those employed today (true) or only those who left (false)",
            },
        ],
        "responses": {
            "200": {
                "description": "A page of staff files",
                "content": {"application/json": {"schema": page_schema(NAMED_STAFF_FILE_SCHEMA)}},
            }
        },
    }
)
@require(VIEW_STAFF, refuse=403)
def staff_files() -> Any:
    role = request.args.get("staff_role") or None
    if role and role not in ("carer", "social_worker", "coordinator"):
        refuse(
            422,
            _(
                "%(field)s must be one of: %(values)s.",
                field="staff_role",
                values="carer, social_worker, coordinator",
            ),
            "staff_role",
        )
    employed = request.args.get("employed") or None
    if employed and employed not in ("true", "false"):
        refuse(422, _("%(field)s must be true or false.", field="employed"), "employed")
    stmt = queries.api_staff_files(role, None if employed is None else employed == "true", local_today())
    page = cursor_page(stmt, [StaffFile.created_at, StaffFile.id])
    names = services.names_of([s.id for s in page.rows])
    return respond({"items": staff_files_json(page.rows, names), "next_cursor": page.next_cursor})


@bp.route("/staff/<uuid:staff_id>")
@operation(
    get={
        "summary": "One staff file",
        "tags": ["workforce"],
        "parameters": [uuid_path("staff_id")],
        "responses": {
            "200": {
                "description": "The staff file",
                "content": {"application/json": {"schema": NAMED_STAFF_FILE_SCHEMA}},
            }
        },
    }
)
@require(VIEW_STAFF)
def staff_file(staff_id: uuid.UUID) -> Any:
    staff = get_or_404(StaffFile, staff_id)
    return respond(staff_files_json([staff], services.names_of([staff.id]))[0])


@bp.route("/staff/<uuid:staff_id>/certificates")
@operation(
    get={
        "summary": "A staff file's certificates and qualifications, with their status",
        "tags": ["workforce"],
        "parameters": [uuid_path("staff_id")],
        "responses": {
            "200": {
                "description": "The certificates",
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "properties": {"certificates": {"type": "array", "items": CERTIFICATE_SCHEMA}},
                        }
                    }
                },
            }
        },
    }
)
@require(VIEW_STAFF)
def staff_certificates(staff_id: uuid.UUID) -> Any:
    staff = get_or_404(StaffFile, staff_id)
    rows = services.certificates_of([staff.id]).get(staff.id, [])
    return respond({"certificates": [r.as_json() for r in rows]})
