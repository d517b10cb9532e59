"""The agency data export: everything it owns, built by a job with progress,
behind a signed link that expires and works only for that agency."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import timedelta

import time_machine
from sqlalchemy import select

from billing import exports
from billing.models import DataExport
from saas import db
from saas.models import AuditEvent, OutboxEntry, Role
from tests.billing.billing_support import operator
from tests.factories import login
from tests.samples import build_world


def run_export_job(export_id) -> None:
    entry = db.session.scalar(
        select(OutboxEntry).where(
            OutboxEntry.job == "billing.build_export", OutboxEntry.args["export_id"].astext == str(export_id)
        )
    )
    assert entry is not None, "the request enqueued the job"
    from saas.jobs import run_outbox_entry

    assert run_outbox_entry(str(entry.id)) == "done"


def latest_export(agency) -> DataExport:
    with db.tenant_scope(agency.id):
        row = db.session.scalar(
            select(DataExport)
            .order_by(DataExport.created_at.desc())
            .limit(1)
            .execution_options(populate_existing=True)
        )
        db.session.expunge(row)  # a snapshot: readable outside the agency's scope
        return row


def test_export_contains_everything_the_agency_owns_and_nothing_else(app, client, factory):
    world = build_world(factory)
    other = build_world(factory)
    admin, _ = factory.member(world.agency, Role.ADMIN)
    login(client, admin)
    requested = client.post(f"/a/{world.agency.slug}/billing/exports")
    assert requested.status_code == 302
    export = latest_export(world.agency)
    assert requested.location.endswith(f"/billing/exports/{export.id}")
    waiting = client.get(requested.location)
    assert waiting.status_code == 200 and waiting.headers.get("Refresh") == "3", "refreshes itself"
    assert "Waiting to start" in waiting.text

    run_export_job(export.id)
    export = latest_export(world.agency)
    assert export.status == "ready" and export.rows_done == export.rows_total > 0
    assert export.expires_at - export.finished_at == timedelta(hours=24)
    page = client.get(f"/a/{world.agency.slug}/billing/exports/{export.id}")
    assert "Refresh" not in page.headers and 'data-testid="export-download"' in page.text
    link = page.text.split('data-testid="export-download"')[0].rsplit('href="', 1)[1].split('"')[0]
    download = client.get(link.replace("&amp;", "&"))
    assert download.status_code == 200 and download.mimetype == "application/zip"
    assert f"carehub-{world.agency.slug}-" in download.headers["Content-Disposition"]

    archive = zipfile.ZipFile(io.BytesIO(download.data))
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["format"] == "carehub-export/1" and manifest["agency"]["slug"] == world.agency.slug
    expected_tables = {t.name for t in exports.tenant_tables()}
    assert set(manifest["tables"]) == expected_tables, "every tenant table, present and future"
    everything = b"".join(archive.read(n) for n in archive.namelist()).decode()
    for table, row_id in world.ids.items():
        rows = list(csv.DictReader(io.StringIO(archive.read(f"tables/{table}.csv").decode())))
        assert str(row_id) in {r["id"] for r in rows}, f"{table}: the sample row is exported"
        assert all(r["tenant_id"] == str(world.agency.id) for r in rows)
        assert manifest["tables"][table]["rows"] == len(rows)
    for row_id in other.ids.values():
        assert str(row_id) not in everything, "nothing of another agency"
    assert str(other.agency.id) not in everything
    header = archive.read("tables/api_tokens.csv").decode().splitlines()[0]
    assert "token_hash" not in header, "no secrets' hashes"
    assert "content" not in archive.read("tables/data_exports.csv").decode().splitlines()[0]
    people = archive.read("people.csv").decode()
    assert admin.email in people and world.people["coordinator"].email in people

    with db.tenant_scope(world.agency.id):
        trail = list(
            db.session.scalars(
                select(AuditEvent.action).where(AuditEvent.action.like("export.%")).order_by(AuditEvent.seq)
            )
        )
    assert trail[-3:] == ["export.requested", "export.ready", "export.downloaded"]


def ready_export(agency, user=None) -> DataExport:
    export = exports.request_export(agency, by=user, by_operator=False)
    db.session.commit()
    with db.tenant_scope(agency.id):
        exports.build_export(str(export.id))
        db.session.commit()
    return latest_export(agency)


def test_export_link_rules(app, client, factory):
    agency = factory.agency()
    admin, _ = factory.member(agency, Role.ADMIN)
    carer, _ = factory.member(agency, Role.CARER)
    other = factory.agency()
    other_admin, _ = factory.member(other, Role.ADMIN)
    slug, other_slug = agency.slug, other.slug
    with app.app_context():
        export = ready_export(agency, admin)
        second = ready_export(agency, admin)
        good = exports.sign(export)
        of_second = exports.sign(second)
    url = f"/a/{slug}/billing/exports/{export.id}/download"
    login(client, admin)
    assert client.get(f"{url}?sig={good}").status_code == 200
    assert client.get(url).status_code == 404, "no signature"
    assert client.get(f"{url}?sig={of_second}").status_code == 404, "another export's link"
    assert client.get(f"{url}?sig={good[:-2]}xx").status_code == 404, "a forged link"

    # another agency's admin: not found, whichever slug they try
    stranger = app.test_client()
    login(stranger, other_admin)
    assert stranger.get(f"{url}?sig={good}").status_code == 404
    assert stranger.get(f"/a/{other_slug}/billing/exports/{export.id}/download?sig={good}").status_code == 404
    # a carer of the agency
    carer_c = app.test_client()
    login(carer_c, carer)
    assert carer_c.get(f"{url}?sig={good}").status_code in (403, 404)

    # after 24 hours: 410 with an explanation
    with time_machine.travel(export.expires_at + timedelta(seconds=1), tick=False):
        login(client, admin)
        expired = client.get(f"{url}?sig={good}")
        assert expired.status_code == 410 and "expired" in expired.text
    # the sweep then frees the space
    from billing.jobs import expire_exports

    with time_machine.travel(export.expires_at + timedelta(minutes=5), tick=False):
        assert expire_exports() >= 1
    with db.tenant_scope(agency.id):
        row = db.session.scalar(
            select(DataExport).where(DataExport.id == export.id).execution_options(populate_existing=True)
        )
        assert row.status == "expired" and exports.content_of(row) == b""


def test_operators_export_any_agency(app, client, factory):
    agency = factory.agency()
    factory.member(agency, Role.CARER)
    operator(client, factory)
    response = client.post(f"/operator/agencies/{agency.id}/exports")
    assert response.status_code == 302
    export = latest_export(agency)
    assert export.by_operator
    run_export_job(export.id)
    page = client.get(f"/operator/agencies/{agency.id}/exports/{export.id}")
    assert 'data-testid="export-download"' in page.text
    link = page.text.split('data-testid="export-download"')[0].rsplit('href="', 1)[1].split('"')[0]
    assert client.get(link.replace("&amp;", "&")).status_code == 200
    other = factory.agency()
    assert client.get(f"/operator/agencies/{other.id}/exports/{export.id}").status_code == 404
    assert client.get(link.replace("&amp;", "&").replace(str(agency.id), str(other.id))).status_code == 404
