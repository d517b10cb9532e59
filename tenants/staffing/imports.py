"""Spreadsheet imports: upload, preview every row with its problems in plain
words, then save all rows or none.

The uploaded rows wait in `import_batches` between the preview and the save;
saving checks every row again (the agency may have changed in between) and
writes them in one transaction. The rows are dropped once saved or discarded,
and pending batches older than a day are dropped when a new one arrives.
"""

from __future__ import annotations

import importlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import delete, select, tuple_

from saas import audit, db
from saas.models import Membership, User
from tenants.spreadsheets import MAX_ROWS, Column, parse_date, parse_decimal, read_table, split_list
from tenants.staffing.certificates import CertificateInput, certificate_input_problems
from tenants.staffing.errors import Invalid, Problem
from tenants.staffing.labels import LABELS
from tenants.staffing.models import JOB_ROLES, Certificate, CertificateType, ImportBatch, StaffFile
from tenants.staffing.settings import local_today
from tenants.staffing.staff_files import EMAIL, StaffInput, add_staff, staff_input_problems

# kind -> "module:attribute" of its importer (imported when needed)
IMPORTERS = {
    "staff": "tenants.staffing.imports:StaffImporter",
    "certificates": "tenants.staffing.imports:CertificateImporter",
    "catalogue": "tenants.catalogue.imports:CatalogueImporter",
}
PENDING_KEPT = timedelta(days=1)


@dataclass
class RowCheck:
    number: int
    values: dict[str, str]
    problems: list[Problem] = field(default_factory=list)
    note: str = ""

    def messages(self) -> list[str]:
        return [p.message() for p in self.problems]


@dataclass
class Checked:
    rows: list[RowCheck]
    plan: Any = None

    @property
    def ok(self) -> bool:
        return all(not r.problems for r in self.rows)

    @property
    def bad_rows(self) -> list[RowCheck]:
        return [r for r in self.rows if r.problems]


class Importer:
    kind: str = ""
    columns: tuple[Column, ...] = ()
    # rows per file: what one request can save well within the web server's timeout
    max_rows: int = MAX_ROWS

    def check(self, rows: list[dict[str, str]], numbers: list[int]) -> Checked:
        raise NotImplementedError

    def save(self, checked: Checked, *, by: User | None) -> int:
        raise NotImplementedError


def importer_for(kind: str) -> Importer:
    target = IMPORTERS.get(kind)
    if target is None:
        raise KeyError(kind)
    module, attr = target.split(":")
    return getattr(importlib.import_module(module), attr)()


def start_import(kind: str, filename: str, data: bytes, *, by: User | None) -> ImportBatch:
    """Read the file (file-level problems raise `Invalid`) and keep its rows for the preview."""
    importer = importer_for(kind)
    table = read_table(data, filename or "", importer.columns, max_rows=importer.max_rows)
    db.session.execute(
        delete(ImportBatch).where(
            ImportBatch.status == "pending", ImportBatch.created_at < db.utcnow() - PENDING_KEPT
        )
    )
    rows = [{"_row": str(n), **row} for n, row in zip(table.numbers, table.rows, strict=True)]
    batch = ImportBatch(
        kind=kind,
        filename=(filename or "")[-200:],
        rows=rows,
        row_count=len(rows),
        created_by_id=by.id if by is not None else None,
    )
    db.session.add(batch)
    db.session.flush()
    return batch


def check_batch(batch: ImportBatch) -> Checked:
    importer = importer_for(batch.kind)
    numbers = [int(r.get("_row", i + 2)) for i, r in enumerate(batch.rows)]
    rows = [{c.key: r.get(c.key, "") for c in importer.columns} for r in batch.rows]
    return importer.check(rows, numbers)


def save_batch(batch: ImportBatch, *, by: User | None) -> tuple[int, Checked]:
    """All rows or none: raises `Invalid` (nothing written) if any row has a problem."""
    if batch.status != "pending":
        raise Invalid.one("import_changed")
    checked = check_batch(batch)
    if not checked.ok:
        raise Invalid.one("import_changed")
    count = importer_for(batch.kind).save(checked, by=by)
    batch.status = "saved"
    batch.rows = []
    batch.finished_at = db.utcnow()
    audit.record("import.saved", str(batch.id), kind=batch.kind, rows=count, filename=batch.filename)
    return count, checked


def discard_batch(batch: ImportBatch) -> None:
    if batch.status == "pending":
        batch.status = "discarded"
        batch.rows = []
        batch.finished_at = db.utcnow()


# -- cell helpers --------------------------------------------------------------------


class RowParser:
    """Parses one row's cells, collecting a problem per bad cell."""

    def __init__(self, values: dict[str, str]) -> None:
        self.values = values
        self.problems: list[Problem] = []

    def _given(self, key: str, required: bool) -> str:
        """The cell's text, stripped; an empty one is a problem when required."""
        value = (self.values.get(key) or "").strip()
        if required and not value:
            self.problems.append(Problem("required", key))
        return value

    def _parsed(self, key: str, required: bool, parse: Callable[[str], Any], bad: str) -> Any:
        """The cell parsed, or None when empty or when `parse` refuses it (problem `bad`)."""
        value = self._given(key, required)
        if not value:
            return None
        try:
            return parse(value)
        except ValueError:
            self.problems.append(Problem(bad, key))
            return None

    def text(self, key: str, *, required: bool = False, limit: int | None = None) -> str:
        value = self._given(key, required)
        if limit and len(value) > limit:
            self.problems.append(Problem("too_long", key, {"max": limit}))
        return value

    def date(self, key: str, *, required: bool = False) -> Any:
        return self._parsed(key, required, parse_date, "bad_date")

    def decimal(self, key: str, *, required: bool = False) -> Decimal | None:
        return self._parsed(key, required, parse_decimal, "bad_number")

    def whole(self, key: str, *, required: bool = False) -> int | None:
        number = self.decimal(key, required=required)
        if number is None:
            return None
        if number != number.to_integral_value():
            self.problems.append(Problem("bad_whole_number", key))
            return None
        return int(number)

    def choice(self, key: str, options: dict[str, str], *, required: bool = True) -> str | None:
        value = self._given(key, required)
        if not value:
            return None
        found = options.get(value.lower())
        if found is None:
            shown = sorted({v for v in options.values()})
            self.problems.append(Problem("bad_choice", key, {"choices": ", ".join(shown)}))
        return found


def with_column(problems: list[Problem]) -> list[Problem]:
    """Name the column in each cell problem, so a preview says where to look."""
    return [Problem("cell", p.field, {"column": p.field, "inner": p}) if p.field else p for p in problems]


def _options(codes: tuple[str, ...], extra: dict[str, str]) -> dict[str, str]:
    options = {code.lower(): code for code in codes}
    for code in codes:
        label = LABELS["staff_role"].get(code)
        if label is not None:
            options[str(label).lower()] = code
    options.update({k.lower(): v for k, v in extra.items()})
    return options


# -- staff -------------------------------------------------------------------------------

STAFF_COLUMNS = (
    Column("email", ("e-mail", "邮箱", "电子邮件", "电子邮箱")),
    Column("name", ("full name", "姓名"), required=False),
    Column("staff_role", ("role", "岗位", "角色", "职位")),
    Column("staff_number", ("staff no", "工号", "员工编号"), required=False),
    Column("employment_start", ("start", "start date", "入职日期")),
    Column("employment_end", ("end", "end date", "离职日期"), required=False),
    Column("contracted_hours", ("hours per week", "每周合同工时", "每周工时"), required=False),
    Column("home_area", ("area", "居住区域", "服务片区", "片区"), required=False),
    Column("skills", ("技能",), required=False),
    Column("languages", ("语言",), required=False),
)
ROLE_WORDS = {
    "Carer": "carer", "Social worker": "social_worker", "Coordinator": "coordinator",
    "护理员": "carer", "护工": "carer", "社工": "social_worker", "社会工作者": "social_worker",
    "协调员": "coordinator", "督导": "coordinator",
}  # fmt: skip


class StaffImporter(Importer):
    """Each row goes through `add_staff` (new people are invited one by one,
    each with their own email and audit entry), hence fewer rows per file."""

    kind = "staff"
    columns = STAFF_COLUMNS
    max_rows = 1000

    def check(self, rows: list[dict[str, str]], numbers: list[int]) -> Checked:
        emails = {r["email"].strip().lower() for r in rows if r.get("email")}
        # the agency's own members only: accounts elsewhere on the platform change nothing here
        memberships = dict(
            db.session.execute(
                select(User.email, Membership)
                .join(Membership, Membership.user_id == User.id)
                .where(User.email.in_(emails))
            ).all()
        )
        with_file = set(
            db.session.scalars(
                select(StaffFile.membership_id).where(
                    StaffFile.membership_id.in_([m.id for m in memberships.values()])
                )
            )
        )
        numbers_in_file = Counter(
            r["staff_number"].strip() for r in rows if r.get("staff_number", "").strip()
        )
        emails_in_file = Counter(r["email"].strip().lower() for r in rows if r.get("email"))
        taken_numbers = set(
            db.session.scalars(
                select(StaffFile.staff_number).where(StaffFile.staff_number.in_(list(numbers_in_file)))
            )
        )
        options = _options(JOB_ROLES, ROLE_WORDS)
        checked = []
        plan = []
        for number, values in zip(numbers, rows, strict=True):
            parse = RowParser(values)
            email = parse.text("email", required=True).lower()
            name = parse.text("name", limit=200)
            role = parse.choice("staff_role", options)
            data = StaffInput(
                staff_role=role or "carer",
                employment_start=parse.date("employment_start", required=True),
                employment_end=parse.date("employment_end"),
                staff_number=parse.text("staff_number", limit=40) or None,
                contracted_hours=parse.decimal("contracted_hours"),
                home_area=parse.text("home_area", limit=120),
                skills=split_list(values.get("skills", "")),
                languages=split_list(values.get("languages", "")),
            )
            problems = parse.problems
            more, _availability = staff_input_problems(data)
            seen = {p.field for p in problems}
            problems += [p for p in more if p.field not in seen]
            note = ""
            if email and not EMAIL.match(email):
                problems.append(Problem("bad_email", "email"))
            elif email:
                if emails_in_file[email] > 1:
                    problems.append(Problem("duplicate_in_file", "email", {"value": email}))
                membership = memberships.get(email)
                if membership is not None and membership.role == "client":
                    problems.append(Problem("member_is_client", "email"))
                elif membership is not None and membership.id in with_file:
                    problems.append(Problem("staff_exists", "email"))
                elif membership is None:
                    note = _("New to the agency: will be invited by email.")
                    # as add_staff: whether the address has an account elsewhere changes nothing
                    if not name:
                        problems.append(Problem("required", "name"))
            if data.staff_number:
                if numbers_in_file[data.staff_number] > 1:
                    problems.append(
                        Problem("duplicate_in_file", "staff_number", {"value": data.staff_number})
                    )
                elif data.staff_number in taken_numbers:
                    problems.append(Problem("staff_number_taken", "staff_number"))
            checked.append(RowCheck(number, values, with_column(problems), note))
            plan.append((email, name, data))
        return Checked(checked, plan)

    def save(self, checked: Checked, *, by: User | None) -> int:
        for email, name, data in checked.plan:
            add_staff(email, name, data, by=by)
        return len(checked.plan)


# -- certificates ---------------------------------------------------------------------

CERTIFICATE_COLUMNS = (
    Column("email", ("e-mail", "邮箱", "电子邮件", "电子邮箱"), required=False),
    Column("staff_number", ("staff no", "工号", "员工编号"), required=False),
    Column("name", ("full name", "姓名"), required=False),
    Column("certificate_type", ("type", "证书类型", "资格类型")),
    Column("number", ("certificate number", "证书编号", "编号")),
    Column("issuer", ("issued by", "发证机构"), required=False),
    Column("issued_on", ("issue date", "issued", "发证日期")),
    Column("expires_on", ("expiry date", "expires", "有效期至", "到期日期"), required=False),
    Column("status", ("状态",), required=False),
)


class CertificateImporter(Importer):
    """Certificates of existing staff files, found by email or staff number.
    (The `name` and `status` columns of an export are accepted and ignored.)"""

    kind = "certificates"
    columns = CERTIFICATE_COLUMNS

    def check(self, rows: list[dict[str, str]], numbers: list[int]) -> Checked:
        today = local_today()
        emails = {r["email"].strip().lower() for r in rows if r.get("email", "").strip()}
        staff_numbers = {r["staff_number"].strip() for r in rows if r.get("staff_number", "").strip()}
        by_email = dict(
            db.session.execute(
                select(User.email, StaffFile.id)
                .join(Membership, Membership.user_id == User.id)
                .join(StaffFile, StaffFile.membership_id == Membership.id)
                .where(User.email.in_(emails))
            ).all()
        )
        by_number = dict(
            db.session.execute(
                select(StaffFile.staff_number, StaffFile.id).where(StaffFile.staff_number.in_(staff_numbers))
            ).all()
        )
        types = {
            t.name.lower(): t
            for t in db.session.scalars(select(CertificateType).where(CertificateType.active.is_(True)))
        }
        pairs = {
            (types[r["certificate_type"].strip().lower()].id, r["number"].strip())
            for r in rows
            if r.get("certificate_type", "").strip().lower() in types and r.get("number", "").strip()
        }
        taken = set()
        if pairs:
            taken = set(
                db.session.execute(
                    select(Certificate.certificate_type_id, Certificate.number).where(
                        tuple_(Certificate.certificate_type_id, Certificate.number).in_(list(pairs))
                    )
                ).all()
            )
        in_file = Counter(
            (r.get("certificate_type", "").strip().lower(), r.get("number", "").strip()) for r in rows
        )
        checked, plan = [], []
        for number, values in zip(numbers, rows, strict=True):
            parse = RowParser(values)
            email = parse.text("email").lower()
            staff_number = parse.text("staff_number")
            type_name = parse.text("certificate_type", required=True)
            data = CertificateInput(
                certificate_type_id=None,
                number=parse.text("number", required=True, limit=80),
                issuer=parse.text("issuer", limit=200),
                issued_on=parse.date("issued_on", required=True),
                expires_on=parse.date("expires_on"),
            )
            problems = parse.problems
            staff_id = None
            if email:
                staff_id = by_email.get(email)
                if staff_id is None:
                    problems.append(Problem("staff_unknown", "email", {"who": email}))
            elif staff_number:
                staff_id = by_number.get(staff_number)
                if staff_id is None:
                    problems.append(Problem("staff_unknown", "staff_number", {"who": staff_number}))
            else:
                problems.append(Problem("required", "email"))
            kind = types.get(type_name.lower()) if type_name else None
            if type_name and kind is None:
                problems.append(Problem("type_unknown", "certificate_type", {"name": type_name}))
            if kind is not None:
                data.certificate_type_id = kind.id
                more = certificate_input_problems(data, today, {kind.id})
                seen = {p.field for p in problems}
                problems += [p for p in more if p.field not in seen]
                if data.number and (kind.id, data.number) in taken:
                    problems.append(Problem("number_taken", "number", {"number": data.number}))
                elif data.number and in_file[(type_name.lower(), data.number)] > 1:
                    problems.append(Problem("duplicate_in_file", "number", {"value": data.number}))
            checked.append(RowCheck(number, values, with_column(problems)))
            plan.append((staff_id, data))
        return Checked(checked, plan)

    def save(self, checked: Checked, *, by: User | None) -> int:
        for staff_id, data in checked.plan:
            db.session.add(
                Certificate(
                    staff_file_id=staff_id,
                    certificate_type_id=data.certificate_type_id,
                    number=data.number,
                    issuer=data.issuer,
                    issued_on=data.issued_on,
                    expires_on=data.expires_on,
                    created_by_id=by.id if by is not None else None,
                )
            )
        db.session.flush()
        return len(checked.plan)
