"""The agency's data export: a zip with one CSV per table the agency owns, the
people who belong to it, and a JSON manifest.

The tables are every table in the metadata with a `tenant_id`, so tables
added later are exported without anyone remembering to. The job streams
rows in the agency's scope and writes its progress from a separate session,
so the page can show it while the job runs. The zip is kept in PostgreSQL
(see DataExport) and served only to that agency's admins and the operators,
through a signed link that expires.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import tempfile
import uuid
import zipfile
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import LargeBinary, Table, func, select, update

from billing.lifecycle import external_url
from billing.models import DataExport
from saas import audit, db, mail
from saas.db import Base
from saas.jobs import enqueue, job
from saas.models import Agency, Membership, User

LINK_VALID = timedelta(hours=24)
PROGRESS_EVERY = 500
FORMAT = "carehub-export/1"
# never exported: other exports' files, and hashes of secrets
EXCLUDED_COLUMNS = {
    ("data_exports", "content"),
    ("api_tokens", "token_hash"),
    ("invitations", "token_hash"),
}


class ExportLinkInvalid(Exception):
    pass


class ExportLinkExpired(Exception):
    pass


def tenant_tables() -> list[Table]:
    """Every agency-owned table, parents before children."""
    # every area's tables: the areas import billing, so they can be loaded
    # only once billing is, when the first export runs, not at its import
    import saas.all_models  # noqa: F401 - the complete metadata

    return [t for t in Base.metadata.sorted_tables if "tenant_id" in t.c]


def request_export(agency: Agency, *, by: User | None, by_operator: bool) -> DataExport:
    with db.tenant_scope(agency.id):
        export = DataExport(requested_by_id=by.id if by else None, by_operator=by_operator)
        db.session.add(export)
        db.session.flush()
        audit.record("export.requested", str(export.id), by_operator=by_operator)
        enqueue("billing.build_export", agency_id=agency.id, queue="low", export_id=export.id)
    if by_operator:
        audit.record_platform("export.requested", agency.slug, agency_id=agency.id, export=str(export.id))
    return export


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, uuid.UUID | Decimal):
        return str(value)
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    if isinstance(value, bytes | memoryview):
        return ""
    return value


def _columns(table: Table) -> list[Any]:
    return [c for c in table.c if (table.name, c.name) not in EXCLUDED_COLUMNS]


class _Progress:
    """Progress written in its own short transactions, visible while the job runs."""

    def __init__(self, agency_id: uuid.UUID, export_id: uuid.UUID) -> None:
        self.agency_id = agency_id
        self.export_id = export_id

    def write(self, **values: Any) -> None:
        with db.new_session(tenant_id=self.agency_id) as sess:
            sess.execute(update(DataExport).where(DataExport.id == self.export_id).values(**values))
            sess.commit()


@job("billing.build_export")
def build_export(export_id: str) -> None:
    sess = db.session()
    agency_id = db.current_tenant_id(sess)
    export = sess.scalar(select(DataExport).where(DataExport.id == uuid.UUID(export_id)))
    if export is None or export.status in ("ready", "expired"):
        return
    agency = sess.get(Agency, agency_id)
    progress = _Progress(agency_id, export.id)
    tables = tenant_tables()
    totals = {t.name: sess.scalar(select(func.count()).select_from(t).where(t.c.tenant_id == agency_id)) or 0
              for t in tables}  # fmt: skip
    rows_total = sum(totals.values())
    started = db.utcnow()
    progress.write(status="running", rows_total=rows_total, rows_done=0, started_at=started, error="")
    try:
        content, manifest = _build_zip(sess, agency, tables, totals, progress)
    except Exception:
        progress.write(status="failed", error="export failed; it will be retried")
        raise
    now = db.utcnow()
    export.status = "ready"
    export.rows_total = rows_total
    export.rows_done = rows_total
    export.content = content
    export.size_bytes = len(content)
    export.sha256 = hashlib.sha256(content).hexdigest()
    export.filename = f"carehub-{agency.slug}-{now:%Y%m%d-%H%M}.zip"
    export.started_at = started
    export.finished_at = now
    export.expires_at = now + LINK_VALID
    audit.record("export.ready", str(export.id), rows=rows_total, tables=len(manifest["tables"]),
                 sha256=export.sha256)  # fmt: skip
    _tell_requester(agency, export)


def _build_zip(
    sess: Any, agency: Agency, tables: list[Table], totals: dict[str, int], progress: _Progress
) -> tuple[bytes, dict[str, Any]]:
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "generated_at": db.utcnow().isoformat(),
        "agency": {
            "id": str(agency.id),
            "slug": agency.slug,
            "name": agency.name,
            "timezone": agency.timezone,
            "locale": agency.locale,
            "created_at": agency.created_at.isoformat(),
            "billing_state": agency.billing_state,
        },
        "tables": {},
    }
    done = 0
    with tempfile.SpooledTemporaryFile(max_size=32 * 1024 * 1024) as spool:
        with zipfile.ZipFile(spool, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for table in tables:
                columns = _columns(table)
                binary = {c.name for c in columns if isinstance(c.type, LargeBinary)}
                name = f"tables/{table.name}.csv"
                count = 0
                # the CSV is spooled aside while files (scans, documents) go straight into
                # files/<table>/ (a zip takes one entry at a time); the CSV names each file
                with tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024, mode="w+", newline="",
                                                   encoding="utf-8") as sheet:  # fmt: skip
                    writer = csv.writer(sheet)
                    writer.writerow([c.name for c in columns])
                    # Core statements are not scoped by the ORM hook: RLS is, and so is this
                    stmt = select(*columns).where(table.c.tenant_id == agency.id)
                    if "id" in table.c:
                        stmt = stmt.order_by(table.c.id)
                    for row in sess.execute(stmt.execution_options(yield_per=50 if binary else 1000)):
                        cells = []
                        for column, value in zip(columns, row, strict=True):
                            if column.name in binary and value is not None:
                                path = f"files/{table.name}/{row._mapping.get('id', count)}.{column.name}"
                                archive.writestr(path, bytes(value))
                                cells.append(path)
                            else:
                                cells.append(_cell(value))
                        writer.writerow(cells)
                        count += 1
                        done += 1
                        if done % PROGRESS_EVERY == 0:
                            progress.write(rows_done=done)
                    sheet.seek(0)
                    with archive.open(name, "w") as raw:
                        while chunk := sheet.read(1024 * 1024):
                            raw.write(chunk.encode("utf-8"))
                manifest["tables"][table.name] = {
                    "file": name,
                    "rows": count,
                    "columns": [c.name for c in columns],
                }
            people = _people(sess)
            with archive.open("people.csv", "w") as raw:
                text = io.TextIOWrapper(raw, encoding="utf-8", newline="")
                writer = csv.writer(text)
                writer.writerow(["user_id", "email", "name", "locale", "role", "active"])
                for row in people:
                    writer.writerow([_cell(v) for v in row])
                text.flush()
                text.detach()
            manifest["people"] = {"file": "people.csv", "rows": len(people)}
            archive.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2))
        progress.write(rows_done=done)
        spool.seek(0)
        return spool.read(), manifest


def _people(sess: Any) -> list[Any]:
    """The platform accounts of the agency's members (the agency's view of them)."""
    return list(
        sess.execute(
            select(User.id, User.email, User.name, User.locale, Membership.role, Membership.active)
            .join(Membership, Membership.user_id == User.id)
            .order_by(User.email)
        ).all()
    )


def _tell_requester(agency: Agency, export: DataExport) -> None:
    if export.requested_by_id is None or export.by_operator:
        return
    user = db.session.get(User, export.requested_by_id)
    if user is None:
        return
    mail.send(
        user.email,
        "billing_export_ready",
        locale=user.locale or agency.locale,
        kind="billing.export_ready",
        agency_id=agency.id,
        dedupe_key=f"billing:export_ready:{export.id}",
        agency_name=agency.name,
        link=external_url("billing.export", slug=agency.slug, export_id=export.id),
        hours=int(LINK_VALID.total_seconds() // 3600),
    )


# -- the download link --------------------------------------------------------------------


def _signer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="billing.export-download")


def sign(export: DataExport) -> str:
    return _signer().dumps({"e": export.id.hex, "a": export.tenant_id.hex})


def check_link(export: DataExport, signature: str, now: datetime | None = None) -> None:
    """Raises ExportLinkInvalid (another export's or agency's link, a forged
    one) or ExportLinkExpired."""
    try:
        data = _signer().loads(signature or "")
    except BadSignature:
        raise ExportLinkInvalid from None
    if data != {"e": export.id.hex, "a": export.tenant_id.hex}:
        raise ExportLinkInvalid
    if export.status == "expired" or (
        export.expires_at is not None and (now or db.utcnow()) >= export.expires_at
    ):
        raise ExportLinkExpired
    if export.status != "ready":
        raise ExportLinkInvalid


def content_of(export: DataExport) -> bytes:
    return db.session.scalar(select(DataExport.content).where(DataExport.id == export.id)) or b""


def expire_old(now: datetime | None = None) -> int:
    """Free the space of exports whose link has expired (one statement per agency
    would need the reader; this runs in each agency's scope from the sweep)."""
    now = now or db.utcnow()
    return (
        db.session.execute(
            update(DataExport)
            .where(DataExport.status == "ready", DataExport.expires_at <= now)
            .values(status="expired", content=None)
        ).rowcount
        or 0
    )
