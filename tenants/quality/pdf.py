"""The summary as a PDF, drawn from the stored figures in the language it was
built in. Chinese needs a CJK font that fpdf2 can embed and subset: Noto Sans
CJK SC from Debian's `fonts-noto-cjk` (face 2 of the .ttc collection), which
also covers Latin, subset to the document's characters and converted to
TrueType outlines; `QUALITY_PDF_FONT` names another file."""

from __future__ import annotations

import io
import os
import tempfile
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from flask_babel import force_locale, format_date, format_decimal
from flask_babel import gettext as _
from fontTools import subset
from fontTools.pens.cu2quPen import Cu2QuPen
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib import TTFont, newTable
from fpdf import FPDF

from saas.i18n import format_month
from tenants.feedback.labels import dimension_label
from tenants.quality import services, targets
from tenants.quality.models import QualitySummary
from tenants.quality.signals import sections_for

# (file, face in a collection): the first that exists is used
CANDIDATES: tuple[tuple[str, int], ...] = (
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),  # faces: JP, KR, SC, TC, HK
    ("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc", 2),
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
    ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 0),  # Latin only
)


@lru_cache(maxsize=1)
def font_file() -> tuple[str, int] | None:
    override = os.environ.get("QUALITY_PDF_FONT")
    if override and Path(override).is_file():
        return override, int(os.environ.get("QUALITY_PDF_FONT_FACE", "0"))
    for path, face in CANDIDATES:
        if Path(path).is_file():
            return path, face
    return None


@lru_cache(maxsize=32)
def _truetype_subset(path: str, face: int, chars: str) -> bytes:
    """The font cut down to `chars`, with its outlines as TrueType.

    Noto CJK is CID-keyed CFF; fpdf2 embeds such a font with a custom encoding
    CMap, which viewers render but text extractors (pypdf) misread. Subsetting
    first keeps the conversion to quadratic outlines (fontTools' cu2qu) quick."""
    font = TTFont(path, fontNumber=face) if path.endswith(".ttc") else TTFont(path)
    options = subset.Options()
    options.layout_features = []
    options.hinting = False
    options.notdef_outline = True
    options.name_IDs = ["*"]
    options.desubroutinize = True
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=chars)
    subsetter.subset(font)
    if "CFF " in font:
        order = font.getGlyphOrder()
        glyph_set = font.getGlyphSet()
        glyf = newTable("glyf")
        glyf.glyphOrder = order
        glyf.glyphs = {}
        for name in order:
            pen = TTGlyphPen(None)
            glyph_set[name].draw(Cu2QuPen(pen, 1.0, reverse_direction=True))
            glyf.glyphs[name] = pen.glyph()
        font["loca"] = newTable("loca")
        font["glyf"] = glyf
        del font["CFF "]
        if "VORG" in font:
            del font["VORG"]
        maxp = font["maxp"]
        maxp.tableVersion = 0x00010000
        for attr in (
            "maxTwilightPoints",
            "maxStorage",
            "maxFunctionDefs",
            "maxInstructionDefs",
            "maxStackElements",
            "maxSizeOfInstructions",
            "maxComponentElements",
        ):
            setattr(maxp, attr, 0)
        maxp.maxZones = 1
        font["head"].indexToLocFormat = 0
        font["head"].glyphDataFormat = 0
        post = font["post"]
        post.formatType = 2.0
        post.extraNames = []
        post.mapping = {}
        font.sfntVersion = "\x00\x01\x00\x00"
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()


class _Doc(FPDF):
    def __init__(self, font_path: str | None) -> None:
        super().__init__(format="A4")
        self.set_auto_page_break(auto=True, margin=15)
        self.family = "helvetica"  # no Unicode font at all: the core font (Latin-1 only)
        if font_path:
            self.add_font("body", fname=font_path)
            self.family = "body"

    def text_line(self, value: str, size: float = 10, height: float = 6) -> None:
        self.set_font(self.family, size=size)
        self.multi_cell(0, height, value, new_x="LMARGIN", new_y="NEXT")


class _Lines:
    """What the PDF says, collected first so the font holds exactly its characters."""

    def __init__(self) -> None:
        self.items: list[tuple[str, float, float]] = []

    def text_line(self, value: str, size: float = 10, height: float = 6) -> None:
        self.items.append((value, size, height))

    def ln(self, height: float) -> None:
        self.items.append(("", 0, height))


def render(summary: QualitySummary, agency_name: str) -> bytes:
    with force_locale(summary.locale):
        return _render(summary, agency_name)


def _render(summary: QualitySummary, agency_name: str) -> bytes:
    lines = _Lines()
    _write(lines, summary, agency_name)
    chars = "".join(sorted({c for value, _s, _h in lines.items for c in value} | set(" 0123456789")))
    found = font_file()
    with tempfile.NamedTemporaryFile(suffix=".ttf") as handle:
        if found is not None:
            handle.write(_truetype_subset(found[0], found[1], chars))
            handle.flush()
        doc = _Doc(handle.name if found is not None else None)
        doc.add_page()
        for value, size, height in lines.items:
            if size:
                doc.text_line(value, size=size, height=height)
            else:
                doc.ln(height)
        return bytes(doc.output())


def _write(doc: _Lines, summary: QualitySummary, agency_name: str) -> None:
    figures = summary.figures or {}
    doc.text_line(agency_name, size=16, height=9)
    doc.text_line(_("Quality summary for %(month)s", month=format_month(summary.month)), size=13)
    if summary.built_at is not None:
        doc.text_line(_("Built on %(date)s", date=format_date(summary.built_at, "medium")), size=9)
    if summary.rebuilds:
        doc.text_line(_("This summary was rebuilt and replaces the earlier version."), size=9)
    doc.ln(3)
    if not figures or figures.get("empty"):
        doc.text_line(_("There was no activity to report this month."), size=11)
    if figures and not figures.get("empty"):
        score = figures.get("score")
        if score is not None:
            doc.text_line(_("Overall score against the targets: %(score)s%%", score=f"{score:g}"), size=11)
        doc.ln(2)
        doc.text_line(_("Key performance indicators"), size=12, height=8)
        for kpi in targets.kpis_in(figures):
            doc.text_line("• " + services.describe(kpi.key, figures["kpis"][kpi.key]))
        doc.ln(2)
        _details(doc, figures)
    if summary.built_at is not None:
        for section in sections_for(summary):  # the other areas' sections (incidents ...)
            doc.text_line(section.title, size=12, height=8)
            for label, value in section.rows:
                doc.text_line(f"{label}: {value}")
            for note in section.notes:
                doc.text_line(note, size=9)


def _details(doc: _Lines, f: dict[str, Any]) -> None:
    v, c, sat = f["visits"], f["complaints"], f["satisfaction"]
    doc.text_line(_("Visits"), size=12, height=8)
    doc.text_line(
        _(
            "Planned %(planned)d, delivered %(delivered)d, late %(late)d, missed %(missed)d.",
            planned=v["planned"],
            delivered=v["delivered"],
            late=v["late"],
            missed=v["missed"],
        )
    )
    if "hours" in f:
        doc.text_line(
            _(
                "Contracted hours (service plans) %(contracted)s, delivered %(delivered)s.",
                contracted=f"{f['hours']['contracted']:g}",
                delivered=f"{f['hours']['delivered_on_plans']:g}",
            )
        )
    if f.get("cost", {}).get("per_visit") is not None:
        doc.text_line(
            _(
                "Cost per delivered visit %(per_visit)s; per client served %(per_client)s.",
                per_visit=format_decimal(f["cost"]["per_visit"], format="#,##0.00"),
                per_client=format_decimal(f["cost"]["per_client"], format="#,##0.00"),
            )
        )
    doc.text_line(_("Satisfaction"), size=12, height=8)
    for d, row in (sat.get("dimensions") or {}).items():
        doc.text_line(f"{dimension_label(d)}: {row['mean']:.2f} ± {row['sd']:.2f}")
    trend = ", ".join(
        f"{format_month(date.fromisoformat(t['month']), 'yMMM')}: {t['mean']:.2f}"
        for t in sat.get("trend", [])
    )
    if trend:
        doc.text_line(_("Last 6 months: %(trend)s", trend=trend))
    doc.text_line(_("Complaints"), size=12, height=8)
    doc.text_line(
        _(
            "Opened %(opened)d, answered on time %(on_time)d, overdue %(overdue)d, resolved %(resolved)d.",
            opened=c["received"],
            on_time=c["answered_on_time"],
            overdue=c["overdue"],
            resolved=c["resolved"],
        )
    )
    r = f["rectifications"]
    doc.text_line(_("Rectifications"), size=12, height=8)
    doc.text_line(
        _(
            "Opened %(opened)d, closed %(closed)d, overdue %(overdue)d.",
            opened=r["opened"],
            closed=r["closed"],
            overdue=r["overdue"],
        )
    )
