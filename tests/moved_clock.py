"""The instants the date-sensitive tests are also run at (`pytest --moved-to=WHEN -m dates`).

Each named instant is the next one after the real moment the suite starts, so
the runs keep testing the coming year's calendar (and the real weekday mix)
instead of a day that drifts ever further into the past; the resolved instant
is printed in the pytest header, and `--moved-to=<that ISO instant>` replays it.

- `month-start`: the 1st of a month (not January) at 00:30 in Asia/Shanghai (16:30 UTC the day
  before): the agency's today, its month and "last month" differ from UTC's.
- `march-dst`: the last Sunday of March at 01:30 Europe/London by the clock
  before the switch, i.e. 01:30 UTC = 02:30 BST, half an hour after the clocks
  went forward: a 23-hour local day.
- `october-dst`: the last Sunday of October at 01:30 BST (00:30 UTC), the first
  of the two 01:30s, half an hour before the clocks go back: a 25-hour local day.
- `year-end`: 31 December at 23:50 Europe/London (= UTC in winter): London and
  UTC are still in the old year while Shanghai agencies are at 07:50 on
  1 January, so the year, month and day of UTC and of the agency all differ.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
LONDON = ZoneInfo("Europe/London")


def _last_sunday(year: int, month: int) -> date:
    last = (date(year, month + 1, 1) if month < 12 else date(year + 1, 1, 1)) - timedelta(days=1)
    return last - timedelta(days=(last.isoweekday() % 7))


def _month_starts(year: int) -> list[datetime]:
    # 1 January is left to `year-end`, which already crosses the year
    return [datetime.combine(date(year, m, 1), time(0, 30), SHANGHAI) for m in range(2, 13)]


def _march(year: int) -> list[datetime]:
    # 01:30 does not exist in London that morning; fold=0 reads it with the
    # offset before the gap: 01:30 UTC
    return [datetime.combine(_last_sunday(year, 3), time(1, 30), LONDON)]


def _october(year: int) -> list[datetime]:
    return [datetime.combine(_last_sunday(year, 10), time(1, 30, fold=0), LONDON)]


def _year_end(year: int) -> list[datetime]:
    return [datetime.combine(date(year, 12, 31), time(23, 50), LONDON)]


NAMED: dict[str, Callable[[int], list[datetime]]] = {
    "month-start": _month_starts,
    "march-dst": _march,
    "october-dst": _october,
    "year-end": _year_end,
}


def resolve(when: str, now: datetime | None = None) -> datetime:
    """A named instant (the next one after `now`) or an ISO 8601 instant with its offset."""
    now = now or datetime.now(UTC)
    if when in NAMED:
        candidates = [c for year in (now.year, now.year + 1) for c in NAMED[when](year)]
        return min(c for c in candidates if c > now).astimezone(UTC)
    instant = datetime.fromisoformat(when)
    if instant.tzinfo is None:
        raise ValueError(f"--moved-to needs an offset or a name ({', '.join(NAMED)}): {when!r}")
    return instant.astimezone(UTC)


if __name__ == "__main__":  # python -m tests.moved_clock [WHEN...]: the instants a run would use
    import sys

    for name in sys.argv[1:] or NAMED:
        print(name, resolve(name).isoformat())
