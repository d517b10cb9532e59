"""The summary as a PDF document, drawn from the stored figures in the
language it was built in: a cover (agency, month, period), the indicators
against their targets with a status colour (and its word: colour is never the
only sign), the score and satisfaction charts (the page's SVG), then visits,
satisfaction (dimensions in their fixed order), complaints, incidents when
the month had any, rectifications, training and caseload; page numbers on
every page.

The content is laid out first as blocks, so the embedded font holds exactly
its characters (those of the charts included).

Chinese needs a CJK font that fpdf2 can embed and subset: Noto Sans
CJK SC from Debian's `fonts-noto-cjk` (face 2 of the .ttc collection), which
also covers Latin, subset to the document's characters and converted to
TrueType outlines; `QUALITY_PDF_FONT` names another file."""

from __future__ import annotations

import io
import logging
import os
import tempfile
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from flask_babel import force_locale, format_date, format_decimal, ngettext, pgettext
from flask_babel import gettext as _
from fontTools import subset
from fontTools.pens.cu2quPen import Cu2QuPen
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib import TTFont, newTable
from fpdf import FPDF
from fpdf.fonts import FontFace

from saas.charts import FONT
from saas.i18n import format_month
from saas.models import Agency
from tenants.feedback.labels import dimension_label
from tenants.feedback.models import DIMENSIONS
from tenants.quality import charts, kpis, services, targets
from tenants.quality.models import QualitySummary
from tenants.quality.signals import SummarySection, sections_for

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


# -- the blocks --------------------------------------------------------------------------------

INK = (31, 41, 51)
MUTED = (90, 100, 112)
RULE = (200, 205, 212)
HEAD_FILL = (232, 238, 236)
BRAND = (29, 111, 92)
# status: fill and text colour (the word is printed too)
STATUS = {
    "met": ((214, 240, 222), (22, 101, 52)),
    "below": ((252, 222, 220), (153, 27, 27)),
    "none": ((235, 236, 238), MUTED),
}


@dataclass
class Heading:
    text: str


@dataclass
class Para:
    text: str
    size: float = 10
    muted: bool = False


@dataclass
class Table:
    head: list[str] | None
    rows: list[list[str]]
    widths: tuple[float, ...]
    # per row, the status of its last cell ("met", "below", "none"), coloured
    status: list[str] | None = None
    # per column; numbers to the right
    align: tuple[str, ...] = ("LEFT", "RIGHT")


@dataclass
class Chart:
    svg: str


@dataclass
class Document:
    cover: list[tuple[str, float, bool]] = field(default_factory=list)  # (text, size, muted)
    blocks: list[Any] = field(default_factory=list)
    footer: str = ""  # with {page} and {nb}

    def add(self, *blocks: Any) -> None:
        self.blocks.extend(blocks)

    def texts(self) -> list[str]:
        out = [t for t, _s, _m in self.cover] + [self.footer]
        for b in self.blocks:
            if isinstance(b, Heading | Para):
                out.append(b.text)
            elif isinstance(b, Table):
                out += (b.head or []) + [c for row in b.rows for c in row]
            elif isinstance(b, Chart):
                out.append(b.svg)
        return out


# -- rendering ----------------------------------------------------------------------------------


class _Doc(FPDF):
    def __init__(self, font_path: str | None, footer_text: str) -> None:
        super().__init__(format="A4")
        self.footer_text = footer_text
        self.set_auto_page_break(auto=True, margin=18)
        self.set_margins(18, 18, 18)
        self.family = "helvetica"  # no Unicode font at all: the core font (Latin-1 only)
        if font_path:
            # one face: headings are set larger, not bold (the subset has no bold face)
            self.add_font("body", fname=font_path)
            self.add_font("body", style="B", fname=font_path)
            self.family = "body"

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(self.family, size=8)
        self.set_text_color(*MUTED)
        self.cell(0, 5, self.footer_text.replace("{page}", str(self.page_no())), align="C")
        self.set_text_color(*INK)


def render(summary: QualitySummary, agency: Agency) -> bytes:
    """The PDF of a summary, from its stored figures (no database read)."""
    with force_locale(summary.locale):
        return _render(_document(summary, agency))


# without any Unicode font the core font writes Latin-1 only: the few signs
# the document uses outside it, in Latin-1 (anything else becomes "?")
LATIN1 = str.maketrans({"≥": ">=", "≤": "<=", "•": "-", "–": "-", "—": "-", "…": "..."})


def _latin1(text: str) -> str:
    return text.translate(LATIN1).encode("latin-1", "replace").decode("latin-1")


def _core_font_only(document: Document) -> Document:
    for block in document.blocks:
        if isinstance(block, Heading | Para):
            block.text = _latin1(block.text)
        elif isinstance(block, Table):
            block.head = [_latin1(c) for c in block.head] if block.head else None
            block.rows = [[_latin1(c) for c in row] for row in block.rows]
        elif isinstance(block, Chart):
            block.svg = _latin1(block.svg)
    document.cover = [(_latin1(t), size, muted) for t, size, muted in document.cover]
    document.footer = _latin1(document.footer)
    return document


def _render(document: Document) -> bytes:
    found = font_file()
    if found is None:
        document = _core_font_only(document)
    chars = "".join(sorted({c for text in document.texts() for c in text} | set(" 0123456789–")))
    with tempfile.NamedTemporaryFile(suffix=".ttf") as handle:
        if found is not None:
            handle.write(_truetype_subset(found[0], found[1], chars))
            handle.flush()
        doc = _Doc(handle.name if found is not None else None, document.footer)
        doc.alias_nb_pages("{nb}")
        doc.set_text_color(*INK)
        _cover(doc, document.cover)
        doc.add_page()
        for block in document.blocks:
            _block(doc, block)
        return bytes(doc.output())


def _cover(doc: _Doc, lines: list[tuple[str, float, bool]]) -> None:
    doc.add_page()
    doc.set_fill_color(*BRAND)
    doc.rect(0, 0, doc.w, 8, style="F")
    doc.set_fill_color(255, 255, 255)  # the tables' cells fill with the current colour
    doc.set_y(70)
    for text, size, muted in lines:
        doc.set_font(doc.family, size=size)
        doc.set_text_color(*(MUTED if muted else INK))
        doc.multi_cell(0, size * 0.55, text, new_x="LMARGIN", new_y="NEXT")
        doc.ln(size * 0.25)
    doc.set_text_color(*INK)


def _block(doc: _Doc, block: Any) -> None:
    if isinstance(block, Heading):
        if doc.get_y() > doc.h - 60:  # a heading never ends a page
            doc.add_page()
        doc.ln(3)
        doc.set_font(doc.family, size=14)
        doc.set_text_color(*BRAND)
        doc.multi_cell(0, 8, block.text, new_x="LMARGIN", new_y="NEXT")
        doc.set_draw_color(*RULE)
        doc.line(doc.l_margin, doc.get_y(), doc.w - doc.r_margin, doc.get_y())
        doc.ln(2)
        doc.set_text_color(*INK)
    elif isinstance(block, Para):
        doc.set_font(doc.family, size=block.size)
        doc.set_text_color(*(MUTED if block.muted else INK))
        doc.multi_cell(0, block.size * 0.5, block.text, new_x="LMARGIN", new_y="NEXT")
        doc.set_text_color(*INK)
        doc.ln(1.5)
    elif isinstance(block, Table):
        _table(doc, block)
    elif isinstance(block, Chart):
        full = doc.w - doc.l_margin - doc.r_margin
        width = full * 0.85
        height = width / 2  # the charts are 640 x 320
        if doc.get_y() + height > doc.h - 18:
            doc.add_page()
        # fpdf2 draws the SVG's text with a font it knows: the document's own
        svg = block.svg.replace(f'font-family="{FONT}"', f'font-family="{doc.family}"')
        svg_log = logging.getLogger("fpdf.svg")
        level = svg_log.level
        svg_log.setLevel(logging.ERROR)  # <title> and <desc> are skipped, as they should be
        try:
            doc.image(io.BytesIO(svg.encode()), x=doc.l_margin + (full - width) / 2, w=width, h=height)
        finally:
            svg_log.setLevel(level)
        doc.ln(2)


def _table(doc: _Doc, block: Table) -> None:
    doc.set_font(doc.family, size=9)
    doc.set_draw_color(*RULE)
    with doc.table(
        col_widths=block.widths,
        first_row_as_headings=block.head is not None,
        headings_style=FontFace(fill_color=HEAD_FILL, color=INK),
        line_height=5.5,
        padding=1.5,
        borders_layout="HORIZONTAL_LINES",
        text_align=block.align[: len(block.widths)],
    ) as table:
        if block.head is not None:
            table.row(block.head)
        for i, values in enumerate(block.rows):
            row = table.row()
            for j, value in enumerate(values):
                if block.status and j == len(values) - 1:
                    fill, ink = STATUS[block.status[i]]
                    row.cell(value, style=FontFace(fill_color=fill, color=ink))
                else:
                    row.cell(value)
    doc.ln(3)


# -- what it says -------------------------------------------------------------------------------


def _document(summary: QualitySummary, agency: Agency) -> Document:
    figures = summary.figures or {}
    document = Document()
    month = format_month(summary.month)
    last_day = kpis.add_months(summary.month, 1) - timedelta(days=1)
    document.cover = [
        (agency.name, 24, False),
        (_("Quality summary for %(month)s", month=month), 18, False),
        (
            _(
                "Period: %(start)s to %(end)s",
                start=format_date(summary.month, "long"),
                end=format_date(last_day, "long"),
            ),
            11,
            True,
        ),
    ]
    if summary.built_at is not None:
        document.cover.append((_("Built on %(date)s", date=format_date(summary.built_at, "long")), 10, True))
    if summary.rebuilds:
        document.cover.append((_("This summary was rebuilt and replaces the earlier version."), 10, True))
    empty = not figures or figures.get("empty")
    if empty:
        document.cover.append((_("There was no activity to report this month."), 12, False))
    elif figures.get("score") is not None:
        score = _("Overall score against the targets: %(score)s%%", score=f"{figures['score']:g}")
        document.cover.append((score, 13, False))
    if not empty and figures.get("kpis"):
        rows = [figures["kpis"][k.key] for k in targets.kpis_in(figures)]
        measured = [r for r in rows if r["met"] is not None]
        met = sum(1 for r in measured if r["met"])
        document.cover.append(
            (
                ngettext(
                    "%(met)d of %(num)d measured indicator met its target.",
                    "%(met)d of %(num)d measured indicators met their target.",
                    len(measured),
                    met=met,
                ),
                11,
                False,
            )
        )
    document.footer = _(
        "%(agency)s · %(month)s · page %(page)s of %(pages)s",
        agency=agency.name,
        month=month,
        page="{page}",
        pages="{nb}",
    )
    if not empty and figures.get("kpis"):
        _indicators(document, figures, summary.month)
        _visits(document, figures)
        _satisfaction(document, figures, summary.month)
        _complaints(document, figures)
    sections = sections_for(summary) if summary.built_at is not None else []
    for section in sections:
        if section.key == "incidents":
            _section(document, section, (figures.get("sections") or {}).get("incidents"))
    if not empty and figures.get("kpis"):
        _rest(document, figures)
    for section in sections:  # any other area's section, after the summary's own
        if section.key != "incidents":
            _section(document, section)
    if not document.blocks:
        document.add(Para(_("There was no activity to report this month.")))
    return document


def _indicators(document: Document, f: dict[str, Any], month: date) -> None:
    document.add(Heading(_("Key performance indicators")))
    rows, status = [], []
    for kpi in targets.kpis_in(f):
        row = f["kpis"][kpi.key]
        sign = "≥ " if kpi.higher_is_better else "≤ "
        state = "none" if row["met"] is None else ("met" if row["met"] else "below")
        word = {"met": _("Met"), "below": _("Below target"), "none": _("Nothing to measure")}[state]
        rows.append(
            [
                services.kpi_label(kpi.key),
                sign + services.format_value(kpi.key, row["target"]),
                services.format_value(kpi.key, row["value"]),
                word,
            ]
        )
        status.append(state)
    document.add(
        Table(
            [_("Indicator"), _("Target"), _("This month"), _("Status")],
            rows,
            (80, 30, 30, 34),
            status,
            ("LEFT", "RIGHT", "RIGHT", "LEFT"),
        )
    )
    gaps = [
        services.describe(k.key, f["kpis"][k.key])
        for k in targets.kpis_in(f)
        if f["kpis"][k.key]["met"] is False
    ]
    if gaps:
        document.add(Para(_("Below target:"), size=10))
        for gap in gaps:
            document.add(Para("• " + gap, size=9))
    document.add(Chart(str(charts.score_chart(month, f.get("score_trend") or [], "quality-score"))))


def _visits(document: Document, f: dict[str, Any]) -> None:
    v = f["visits"]
    document.add(Heading(_("Visits")))
    rows = [
        [_("Planned"), str(v["planned"])],
        [_("Delivered"), str(v["delivered"])],
        [_("Late"), str(v["late"])],
        [_("Missed"), str(v["missed"])],
        [_("Cancelled"), str(v.get("cancelled", 0))],
        [_("Clients planned / served"), f"{v.get('clients_planned', 0)} / {v.get('clients_served', 0)}"],
    ]
    if "hours" in f:
        rows += [
            [_("Contracted hours (service plans)"), f"{f['hours']['contracted']:g}"],
            [_("Delivered on the service plans"), f"{f['hours']['delivered_on_plans']:g}"],
        ]
    cost = f.get("cost") or {}
    if cost.get("per_visit") is not None:
        rows.append([_("Cost per delivered visit"), format_decimal(cost["per_visit"], format="#,##0.00")])
    if cost.get("per_client") is not None:
        rows.append([_("Cost per client served"), format_decimal(cost["per_client"], format="#,##0.00")])
    document.add(Table(None, rows, (120, 54)))


def _satisfaction(document: Document, f: dict[str, Any], month: date) -> None:
    sat = f["satisfaction"]
    document.add(Heading(_("Satisfaction")))
    document.add(
        Para(
            pgettext(
                "the PDF's satisfaction section",
                "%(num)d ratings of this month's visits.",
                num=sat.get("n", 0),
            )
        )
    )
    found = sat.get("dimensions") or {}
    if found:
        # the dimensions in their fixed order, whatever order the figures were stored in
        rows = [
            [dimension_label(d), f"{found[d]['mean']:.2f}", f"{found[d]['sd']:.2f}"]
            for d in DIMENSIONS
            if d in found
        ]
        head = [_("Dimension"), _("Mean"), _("Standard deviation")]
        document.add(Table(head, rows, (94, 40, 40), align=("LEFT", "RIGHT", "RIGHT")))
    document.add(Chart(str(charts.satisfaction_chart(month, sat.get("trend", []), "quality-trend"))))


def _complaints(document: Document, f: dict[str, Any]) -> None:
    c = f["complaints"]
    document.add(Heading(_("Complaints")))
    document.add(
        Para(
            _(
                "Opened %(opened)d, answered on time %(on_time)d,"
                " overdue %(overdue)d, resolved %(resolved)d.",
                opened=c["received"],
                on_time=c["answered_on_time"],
                overdue=c["overdue"],
                resolved=c["resolved"],
            )
        )
    )
    by_category = c.get("by_category") or []
    if by_category:
        rows = [
            [
                r.get("category") or _("No category"),
                str(r["received"]),
                str(r["answered_on_time"]),
                str(r["overdue"]),
            ]
            for r in by_category
        ]
        head = [
            _("Complaint category"),
            pgettext("complaints received in the month", "Opened"),
            _("Answered on time"),
            _("Overdue"),
        ]
        document.add(Table(head, rows, (74, 30, 40, 30), align=("LEFT", "RIGHT", "RIGHT", "RIGHT")))


def _rest(document: Document, f: dict[str, Any]) -> None:
    r = f["rectifications"]
    document.add(Heading(_("Rectifications")))
    document.add(
        Table(
            None,
            [
                [_("Opened in the month"), str(r["opened"])],
                [_("Closed in the month"), str(r["closed"])],
                [_("Overdue"), str(r["overdue"])],
            ],
            (120, 54),
        )
    )
    t = f.get("training") or {}
    cert = f.get("certificates") or {}
    document.add(Heading(_("Training")))
    rows = []
    if t:
        rows += [
            [_("Training hours this month"), f"{t['month_hours']:g}"],
            [
                _("Annual training hours this year / required by now per worker"),
                f"{t['ytd_hours']:g} / {t['ytd_required_each']:g}",
            ],
            [_("Workers behind on training"), f"{t['behind']} / {t['workers']}"],
        ]
    if cert:
        rows.append(
            [
                _(
                    "Certificates expired this month / expiring within %(days)d days",
                    days=cert.get("window_days", 30),
                ),
                f"{cert['expired']} / {cert['expiring']}",
            ]
        )
    document.add(Table(None, rows, (120, 54)) if rows else Para(_("No training figures this month.")))
    cl = f.get("caseload") or {}
    document.add(Heading(_("Caseload")))
    rows = []
    if cl:
        rows += [
            [_("Workers over their caseload limit"), f"{cl['over_limit']} / {cl['workers']}"],
            [
                _("Average individual caseload (highest)"),
                f"{cl['average_individual']} ({cl['max_individual']})",
            ],
        ]
    rv = f.get("return_visits")
    if rv:
        rows.append(
            [
                _(
                    "Return visits of %(month)s on time / expected",
                    month=format_month(date.fromisoformat(rv["month"])),
                ),
                f"{rv['on_time']} / {rv['expected']}",
            ]
        )
    fu = f.get("follow_ups")
    if fu:
        rows.append(
            [
                _("Follow-ups due this month done on time / late / not done"),
                f"{fu['on_time']} / {fu['late']} / {fu['not_done']}",
            ]
        )
    document.add(Table(None, rows, (120, 54)) if rows else Para(_("No caseload figures this month.")))


def _section(document: Document, section: SummarySection, figures: dict[str, Any] | None = None) -> None:
    document.add(Heading(section.title))
    if section.key == "incidents" and not (figures or {}).get("reported"):
        document.add(Para(_("No incidents were reported this month.")))
        return
    if section.rows:
        document.add(Table(None, [[label, value] for label, value in section.rows], (120, 54)))
    for note in section.notes:
        document.add(Para(note, size=9, muted=True))
