"""Why a scheduling rule refused a change: the error every rule raises."""

from __future__ import annotations

from saas.errors import DomainError


class VisitError(DomainError):
    @classmethod
    def status_for(cls, code: str, field: str | None) -> int:
        # what the API has always answered: a value next to a field is a bad
        # request, a visit in the wrong state a conflict
        return 409 if field is None else 400
