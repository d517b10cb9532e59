"""Platform settings: values operators set for every agency at once (the
export window of a closed agency, ...), declared once by the area that reads
them, read with `platform_setting(key)` and written with
`update_platform_setting(key, value, by=...)` (checked, audited in the
platform log). Stored in `platform_settings`, one row per key changed; the
declared default otherwise."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from saas import audit, db
from saas.errors import DomainError, register_messages
from saas.models import PlatformSetting

log = logging.getLogger(__name__)


class PlatformSettingError(DomainError):
    """Refused; `field` is the setting's key (its form field)."""


register_messages(
    {
        "not_a_number": _l("Enter a whole number."),
        "out_of_range": _l("Enter a number from %(min)d to %(max)d."),
    },
    error=PlatformSettingError,
)


@dataclass(frozen=True)
class IntSetting:
    key: str
    default: int
    label: Any
    min: int
    max: int
    help: Any = ""


DECLARED: dict[str, IntSetting] = {}


def declare(setting: IntSetting) -> IntSetting:
    """At import, by the area that reads it; a key is declared once."""
    if DECLARED.get(setting.key, setting) != setting:
        raise ValueError(f"platform setting {setting.key} declared twice")
    DECLARED[setting.key] = setting
    return setting


def _valid(setting: IntSetting, value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value if setting.min <= value <= setting.max else None


def platform_setting(key: str) -> int:
    """The stored value when valid, else the declared default (a bad stored
    value is logged, never a 500)."""
    setting = DECLARED[key]
    stored = db.session.scalar(select(PlatformSetting.value).where(PlatformSetting.key == key))
    if stored is None:
        return setting.default
    value = _valid(setting, stored)
    if value is None:
        log.warning("platform setting %s: stored value refused, default used", key)
        return setting.default
    return value


def update_platform_setting(key: str, raw: Any, *, by: uuid.UUID | None) -> int:
    """Check, store and audit (old and new value). Raises PlatformSettingError
    next to the field named `key` before anything is written."""
    setting = DECLARED[key]
    try:
        value = int(str(raw).strip())
    except (TypeError, ValueError):
        raise PlatformSettingError("not_a_number", key) from None
    if _valid(setting, value) is None:
        raise PlatformSettingError("out_of_range", key, min=setting.min, max=setting.max)
    old = platform_setting(key)
    if old == value:
        return value
    db.session.execute(
        insert(PlatformSetting)
        .values(key=key, value=value, updated_at=db.utcnow(), updated_by=by)
        .on_conflict_do_update(
            index_elements=[PlatformSetting.key],
            set_={"value": value, "updated_at": db.utcnow(), "updated_by": by},
        )
    )
    audit.record_platform("platform.setting_changed", key, actor_id=by, old=old, new=value)
    return value
