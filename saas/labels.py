"""Translated labels of stored codes (a status, a kind, a group), one shape for
every area: a mapping of codes to lazy strings, looked up in the reader's
language; a code nobody labelled is shown as it is stored."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class Labels:
    """`Labels({"done": _l("Built")})("done")` is "Built" in the current language."""

    def __init__(self, labels: Mapping[str, Any]) -> None:
        self._labels = dict(labels)

    def __call__(self, code: str) -> str:
        label = self._labels.get(code)
        return code if label is None else str(label)
