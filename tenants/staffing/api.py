"""The carer's own staff file and certificates, for their phone (/api/v1/my/...);
every staff file for the office, and for those who manage staff: opening and
changing a file and adding a certificate, through the pages' forms and services."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable
from typing import Any

from flask import abort, g, jsonify, request
from flask_babel import gettext as _

from billing.lifecycle import can_grow, restricted_message
from saas.api.body import check_types, form_from_json, json_object, only_known, refuse
from saas.api.conditional import require_match, respond
from saas.api.paging import cursor_page, list_parameters, page_response, query_param
from saas.api.views import IF_MATCH, bp, operation, uuid_path
from saas.fields import uuid_or_none
from saas.permissions import require
from saas.tenancy import get_or_404
from tenants.staffing import MANAGE_STAFF, VIEW_STAFF, queries, services
from tenants.staffing.certificates import CERTIFICATE_SCHEMA
from tenants.staffing.errors import Invalid
from tenants.staffing.forms import CertificateForm, NewStaffForm, StaffForm
from tenants.staffing.models import JOB_ROLES, WEEKDAYS, StaffFile
from tenants.staffing.settings import local_today, workforce_settings

NO_FILE = {"404": {"$ref": "#/components/responses/NotFound"}}
STAFF_FILE_SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "string", "format": "uuid"},
        "staff_role": {"type": "string", "enum": list(JOB_ROLES)},
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


# what the office writes: the staff page's fields (availability as the file shows it)
STAFF_PROPERTIES: dict[str, Any] = {
    "staff_role": {"type": "string", "enum": list(JOB_ROLES)},
    "staff_number": {"type": "string", "nullable": True, "maxLength": 40},
    "employment_start": {"type": "string", "format": "date"},
    "employment_end": {"type": "string", "format": "date", "nullable": True},
    "contracted_hours": {"type": "number", "minimum": 0, "maximum": 168},
    "home_area": {"type": "string", "maxLength": 120},
    "skills": {"type": "array", "items": {"type": "string", "maxLength": 60}, "maxItems": 30},
    "languages": {"type": "array", "items": {"type": "string", "maxLength": 60}, "maxItems": 30},
    "availability": {
        "type": "object",
        "description": 'Weekday (mon..sun) to time ranges [["08:00", "12:00"], ...]; a day left out has none',
        "properties": {
            day: {
                "type": "array",
                "items": {"type": "array", "items": {"type": "string"}, "minItems": 2, "maxItems": 2},
            }
            for day in WEEKDAYS
        },
        "additionalProperties": False,
    },
    "caseload_limit": {
        "type": "integer",
        "nullable": True,
        "minimum": 0,
        "maximum": services.MAX_CASELOAD_LIMIT,
        "description": "Individual clients; null: the agency's setting",
    },
    "community_limit": {
        "type": "integer",
        "nullable": True,
        "minimum": 0,
        "maximum": services.MAX_CASELOAD_LIMIT,
        "description": "Community residents; null: the agency's setting",
    },
    "notes": {"type": "string", "maxLength": 5000},
}
NEW_STAFF_PROPERTIES: dict[str, Any] = {
    "email": {"type": "string", "maxLength": 254, "description": "A member of the agency, or someone new"},
    "name": {"type": "string", "maxLength": 200, "description": "Required for someone new to the agency"},
    **STAFF_PROPERTIES,
}
NEW_STAFF_EXAMPLE = {
    "email": "casey.carer@sunrise.example",
    "name": "Casey Carer",
    "staff_role": "carer",
    "employment_start": "2026-12-07",
    "contracted_hours": 30,
    "home_area": "North",
    "skills": ["dementia care", "cooking"],
    "languages": ["English"],
    "availability": {"mon": [["08:00", "12:00"], ["14:00", "18:00"]], "tue": [["08:00", "12:00"]]},
}
CERTIFICATE_PROPERTIES: dict[str, Any] = {
    "certificate_type_id": {"type": "string", "format": "uuid", "description": "See /certificate-types"},
    "number": {"type": "string", "maxLength": 80},
    "issuer": {"type": "string", "maxLength": 200},
    "issued_on": {"type": "string", "format": "date"},
    "expires_on": {"type": "string", "format": "date", "nullable": True, "description": "null: never"},
}
CERTIFICATE_TYPE_SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "string", "format": "uuid"},
        "name": {"type": "string"},
        "description": {"type": "string"},
    },
}


def _staff_document(staff: StaffFile) -> dict[str, Any]:
    return staff_files_json([staff], services.names_of([staff.id]))[0]


def _staff_values(staff: StaffFile) -> dict[str, Any]:
    """The file's writable fields as the body names them: what a change keeps."""
    return {
        "staff_role": staff.staff_role,
        "staff_number": staff.staff_number,
        "employment_start": staff.employment_start.isoformat(),
        "employment_end": staff.employment_end.isoformat() if staff.employment_end else None,
        "contracted_hours": float(staff.contracted_hours),
        "home_area": staff.home_area,
        "skills": list(staff.skills or []),
        "languages": list(staff.languages or []),
        "availability": staff.availability or {},
        "caseload_limit": staff.caseload_limit,
        "community_limit": staff.community_limit,
        "notes": staff.notes,
    }


def _staff_form_values(body: dict[str, Any]) -> dict[str, Any]:
    """The body as the staff page's form posts it: lists as its comma
    separated text, each weekday's ranges as "08:00-12:00, 14:00-18:00"."""
    values = {k: v for k, v in body.items() if k not in ("skills", "languages", "availability")}
    for key in ("skills", "languages"):
        if body.get(key) is not None:
            values[key] = ", ".join(body[key])
    for day, ranges in (body.get("availability") or {}).items():
        if day not in WEEKDAYS:
            days = ", ".join(WEEKDAYS)
            refuse(
                422,
                _("%(field)s must be one of: %(values)s.", field="availability", values=days),
                "availability",
            )
        values[f"availability_{day}"] = ", ".join("-".join(pair) for pair in ranges)
    return values


def _staff_input(form: StaffForm) -> services.StaffInput:
    from tenants.staffing.views.files import _staff_input as page_input

    return page_input(form)


def _with_api_fields(call: Callable[[], Any]) -> Any:
    """Run a staff service: a refusal names the body's fields (the page's
    `availability_mon` is the body's `availability-mon`)."""
    try:
        return call()
    except Invalid as exc:
        raise Invalid(
            dataclasses.replace(p, field=p.field.replace("availability_", "availability-")) if p.field else p
            for p in exc.problems
        ) from None


@bp.route("/staff", methods=["GET", "POST"])
@operation(
    get={
        "summary": "The agency's staff files, with whether each can be assigned today and why not",
        "tags": ["workforce"],
        "parameters": list_parameters(
            query_param("staff_role", {"type": "string", "enum": ["carer", "social_worker", "coordinator"]}),
            query_param(
                "employed",
                {"type": "boolean"},
                "Only those employed today (true) or only those who left (false)",
            ),
        ),
        "responses": page_response(NAMED_STAFF_FILE_SCHEMA, "A page of staff files"),
    },
    post={
        "summary": "Open a staff file (admins): an agency member's, or someone new, who is invited",
        "description": "Someone who is not yet a member of the agency is invited (as a carer, or a "
        "coordinator for that staff role) to set a password; `name` is then required. The agency's "
        "billing state must allow adding staff.",
        "tags": ["workforce"],
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["email", "staff_role", "employment_start"],
                        "properties": NEW_STAFF_PROPERTIES,
                    },
                    "example": NEW_STAFF_EXAMPLE,
                }
            },
        },
        "responses": {
            "201": {
                "description": "The staff file opened",
                "content": {"application/json": {"schema": NAMED_STAFF_FILE_SCHEMA}},
            }
        },
    },
)
@require(VIEW_STAFF, refuse=403)
@require(MANAGE_STAFF, refuse=403, methods=("POST",))
def staff_files() -> Any:
    if request.method == "POST":
        if not can_grow(g.agency):
            refuse(403, restricted_message(g.agency))
        body = json_object()
        check_types(body, NEW_STAFF_PROPERTIES)
        form = form_from_json(NewStaffForm, _staff_form_values(body))
        staff = _with_api_fields(
            lambda: services.add_staff(
                form.email.data, form.name.data or "", _staff_input(form), by=g.api_user
            )
        )
        return respond(_staff_document(staff), 201)
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


@bp.route("/staff/<uuid:staff_id>", methods=["GET", "PATCH"])
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
    },
    patch={
        "summary": "Change a staff file (admins): the fields sent replace the file's",
        "description": "`caseload_limit`, `community_limit` and `notes` are kept on the file and "
        "changed here; null limits follow the agency's settings.",
        "tags": ["workforce"],
        "parameters": [uuid_path("staff_id"), IF_MATCH],
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {"type": "object", "properties": STAFF_PROPERTIES},
                    "example": {"home_area": "North", "availability": {"mon": [["08:00", "12:00"]]}},
                }
            },
        },
        "responses": {
            "200": {
                "description": "The staff file as changed",
                "content": {"application/json": {"schema": NAMED_STAFF_FILE_SCHEMA}},
            }
        },
    },
)
@require(VIEW_STAFF)
@require(MANAGE_STAFF, methods=("PATCH",))
def staff_file(staff_id: uuid.UUID) -> Any:
    staff = get_or_404(StaffFile, staff_id)
    current = _staff_document(staff)
    if request.method == "PATCH":
        require_match(current)
        body = json_object()
        only_known(body, STAFF_PROPERTIES)
        check_types(body, STAFF_PROPERTIES)
        merged = {**_staff_values(staff), **body}
        form = form_from_json(StaffForm, _staff_form_values(merged))
        _with_api_fields(lambda: services.update_staff(staff, _staff_input(form)))
        current = _staff_document(staff)
    return respond(current)


@bp.route("/staff/<uuid:staff_id>/certificates", methods=["GET", "POST"])
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
    },
    post={
        "summary": "Add a certificate or qualification to a staff file (admins)",
        "description": "Its scanned document, if any, is added on the staff file's page.",
        "tags": ["workforce"],
        "parameters": [uuid_path("staff_id")],
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["certificate_type_id", "number", "issued_on"],
                        "properties": CERTIFICATE_PROPERTIES,
                    },
                    "example": {
                        "certificate_type_id": "0193a1b2-3c4d-7e5f-8a9b-0c1d2e3f4a5b",
                        "number": "FA-2026-0142",
                        "issuer": "Red Cross",
                        "issued_on": "2026-03-02",
                        "expires_on": "2029-03-01",
                    },
                }
            },
        },
        "responses": {
            "201": {
                "description": "The certificate added",
                "content": {"application/json": {"schema": CERTIFICATE_SCHEMA}},
            }
        },
    },
)
@require(VIEW_STAFF)
@require(MANAGE_STAFF, methods=("POST",))
def staff_certificates(staff_id: uuid.UUID) -> Any:
    staff = get_or_404(StaffFile, staff_id)
    if request.method == "POST":
        body = json_object()
        check_types(body, CERTIFICATE_PROPERTIES)
        form = form_from_json(CertificateForm, body)
        data = services.CertificateInput(
            certificate_type_id=uuid_or_none(form.certificate_type_id.data),
            number=form.number.data or "",
            issuer=form.issuer.data or "",
            issued_on=form.issued_on.data,
            expires_on=form.expires_on.data,
        )
        # a scan is added on the staff file's page: the API takes JSON only
        made = services.add_certificate(staff, data, document=None, by=g.api_user)
        rows = services.certificates_of([staff.id]).get(staff.id, [])
        return respond(next(r.as_json() for r in rows if r.certificate.id == made.id), 201)
    rows = services.certificates_of([staff.id]).get(staff.id, [])
    return respond({"certificates": [r.as_json() for r in rows]})


@bp.route("/certificate-types")
@operation(
    get={
        "summary": "The agency's certificate types in use, for adding a certificate (admins)",
        "tags": ["workforce"],
        "responses": {
            "200": {
                "description": "The certificate types",
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "properties": {
                                "certificate_types": {"type": "array", "items": CERTIFICATE_TYPE_SCHEMA}
                            },
                        }
                    }
                },
            }
        },
    }
)
@require(MANAGE_STAFF, refuse=403)
def certificate_types() -> Any:
    kinds = services.certificate_types(active_only=True)
    return respond(
        {
            "certificate_types": [
                {"id": str(t.id), "name": t.name, "description": t.description} for t in kinds
            ]
        }
    )
