"""The monthly quality summaries over the API: each built month with its
figures (numbers only), for those who read them."""

from __future__ import annotations

from typing import Any

from saas.api.conditional import respond
from saas.api.paging import PARAMETERS, cursor_page, page_schema
from saas.api.views import bp, operation
from saas.permissions import require
from tenants.quality import VIEW_QUALITY, queries
from tenants.quality.models import QualitySummary

SUMMARY_SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "string", "format": "uuid"},
        "month": {"type": "string", "format": "date", "description": "The first day of the month"},
        "state": {"type": "string"},
        "built_at": {"type": "string", "format": "date-time", "nullable": True},
        "published_at": {"type": "string", "format": "date-time", "nullable": True},
        "figures": {"type": "object", "description": "The month's figures and KPIs, as built"},
    },
}


@bp.route("/quality/summaries")
@operation(
    get={
        "summary": "The monthly quality summaries, oldest month first",
        "tags": ["quality"],
        "parameters": list(PARAMETERS),
        "responses": {
            "200": {
                "description": "OK",
                "content": {"application/json": {"schema": page_schema(SUMMARY_SCHEMA)}},
            }
        },
    }
)
@require(VIEW_QUALITY, refuse=403)
def quality_summaries() -> Any:
    page = cursor_page(queries.api_summaries(), [QualitySummary.month, QualitySummary.id])
    return respond(
        page.document(
            lambda s: {
                "id": str(s.id),
                "month": s.month.isoformat(),
                "state": s.state,
                "built_at": s.built_at.isoformat() if s.built_at else None,
                "published_at": s.published_at.isoformat() if s.published_at else None,
                "figures": s.figures or {},
            }
        )
    )
