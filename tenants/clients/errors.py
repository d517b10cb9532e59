"""Why a clients rule refused a change: the error every rule raises."""

from __future__ import annotations

from typing import Any


class ClientError(ValueError):
    """A rule refused the change. `field` is the form field it belongs next to."""

    def __init__(self, code: str, field: str | None = None, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.field = field
        self.params = params
