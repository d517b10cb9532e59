"""Benchmark: the workforce list pages with 5,000 staff and 2,000 catalogue
items in one agency, on an embedded PostgreSQL, through the Flask test client.

    .venv/bin/python -m bench.workforce [--staff 5000] [--items 2000] [--repeat 5]

Prints, per page, the median and worst time and the number of SQL statements
(which must not depend on the data size). Not run by the test suite.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
import uuid
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

os.environ.setdefault("INSTANCE_PATH", tempfile.mkdtemp(prefix="carehub-bench-instance-"))

from sqlalchemy import create_engine, event, insert, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

PASSWORD = "bench-password-2026"  # noqa: S105 - a throwaway local database
TOTP_SECRET = "JBSWY3DPEHPK3PXP"  # noqa: S105


def _database(root: Path) -> tuple[object, str, str]:
    from saas import embedded
    from saas.config import owner_url

    servers = embedded.start(root, persistent=False)
    name = f"carehub_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(owner_url(servers.database_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = make_url(owner_url(servers.database_url)).set(database=name).render_as_string(hide_password=False)
    return servers, url, servers.redis_url


def _migrate(url: str) -> None:
    from alembic import command
    from alembic.config import Config as AlembicConfig

    from saas.config import ROOT

    cfg = AlembicConfig(str(ROOT / "alembic.ini"))
    cfg.attributes["database_url"] = url
    cfg.attributes["skip_logging"] = True
    command.upgrade(cfg, "heads")


def _seed(app, staff_count: int, item_count: int) -> tuple[str, str]:
    """Bulk rows through the app's own connection (RLS applies), in a few statements.
    Bulk inserts of dicts are not stamped with the agency by the ORM: they say it."""
    from saas import agencies, db
    from saas.auth.passwords import hash_password
    from saas.models import Membership, User
    from saas.settings import page_settings
    from tenants.catalogue.models import ItemTerms, ServiceCategory, ServiceItem
    from tenants.staffing.models import CaseloadAssignment, Certificate, CertificateType, StaffFile
    from tenants.staffing.settings import save_workforce_settings
    from tenants.training.models import Course, Enrolment, TrainingSession

    rng = random.Random(2026)
    with app.test_request_context():
        agency = agencies.create_agency("Bench Home Care", "bench", "Europe/London", "en")
        admin = User(email="admin@bench.example", name="Bench Admin", password_hash=hash_password(PASSWORD))
        admin.totp_secret = TOTP_SECRET
        db.session.add(admin)
        db.session.flush()
        users = [
            {
                "id": db.new_id(),
                "email": f"worker{i}@bench.example",
                "name": f"Worker {i:05d}",
                "is_operator": False,
                "is_active": True,
                "created_at": db.utcnow(),
            }
            for i in range(staff_count)
        ]
        db.session.execute(insert(User), users)
        with db.tenant_scope(agency.id):
            db.session.add(Membership(user_id=admin.id, role="admin"))
            memberships = [
                {
                    "tenant_id": agency.id,
                    "id": db.new_id(),
                    "user_id": u["id"],
                    "role": "carer",
                    "active": True,
                }
                for u in users
            ]
            db.session.execute(insert(Membership), memberships)
            kinds = [
                CertificateType(name=n)
                for n in ("First aid", "Care certificate", "Food hygiene", "Manual handling")
            ]
            db.session.add_all(kinds)
            db.session.flush()
            areas = ["North", "South", "East", "West", "Centre"]
            skills = ["dementia care", "cooking", "bathing", "mobility", "medication"]
            staff_rows = [
                {
                    "tenant_id": agency.id,
                    "id": db.new_id(),
                    "membership_id": m["id"],
                    "staff_role": rng.choice(["carer", "carer", "social_worker"]),
                    "staff_number": f"S-{i:05d}",
                    "employment_start": date(2020, 1, 1) + timedelta(days=rng.randrange(1500)),
                    "employment_end": None
                    if rng.random() > 0.05
                    else date(2025, 1, 1) + timedelta(days=rng.randrange(900)),
                    "skills": rng.sample(skills, 2),
                    "languages": ["English"],
                    "home_area": rng.choice(areas),
                    "contracted_hours": Decimal(rng.choice([16, 24, 37.5])),
                    "availability": {},
                }
                for i, m in enumerate(memberships)
            ]
            db.session.execute(insert(StaffFile), staff_rows)
            certs = [
                {
                    "tenant_id": agency.id,
                    "id": db.new_id(),
                    "staff_file_id": s["id"],
                    "certificate_type_id": kinds[j].id,
                    "number": f"C-{i}-{j}",
                    "issuer": "Bench",
                    "issued_on": date(2023, 1, 1),
                    "expires_on": date(2025, 6, 1) + timedelta(days=rng.randrange(1200)),
                }
                for i, s in enumerate(staff_rows)
                for j in range(rng.randrange(3))
            ]
            db.session.execute(insert(Certificate), certs)
            courses = [
                Course(
                    title=f"Course {i}",
                    category="theory_practice",
                    form="classroom",
                    hours=Decimal(8),
                    counts_as="pre_service" if i < 5 else "annual",
                )
                for i in range(20)
            ]
            db.session.add_all(courses)
            db.session.flush()
            sessions = [
                TrainingSession(
                    course_id=c.id,
                    held_on=date(2026, 1, 1) + timedelta(days=k * 7),
                    trainer="T",
                    capacity=300,
                )
                for c in courses
                for k in range(10)
            ]
            db.session.add_all(sessions)
            db.session.flush()
            enrolments, seen = [], set()
            for s in staff_rows:
                for session in rng.sample(sessions, 4):
                    if (session.id, s["id"]) in seen:
                        continue
                    seen.add((session.id, s["id"]))
                    enrolments.append(
                        {
                            "tenant_id": agency.id,
                            "id": db.new_id(),
                            "session_id": session.id,
                            "staff_file_id": s["id"],
                            "status": "completed",
                            "attended_hours": Decimal(8),
                        }
                    )
            db.session.execute(insert(Enrolment), enrolments)
            caseload = [
                {
                    "tenant_id": agency.id,
                    "id": db.new_id(),
                    "staff_file_id": s["id"],
                    "kind": "individual",
                    "label": f"Client {k}",
                    "reference": "",
                    "residents": 1,
                    "starts_on": date(2025, 1, 1),
                }
                for s in staff_rows
                for k in range(rng.randrange(6))
            ]
            db.session.execute(insert(CaseloadAssignment), caseload)
            categories = [ServiceCategory(name=f"Category {i:02d}", position=i) for i in range(40)]
            db.session.add_all(categories)
            db.session.flush()
            items = [
                {
                    "tenant_id": agency.id,
                    "id": db.new_id(),
                    "category_id": categories[i % 40].id,
                    "name": f"Service item {i:05d}",
                    "description": "",
                    "scope_included": "",
                    "scope_excluded": "",
                    "active": i % 10 != 0,
                }
                for i in range(item_count)
            ]
            db.session.execute(insert(ServiceItem), items)
            terms = [
                {
                    "tenant_id": agency.id,
                    "id": db.new_id(),
                    "item_id": it["id"],
                    "effective_from": date(2025, 1, 1) + timedelta(days=90 * k),
                    "price": Decimal(10 + k),
                    "unit": "per_visit",
                    "duration_minutes": 60,
                    "checklist": ["A", "B"],
                    "required_certificate_type_id": kinds[k % 4].id if k % 2 else None,
                }
                for it in items
                for k in range(3)
            ]
            db.session.execute(insert(ItemTerms), terms)
            numbers = {s.key: s.default for s in page_settings("workforce")}
            save_workforce_settings(
                agency,
                numbers,
                {"carer": [kinds[0].id, kinds[1].id], "social_worker": [kinds[1].id], "coordinator": []},
            )
            db.session.commit()
    return agency.slug, admin.email


def _login(client, email: str) -> None:
    from saas.auth.totp import for_secret

    response = client.post("/login", data={"email": email, "password": PASSWORD})
    assert response.status_code == 302, response.status_code
    response = client.post("/login/two-factor", data={"code": for_secret(TOTP_SECRET).now()})
    assert response.status_code == 302, response.status_code


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--staff", type=int, default=5000)
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="carehub-bench-"))
    servers, url, redis_url = _database(root)
    try:
        os.environ["DATABASE_URL"] = url
        os.environ["REDIS_URL"] = redis_url
        _migrate(url)
        from saas import db
        from saas.app import create_app
        from saas.config import Config

        config = Config.from_env(SECRET_KEY="bench-only-secret", RELAY_INLINE=False)  # noqa: S106
        config.extra = {"WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False}
        app = create_app(config)
        started = time.perf_counter()
        slug, admin_email = _seed(app, args.staff, args.items)
        # as production's autovacuum would have: the planner needs statistics
        owner = create_engine(url, isolation_level="AUTOCOMMIT")
        with owner.connect() as conn:
            conn.execute(text("ANALYZE"))
        owner.dispose()
        took = time.perf_counter() - started
        print(f"seeded {args.staff} staff and {args.items} catalogue items in {took:.1f} s")
        client = app.test_client()
        _login(client, admin_email)

        statements: list[str] = []
        event.listen(db.get_engine(), "before_cursor_execute", lambda *a: statements.append(a[2]))
        pages = [
            "/staff",
            "/staff?page=40",
            "/staff?q=worker%2001&status=all",
            "/staff?role=social_worker&area=North",
            "/staff?skill=cooking",
            "/caseload",
            "/caseload?full=1",
            "/training/compliance",
            "/training/compliance?reason=all&sort=certificates",
            "/training/compliance?reason=expiring&page=5",
            "/catalogue",
            "/catalogue?page=30&status=all",
            "/catalogue?q=item%2001",
            "/staff/export.csv",
            "/training/compliance.csv?reason=all",
            "/catalogue/export.csv",
        ]
        print(f"{'page':<58} {'median ms':>10} {'worst ms':>9} {'SQL':>5}")
        for path in pages:
            timings = []
            for _ in range(args.repeat):
                statements.clear()
                start = time.perf_counter()
                response = client.get(f"/a/{slug}{path}")
                timings.append((time.perf_counter() - start) * 1000)
                assert response.status_code == 200, (path, response.status_code)
            print(f"{path:<58} {statistics.median(timings):>10.1f} {max(timings):>9.1f} {len(statements):>5}")
        db.session.remove()
        db.get_engine().dispose()
    finally:
        servers.stop()


if __name__ == "__main__":
    main()
