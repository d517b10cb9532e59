"""Why a clients rule refused a change: the error every rule raises."""

from __future__ import annotations

from saas.errors import DomainError


class ClientError(DomainError):
    """A rule refused the change. `field` is the form field it belongs next to."""
