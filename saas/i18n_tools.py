"""Catalogue chores: `python -m saas.i18n_tools fill-english` makes the English
catalogue complete (source strings are English), `check` lists what is missing."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

from saas.config import ROOT

TRANSLATIONS = ROOT / "translations"


def _path(locale: str) -> Path:
    return TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po"


def fill_english() -> None:
    path = _path("en")
    with path.open("rb") as f:
        catalog = read_po(f, locale="en")
    for message in catalog:
        if not message.id:
            continue
        if isinstance(message.id, tuple | list):
            if not any(message.string or ()):
                message.string = tuple(message.id)
        elif not message.string:
            message.string = message.id
    with path.open("wb") as f:
        write_po(f, catalog, width=100, omit_header=False)


def missing(locale: str) -> list[str]:
    with _path(locale).open("rb") as f:
        catalog = read_po(f, locale=locale)
    out = []
    for message in catalog:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple | list) else (message.string,)
        if not all(strings) or message.fuzzy:
            out.append(message.id if isinstance(message.id, str) else message.id[0])
    return out


if __name__ == "__main__":
    if sys.argv[1:] == ["fill-english"]:
        fill_english()
    elif sys.argv[1:2] == ["check"]:
        bad = {loc: missing(loc) for loc in ("en", "zh_Hans_CN")}
        for loc, ids in bad.items():
            for i in ids:
                print(f"{loc}: {i}")
        sys.exit(1 if any(bad.values()) else 0)
    else:
        sys.exit("usage: python -m saas.i18n_tools fill-english|check")


def compile_catalogues() -> int:
    """Compile any .po newer than its .mo (what `make install` does), so
    `saas run` started without make still speaks Chinese. Returns how many."""
    from babel.messages.mofile import write_mo

    done = 0
    for po in TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as f:
            catalog = read_po(f)
        # write aside then rename: several processes may compile at once
        tmp = mo.with_name(f"{mo.name}.{os.getpid()}.tmp")
        with tmp.open("wb") as f:
            write_mo(f, catalog)
        os.replace(tmp, mo)
        done += 1
    return done
