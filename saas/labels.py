"""Translated labels of stored codes (a status, a kind, a group), one shape for
every area: a mapping of codes to lazy strings, looked up in the reader's
language; a code nobody labelled is shown as it is stored."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class Labels:
    """`Labels({"done": _l("Built")})("done")` is "Built" in the current language.
    With a `fallback`, a code nobody labelled reads as the fallback, not itself."""

    def __init__(self, labels: Mapping[str, Any], fallback: Any = None) -> None:
        self._labels = dict(labels)
        self._fallback = fallback

    def __call__(self, code: str) -> str:
        label = self._labels.get(code)
        if label is None:
            return code if self._fallback is None else str(self._fallback)
        return str(label)

    def __contains__(self, code: object) -> bool:
        return code in self._labels
