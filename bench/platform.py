"""The benchmarks' platform: the demo agencies, `sunrise` grown to a large
agency with years of history, and many smaller agencies around it, as they
would be after real use.

The demo is seeded through the services (`saas demo`), so its people, logins,
plans and first visits are what the app makes. Everything else is written by
the owner role with set-based SQL (INSERT ... SELECT generate_series), a few
statements in all, and holds only rows the services could have made:

- people: users with the demo password, memberships, staff files (`carer4`...
  in `sunrise`; an admin, a coordinator and carers in each other agency);
- clients, without email or portal (so their ratings come by phone), besides
  the demo clients, who keep their portal logins;
- visits on each carer's round, every day, from the first day of the agency's
  history to four weeks ahead, in the agency's time zone: past ones completed
  (checked in and out, a few late with the flag resolved), cancelled or
  missed (flagged, resolved but the last ones); today's started ones in
  progress; later ones booked. A carer is never booked twice at once (the
  demo's own visits are left alone). Ids are time-ordered (UUIDv7) from the
  moment the row would have been made;
- a service record for every completed visit, written by its carer at
  check-out, some with notes, a few needing attention (resolved but the last);
- ratings for one completed visit in five (the demo clients' in the portal,
  the others' taken by the coordinator on the phone), a follow-up task for
  each low one (done but the last);
- opinions, praise and complaints every few days, each step of their
  handling recorded; the last ones still open;
- in-app notifications: the monthly return-visit reminder to each carer and
  the service records needing attention to the coordinators and admins, read
  but the last;
- every agency's quality summary of last month, built by the monthly sweep's
  own path (`tenants.quality.jobs`), the demo's queued ones by the build job.

Nothing here writes the agencies' audit logs (hash-chained, written only by
`saas.audit.record`): the history's entries are simply not there.

Sizes: `visits` in all (a third in `sunrise`, which keeps the demo's carer1 at
a tenth of its visits and ~180 in the coming week at every size; the rest
spread over `agencies - 2` other agencies), so the history's length grows with
the size while a week stays a week.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from saas.demo import DEMO_AGENCIES

HOME = "sunrise"
# sunrise's round: 10 carers (carer1-3 of the demo, carer4-10 added), a visit
# every 30 minutes from 07:00 to 19:30, 25 minutes long, every day
HOME_CARERS = 10
HOME_SLOTS = 26
HOME_FIRST_SLOT = "07:00"
HOME_GAP_MINUTES = 30
HOME_MINUTES = 25
# a client file of ~3,400 visits at the default size
HOME_VISITS_PER_CLIENT = 3_400
# the other agencies: 4 carers, 8 visits of 45 minutes each a day, 24 clients
OTHER_CARERS = 4
OTHER_SLOTS = 8
OTHER_FIRST_SLOT = "08:00"
OTHER_GAP_MINUTES = 60
OTHER_MINUTES = 45
OTHER_CLIENTS = 24
OTHER_ZONES = ("Europe/London", "Asia/Shanghai", "America/New_York", "Australia/Sydney")
# how far ahead visits are booked
FUTURE_DAYS = 28


@dataclass(frozen=True)
class Sizes:
    """What to build: agencies in all (the two demo ones included) and visits in all."""

    agencies: int = 502
    visits: int = 3_000_000

    @property
    def home_visits(self) -> int:
        return self.visits // 3

    @property
    def others(self) -> int:
        return max(self.agencies - len(DEMO_AGENCIES), 0)

    @property
    def other_visits(self) -> int:
        return self.visits - self.home_visits if self.others else 0

    def key(self) -> str:
        """Names a built database: the sizes, the schema and this builder."""
        from alembic.script import ScriptDirectory

        from saas.config import ROOT

        heads = ",".join(sorted(ScriptDirectory(str(ROOT / "migrations")).get_heads()))
        digest = hashlib.sha1(heads.encode() + Path(__file__).read_bytes(), usedforsecurity=False)
        return f"{self.agencies}_{self.visits}_{digest.hexdigest()[:10]}"


def _days(visits: int, per_day: int) -> int:
    """Days of history and bookings holding `visits` at `per_day` (at least two
    weeks of history besides the weeks booked ahead)."""
    return max(math.ceil(visits / max(per_day, 1)), FUTURE_DAYS + 14)


# A UUIDv7 for a moment (the app's ids are UUIDv7: time-ordered), session-local.
UUID7 = """
create or replace function pg_temp.uuid7(at timestamptz) returns uuid language sql volatile as $$
  select encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid()) placing
    substring(int8send(floor(extract(epoch from at) * 1000)::bigint) from 3) from 1 for 6), 52, 1), 53, 1),
    'hex')::uuid
$$
"""

# texts by language, picked per row (data, as carers and clients write it)
TEXTS = {
    "done": {
        "en": [
            "Helped with washing and dressing; made breakfast.",
            "Medication prompted and taken; tidied the kitchen.",
            "Made lunch, helped with eating; short walk in the garden.",
            "Helped to bed; checked the heating and locked up.",
            "Shopping put away; changed the bed linen.",
            "Shower with support; applied skin cream as in the plan.",
        ],
        "zh": [
            "协助洗漱穿衣，准备早餐。",
            "提醒服药并确认已服用，整理厨房。",
            "准备午餐，协助进食，陪同在院内散步。",
            "协助就寝，检查暖气并锁好门窗。",
            "整理购买的物品，更换床单。",
            "协助淋浴，按计划涂抹护肤霜。",
        ],
    },
    "outcome": {
        "en": ["Comfortable and in good spirits.", "Tired but settled."],
        "zh": ["状态良好。", "有些疲倦，情绪稳定。"],
    },
    "notes": {
        "en": [
            "Running low on milk and bread.",
            "Daughter visiting on Sunday.",
            "Left knee a little swollen; keep an eye on it.",
            "GP appointment next Tuesday at 10:00.",
            "Prefers tea without sugar now.",
        ],
        "zh": [
            "牛奶和面包快用完了。",
            "女儿周日来探望。",
            "左膝略有肿胀，请留意。",
            "下周二上午十点看全科医生。",
            "现在喝茶不加糖。",
        ],
    },
    "feedback": {
        "en": [
            "The carer arrived late and nobody rang to warn us.",
            "Could the morning visit be a little later?",
            "Very kind and patient carers, thank you.",
            "The visit was cut short on Friday.",
        ],
        "zh": [
            "护理员迟到，事先也没有人通知。",
            "上午的上门时间能否推迟一点？",
            "护理员很耐心，谢谢！",
            "周五的服务时间被缩短了。",
        ],
    },
    "response": {
        "en": ["We apologise; the round has been reorganised and the office now rings when a carer is late."],
        "zh": ["非常抱歉，我们已调整排班，护理员迟到时服务中心会电话告知。"],
    },
}


def _texts(kind: str) -> dict[str, list[str]]:
    return TEXTS[kind]


def _run(
    conn: Connection, label: str, sql: str, params: dict[str, Any] | None = None, log: Callable = print
) -> int:
    started = time.perf_counter()
    result = conn.execute(text(sql), params or {})
    rows = result.rowcount if result.rowcount is not None else -1
    log(f"  {label:<44} {rows:>10,} rows {time.perf_counter() - started:7.1f} s")
    return rows


def _each(conn: Connection, sql: str, params: dict[str, Any] | None = None) -> None:
    """Several statements, one at a time (a prepared statement holds one)."""
    for statement in sql.split(";"):
        if statement.strip():
            conn.execute(text(statement), params or {})


def seed_demo(app: Any) -> None:
    """The demo platform, through the services, as `saas demo` seeds it."""
    from saas import demo

    with app.app_context(), app.test_request_context():
        demo.seed()


def build(app: Any, owner: Engine, sizes: Sizes, now: datetime, log: Callable = print) -> None:
    """Seed the demo, then grow the platform to `sizes` (see the module's doc)."""
    started = time.perf_counter()
    seed_demo(app)
    log(f"  demo seeded through the services {time.perf_counter() - started:29.1f} s")
    grow(app, owner, sizes, now, log)


def grow(app: Any, owner: Engine, sizes: Sizes, now: datetime, log: Callable = print) -> None:
    """Grow the seeded demo platform to `sizes`."""
    with owner.begin() as conn:
        # memory for the sorts and hash joins of a few large statements
        conn.execute(text("set local work_mem = '256MB'"))
        conn.execute(text(UUID7))
        _stage_home(conn, sizes, now, log)
        if sizes.others:
            _stage_others(conn, sizes, now, log)
        _history(conn, now, log)
    build_quality_summaries(app, now, log)
    started = time.perf_counter()
    with owner.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("vacuum analyze"))  # as autovacuum would have, long before
    log(f"  vacuum analyze {time.perf_counter() - started:47.1f} s")


STAGING = """
create temp table bench_agency (
  tenant_id uuid primary key, slug text, tz text, lang text, item_id uuid, terms_id uuid, price numeric,
  unit text, checklist jsonb, checklist_done jsonb, certificate_type_id uuid, first_day date, days int,
  carers int, clients int, slots int, first_slot time, gap int, minutes int, coordinator_user_id uuid,
  team_supervisor uuid, feedback_every int
) on commit drop;
create temp table bench_carer (tenant_id uuid, n int, staff_file_id uuid, user_id uuid, membership_id uuid,
  primary key (tenant_id, n)) on commit drop;
create temp table bench_client (tenant_id uuid, n int, client_id uuid, portal_membership_id uuid,
  primary key (tenant_id, n)) on commit drop;
"""


def _stage_home(conn: Connection, sizes: Sizes, now: datetime, log: Callable) -> None:
    """`sunrise`: its demo people, 7 more carers, its clients, on the staging tables."""
    _each(conn, STAGING)
    days = _days(sizes.home_visits, HOME_CARERS * HOME_SLOTS)
    clients = max(sizes.home_visits // HOME_VISITS_PER_CLIENT, 30)
    params = {"slug": HOME, "days": days, "future": FUTURE_DAYS, "now": now}
    _run(
        conn,
        "sunrise: its round and catalogue terms",
        """
        insert into bench_agency
        select a.id, a.slug, a.timezone, case when a.locale like 'zh%' then 'zh' else 'en' end,
               i.id, t.id, t.price, t.unit, t.checklist,
               (select coalesce(jsonb_agg(jsonb_build_object('point', p, 'done', true)), '[]')
                  from jsonb_array_elements_text(t.checklist) p),
               t.required_certificate_type_id,
               (:now at time zone a.timezone)::date + :future - :days, :days,
               :carers, :clients, :slots, cast(:first_slot as time), :gap, :minutes,
               (select m.user_id from memberships m where m.tenant_id = a.id and m.role = 'coordinator'
                 order by m.created_at limit 1),
               (select tm.supervisor_membership_id from teams tm where tm.tenant_id = a.id
                 order by tm.created_at limit 1),
               3
        from agencies a
        join lateral (
          select v.service_item_id from visits v where v.tenant_id = a.id order by v.created_at limit 1
        ) booked on true
        join service_items i on i.tenant_id = a.id and i.id = booked.service_item_id
        join lateral (
          select * from service_item_terms t where t.tenant_id = a.id and t.item_id = i.id
          order by t.effective_from desc limit 1
        ) t on true
        where a.slug = :slug
        """,
        {
            **params,
            "carers": HOME_CARERS,
            "clients": clients,
            "slots": HOME_SLOTS,
            "first_slot": HOME_FIRST_SLOT,
            "gap": HOME_GAP_MINUTES,
            "minutes": HOME_MINUTES,
        },
        log,
    )
    # the agency, its demo carers and team have been there since the history's first day
    _each(
        conn,
        (
            """
            update agencies a set created_at = least(a.created_at, (b.first_day - 30)::timestamptz)
            from bench_agency b where a.id = b.tenant_id;
            """
        ),
    )
    _run(
        conn,
        "sunrise: carers 4-10 (users, memberships)",
        """
        with new as (
          select b.tenant_id, n, pg_temp.uuid7(b.first_day - 60) as user_id,
                 pg_temp.uuid7(b.first_day - 60) as membership_id
          from bench_agency b, generate_series(4, :carers) n
        ), u as (
          insert into users (id, email, name, password_hash, is_operator, is_active, created_at)
          select user_id, 'carer' || n || '@' || :slug || '.example', 'Carer ' || n,
                 (select password_hash from users where email = 'carer1@' || :slug || '.example'),
                 false, true, now() from new
        )
        insert into memberships (tenant_id, id, user_id, role, active, created_at)
        select tenant_id, membership_id, user_id, 'carer', true, now() from new
        """,
        {"slug": HOME, "carers": HOME_CARERS},
        log,
    )
    _run(
        conn,
        "sunrise: staff files of carers 4-10",
        """
        insert into staff_files (tenant_id, id, membership_id, team_id, staff_role, employment_start, skills,
          languages, home_area, contracted_hours, availability, notes, created_at, updated_at)
        select m.tenant_id, pg_temp.uuid7(b.first_day - 60), m.id, f.team_id, 'carer', b.first_day - 30,
               f.skills, f.languages, f.home_area, f.contracted_hours, f.availability, '', now(), now()
        from memberships m
        join users u on u.id = m.user_id
        join bench_agency b on b.tenant_id = m.tenant_id
        join lateral (
          select f.* from staff_files f join memberships c on c.tenant_id = f.tenant_id
            and c.id = f.membership_id
          where f.tenant_id = m.tenant_id and c.role = 'carer' order by f.created_at limit 1
        ) f on true
        where m.role = 'carer'
          and not exists (select 1 from staff_files s where s.tenant_id = m.tenant_id
            and s.membership_id = m.id)
        """,
        None,
        log,
    )
    _each(
        conn,
        (
            """
            update staff_files f set employment_start = least(f.employment_start, b.first_day - 30)
            from bench_agency b where f.tenant_id = b.tenant_id;
            insert into bench_carer
            select f.tenant_id, (row_number() over (order by u.email = 'carer10@' || :slug || '.example',
              u.email))::int - 1,
                   f.id, u.id, m.id
            from staff_files f
            join memberships m on m.tenant_id = f.tenant_id and m.id = f.membership_id
            join users u on u.id = m.user_id
            join bench_agency b on b.tenant_id = f.tenant_id
            where m.role = 'carer';
            """
        ),
        {"slug": HOME},
    )
    _run(
        conn,
        "sunrise: clients",
        """
        insert into clients (tenant_id, id, full_name, preferred_name, gender, phone, email, address,
          checkin_radius_m, languages, consent_services, consent_data, consent_recorded_at, created_at)
        select b.tenant_id, pg_temp.uuid7(b.first_day - 30), 'Client ' || lpad(n::text, 4, '0'), '',
               'undisclosed', '', '', n || ' Harbour Row', 300, '["English"]', true, true, b.first_day - 30,
               b.first_day - 30
        from bench_agency b, generate_series(6, b.clients) n
        """,
        None,
        log,
    )
    # the demo clients first (client1's record is the client file loaded), then the others
    _each(
        conn,
        (
            """
            insert into bench_client
            select c.tenant_id, (row_number() over (order by c.full_name like 'Client 0%', c.created_at,
              c.full_name))::int - 1,
                   c.id, p.membership_id
            from clients c
            join bench_agency b on b.tenant_id = c.tenant_id
            left join client_portal_links p on p.tenant_id = c.tenant_id and p.client_id = c.id;
            update bench_agency b
            set clients = (select count(*) from bench_client c where c.tenant_id = b.tenant_id);
            """
        ),
    )


def _stage_others(conn: Connection, sizes: Sizes, now: datetime, log: Callable) -> None:
    """The other agencies: made whole here (agency, catalogue, people, clients)."""
    each = math.ceil(sizes.other_visits / sizes.others)
    # fewer visits a day when each agency has few visits, so that it still has weeks of history
    slots = min(max(math.ceil(each / (OTHER_CARERS * (FUTURE_DAYS + 14))), 1), OTHER_SLOTS)
    days = _days(each, OTHER_CARERS * slots)
    params = {
        "n": sizes.others,
        "days": days,
        "future": FUTURE_DAYS,
        "now": now,
        "zones": list(OTHER_ZONES),
        "carers": OTHER_CARERS,
        "clients": OTHER_CLIENTS,
        "slots": slots,
        "first_slot": OTHER_FIRST_SLOT,
        "gap": OTHER_GAP_MINUTES,
        "minutes": OTHER_MINUTES,
    }
    _run(
        conn,
        "other agencies",
        """
        with a as (
          select g, 'bench-' || g as slug,
                 (cast(:zones as text[]))[1 + g % cardinality(cast(:zones as text[]))] as tz
          from generate_series(1, :n) g
        ), b as (
          select a.*, (:now at time zone a.tz)::date + :future - :days as first_day from a
        ), staged as (
          insert into bench_agency
          select pg_temp.uuid7(first_day - 90), slug, tz, case when tz = 'Asia/Shanghai'
            then 'zh' else 'en' end,
                 pg_temp.uuid7(first_day - 90), pg_temp.uuid7(first_day - 90), 20 + g % 5, 'per_visit',
                 '["Personal care", "Medication prompt", "Meal"]',
                 '[{"point": "Personal care", "done": true}, {"point": "Medication prompt", "done": true},'
                 ' {"point": "Meal", "done": true}]',
                 null, first_day, :days, :carers, :clients, :slots, cast(:first_slot as time), :gap, :minutes,
                 pg_temp.uuid7(first_day - 90), null, 7
          from b
          returning *
        )
        insert into agencies (id, slug, name, timezone, locale, status, settings, created_at, billing_state)
        select tenant_id, slug, 'Home care ' || substr(slug, 7), tz, case when lang = 'zh'
          then 'zh_CN' else 'en' end,
               'active', '{}', first_day - 90, 'active'
        from staged
        """,
        params,
        log,
    )
    _run(
        conn,
        "other agencies: catalogue",
        """
        with c as (
          insert into service_categories (tenant_id, id, name, position, created_at)
          select tenant_id, pg_temp.uuid7(first_day - 90), 'Personal care', 0, first_day - 90
          from bench_agency where slug like 'bench-%'
          returning tenant_id, id
        ), i as (
          insert into service_items (tenant_id, id, category_id, name, description, scope_included,
            scope_excluded, active, created_at, updated_at)
          select b.tenant_id, b.item_id, c.id, 'Home visit', '', '', '', true, b.first_day - 90,
            b.first_day - 90
          from bench_agency b join c on c.tenant_id = b.tenant_id
        )
        insert into service_item_terms (tenant_id, id, item_id, effective_from, price, unit,
          duration_minutes, checklist,
          created_at)
        select tenant_id, terms_id, item_id, first_day - 90, price, unit, minutes, checklist, first_day - 90
        from bench_agency where slug like 'bench-%'
        """,
        None,
        log,
    )
    _run(
        conn,
        "other agencies: people",
        """
        with p as (
          select b.tenant_id, b.slug, b.first_day, r.n,
                 case r.n when -2 then 'admin' when -1 then 'coordinator' else 'carer' end as role,
                 case r.n when -1
                   then b.coordinator_user_id else pg_temp.uuid7(b.first_day - 90) end as user_id,
                 pg_temp.uuid7(b.first_day - 90) as membership_id
          from bench_agency b, generate_series(-2, :carers - 1) r(n)
          where b.slug like 'bench-%'
        ), u as (
          insert into users (id, email, name, password_hash, is_operator, is_active, created_at)
          select user_id, case role when 'carer' then 'carer' || (n + 1) else role end || '@' || slug
            || '.example',
                 initcap(role) || case when role = 'carer' then ' ' || (n + 1) else '' end,
                 (select password_hash from users where email = 'carer1@sunrise.example'), false, true,
                 first_day - 90
          from p
        ), m as (
          insert into memberships (tenant_id, id, user_id, role, active, created_at)
          select tenant_id, membership_id, user_id, role, true, first_day - 90 from p
        ), f as (
          insert into staff_files (tenant_id, id, membership_id, staff_role, employment_start, skills,
            languages,
            home_area, contracted_hours, availability, notes, created_at, updated_at)
          select tenant_id, pg_temp.uuid7(first_day - 90), membership_id, role, first_day - 60, '[]',
            '[]', '',
                 30, '{}', '', first_day - 90, first_day - 90
          from p where role <> 'admin'
          returning tenant_id, id, membership_id
        )
        insert into bench_carer
        select p.tenant_id, p.n, f.id, p.user_id, p.membership_id
        from p join f on f.tenant_id = p.tenant_id and f.membership_id = p.membership_id
        where p.role = 'carer'
        """,
        params,
        log,
    )
    _run(
        conn,
        "other agencies: clients",
        """
        with c as (
          insert into clients (tenant_id, id, full_name, preferred_name, gender, phone, email, address,
            checkin_radius_m, languages, consent_services, consent_data, consent_recorded_at, created_at)
          select b.tenant_id, pg_temp.uuid7(b.first_day - 60), 'Client ' || lpad(n::text, 3, '0'), '',
                 'undisclosed', '', '', n || ' Station Road', 300, '[]', true, true, b.first_day - 60,
                 b.first_day - 60
          from bench_agency b, generate_series(0, b.clients - 1) n
          where b.slug like 'bench-%'
          returning tenant_id, id, full_name
        )
        insert into bench_client
        select tenant_id, substr(full_name, 8)::int, id, null from c
        """,
        None,
        log,
    )


def _history(conn: Connection, now: datetime, log: Callable) -> None:
    """Visits, their records and ratings, follow-ups, feedback and notifications
    for every staged agency."""
    _each(conn, "analyze bench_agency; analyze bench_carer; analyze bench_client; analyze visits")
    texts = {f"{k}_{lang}": v[lang] for k, v in TEXTS.items() for lang in ("en", "zh")}
    # The rows name only what the staging tables took from real rows, so the
    # per-row foreign key triggers are skipped here (the owner is a superuser) and
    # every key is checked afterwards in one set-based pass (`_check_keys`).
    conn.execute(text("set local session_replication_role = replica"))
    _run(
        conn,
        "visits, their records; ratings (counted)",
        """
        with slot as (
          select a.tenant_id, a.item_id, a.terms_id, a.price, a.unit, a.checklist, a.certificate_type_id,
                 c.staff_file_id, cl.client_id, a.first_day + d as day, s.starts,
                 s.starts + a.minutes * interval '1 minute' as ends, (random() * 1000)::int as roll
          from bench_agency a
          cross join generate_series(0, a.days - 1) d
          join bench_carer c on c.tenant_id = a.tenant_id
          cross join lateral generate_series(0, a.slots - 1) k
          cross join lateral (
            select ((a.first_day + d) + a.first_slot + k * a.gap * interval '1 minute') at time zone a.tz
              as starts
          ) s
          join bench_client cl on cl.tenant_id = a.tenant_id
           and cl.n = (d * a.slots * a.carers + k * a.carers + c.n) % a.clients
          -- a carer is never booked twice at once (the demo's visits stay as they are)
          where not exists (
            select 1 from visits w where w.tenant_id = a.tenant_id and w.staff_file_id = c.staff_file_id
              and w.starts_at < s.starts + a.minutes * interval '1 minute' and w.ends_at > s.starts
          )
        ), fate as (
          select slot.*,
                 case
                   when ends > :now - interval '5 minutes' then
                     case when starts + interval '1 minute' <= :now then 'in_progress'
                          when roll < 20 then 'cancelled' else 'scheduled' end
                   when roll < 50 then 'cancelled'
                   when roll < 70 then 'missed'
                   else 'completed'
                 end as status,
                 roll between 70 and 99 as late,
                 least(starts - interval '14 days', :now - interval '1 hour') as created_at
          from slot
        ), v as (
          insert into visits (tenant_id, id, client_id, service_item_id, local_day, starts_at, ends_at,
            status,
            staff_file_id, terms_id, price, unit, checklist, required_certificate_type_id, checked_in_at,
            checkin_outside_radius, checked_out_at, late_flagged_at, missed_flagged_at, flag_resolved_at,
            flag_resolution, cancelled_at, cancel_reason, reschedule_reason, created_at)
          select tenant_id, pg_temp.uuid7(created_at), client_id, item_id, day, starts, ends, status,
                 staff_file_id, terms_id, price, unit, checklist, certificate_type_id,
                 case when status = 'in_progress' then starts + interval '1 minute'
                      when status = 'completed' then starts + case when late then interval '25 minutes'
                                                                   else (roll % 7) * interval '1 minute' end
                 end,
                 false,
                 case when status = 'completed' then ends + (1 + roll % 5) * interval '1 minute'
                                                      + case when late
                                                        then interval '20 minutes' else interval '0' end
                 end,
                 case when (status = 'completed' and late) or status = 'missed'
                   then starts + interval '15 minutes' end,
                 case when status = 'missed' then ends + interval '1 minute' end,
                 case when ((status = 'completed' and late) or status = 'missed')
                   and ends + interval '1 day' < :now
                      then ends + interval '1 day' end,
                 case when ((status = 'completed' and late) or status = 'missed')
                   and ends + interval '1 day' < :now
                      then case when status = 'missed' then 'Carer off sick; the client was rung.'
                                else 'Traffic on the ring road.' end
                      else '' end,
                 case when status = 'cancelled'
                      then least(greatest(starts - interval '2 days', created_at),
                        :now - interval '1 hour') end,
                 case when status = 'cancelled' then 'Client in hospital.' else '' end,
                 '', created_at
          from fate
          order by tenant_id, starts
          returning tenant_id, id, client_id, staff_file_id, status, starts_at, checked_out_at
        ), done as (
          select v.*, c.user_id, a.lang, a.checklist_done, a.coordinator_user_id, cl.portal_membership_id,
                 abs(hashtext(v.id::text)) as h
          from v
          join bench_agency a on a.tenant_id = v.tenant_id
          join bench_carer c on c.tenant_id = v.tenant_id and c.staff_file_id = v.staff_file_id
          join bench_client cl on cl.tenant_id = v.tenant_id and cl.client_id = v.client_id
          where v.status = 'completed'
        ), records as (
          insert into service_records (tenant_id, id, visit_id, checklist_done, what_was_done, tools_used,
            outcome, notes, needs_attention, attention_resolved_at, written_by_user_id, created_at)
          select tenant_id, pg_temp.uuid7(checked_out_at), id, checklist_done,
                 case when lang = 'zh' then (cast(:done_zh as text[]))[1 + h % 6]
                      else (cast(:done_en as text[]))[1 + h % 6] end,
                 '',
                 case when lang = 'zh' then (cast(:outcome_zh as text[]))[1 + h % 2]
                      else (cast(:outcome_en as text[]))[1 + h % 2] end,
                 case when h % 3 = 0 then case when lang = 'zh'
                   then (cast(:notes_zh as text[]))[1 + h / 3 % 5]
                                               else (cast(:notes_en as text[]))[1 + h / 3 % 5] end
                      else '' end,
                 h % 400 = 7,
                 case when h % 400 = 7 and checked_out_at + interval '1 day' < :now
                      then checked_out_at + interval '1 day' end,
                 user_id, checked_out_at
          from done
        )
        insert into visit_ratings (tenant_id, id, visit_id, client_id, staff_file_id, attitude, process,
          effect,
          environment, timeliness, comment, channel, membership_id, recorded_by_user_id, created_at,
            updated_at)
        select tenant_id, pg_temp.uuid7(checked_out_at + interval '3 hours'), id, client_id, staff_file_id,
               4 + h / 5 % 2, 4 + h / 10 % 2, 4, 4 + h / 20 % 2, case when h / 5 % 30 = 0
                 then 2 else 4 end, '',
               case when portal_membership_id is not null then 'portal' else 'phone' end,
               portal_membership_id,
               case when portal_membership_id is null then coordinator_user_id end,
               checked_out_at + interval '3 hours', checked_out_at + interval '3 hours'
        from done
        where h % 5 = 0 and checked_out_at + interval '3 hours' < :now
        """,
        {"now": now, **texts},
        log,
    )
    conn.execute(text("set local session_replication_role = origin"))
    _check_keys(conn, log)
    _run(
        conn,
        "follow-ups of low ratings",
        """
        insert into feedback_tasks (tenant_id, id, rating_id, staff_file_id, assigned_role,
          assignee_membership_id, title, created_at, done_at, done_by_user_id)
        select r.tenant_id, pg_temp.uuid7(r.created_at), r.id, r.staff_file_id, 'coordinator',
               case when f.team_id is not null then a.team_supervisor end, 'low_rating', r.created_at,
               case when r.created_at + interval '2 days' < :now then r.created_at + interval '2 days' end,
               case when r.created_at + interval '2 days' < :now then a.coordinator_user_id end
        from visit_ratings r
        join bench_agency a on a.tenant_id = r.tenant_id
        left join staff_files f on f.tenant_id = r.tenant_id and f.id = r.staff_file_id
        where least(r.attitude, r.process, r.effect, r.environment, r.timeliness) <= 2
          and not exists (select 1 from feedback_tasks t where t.tenant_id = r.tenant_id
            and t.rating_id = r.id)
        """,
        {"now": now},
        log,
    )
    _feedback(conn, now, texts, log)
    _notifications(conn, now, log)


# (table, its columns, the table they name): the keys of the rows written without triggers
KEYS = [
    ("visits", "client_id", "clients"),
    ("visits", "service_item_id", "service_items"),
    ("visits", "staff_file_id", "staff_files"),
    ("visits", "terms_id", "service_item_terms"),
    ("service_records", "visit_id", "visits"),
    ("visit_ratings", "visit_id", "visits"),
    ("visit_ratings", "client_id", "clients"),
    ("visit_ratings", "staff_file_id", "staff_files"),
    ("visit_ratings", "membership_id", "memberships"),
]


def _check_keys(conn: Connection, log: Callable) -> None:
    """Every foreign key of the rows written without triggers points at a row of its agency."""
    started = time.perf_counter()
    for table, column, target in KEYS:
        broken = conn.scalar(
            text(
                f"select count(*) from {table} x where x.{column} is not null and not exists "
                f"(select 1 from {target} y where y.tenant_id = x.tenant_id and y.id = x.{column})"
            )
        )
        if broken:
            raise RuntimeError(f"{broken} rows of {table}.{column} name no row of {target}")
    log(f"  foreign keys checked {time.perf_counter() - started:41.1f} s")


def _feedback(conn: Connection, now: datetime, texts: dict[str, list[str]], log: Callable) -> None:
    _run(
        conn,
        "opinions, praise and complaints",
        """
        with i as (
          select a.tenant_id, a.lang, a.coordinator_user_id, n,
                 ((a.first_day + n * a.feedback_every) + time '10:00') at time zone a.tz as received_at,
                 (array['complaint', 'complaint', 'complaint', 'opinion', 'opinion',
                   'praise'])[1 + n % 6] as kind
          from bench_agency a, generate_series(0, a.days / a.feedback_every) n
        ), j as (
          select i.*, received_at + interval '3 days' as due_at,
                 received_at + (6 + n % 90) * interval '1 hour' as responded_at
          from i where received_at < :now
        )
        insert into feedback_items (tenant_id, id, kind, category, about, description, contact_name, contact,
          confidential, channel, membership_id, entered_by_user_id, status, received_at, due_at, response,
          responded_at, closed_at)
        select tenant_id, pg_temp.uuid7(received_at), kind,
               case when kind = 'complaint' then (array['Punctuality', 'Care quality',
                 'Communication'])[1 + n % 3]
                    else '' end,
               case when kind = 'praise' then 'carer' else 'visit' end,
               case when lang = 'zh' then (cast(:feedback_zh as text[]))[1 + n % 4]
                    else (cast(:feedback_en as text[]))[1 + n % 4] end,
               'Family of a client', '000 000 000', false, 'phone', null, coordinator_user_id,
               case when responded_at + interval '1 day' < :now then 'closed'
                    when responded_at < :now then 'responded'
                    when received_at + interval '2 hours' < :now then 'acknowledged'
                    else 'received' end,
               received_at, due_at,
               case when responded_at < :now then case when lang = 'zh' then (cast(:response_zh as text[]))[1]
                                                       else (cast(:response_en as text[]))[1] end
                    else '' end,
               case when responded_at < :now then responded_at end,
               case when responded_at + interval '1 day' < :now then responded_at + interval '1 day' end
        from j
        """,
        {"now": now, **texts},
        log,
    )
    _run(
        conn,
        "their handling, step by step",
        """
        insert into feedback_transitions (tenant_id, id, item_id, from_status, to_status, at, by_user_id,
          note)
        select i.tenant_id, pg_temp.uuid7(s.at), i.id, s.from_status, s.to_status, s.at,
          i.entered_by_user_id, s.note
        from feedback_items i
        join bench_agency a on a.tenant_id = i.tenant_id
        cross join lateral (values
          (null, 'received', i.received_at, ''),
          ('received', 'acknowledged', i.received_at + interval '2 hours', 'Called the family back.'),
          ('acknowledged', 'responded', i.responded_at, ''),
          ('responded', 'closed', i.closed_at, '')
        ) s(from_status, to_status, at, note)
        where s.at is not null and s.at <= :now
          and array_position(array['received', 'acknowledged', 'investigating', 'responded', 'closed'],
            s.to_status)
              <= array_position(array['received', 'acknowledged', 'investigating', 'responded',
                'closed'], i.status)
          and not exists (select 1 from feedback_transitions t where t.tenant_id = i.tenant_id
            and t.item_id = i.id)
        """,
        {"now": now},
        log,
    )


def _notifications(conn: Connection, now: datetime, log: Callable) -> None:
    _run(
        conn,
        "return-visit reminders to the carers",
        """
        with m as (
          select a.tenant_id, a.tz, a.slug, a.lang, c.staff_file_id, c.membership_id, month::date as month,
                 (month + interval '1 month')::date as sent_on
          from bench_agency a
          join bench_carer c on c.tenant_id = a.tenant_id
          cross join generate_series(date_trunc('month', a.first_day::timestamp),
                                     (:now at time zone a.tz) - interval '1 month', interval '1 month') month
        ), r as (
          insert into reminders (tenant_id, id, kind, subject, due_at, created_at)
          select tenant_id, pg_temp.uuid7(sent_on::timestamp at time zone tz), 'return_visit.missing',
                 staff_file_id || ':' || to_char(month, 'YYYY-MM'), sent_on::timestamp at time zone tz,
                 sent_on::timestamp at time zone tz
          from m
          on conflict do nothing
          returning tenant_id, id, subject, due_at
        )
        insert into notifications (tenant_id, id, membership_id, reminder_id, kind, title, body, link,
          in_app, email,
          created_at, deliver_after, emailed_at, read_at)
        select r.tenant_id, pg_temp.uuid7(r.due_at), m.membership_id, r.id, 'return_visit.missing',
               case when m.lang = 'zh' then to_char(m.month, 'YYYY"年"FMMM"月"') || '有服务对象尚未回访'
                    else 'Clients without a return visit for ' || to_char(m.month, 'FMMonth YYYY') end,
               case when m.lang = 'zh' then '请在' || to_char(m.sent_on + 6, 'YYYY-MM-DD') || '前记录。'
                    else 'Record them by ' || to_char(m.sent_on + 6, 'FMDD FMMonth YYYY') || '.' end,
               '/a/' || m.slug || '/return-visits', true, 'sent', r.due_at, r.due_at, r.due_at,
               case when r.due_at + interval '20 days' < :now then r.due_at + interval '1 day' end
        from r join m on m.tenant_id = r.tenant_id and r.subject = m.staff_file_id || ':'
          || to_char(m.month, 'YYYY-MM')
        """,
        {"now": now},
        log,
    )
    _run(
        conn,
        "service records needing attention, to the office",
        """
        with s as (
          select v.tenant_id, v.id as visit_id, v.starts_at, a.tz, a.slug, a.lang, s.created_at
          from service_records s
          join bench_agency a on a.tenant_id = s.tenant_id
          join visits v on v.tenant_id = s.tenant_id and v.id = s.visit_id
          where s.needs_attention
        ), r as (
          insert into reminders (tenant_id, id, kind, subject, due_at, created_at)
          select tenant_id, pg_temp.uuid7(created_at), 'record.attention', visit_id::text, starts_at,
            created_at
          from s
          on conflict do nothing
          returning tenant_id, id, subject, created_at
        )
        insert into notifications (tenant_id, id, membership_id, reminder_id, kind, title, body, link,
          in_app, email,
          created_at, deliver_after, emailed_at, read_at)
        select r.tenant_id, pg_temp.uuid7(r.created_at), m.id, r.id, 'record.attention',
               case when s.lang = 'zh' then to_char(s.starts_at at time zone s.tz, 'YYYY-MM-DD')
                 || '的服务记录需要关注'
                    else 'A service record from ' || to_char(s.starts_at at time zone s.tz, 'YYYY-MM-DD')
                         || ' needs attention' end,
               '', '/a/' || s.slug || '/visits/' || s.visit_id, true, 'sent', r.created_at, r.created_at,
               r.created_at,
               case when r.created_at + interval '1 day' < :now then r.created_at + interval '2 hours' end
        from r
        join s on s.tenant_id = r.tenant_id and s.visit_id::text = r.subject
        join memberships m on m.tenant_id = r.tenant_id and m.role in ('coordinator', 'admin') and m.active
        """,
        {"now": now},
        log,
    )


def build_quality_summaries(app: Any, now: datetime, log: Callable = print) -> None:
    """Last month's summaries: the demo's queued ones by the build job, every
    other agency's by the monthly sweep's path, as the worker and the
    scheduler would have on the 1st."""
    from sqlalchemy import select

    from saas import db
    from tenants.quality import jobs
    from tenants.quality.models import QualitySummary

    started = time.perf_counter()
    with app.app_context(), app.test_request_context():
        with db.platform_reader() as reader:
            queued = reader.execute(
                select(QualitySummary.tenant_id, QualitySummary.id).where(QualitySummary.state == "queued")
            ).all()
        for tenant_id, summary_id in queued:
            with db.tenant_scope(tenant_id):
                jobs.build(str(summary_id), show_progress=False)
                db.session.commit()
        stored = jobs.build_due(jobs.due_agencies(now))  # type: ignore[arg-type]
        db.session.remove()
    log(
        f"  quality summaries: {len(queued)} queued + {stored} by the sweep"
        f" {time.perf_counter() - started:17.1f} s"
    )


def counts(owner: Engine) -> dict[str, Any]:
    """What was built, as the report's last line names it."""
    with owner.connect() as conn:
        row = conn.execute(
            text(
                """
                select (select count(*) from agencies) as agencies,
                       (select count(*) from visits) as visits,
                       (select count(*) from visits v join agencies a on a.id = v.tenant_id
                         where a.slug = :home) as home_visits
                """
            ),
            {"home": HOME},
        ).one()
    return dict(row._mapping)


def today_in(zone: str, now: datetime) -> date:
    from zoneinfo import ZoneInfo

    return now.astimezone(ZoneInfo(zone)).date()


def week_ahead(now: datetime) -> tuple[datetime, datetime]:
    return now, now + timedelta(days=7)
