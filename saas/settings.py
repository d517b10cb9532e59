"""Typed agency settings: declared once, read through one accessor, written
through one writer.

Each area declares its settings in its `AREA = Area(settings=(Setting(...), ...))`
(the core's own are `CORE` below); `declared()` gathers them. `Agency.settings`
stays a JSON object keyed by each setting's `key`, so nothing is migrated.

- `settings_of(agency).get("low_rating_threshold")` (or `agency_setting(agency,
  key)`) gives the typed value: the stored one when it is valid, else the
  declared default. A stored value out of range or of the wrong type is logged
  and the default used, so a bad row never breaks a page. An undeclared key is
  a `KeyError`: a typo fails at once in development, not silently in production.
- `update_settings(agency, {key: value})` checks every value against its
  declaration (strings as typed in a form, or typed values), raises
  `SettingsError` naming each refused field before anything is written, then
  merges the values into the stored object in one statement and records one
  audit entry per changed setting with its old and new value.

Settings pages are generated from the declarations (`saas.settings_pages`):
each setting names the `page` showing it ("" for one set elsewhere).

A structured value (the certificates each staff role requires, the quality
targets) is a `Kind.MAPPING` whose declaration carries its `Shape`: how it is
read and checked (by parts, each refusal named by its form field), stored, and
what the database must confirm before it is written. It is read and written
like any other setting, and shown on a page of its area's own.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import time
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import cast, select, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm.attributes import set_committed_value

from saas import areas, audit, db
from saas.errors import DomainError
from saas.i18n import region_choices
from saas.models import Agency

if TYPE_CHECKING:
    from saas.areas import Area

log = logging.getLogger(__name__)


class Kind(StrEnum):
    INT = "int"
    BOOL = "bool"
    DECIMAL = "decimal"
    STR = "str"
    CHOICE = "choice"  # one of `choices`
    TIME = "time"  # a wall-clock time, stored "HH:MM"
    INT_LIST = "int_list"  # whole numbers, each within min..max, most first
    STR_LIST = "str_list"  # short words, each matching `pattern`
    CHOICE_SET = "choice_set"  # some of `choices`
    MAPPING = "mapping"  # a structured value: its declaration's `shape` reads, checks and stores it


_TIME = re.compile(r"^([01]?[0-9]|2[0-3])[:：]([0-5][0-9])$")
_WHOLE = re.compile(r"^[+-]?[0-9]{1,12}$")


class Invalid(ValueError):
    """One value refused: a code and its message's parameters. A structured
    value refused in parts carries each in `parts`, by the name of the form
    field its message goes next to."""

    def __init__(self, code: str, *, parts: Mapping[str, Invalid] | None = None, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = params
        self.parts = dict(parts or {})


class Shape:
    """How a MAPPING setting's value is read, checked and stored; an area
    subclasses it for each structured setting it declares.

    - `clean(raw)`: the typed value of a stored or submitted one (read-only:
      a `MappingProxyType`, so a caller cannot change the default), or
      `Invalid` with `parts` naming each refused part's form field;
    - `dump(value)`: what is stored in the JSON object;
    - `check(value)`: the rules that need the database, on writing only;
    - `messages`: code -> message, for the codes the shape's parts use."""

    messages: Mapping[str, Any] = {}

    def clean(self, raw: Any) -> Any:
        raise NotImplementedError

    def dump(self, value: Any) -> Any:
        return dict(value)

    def check(self, value: Any) -> None:
        return None


@dataclass(frozen=True)
class Setting:
    """One agency setting. `default` is the typed value (int, bool, Decimal,
    str, `time`, tuple for the list kinds); `min`/`max` bound numbers (and each
    item of an INT_LIST); `choices` are (value, label) pairs; `page` names the
    generated settings page showing it and `section` its heading there;
    `shape` reads, checks and stores a MAPPING's value."""

    key: str
    kind: Kind
    default: Any
    label: Any  # flask_babel.LazyString
    help: Any = ""
    min: Any = None
    max: Any = None
    choices: tuple[tuple[str, Any], ...] = ()
    min_items: int = 0  # the list kinds
    max_items: int | None = None
    pattern: str | None = None  # STR and each STR_LIST item
    max_length: int = 200
    # the message for a value the pattern refuses (says what to write)
    format_message: Any = None
    page: str = ""
    section: Any = None
    shape: Shape | None = None  # MAPPING

    # -- values ------------------------------------------------------------------------------

    def clean(self, raw: Any) -> Any:
        """The typed value of `raw` (as stored, as typed in a form, or already
        typed); `Invalid` when it is not one this setting takes."""
        if self.kind is Kind.BOOL:
            return self._bool(raw)
        if self.kind is Kind.MAPPING:
            return self._shape().clean(raw)
        if self.kind in (Kind.INT_LIST, Kind.STR_LIST, Kind.CHOICE_SET):
            return self._list(raw)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            if self.kind is Kind.STR and self.min is None:
                return ""
            raise Invalid("required")
        if self.kind is Kind.INT:
            return self._bounded(self._int(raw))
        if self.kind is Kind.DECIMAL:
            return self._bounded(self._decimal(raw))
        if self.kind is Kind.TIME:
            return self._time(raw)
        if self.kind is Kind.CHOICE:
            value = str(raw).strip()
            if value not in self.choice_values:
                raise Invalid("choice")
            return value
        if not isinstance(raw, str):
            raise Invalid("text")
        value = raw.strip()
        if len(value) > self.max_length:
            raise Invalid("too_long", max=self.max_length)
        if self.pattern and not re.fullmatch(self.pattern, value):
            raise Invalid("format")
        return value

    def dump(self, value: Any) -> Any:
        """The typed value as stored in the JSON object."""
        if self.kind is Kind.MAPPING:
            return self._shape().dump(value)
        if self.kind is Kind.DECIMAL:
            return str(value)
        if self.kind is Kind.TIME:
            return value.strftime("%H:%M")
        if self.kind in (Kind.INT_LIST, Kind.STR_LIST, Kind.CHOICE_SET):
            return list(value)
        return value

    def text(self, value: Any) -> str:
        """The typed value as written in a form's text box."""
        if self.kind is Kind.TIME:
            return value.strftime("%H:%M")
        if self.kind in (Kind.INT_LIST, Kind.STR_LIST):
            return ", ".join(str(v) for v in value)
        return str(value)

    def check(self, value: Any) -> None:
        """The rules a typed value must also meet to be written (a structured
        value's, needing the database); `Invalid` when it does not."""
        if self.kind is Kind.MAPPING:
            self._shape().check(value)

    def _shape(self) -> Shape:
        if self.shape is None:
            raise TypeError(f"the setting {self.key!r} is a mapping without a shape")
        return self.shape

    @property
    def choice_values(self) -> tuple[str, ...]:
        return tuple(value for value, _label in self.choices)

    def _bool(self, raw: Any) -> bool:
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and raw.strip().lower() in ("y", "yes", "true", "on", "1"):
            return True
        if raw is None or (
            isinstance(raw, str) and raw.strip().lower() in ("", "n", "no", "false", "off", "0")
        ):
            return False
        raise Invalid("yes_no")

    def _int(self, raw: Any) -> int:
        if isinstance(raw, bool):  # an int to Python, never a number to a person
            raise Invalid("whole_number")
        if isinstance(raw, int):
            return raw
        if isinstance(raw, Decimal) and raw == raw.to_integral_value():
            return int(raw)
        if isinstance(raw, str) and _WHOLE.match(raw.strip()):
            return int(raw.strip())
        raise Invalid("whole_number")

    def _decimal(self, raw: Any) -> Decimal:
        if isinstance(raw, bool | float):  # floats carry binary noise; stored as text
            raise Invalid("number")
        try:
            value = Decimal(str(raw).strip())
        except (InvalidOperation, ValueError):
            raise Invalid("number") from None
        if not value.is_finite():
            raise Invalid("number")
        return value

    def _bounded(self, value: Any) -> Any:
        if (self.min is not None and value < self.min) or (self.max is not None and value > self.max):
            code = "range" if self.min is not None and self.max is not None else "range_min"
            raise Invalid(code if self.min is not None else "range_max", **self._range())
        return value

    def _range(self) -> dict[str, Any]:
        return {"min": self.min, "max": self.max}

    def _time(self, raw: Any) -> time:
        if isinstance(raw, time):
            return raw.replace(second=0, microsecond=0, tzinfo=None)
        match = _TIME.match(str(raw).strip()) if isinstance(raw, str) else None
        if not match:
            raise Invalid("time")
        return time(int(match.group(1)), int(match.group(2)))

    def _list(self, raw: Any) -> tuple[Any, ...]:
        if isinstance(raw, str):
            items: list[Any] = [p.strip() for p in raw.replace("，", ",").split(",") if p.strip()]
        elif isinstance(raw, list | tuple | set | frozenset):
            items = list(raw)
        elif raw is None:
            items = []
        else:
            raise Invalid("list")
        if self.kind is Kind.INT_LIST:
            numbers = set()
            for item in items:
                try:
                    number = self._int(item.strip() if isinstance(item, str) else item)
                except Invalid:
                    raise Invalid("list_item", **self._range()) from None
                if (self.min is not None and number < self.min) or (
                    self.max is not None and number > self.max
                ):
                    raise Invalid("list_item", **self._range())
                numbers.add(number)
            value: tuple[Any, ...] = tuple(sorted(numbers, reverse=True))
        elif self.kind is Kind.CHOICE_SET:
            chosen = {str(item) for item in items}
            if not chosen <= set(self.choice_values):
                raise Invalid("choice")
            value = tuple(v for v in self.choice_values if v in chosen)
        else:
            words = []
            for item in items:
                word = str(item).strip().lower() if isinstance(item, str) else None
                if word is None or (self.pattern and not re.fullmatch(self.pattern, word)):
                    raise Invalid("format")
                words.append(word)
            value = tuple(dict.fromkeys(words))
        if len(value) < self.min_items:
            raise Invalid("too_few", min=self.min_items)
        if self.max_items is not None and len(value) > self.max_items:
            raise Invalid("too_many", max=self.max_items)
        return value

    # -- messages ----------------------------------------------------------------------------

    def message(self, problem: Invalid) -> str:
        """What is wrong with a refused value, in the user's language."""
        own = self.shape.messages.get(problem.code) if self.shape is not None else None
        if own is not None:
            return str(own) % problem.params if problem.params else str(own)
        if problem.code in ("format", "too_few", "too_many", "list_item") and self.format_message is not None:
            return str(self.format_message)
        return str(MESSAGES.get(problem.code, MESSAGES["format"])) % problem.params


# code -> message (its parameters from the declaration: min, max)
MESSAGES: dict[str, Any] = {
    "required": _l("This field is required."),
    "whole_number": _l("Enter a whole number."),
    "number": _l("Enter a number."),
    "range": _l("Enter a number from %(min)s to %(max)s."),
    "range_min": _l("Enter a number of at least %(min)s."),
    "range_max": _l("Enter a number of at most %(max)s."),
    "list_item": _l("Each number must be from %(min)s to %(max)s."),
    "time": _l("Write a time as HH:MM, for example 07:30."),
    "choice": _l("Choose one of the options."),
    "yes_no": _l("Choose yes or no."),
    "too_long": _l("Use at most %(max)s characters."),
    "too_many": _l("Give at most %(max)s values."),
    "too_few": _l("Choose at least %(min)s."),
    "format": _l("This value is not in the expected form."),
    "list": _l("This value is not in the expected form."),
    "text": _l("This value is not in the expected form."),
}


class SettingsError(DomainError):
    """Settings refused, nothing written: `problems` maps each refused key to
    why; `messages()` words each in the user's language, by field (a domain
    error whose `field` and `code` are the first refusal's). A field is the
    setting's key, or for a structured value refused in parts, each part's."""

    def __init__(self, problems: Mapping[str, Invalid]) -> None:
        self.problems = dict(problems)
        # (setting key, field, problem) for each refusal
        self.refusals = [
            (key, field, part)
            for key, problem in self.problems.items()
            for field, part in (problem.parts.items() if problem.parts else [(key, problem)])
        ]
        self.key, field, first = self.refusals[0]
        super().__init__(first.code, field, **first.params)

    def by_field(self) -> list[DomainError]:
        """One error per refused field, each shown next to its own field."""
        if len(self.refusals) == 1:
            return [self]
        return [
            SettingsError({key: problem if field == key else Invalid("parts", parts={field: problem})})
            for key, field, problem in self.refusals
        ]

    def messages(self) -> dict[str, str]:
        known = declared()
        return {field: known[key].message(problem) for key, field, problem in self.refusals}

    def own_message(self) -> str:
        # the declaration words its refusals (where the error escapes to the API too)
        return declared()[self.key].message(self.refusals[0][2])


# -- the core's own settings -------------------------------------------------------------------

CORE: tuple[Setting, ...] = (
    # how dates, times and numbers are written (the language stays the agency's)
    Setting(
        "region",
        Kind.CHOICE,
        "auto",
        _l("Write dates, times and numbers as in"),
        choices=(("auto", _l("The country of the agency's time zone")), *region_choices()),
        page="reminders",
        section=_l("Dates and numbers"),
    ),
    Setting(
        "digest_time",
        Kind.TIME,
        time(17, 0),
        _l("Send daily digests at (HH:MM)"),
        page="reminders",
        section=_l("Daily digest"),
    ),
    # set on the members page: admins and coordinators always use two-factor
    Setting(
        "carers_two_factor",
        Kind.BOOL,
        False,
        _l("Carers must sign in with two-factor"),
    ),
    # an agency may shorten the platform's session timeouts (0: the platform's)
    Setting(
        "session_idle_minutes",
        Kind.INT,
        0,
        _l("Sign members out after this many idle minutes (0: the platform's limit)"),
        min=0,
        max=24 * 60,
    ),
    Setting(
        "session_absolute_hours",
        Kind.INT,
        0,
        _l("Sign members out this many hours after they signed in (0: the platform's limit)"),
        min=0,
        max=24 * 30,
    ),
)


# -- the schema ----------------------------------------------------------------------------------


@dataclass
class _Schema:
    areas: tuple[Area, ...] | None = None
    settings: dict[str, Setting] = field(default_factory=dict)


_schema = _Schema()


def build(groups: Iterable[Iterable[Setting]]) -> dict[str, Setting]:
    """Key -> declaration; refuses a key declared twice and a default its own
    declaration would refuse."""
    found: dict[str, Setting] = {}
    for group in groups:
        for setting in group:
            if not isinstance(setting, Setting):
                raise TypeError(f"{setting!r} is not a Setting")
            if setting.key in found:
                raise ValueError(f"the setting {setting.key!r} is declared twice")
            if (setting.kind is Kind.MAPPING) != (setting.shape is not None):
                raise ValueError(f"the setting {setting.key!r}: a mapping has a shape, nothing else has one")
            try:
                if setting.clean(setting.dump(setting.default)) != setting.default:
                    raise Invalid("default")
            except (Invalid, AttributeError, TypeError) as exc:
                raise ValueError(f"the default of {setting.key!r} is not valid ({exc})") from None
            found[setting.key] = setting
    return found


def declared() -> dict[str, Setting]:
    """Every declared setting: each area's and the core's, in that order (read
    once per discovery of the areas)."""
    found = areas.discover()
    if _schema.areas is not found:
        _schema.settings = build([*(area.settings for area in found), CORE])
        _schema.areas = found
    return _schema.settings


def page_settings(page: str) -> list[Setting]:
    """The settings one generated page shows, in declaration order."""
    return [s for s in declared().values() if s.page == page]


# -- reading ---------------------------------------------------------------------------------------


class AgencySettings:
    """One agency's settings, typed (see the module's docstring)."""

    __slots__ = ("agency",)

    def __init__(self, agency: Agency) -> None:
        self.agency = agency

    def get(self, key: str) -> Any:
        setting = declared()[key]  # an unknown key is a programming error
        stored = self.agency.settings or {}
        if not isinstance(stored, dict) or key not in stored:
            return setting.default
        try:
            return setting.clean(stored[key])
        except Invalid as exc:
            # reported, not raised: a bad stored value must not break the agency's pages
            log.warning(
                "agency %s: stored setting %s refused (%s); using the default",
                self.agency.id,
                key,
                exc.code,
            )
            return setting.default

    __getitem__ = get

    def values(self, keys: Iterable[str]) -> dict[str, Any]:
        return {key: self.get(key) for key in keys}


def default_of(key: str) -> Any:
    """The declared default of one setting (where no agency is at hand)."""
    return declared()[key].default


def settings_of(agency: Agency) -> AgencySettings:
    return AgencySettings(agency)


def agency_setting(agency: Agency, key: str) -> Any:
    """The typed value of one setting of the agency."""
    return AgencySettings(agency).get(key)


# -- writing ---------------------------------------------------------------------------------------


def update_settings(agency: Agency, values: Mapping[str, Any]) -> dict[str, tuple[Any, Any]]:
    """Check every value, then store them all or none; record each change
    (old and new value) in the agency's audit log. Returns key -> (old, new)
    for the settings that changed. Raises `SettingsError` (every refused field)
    and `KeyError` for an undeclared key."""
    known = declared()
    settings = [known[key] for key in values]  # KeyError before anything else
    problems: dict[str, Invalid] = {}
    clean: dict[str, Any] = {}
    for setting in settings:
        try:
            clean[setting.key] = setting.clean(values[setting.key])
            setting.check(clean[setting.key])
        except Invalid as exc:
            problems[setting.key] = exc
    if problems:
        raise SettingsError(problems)
    current = settings_of(agency)
    changed = {key: (current.get(key), value) for key, value in clean.items() if current.get(key) != value}
    if not changed:
        return {}
    patch = {key: known[key].dump(new) for key, (_old, new) in changed.items()}
    # merged in the database, so a concurrent change of other keys is kept
    db.session.execute(
        update(Agency)
        .where(Agency.id == agency.id)
        .values(settings=Agency.settings.op("||")(cast(patch, JSONB)))
    )
    set_committed_value(
        agency, "settings", db.session.scalar(select(Agency.settings).where(Agency.id == agency.id))
    )
    for key, (old, new) in changed.items():
        audit.record("settings.changed", key, old=known[key].dump(old), new=known[key].dump(new))
    return changed
