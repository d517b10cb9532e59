"""No raw code and no untranslated string on any page of the demo: the demo is
seeded through its services, and every page each role can reach by following
links is read as that role, Sunrise in English and Kangning in Chinese (and
the operator's console in both). A page fails on a stored code shown as it is
stored (`quality.summary_built`, `in_progress`, a cell reading "missed"), and
a Chinese page on a run of English words that is not a name, an address or
a term of the small list below."""

from __future__ import annotations

import enum
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from urllib.parse import urldefrag, urlsplit
from zoneinfo import available_timezones

import pytest
from sqlalchemy import select

from saas import db, demo
from saas.models import User
from tests.factories import login

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# pages of one shape (a client's file, a visit) are read this many times each
PER_SHAPE = 2
# never followed: they change nothing but are not pages (files, feeds), or they sign out
SKIPPED = re.compile(
    r"(\.(csv|xlsx|pdf|ics|json|svg|png|js|css)$)|/logout|/export|/download|/feed|/calendar|/static/|/openapi"
)

# the people and places of the demo, and terms written the same in both languages
NAMES = {
    "CareHub",
    "Sunrise Home Care",
    "Stripe",
    "TOTP",
    "API",
    "PDF",
    "CSV",
    "XLSX",
    "SVG",
    "URL",
    "iCalendar",
    "Bearer",
    "OpenAPI",
    "KPI",
    "UTC",
    "ID",
    "QR",
    "HH:MM",
    "English",  # the language picker names each language in itself
    "Excel",
    "GBK",
    "UTF-8",
    "YYYY-MM-DD",
    "xlsx",
    "PNG",
    "JPEG",
    "MB",
    "Sentry",
    "e.g.",
    "i.e.",
}
# acronyms and a file's codes in capitals (currencies GBP, EUR, CNY; file kinds;
# payroll codes VISIT, TRAVEL) read the same in Chinese
ACRONYM = re.compile(r"\b[A-Z]{2,}\b")
# what a select of time zones lists: identifiers, the same in every language
ZONES = frozenset(available_timezones())
# time zone names as written in a select or a sentence
ZONE = re.compile(r"\b[A-Z][A-Za-z_]+/[A-Za-z_/-]+\b")
# references with digits (a staff number DEMO-001, a case number, a secret key)
REFERENCE = re.compile(r"\b[\w-]*\d[\w-]*\b")
SEPARATORS = re.compile(r"\s*[·,;:：，、]\s*")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
URL = re.compile(r"https?://\S+|/a/[\w/-]+|otpauth://\S+")
SNAKE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")
DOTTED = re.compile(r"\b[a-z][a-z_]*\.[a-z][a-z_]*(?:\.[a-z_]+)*\b")
ENGLISH_RUN = re.compile(r"[A-Za-z][A-Za-z'’]*(?:[ -][A-Za-z][A-Za-z'’]*)*")


VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class _Text(HTMLParser):
    """The words a reader sees: text outside scripts and styles, the labels
    of controls (aria-label, title, placeholder, alt), and each text node on
    its own (a code alone in a cell is a code shown). What a page marks as
    not for translation (`translate="no"`: a file's column names) or as in
    another language (`lang="en"` beside the Chinese of a bilingual survey)
    is left out, as a translator would leave it."""

    def __init__(self, chinese: bool) -> None:
        super().__init__()
        self.nodes: list[str] = []
        self.links: list[str] = []
        self._open: list[tuple[str, bool]] = []
        self._chinese = chinese

    @property
    def _skipping(self) -> bool:
        return any(skip for _tag, skip in self._open)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "a" and found.get("href"):
            self.links.append(found["href"] or "")
        lang = (found.get("lang") or "").lower()
        skip = (
            tag in ("script", "style", "pre", "svg", "textarea")
            or found.get("translate") == "no"
            or (self._chinese and lang.startswith("en"))
        )
        if tag not in VOID:
            self._open.append((tag, skip))
        if not (skip or self._skipping):
            for name in ("aria-label", "title", "placeholder", "alt"):
                if found.get(name):
                    self.nodes.append(found[name] or "")

    def handle_endtag(self, tag: str) -> None:
        while self._open:
            if self._open.pop()[0] == tag:
                break

    def handle_data(self, data: str) -> None:
        if not self._skipping and data.strip():
            self.nodes.append(data.strip())


def _codes() -> set[str]:
    """Every stored code of the product's enums (a status, a kind, a channel)."""

    def walk(cls: type) -> Iterator[type]:
        for sub in cls.__subclasses__():
            yield sub
            yield from walk(sub)

    found = set()
    for cls in walk(enum.StrEnum):
        if cls.__module__.startswith(("saas", "tenants", "billing")):
            found |= {str(member.value) for member in cls}
    return found


def _problems(text_nodes: list[str], chinese: bool, codes: set[str], allowed: set[str]) -> list[str]:
    found = []
    for node in text_nodes:
        if node in ZONES:
            continue
        clean = UUID.sub(" ", ZONE.sub(" ", URL.sub(" ", EMAIL.sub(" ", node))))
        for name in sorted(allowed | NAMES, key=len, reverse=True):
            clean = clean.replace(name, " ")
        clean = REFERENCE.sub(" ", clean)
        if chinese:
            clean = ACRONYM.sub(" ", clean)
        shown = [piece for piece in SEPARATORS.split(node) if piece in codes]
        if shown:
            found += [f"code shown as stored: {piece!r} in {node[:80]!r}" for piece in shown]
            continue
        for pattern in (SNAKE, DOTTED):
            found += [f"code: {m.group(0)!r} in {node[:80]!r}" for m in pattern.finditer(clean)]
        if chinese:
            for m in ENGLISH_RUN.finditer(clean):
                run = m.group(0)
                # a single letter or roman numeral unit is not English prose (kg, m, km, am, pm)
                if len(run) <= 2 or run in {"km", "min", "kg"}:
                    continue
                found.append(f"English on a Chinese page: {run!r} in {node[:80]!r}")
    return found


def _shape(path: str) -> str:
    return re.sub(r"\d{4}-\d{2}(-\d{2})?", "<date>", UUID.sub("<id>", path))


def _walk(http, start: list[str], allowed_prefixes: tuple[str, ...], headers: dict[str, str], chinese: bool):
    """(path, problems) of every page reached from `start` by links."""
    seen_paths: set[str] = set()
    shapes: dict[str, int] = {}
    queue = list(start)
    while queue:
        path = queue.pop(0)
        if path in seen_paths:
            continue
        seen_paths.add(path)
        shape = _shape(urlsplit(path).path)
        if shapes.get(shape, 0) >= PER_SHAPE:
            continue
        shapes[shape] = shapes.get(shape, 0) + 1
        response = http.get(path, headers=headers)
        if response.status_code != 200 or not response.content_type.startswith("text/html"):
            continue
        parser = _Text(chinese)
        parser.feed(response.text)
        yield path, parser.nodes
        for href in parser.links:
            href = urldefrag(href)[0]
            if not href.startswith("/") or SKIPPED.search(href):
                continue
            if href.startswith(allowed_prefixes) and href not in seen_paths:
                queue.append(href)


ROLES = ("admin", "coordinator", "carer1", "client1")


@pytest.fixture
def seeded(app, dbconn):
    with app.app_context():
        demo.seed(force=True)
    return app


def _demo_names(slug: str) -> set[str]:
    """Names the demo gave its people and clients (data, not words to translate)."""
    from billing.models import Plan
    from saas.models import Agency
    from tenants.clients.models import Client

    names = set(db.session.scalars(select(User.name))) | set(db.session.scalars(select(Plan.name)))
    agency = db.session.scalar(select(Agency).where(Agency.slug == slug))
    with db.tenant_scope(agency.id):
        names |= set(db.session.scalars(select(Client.full_name)))
    return {n for n in names if n}


@pytest.mark.parametrize(("slug", "chinese"), [("sunrise", False), ("kangning", True)])
@pytest.mark.parametrize("who", ROLES)
def test_no_raw_code_or_untranslated_word_on_any_page(seeded, slug, chinese, who):
    codes = _codes()
    user = db.session.scalar(select(User).where(User.email == f"{who}@{slug}.example"))
    http = seeded.test_client()
    login(http, user)
    headers = {"Accept-Language": "zh-CN" if chinese else "en-GB"}
    allowed = _demo_names(slug) if chinese else set()
    problems: dict[str, list[str]] = {}
    pages = 0
    where = (f"/a/{slug}/", "/account")
    for path, nodes in _walk(http, list(where), where, headers, chinese):
        pages += 1
        found = _problems(nodes, chinese, codes, allowed)
        if found:
            problems[path] = sorted(set(found))
    assert pages >= (3 if who == "client1" else 8), f"only {pages} pages reached"
    assert not problems, "\n".join(f"{path}: {found}" for path, found in problems.items())


@pytest.mark.parametrize("chinese", [False, True])
def test_no_raw_code_or_untranslated_word_in_the_operators_console(seeded, chinese):
    codes = _codes()
    user = db.session.scalar(select(User).where(User.email == demo.OPERATOR_EMAIL))
    http = seeded.test_client()
    login(http, user)
    headers = {"Accept-Language": "zh-CN" if chinese else "en-GB"}
    allowed = _demo_names("kangning") | _demo_names("sunrise") if chinese else set()
    if chinese:
        # the console lists every agency on the platform, other tests' included: names are data
        from saas.models import Agency

        allowed |= set(db.session.scalars(select(Agency.name)))
    problems: dict[str, list[str]] = {}
    pages = 0
    where = ("/operator/", "/account")
    for path, nodes in _walk(http, list(where), where, headers, chinese):
        pages += 1
        found = _problems(nodes, chinese, codes, allowed)
        if found:
            problems[path] = sorted(set(found))
    assert pages >= 5, f"only {pages} pages reached"
    assert not problems, "\n".join(f"{path}: {found}" for path, found in problems.items())


def test_no_raw_code_or_untranslated_word_in_the_demos_emails(seeded):
    """Every email the demo sent (complaints to the head, rating links, low
    ratings, reminders...) in its reader's language, codes never shown."""
    from saas.models import MailMessage
    from tests.factories import run_jobs

    with seeded.app_context():
        run_jobs()
    codes = _codes()
    problems = {}
    mails = db.session.scalars(select(MailMessage)).all()
    kinds = set()
    for mail in mails:
        chinese = mail.to_address.endswith("@kangning.example")
        allowed = _demo_names("kangning") | {"康宁居家养老服务中心"} if chinese else set()
        lines = [mail.subject, *(line.strip() for line in mail.body.splitlines() if line.strip())]
        found = _problems(lines, chinese, codes, allowed)
        if found:
            problems[f"{mail.kind} to {mail.to_address}"] = sorted(set(found))
        kinds.add((mail.kind, chinese))
        if mail.kind == "quality.summary" and chinese:
            # the month as the page writes it ("2026年11月"), not "十一月 2026"
            assert re.search(r"\d{4}年\d{1,2}月", mail.subject), mail.subject
    assert any(chinese for _kind, chinese in kinds) and any(not chinese for _kind, chinese in kinds), kinds
    assert not problems, "\n".join(f"{what}: {found}" for what, found in problems.items())
