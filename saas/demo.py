"""The demo platform: one operator and two agencies with every role."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import exists, select

from saas import agencies, areas, db
from saas.auth.passwords import hash_password
from saas.models import Agency, Membership, Role, User

DEMO_AGENCIES = (
    ("sunrise", "Sunrise Home Care", "Europe/London", "en"),
    ("kangning", "康宁居家养老服务中心", "Asia/Shanghai", "zh_CN"),
)
OPERATOR_EMAIL = "operator@demo.example"
CARERS = 3
CLIENTS = 5


class NotEmpty(RuntimeError):
    pass


def database_is_empty() -> bool:
    return not db.session.scalar(select(exists().where(Agency.id.isnot(None)))) and not db.session.scalar(
        select(exists().where(User.id.isnot(None)))
    )


# who opens client files signs in with two-factor (saas.tenancy.needs_two_factor)
TWO_FACTOR_ROLES = (Role.ADMIN, Role.COORDINATOR)


# a Chinese agency's people have Chinese names (names are data, shown untranslated)
CHINESE_NAMES = {
    "admin": "李静",
    "coordinator": "张伟",
    "carer": ["王芳", "刘洋", "陈丽"],
    "client": ["王秀英", "李建国", "张桂兰", "刘志强", "陈淑珍"],
}


def _people(slug: str) -> list[tuple[str, str, Role]]:
    chinese = any(s == slug and locale == "zh_CN" for s, _n, _tz, locale in DEMO_AGENCIES)

    def name(role: str, english: str, i: int = 0) -> str:
        if not chinese:
            return english
        found = CHINESE_NAMES[role]
        return found if isinstance(found, str) else found[(i - 1) % len(found)]

    people = [
        (f"admin@{slug}.example", name("admin", "Admin"), Role.ADMIN),
        (f"coordinator@{slug}.example", name("coordinator", "Coordinator"), Role.COORDINATOR),
    ]
    people += [
        (f"carer{i}@{slug}.example", name("carer", f"Carer {i}", i), Role.CARER) for i in range(1, CARERS + 1)
    ]
    people += [
        (f"client{i}@{slug}.example", name("client", f"Client {i}", i), Role.CLIENT)
        for i in range(1, CLIENTS + 1)
    ]
    return people


def _user(email: str, name: str, password_hash: str, totp: str | None, locale: str | None) -> User:
    user = db.session.scalar(select(User).where(User.email == email))
    if user is None:
        user = User(email=email)
        db.session.add(user)
    user.name = name
    user.password_hash = password_hash
    user.totp_secret = totp
    user.totp_last_counter = None
    user.locale = locale
    user.is_active = True
    return user


def seed(force: bool = False) -> None:
    if not force and not database_is_empty():
        raise NotEmpty
    cfg = current_app.config
    password_hash = hash_password(cfg["DEMO_PASSWORD"])
    totp = cfg["DEMO_TOTP_SECRET"]
    operator = _user(OPERATOR_EMAIL, "Platform Operator", password_hash, totp, None)
    operator.is_operator = True
    for slug, name, tz, locale in DEMO_AGENCIES:
        agency = db.session.scalar(select(Agency).where(Agency.slug == slug))
        if agency is None:
            agency = agencies.create_agency(name, slug, tz, locale)
        with db.tenant_scope(agency.id):
            for email, person, role in _people(slug):
                user = _user(email, person, password_hash, totp if role in TWO_FACTOR_ROLES else None, None)
                db.session.flush()
                membership = db.session.scalar(select(Membership).where(Membership.user_id == user.id))
                if membership is None:
                    db.session.add(Membership(user_id=user.id, role=role))
                else:
                    membership.role, membership.active = role, True
            db.session.flush()
    seeded = [db.session.scalar(select(Agency).where(Agency.slug == slug)) for slug, *_rest in DEMO_AGENCIES]
    for area in areas.discover():  # billing's plans first, then the care areas' data
        if area.demo:
            areas.resolve(area.qualified(area.demo))(seeded)
    db.session.commit()


def logins_text() -> str:
    cfg = current_app.config
    lines = [
        f"Demo logins (password for all: {cfg['DEMO_PASSWORD']})",
        f"  operator:  {OPERATOR_EMAIL}  (two-factor)",
    ]
    for slug, name, _tz, _locale in DEMO_AGENCIES:
        lines.append(f"  {name} (/a/{slug}/):")
        for email, _person, role in _people(slug):
            if role in (Role.ADMIN, Role.COORDINATOR) or email.startswith(("carer1@", "client1@")):
                lines.append(f"    {role:<12} {email}{'  (two-factor)' if role in TWO_FACTOR_ROLES else ''}")
        lines.append(f"    ...carer1-{CARERS}@{slug}.example, client1-{CLIENTS}@{slug}.example")
    lines.append(f"  Two-factor secret (TOTP, add to an authenticator app): {cfg['DEMO_TOTP_SECRET']}")
    return "\n".join(lines)
