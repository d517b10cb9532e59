"""Reading and writing the spreadsheets agencies arrive with.

CSV in UTF-8 (with or without BOM), UTF-16 with BOM (Excel's "Unicode text")
or GB18030/GBK (what Chinese Excel saves by default); comma, semicolon or tab
separated. XLSX through openpyxl (first sheet). Exports are UTF-8 CSV with a
BOM so Excel opens them in either language, with formula-like cells defused.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import Response

from tenants.staffing.errors import Invalid, Problem

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 5000
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Column:
    """A spreadsheet column: its canonical header (`key`) and the other
    headers accepted for it (English words, Chinese)."""

    key: str
    aliases: tuple[str, ...] = ()
    required: bool = True

    def names(self) -> set[str]:
        return {_norm(self.key), *(_norm(a) for a in self.aliases)}


@dataclass
class Table:
    rows: list[dict[str, str]]
    # spreadsheet row number of each row (the header is row 1)
    numbers: list[int] = field(default_factory=list)


def _norm(header: str) -> str:
    return re.sub(r"[\s_\-]+", "", header.strip().lower())


def decode_text(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise Invalid.one("encoding", "file") from exc
    if b"\x00" in data:
        raise Invalid.one("file_unreadable", "file")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise Invalid.one("encoding", "file") from exc


def _sniff_delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _csv_records(data: bytes) -> list[list[str]]:
    text = decode_text(data)
    first = text.split("\n", 1)[0]
    try:
        return [row for row in csv.reader(io.StringIO(text, newline=""), delimiter=_sniff_delimiter(first))]
    except csv.Error as exc:
        raise Invalid.one("file_unreadable", "file") from exc


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat(" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _xlsx_records(data: bytes, max_rows: int) -> list[list[str]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise Invalid.one("file_unreadable", "file") from exc
    try:
        sheet = workbook.worksheets[0]
        records = []
        for row in sheet.iter_rows(values_only=True):
            records.append([_cell_text(v) for v in row])
            if len(records) > max_rows + 1:
                break
        return records
    finally:
        workbook.close()


def read_table(data: bytes, filename: str, columns: Sequence[Column], *, max_rows: int = MAX_ROWS) -> Table:
    """Parse an upload into rows keyed by column key; file-level problems
    (encoding, columns, size) raise `Invalid` before any row is looked at."""
    if not data:
        raise Invalid.one("no_header", "file")
    if len(data) > MAX_BYTES:
        raise Invalid.one("file_too_large", "file", mb=MAX_BYTES // (1024 * 1024))
    is_xlsx = data.startswith(b"PK\x03\x04")
    if filename.lower().endswith((".xlsx", ".xlsm")) and not is_xlsx:
        raise Invalid.one("file_unreadable", "file")
    records = _xlsx_records(data, max_rows) if is_xlsx else _csv_records(data)
    while records and not any(c.strip() for c in records[0]):
        records.pop(0)
    if not records:
        raise Invalid.one("no_header", "file")
    header = [h.strip().lstrip("\ufeff") for h in records[0]]
    while header and not header[-1]:
        header.pop()
    lookup = {}
    for column in columns:
        for name in column.names():
            lookup[name] = column.key
    keys: list[str | None] = []
    unknown, seen, duplicate = [], set(), []
    for h in header:
        key = lookup.get(_norm(h)) if h else None
        if h and key is None:
            unknown.append(h)
        if key in seen:
            duplicate.append(h)
        if key:
            seen.add(key)
        keys.append(key)
    missing = [c.key for c in columns if c.required and c.key not in seen]
    problems = []
    if missing:
        problems.append(Problem("columns_missing", "file", {"columns": ", ".join(missing)}))
    if unknown:
        problems.append(Problem("columns_unknown", "file", {"columns": ", ".join(unknown)}))
    if duplicate:
        problems.append(Problem("columns_duplicate", "file", {"columns": ", ".join(duplicate)}))
    if problems:
        raise Invalid(problems)
    rows, numbers = [], []
    for index, record in enumerate(records[1:], start=2):
        if not any(c.strip() for c in record):
            continue
        row = {c.key: "" for c in columns}
        for key, value in zip(keys, record, strict=False):
            if key:
                row[key] = _undefuse(value.strip())
        rows.append(row)
        numbers.append(index)
        if len(rows) > max_rows:
            raise Invalid.one("too_many_rows", "file", max=max_rows)
    if not rows:
        raise Invalid.one("no_rows", "file")
    return Table(rows=rows, numbers=numbers)


# -- parsing cells -------------------------------------------------------------


def parse_date(value: str) -> date | None:
    """ISO dates, also written with slashes or dots (2026/3/1, 2026.03.01)."""
    text = value.strip()
    match = re.fullmatch(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?", text)
    if not match:
        raise ValueError(text)
    return date(int(match[1]), int(match[2]), int(match[3]))


def parse_decimal(value: str) -> Decimal:
    try:
        number = Decimal(value.strip().replace(",", ""))
    except InvalidOperation as exc:
        raise ValueError(value) from exc
    if not number.is_finite():
        raise ValueError(value)
    return number


def parse_int(value: str) -> int:
    number = parse_decimal(value)
    if number != number.to_integral_value():
        raise ValueError(value)
    return int(number)


def split_list(value: str) -> list[str]:
    """Items separated by commas, semicolons, Chinese commas or new lines."""
    parts = re.split(r"[,;，；、\n]+", value or "")
    return list(dict.fromkeys(p.strip() for p in parts if p.strip()))


def parse_bool(value: str) -> bool:
    text = value.strip().lower()
    if text in ("", "1", "yes", "y", "true", "active", "是", "有效", "启用"):
        return True
    if text in ("0", "no", "n", "false", "retired", "inactive", "否", "停用", "无效"):
        return False
    raise ValueError(value)


# -- writing -------------------------------------------------------------------


def defuse(value: Any) -> str:
    """A cell as text; text that a spreadsheet would run as a formula is
    prefixed with an apostrophe (numbers are left alone)."""
    text = _cell_text(value)
    if text.startswith(FORMULA_START):
        try:
            Decimal(text)
        except InvalidOperation:
            return "'" + text
    return text


def _undefuse(text: str) -> str:
    if len(text) > 1 and text[0] == "'" and text[1] in FORMULA_START:
        return text[1:]
    return text


def csv_response(filename: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Response:
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([defuse(v) for v in row])
    response = Response(out.getvalue().encode("utf-8"), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response
