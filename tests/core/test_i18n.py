"""Both catalogues are complete: every string in the code is translated."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

from saas.config import ROOT

PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")


def extracted(tmp_path: Path) -> set[str]:
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [str(Path(sys.executable).parent / "pybabel"), "extract", "-F", "babel.cfg", "-k", "_l",
         "-k", "lazy_gettext", "-k", "lazy_pgettext:1c,2", "-o", str(pot), "."],
        cwd=ROOT, check=True, capture_output=True,
    )  # fmt: skip
    with pot.open("rb") as f:
        return {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(f) if m.id}


def catalogue(locale: str) -> dict[str, tuple[str, ...]]:
    with (ROOT / "translations" / locale / "LC_MESSAGES" / "messages.po").open("rb") as f:
        out = {}
        for m in read_po(f, locale=locale):
            if not m.id or m.fuzzy:
                continue
            key = m.id if isinstance(m.id, str) else m.id[0]
            out[key] = tuple(m.string) if isinstance(m.string, tuple | list) else (m.string,)
        return out


def test_every_string_is_translated(tmp_path):
    strings = extracted(tmp_path)
    assert len(strings) > 100
    for locale in ("en", "zh_Hans_CN"):
        translated = catalogue(locale)
        missing = sorted(s for s in strings if not all(translated.get(s, ("",))))
        assert not missing, f"{locale}: untranslated (run make i18n-extract and translate): {missing[:10]}"


def test_placeholders_survive_translation():
    # Chinese has one plural form, used for every number: it carries the
    # placeholders of the plural msgid (the singular may spell "one" out)
    with (ROOT / "translations" / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po").open("rb") as f:
        for m in read_po(f, locale="zh_Hans_CN"):
            if not m.id or m.fuzzy:
                continue
            source = m.id if isinstance(m.id, str) else m.id[-1]
            want = set(PLACEHOLDER.findall(source))
            strings = m.string if isinstance(m.string, tuple | list) else (m.string,)
            for s in filter(None, strings):
                assert set(PLACEHOLDER.findall(s)) == want, f"{m.id!r} -> {s!r}"


def test_chinese_pages(client):
    page = client.get("/login", headers={"Accept-Language": "zh-CN"})
    assert "登录" in page.text
