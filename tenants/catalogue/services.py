"""Catalogue rules. An item's terms (price, unit, duration, checklist, required
qualification) are dated rows: the terms of a day are the latest row whose
`effective_from` is on or before it. A change takes effect today or later and
adds a row; a row already in effect is never edited (a visit booked under it
keeps it), a row not yet in effect may be replaced or deleted."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import distinct_on

from saas import audit, db
from saas.models import Agency, User
from tenants.catalogue.models import UNITS, ItemTerms, ServiceCategory, ServiceItem
from tenants.catalogue.presets import PRESETS, Preset
from tenants.staffing.certificates import (
    certificate_types,
    create_certificate_type,
    set_certificate_type_active,
)
from tenants.staffing.errors import Invalid, Problem, raise_if
from tenants.staffing.models import CertificateType
from tenants.staffing.settings import local_today, save_required_certificates, workforce_settings

MAX_POINTS = 30
MAX_POINT_LENGTH = 300


def _length(problems: list[Problem], field_name: str, value: str | None, limit: int) -> None:
    if value and len(value) > limit:
        problems.append(Problem("too_long", field_name, {"max": limit}))


def checklist_from_text(text: str) -> list[str]:
    """One checkable point per line (leading bullets and numbers dropped)."""
    points = []
    for line in (text or "").splitlines():
        point = line.strip().lstrip("-*•·").strip()
        if point:
            points.append(point)
    return list(dict.fromkeys(points))


# -- categories ------------------------------------------------------------------------


def categories() -> list[ServiceCategory]:
    return list(
        db.session.scalars(select(ServiceCategory).order_by(ServiceCategory.position, ServiceCategory.name))
    )


def _category_name_taken(name: str, exclude: uuid.UUID | None = None) -> bool:
    stmt = select(ServiceCategory.id).where(func.lower(ServiceCategory.name) == name.lower())
    if exclude is not None:
        stmt = stmt.where(ServiceCategory.id != exclude)
    return db.session.scalar(stmt) is not None


def create_category(name: str, position: int | None = None) -> ServiceCategory:
    name = (name or "").strip()
    problems = []
    if not name:
        problems.append(Problem("required", "name"))
    _length(problems, "name", name, 120)
    if name and _category_name_taken(name):
        problems.append(Problem("category_taken", "name"))
    raise_if(problems)
    if position is None:
        position = (db.session.scalar(select(func.max(ServiceCategory.position))) or 0) + 1
    category = ServiceCategory(name=name, position=position)
    db.session.add(category)
    db.session.flush()
    audit.record("catalogue.category_created", str(category.id), name=name)
    return category


def rename_category(category: ServiceCategory, name: str) -> None:
    name = (name or "").strip()
    problems = []
    if not name:
        problems.append(Problem("required", "name"))
    _length(problems, "name", name, 120)
    if name and _category_name_taken(name, category.id):
        problems.append(Problem("category_taken", "name"))
    raise_if(problems)
    category.name = name
    audit.record("catalogue.category_renamed", str(category.id), name=name)


def delete_category(category: ServiceCategory) -> None:
    if db.session.scalar(select(ServiceItem.id).where(ServiceItem.category_id == category.id).limit(1)):
        raise Invalid.one("category_not_empty", "name")
    db.session.delete(category)
    audit.record("catalogue.category_deleted", str(category.id), name=category.name)


# -- items and terms ----------------------------------------------------------------------


@dataclass
class ItemInput:
    category_id: uuid.UUID | None
    name: str
    description: str = ""
    scope_included: str = ""
    scope_excluded: str = ""


@dataclass
class TermsInput:
    price: Decimal | None
    unit: str
    duration_minutes: int | None
    checklist: list[str] = field(default_factory=list)
    required_certificate_type_id: uuid.UUID | None = None


def item_problems(
    data: ItemInput, *, known_categories: set[uuid.UUID], exclude: uuid.UUID | None = None
) -> list[Problem]:
    problems = []
    name = (data.name or "").strip()
    if not name:
        problems.append(Problem("required", "name"))
    _length(problems, "name", name, 200)
    if data.category_id is None or data.category_id not in known_categories:
        problems.append(Problem("category_unknown", "category_id"))
    for attr in ("description", "scope_included", "scope_excluded"):
        _length(problems, attr, getattr(data, attr), 5000)
    if name:
        stmt = select(ServiceItem.id).where(func.lower(ServiceItem.name) == name.lower())
        if exclude is not None:
            stmt = stmt.where(ServiceItem.id != exclude)
        if db.session.scalar(stmt):
            problems.append(Problem("item_taken", "name", {"name": name}))
    return problems


def terms_problems(data: TermsInput, *, known_types: set[uuid.UUID]) -> list[Problem]:
    problems = []
    if data.price is None:
        problems.append(Problem("required", "price"))
    elif not data.price.is_finite():
        problems.append(Problem("bad_number", "price"))
    elif data.price < 0:
        problems.append(Problem("price_negative", "price"))
    elif data.price >= Decimal("100000000"):
        problems.append(Problem("range", "price", {"min": 0, "max": "99999999.99"}))
    elif data.price.quantize(Decimal("0.01")) >= Decimal("100000000"):
        # kept to the cent: 99999999.999 would round past the column's ten digits
        problems.append(Problem("range", "price", {"min": 0, "max": "99999999.99"}))
    if data.unit not in UNITS:
        problems.append(Problem("unit_unknown", "unit"))
    if data.duration_minutes is None:
        problems.append(Problem("required", "duration_minutes"))
    elif not 1 <= data.duration_minutes <= 1440:
        problems.append(Problem("duration_range", "duration_minutes"))
    if len(data.checklist) > MAX_POINTS or any(len(p) > MAX_POINT_LENGTH for p in data.checklist):
        problems.append(Problem("checklist_too_long", "checklist"))
    if data.required_certificate_type_id is not None and data.required_certificate_type_id not in known_types:
        problems.append(Problem("type_choose", "required_certificate_type_id"))
    return problems


def _known_types() -> set[uuid.UUID]:
    return set(db.session.scalars(select(CertificateType.id).where(CertificateType.active.is_(True))))


def _known_categories() -> set[uuid.UUID]:
    return set(db.session.scalars(select(ServiceCategory.id)))


def _new_terms(item_id: uuid.UUID, effective_from: date, data: TermsInput, by: User | None) -> ItemTerms:
    return ItemTerms(
        item_id=item_id,
        effective_from=effective_from,
        price=data.price.quantize(Decimal("0.01")),
        unit=data.unit,
        duration_minutes=data.duration_minutes,
        checklist=list(data.checklist),
        required_certificate_type_id=data.required_certificate_type_id,
        created_by_id=by.id if by is not None else None,
    )


def create_item(item: ItemInput, terms: TermsInput, *, by: User | None, active: bool = True) -> ServiceItem:
    """A new item, its first terms in effect from today."""
    problems = item_problems(item, known_categories=_known_categories())
    problems += terms_problems(terms, known_types=_known_types())
    raise_if(problems)
    row = ServiceItem(
        category_id=item.category_id,
        name=item.name.strip(),
        description=item.description or "",
        scope_included=item.scope_included or "",
        scope_excluded=item.scope_excluded or "",
        active=active,
    )
    db.session.add(row)
    db.session.flush()
    db.session.add(_new_terms(row.id, local_today(), terms, by))
    db.session.flush()
    audit.record("catalogue.item_created", str(row.id), name=row.name)
    return row


def update_item(row: ServiceItem, item: ItemInput) -> None:
    """Name, category, description and scope (terms change through `change_terms`)."""
    raise_if(item_problems(item, known_categories=_known_categories(), exclude=row.id))
    row.category_id = item.category_id
    row.name = item.name.strip()
    row.description = item.description or ""
    row.scope_included = item.scope_included or ""
    row.scope_excluded = item.scope_excluded or ""
    audit.record("catalogue.item_updated", str(row.id))


def change_terms(
    row: ServiceItem, effective_from: date | None, terms: TermsInput, *, by: User | None
) -> ItemTerms:
    today = local_today()
    problems = terms_problems(terms, known_types=_known_types())
    if effective_from is None:
        problems.append(Problem("required", "effective_from"))
    elif effective_from < today:
        problems.append(Problem("effective_past", "effective_from"))
    existing = None
    if effective_from is not None and effective_from >= today:
        existing = db.session.scalar(
            select(ItemTerms).where(ItemTerms.item_id == row.id, ItemTerms.effective_from == effective_from)
        )
        if existing is not None and existing.effective_from <= today:
            problems.append(Problem("terms_in_effect", "effective_from", {"day": effective_from.isoformat()}))
    raise_if(problems)
    if existing is not None:
        # not in effect yet: nothing can have been booked under it
        db.session.delete(existing)
        db.session.flush()
    terms_row = _new_terms(row.id, effective_from, terms, by)
    db.session.add(terms_row)
    db.session.flush()
    audit.record(
        "catalogue.terms_changed",
        str(row.id),
        effective_from=effective_from.isoformat(),
        price=str(terms_row.price),
        unit=terms_row.unit,
        duration_minutes=terms_row.duration_minutes,
        checklist_points=len(terms_row.checklist),
    )
    return terms_row


def delete_future_terms(terms_row: ItemTerms) -> None:
    if terms_row.effective_from <= local_today():
        raise Invalid.one("terms_in_use", None)
    db.session.delete(terms_row)
    audit.record(
        "catalogue.terms_deleted", str(terms_row.item_id), effective_from=terms_row.effective_from.isoformat()
    )


def set_item_active(row: ServiceItem, active: bool) -> None:
    if row.active != active:
        row.active = active
        audit.record("catalogue.item_reactivated" if active else "catalogue.item_retired", str(row.id))


def terms_on(
    item_ids: uuid.UUID | Iterable[uuid.UUID], day: date | None = None
) -> dict[uuid.UUID, ItemTerms]:
    """The terms in effect on `day` (default: today) for each item, in one
    query. Scheduling books a visit under the row returned here and keeps its
    id; items with no terms yet on that day are left out."""
    ids = [item_ids] if isinstance(item_ids, uuid.UUID) else list(set(item_ids))
    if not ids:
        return {}
    day = day or local_today()
    rows = db.session.scalars(
        select(ItemTerms)
        .where(ItemTerms.item_id.in_(ids), ItemTerms.effective_from <= day)
        .order_by(ItemTerms.item_id, ItemTerms.effective_from.desc())
        .ext(distinct_on(ItemTerms.item_id))
    )
    return {t.item_id: t for t in rows}


def terms_history(item_id: uuid.UUID) -> list[ItemTerms]:
    return list(
        db.session.scalars(
            select(ItemTerms).where(ItemTerms.item_id == item_id).order_by(ItemTerms.effective_from.desc())
        )
    )


def catalogue_is_empty() -> bool:
    return (
        db.session.scalar(select(ServiceItem.id).limit(1)) is None
        and db.session.scalar(select(ServiceCategory.id).limit(1)) is None
    )


# -- presets ------------------------------------------------------------------------------


def load_preset(
    agency: Agency, preset_key: str, *, by: User | None = None, require_certificates: bool = True
) -> int:
    """Fill an empty catalogue from a preset, in the agency's language. Works
    inside or outside a request (the onboarding wizard, the CLI, jobs): it puts
    the agency in scope itself. Unless `require_certificates` is False, the
    certificates the preset suggests become certificate types required of
    their roles (added to what the agency already requires): without it no
    certificate is ever checked before a visit is given. Returns the number
    of items created; the caller commits."""
    preset = PRESETS.get(preset_key)
    if preset is None:
        raise Invalid.one("preset_unknown", "preset")
    language = "zh" if (agency.locale or "").startswith("zh") else "en"
    with db.tenant_scope(agency.id):
        if not catalogue_is_empty():
            raise Invalid.one("catalogue_not_empty", "preset")
        today = local_today(agency)
        created = 0
        for position, category in enumerate(preset.categories, start=1):
            cat = ServiceCategory(name=category.name[language], position=position)
            db.session.add(cat)
            db.session.flush()
            for item in category.items:
                row = ServiceItem(
                    category_id=cat.id,
                    name=item.name[language],
                    description=item.description[language],
                    scope_included=item.included[language],
                    scope_excluded=item.excluded[language],
                )
                db.session.add(row)
                db.session.flush()
                db.session.add(
                    ItemTerms(
                        item_id=row.id,
                        effective_from=today,
                        price=item.price[language],
                        unit=item.unit,
                        duration_minutes=item.duration_minutes,
                        checklist=list(item.checklist[language]),
                        created_by_id=by.id if by is not None else None,
                    )
                )
                created += 1
        db.session.flush()
        if require_certificates and preset.certificates:
            require_suggested_certificates(agency, preset, language)
        audit.record("catalogue.preset_loaded", preset_key, items=created, language=language)
    return created


def require_suggested_certificates(agency: Agency, preset: Preset, language: str) -> None:
    """The preset's certificates as types (one of the same name is reused, and
    put back in use), each required of the roles the preset names, on top of
    what the agency requires already. One settings change, audited."""
    existing = {t.name.lower(): t for t in certificate_types()}
    chosen = {role: list(ids) for role, ids in workforce_settings(agency).required_certificate_types.items()}
    for suggestion in preset.certificates:
        name = suggestion.name[language]
        kind = existing.get(name.lower())
        if kind is None:
            kind = create_certificate_type(name)
        elif not kind.active:
            set_certificate_type_active(kind, True)
        for role in suggestion.roles:
            ids = chosen.setdefault(role, [])
            if kind.id not in ids:
                ids.append(kind.id)
    save_required_certificates(agency, chosen)
