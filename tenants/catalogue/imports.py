"""Catalogue items from a spreadsheet. Unknown categories are created (the
preview says so); items must be new (an existing name is a problem); terms take
effect today. Checklist points are separated by new lines or semicolons."""

from __future__ import annotations

import re
from collections import Counter
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import func, select

from saas import db
from saas.models import User
from tenants.catalogue.models import ItemTerms, ServiceCategory, ServiceItem
from tenants.catalogue.services import TermsInput, terms_problems
from tenants.spreadsheets import Column, parse_bool
from tenants.staffing.errors import Problem
from tenants.staffing.imports import Checked, Importer, RowCheck, RowParser, with_column
from tenants.staffing.models import CertificateType
from tenants.staffing.settings import local_today

CATALOGUE_COLUMNS = (
    Column("category", ("类别", "服务类别", "分类")),
    Column("name", ("item", "服务项目", "项目名称", "名称")),
    Column("description", ("说明", "服务内容", "描述"), required=False),
    Column("included", ("scope included", "服务范围", "包含"), required=False),
    Column("excluded", ("scope excluded", "不包含", "不含"), required=False),
    Column("duration_minutes", ("duration", "时长", "时长（分钟）", "时长(分钟)", "服务时长"), required=True),
    Column("price", ("价格", "单价"), required=True),
    Column("unit", ("计价单位", "单位"), required=True),
    Column("checklist", ("quality standard", "质量标准", "服务标准"), required=False),
    Column("required_certificate_type", ("qualification", "所需资质", "资质要求"), required=False),
    Column("active", ("状态", "启用"), required=False),
)
UNIT_WORDS = {
    "per_visit": "per_visit", "per visit": "per_visit", "visit": "per_visit", "次": "per_visit",
    "按次": "per_visit", "每次": "per_visit", "per_hour": "per_hour", "per hour": "per_hour",
    "hour": "per_hour", "小时": "per_hour", "按小时": "per_hour", "每小时": "per_hour",
}  # fmt: skip


def split_points(text: str) -> list[str]:
    points = [p.strip().lstrip("-*•·").strip() for p in re.split(r"[\n;；|]+", text or "")]
    return list(dict.fromkeys(p for p in points if p))


class CatalogueImporter(Importer):
    kind = "catalogue"
    columns = CATALOGUE_COLUMNS

    def check(self, rows: list[dict[str, str]], numbers: list[int]) -> Checked:
        names = [r.get("name", "").strip().lower() for r in rows]
        existing = set(
            db.session.scalars(
                select(func.lower(ServiceItem.name)).where(
                    func.lower(ServiceItem.name).in_([n for n in names if n])
                )
            )
        )
        categories = {c.name.lower(): c for c in db.session.scalars(select(ServiceCategory))}
        types = {
            t.name.lower(): t
            for t in db.session.scalars(select(CertificateType).where(CertificateType.active.is_(True)))
        }
        in_file = Counter(n for n in names if n)
        new_categories: set[str] = set()
        checked, plan = [], []
        for number, values in zip(numbers, rows, strict=True):
            parse = RowParser(values)
            category = parse.text("category", required=True, limit=120)
            name = parse.text("name", required=True, limit=200)
            description = parse.text("description", limit=5000)
            included = parse.text("included", limit=5000)
            excluded = parse.text("excluded", limit=5000)
            duration = parse.whole("duration_minutes", required=True)
            price = parse.decimal("price", required=True)
            unit = parse.choice("unit", UNIT_WORDS)
            checklist = split_points(values.get("checklist", ""))
            type_name = parse.text("required_certificate_type")
            active = True
            try:
                active = parse_bool(values.get("active", ""))
            except ValueError:
                parse.problems.append(Problem("bad_choice", "active", {"choices": "yes, no"}))
            problems = parse.problems
            type_id = None
            if type_name:
                kind = types.get(type_name.lower())
                if kind is None:
                    problems.append(Problem("type_unknown", "required_certificate_type", {"name": type_name}))
                else:
                    type_id = kind.id
            terms = TermsInput(
                price=price,
                unit=unit or "",
                duration_minutes=duration,
                checklist=checklist,
                required_certificate_type_id=type_id,
            )
            seen = {p.field for p in problems}
            problems += [
                p
                for p in terms_problems(terms, known_types={type_id} if type_id else set())
                if p.field not in seen and not (p.field == "unit" and unit is None)
            ]
            if name:
                if name.lower() in existing:
                    problems.append(Problem("item_taken", "name", {"name": name}))
                elif in_file[name.lower()] > 1:
                    problems.append(Problem("duplicate_in_file", "name", {"value": name}))
            note = ""
            if category and category.lower() not in categories:
                if category.lower() not in new_categories:
                    note = _("New category %(name)s will be created.", name=category)
                new_categories.add(category.lower())
            checked.append(RowCheck(number, values, with_column(problems), note))
            plan.append((category, name, description, included, excluded, terms, active))
        return Checked(checked, plan)

    def save(self, checked: Checked, *, by: User | None) -> int:
        today = local_today()
        categories = {c.name.lower(): c for c in db.session.scalars(select(ServiceCategory))}
        position = max((c.position for c in categories.values()), default=0)
        for category, name, description, included, excluded, terms, active in checked.plan:
            cat = categories.get(category.lower())
            if cat is None:
                position += 1
                cat = ServiceCategory(name=category, position=position)
                db.session.add(cat)
                db.session.flush()
                categories[category.lower()] = cat
            item = ServiceItem(
                category_id=cat.id,
                name=name,
                description=description,
                scope_included=included,
                scope_excluded=excluded,
                active=active,
            )
            db.session.add(item)
            db.session.flush()
            db.session.add(
                ItemTerms(
                    item_id=item.id,
                    effective_from=today,
                    price=terms.price.quantize(Decimal("0.01")),
                    unit=terms.unit,
                    duration_minutes=terms.duration_minutes,
                    checklist=terms.checklist,
                    required_certificate_type_id=terms.required_certificate_type_id,
                    created_by_id=by.id if by is not None else None,
                )
            )
        db.session.flush()
        return len(checked.plan)
