"""The monthly summary as a PDF document: its cover, the order of its
sections, the dimensions in their fixed order, the status of each indicator,
the charts, page numbers on every page; in English and in Chinese. The text
is read back with pypdf, as a reader's copy-and-paste would; the layout is
looked at as images (pdftoppm) when the pages change."""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import time_machine
from flask_babel import gettext as _
from pypdf import PdfReader
from sqlalchemy import select

from saas import db
from saas.models import Membership
from tenants.feedback.labels import dimension_label
from tenants.feedback.models import DIMENSIONS
from tenants.incidents import services as incidents
from tenants.quality import pdf
from tenants.quality.models import QualitySummary
from tests.factories import login
from tests.quality.test_quality import NOW, OCTOBER, _app, _build, generate, make_world  # noqa: F401

SEPTEMBER = date(2026, 9, 1)

pytestmark = pytest.mark.dates  # built at a fixed instant; also run with the clock moved


def _incident(world) -> None:
    """A fall reported in the middle of the month."""
    with (
        time_machine.travel(datetime(2026, 10, 15, 10, 0, tzinfo=UTC), tick=False),
        world.factory.app.test_request_context(),
        db.tenant_scope(world.agency.id),
    ):
        by = db.session.scalar(select(Membership).where(Membership.user_id == world.admin.id))
        incidents.report(
            world.agency,
            incidents.ReportData(
                type="fall",
                severity="moderate",
                place="Bathroom",
                occurred_at=datetime(2026, 10, 15, 9, 0, tzinfo=UTC),
                description="Slipped getting out of the bath",
                client_id=world.client.id,
            ),
            by=by,
        )
        db.session.commit()


def _pages(client, summary: QualitySummary, slug: str, keep: str | None = None) -> list[str]:
    response = client.get(f"/a/{slug}/quality/{summary.id}/summary.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    if keep:  # for looking at (pdftoppm test-artifacts/quality-en.pdf ...)
        artifacts = Path(__file__).resolve().parents[2] / "test-artifacts"
        artifacts.mkdir(exist_ok=True)
        (artifacts / keep).write_bytes(response.data)
    return [page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages]


def _flat(text: str) -> str:
    return "".join(text.split())


def _in_order(text: str, words: list[str]) -> None:
    at = [text.find(w) for w in words]
    assert -1 not in at, [w for w, i in zip(words, at, strict=True) if i == -1]
    assert at == sorted(at), [w for _i, w in sorted(zip(at, words, strict=True))]


def _world(factory, *, chinese: bool = False):
    world = make_world(factory, tz="Asia/Shanghai" if chinese else "Europe/London")
    if chinese:
        world.agency.locale = "zh_CN"
        world.agency.name = "康宁居家养老服务中心"
        world.admin.locale = "zh_CN"
        db.session.commit()
    generate(world, OCTOBER)
    _incident(world)
    with time_machine.travel(NOW, tick=False):
        september = _build(world.agency, SEPTEMBER)  # the month before: a point of the score's trend
        summary = _build(world.agency, OCTOBER)
    assert summary.figures["score_trend"] == [
        {"month": "2026-09-01", "score": september.figures["score"]},
        {"month": "2026-10-01", "score": summary.figures["score"]},
    ]
    assert summary.state == "done" and summary.figures["sections"]["incidents"]["reported"] == 1
    return world, summary


def test_the_english_document(factory, client, dbconn):
    world, summary = _world(factory)
    login(client, world.admin)
    # the page draws the same charts: the score's trend with September's point
    page = client.get(f"/a/{world.agency.slug}/quality/{summary.id}").text
    score_desc = re.search(r'<desc id="quality-score-desc">([^<]*)<', page).group(1)
    assert f"{summary.figures['score_trend'][0]['score']:.2f}" in score_desc
    assert 'aria-labelledby="quality-trend-title' in page
    pages = _pages(client, summary, world.agency.slug, keep="quality-en.pdf")
    total = len(pages)
    assert total >= 3
    # the cover: the agency, the month, its period in the agency's words, nothing else yet
    cover = pages[0]
    assert world.agency.name in cover and "Quality summary for October 2026" in cover
    assert re.search(r"Period: (October 1, 2026|1 October 2026) to (October 31, 2026|31 October 2026)", cover)
    assert "Key performance indicators" not in cover
    # every page numbered, "page n of N"
    for n, text in enumerate(pages, start=1):
        assert f"page {n} of {total}" in text, (n, text[-120:])
    body = "\n".join(pages[1:])
    _in_order(
        body,
        [
            "Key performance indicators",
            "Score against the targets, last 6 months",
            "\nVisits\n",
            "\nSatisfaction\n",
            "Satisfaction, last 6 months",
            "\nComplaints\n",
            "\nIncidents\n",
            "\nRectifications\n",
            "\nTraining\n",
            "\nCaseload\n",
        ],
    )
    # the dimensions in their fixed order, each with its mean and spread
    dims = summary.figures["satisfaction"]["dimensions"]
    _in_order(body, [f"{dimension_label(d)} {dims[d]['mean']:.2f} {dims[d]['sd']:.2f}" for d in DIMENSIONS])
    # each indicator with its target, its value and a status in words (the colour is not the only sign)
    statuses = re.findall(r"(Met|Below target|Nothing to measure)\n", body)
    assert len(statuses) == len(summary.figures["kpis"])
    met = [k for k, v in summary.figures["kpis"].items() if v["met"]]
    assert statuses.count("Met") == len(met)
    assert "Incidents reported 1" in body
    planned = summary.figures["visits"]["planned"]
    assert f"Planned {planned}" in body


def test_the_chinese_document_has_the_same_order_in_chinese(factory, client, dbconn):
    world, summary = _world(factory, chinese=True)
    assert summary.locale == "zh_CN"
    login(client, world.admin)
    pages = _pages(client, summary, world.agency.slug, keep="quality-zh.pdf")
    total = len(pages)
    cover = _flat(pages[0])
    assert "康宁居家养老服务中心" in cover and "2026年10月质量月报" in cover
    assert "2026年10月1日" in cover and "2026年10月31日" in cover
    for n, text in enumerate(pages, start=1):
        assert f"第{n}页，共{total}页" in _flat(text), (n, text[-120:])
    body = "\n" + "\n".join(pages[1:])
    with client.application.test_request_context(), _zh():
        headings = [
            _("Key performance indicators"),
            _("Visits"),
            _("Satisfaction"),
            _("Complaints"),
            _("Incidents"),
            _("Rectifications"),
            _("Training"),
            _("Caseload"),
        ]
        labels = [str(dimension_label(d)) for d in DIMENSIONS]
    assert all(re.fullmatch(r"[^a-zA-Z]+", h) for h in headings), headings
    _in_order(body, [f"\n{h}\n" for h in headings])
    dims = summary.figures["satisfaction"]["dimensions"]
    assert len(set(labels)) == 5 and all(not re.search(r"[a-z]", label) for label in labels)
    _in_order(
        body,
        [
            f"{label} {dims[d]['mean']:.2f} {dims[d]['sd']:.2f}"
            for label, d in zip(labels, DIMENSIONS, strict=True)
        ],
    )
    assert "达标" in body and "未达标" in body, "each indicator's status, in words"


def _zh():
    from flask_babel import force_locale

    return force_locale("zh_CN")


def test_a_month_without_incidents_says_so_and_a_document_without_a_font_still_renders(
    factory, client, dbconn, monkeypatch
):
    world = make_world(factory)
    generate(world, OCTOBER)
    with time_machine.travel(NOW, tick=False):
        summary = _build(world.agency, OCTOBER)
    login(client, world.admin)
    body = "\n".join(_pages(client, summary, world.agency.slug))
    assert "No incidents were reported this month." in body
    # a server without the CJK font falls back to DejaVu (Latin): same sections, still numbered
    monkeypatch.setattr(pdf, "CANDIDATES", (("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 0),))
    pdf.font_file.cache_clear()
    try:
        again = "\n".join(_pages(client, summary, world.agency.slug))
    finally:
        pdf.font_file.cache_clear()
    assert "No incidents were reported this month." in again and "page 1 of" in again
    # and one without any Unicode font: the core font, Latin-1 only, its signs spelled out
    monkeypatch.setattr(pdf, "CANDIDATES", ())
    monkeypatch.delenv("QUALITY_PDF_FONT", raising=False)
    pdf.font_file.cache_clear()
    try:
        bare = "\n".join(_pages(client, summary, world.agency.slug))
    finally:
        pdf.font_file.cache_clear()
    assert ">= 95%" in bare and "page 1 of" in bare
