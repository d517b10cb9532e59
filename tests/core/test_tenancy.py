"""The central scoping: queries and inserts follow the agency in scope."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text, update

from saas import db
from saas.db import TenantMismatch, TenantNotSet
from saas.models import Membership, Role


def test_queries_see_only_the_agency_in_scope(factory, dbconn):
    a = factory.agency()
    b = factory.agency()
    factory.member(a, Role.CARER)
    factory.member(b, Role.CARER)
    factory.member(b, Role.CLIENT)
    with db.tenant_scope(a.id):
        assert db.session.scalar(select(func.count()).select_from(Membership)) == 1
        assert {m.tenant_id for m in db.session.scalars(select(Membership))} == {a.id}
    with db.tenant_scope(b.id):
        assert db.session.scalar(select(func.count()).select_from(Membership)) == 2


def test_orm_updates_and_deletes_are_scoped(factory, dbconn):
    a = factory.agency()
    b = factory.agency()
    _u, mb = factory.member(b, Role.CARER)
    with db.tenant_scope(a.id):
        db.session.execute(update(Membership).values(role="admin"))
        db.session.commit()
    with db.tenant_scope(b.id):
        assert db.session.scalar(select(Membership.role).where(Membership.id == mb.id)) == "carer"


def test_insert_is_stamped_with_the_agency(factory, dbconn):
    a = factory.agency()
    user = factory.user()
    with db.tenant_scope(a.id):
        m = Membership(user_id=user.id, role=Role.CARER)
        db.session.add(m)
        db.session.commit()
    assert m.tenant_id == a.id


def test_insert_without_agency_is_refused(factory, dbconn):
    user = factory.user()
    db.set_tenant(None)
    db.session.add(Membership(user_id=user.id, role=Role.CARER))
    with pytest.raises(TenantNotSet):
        db.session.flush()
    db.session.rollback()


def test_insert_into_another_agency_is_refused(factory, dbconn):
    a = factory.agency()
    b = factory.agency()
    user = factory.user()
    with db.tenant_scope(a.id):
        db.session.add(Membership(tenant_id=b.id, user_id=user.id, role=Role.CARER))
        with pytest.raises(TenantMismatch):
            db.session.flush()
        db.session.rollback()


def test_no_agency_in_scope_sees_nothing(factory, dbconn):
    a = factory.agency()
    factory.member(a, Role.CARER)
    db.set_tenant(None)
    assert db.session.scalars(select(Membership)).all() == []
    assert db.session.execute(text("select count(*) from memberships")).scalar() == 0


def test_platform_reader_reads_across_and_writes_nothing(factory, dbconn):
    a = factory.agency()
    b = factory.agency()
    factory.member(a, Role.CARER)
    factory.member(b, Role.CARER)
    with db.platform_reader() as reader:
        tenants = set(reader.scalars(select(Membership.tenant_id)))
        assert {a.id, b.id} <= tenants
        assert reader.execute(text("select current_user")).scalar() == "saas_platform_reader"
        # refused as read-only on its own connection, as without the right when nested in a test's
        with pytest.raises(Exception, match="permission denied|read-only transaction"):
            reader.execute(text("update memberships set role = 'admin'"))
    with db.platform_reader() as reader:
        # and the role holds no right to write anyway
        assert not reader.execute(
            text(
                "select bool_or(has_table_privilege('saas_platform_reader', c.oid, p))"
                " from pg_class c cross join unnest(array['INSERT', 'UPDATE', 'DELETE', 'TRUNCATE']) p"
                " where c.relnamespace = 'public'::regnamespace and c.relkind = 'r'"
            )
        ).scalar()
    with db.platform_reader() as reader:
        reader.add(Membership(tenant_id=a.id, user_id=factory.user().id, role="carer"))
        with pytest.raises(RuntimeError, match="read-only"):
            reader.flush()
    with db.platform_reader() as reader, pytest.raises(RuntimeError):
        db.set_tenant(a.id, reader)
    # and the app session is untouched by it
    db.set_tenant(None)
    assert db.session.execute(text("select current_user")).scalar() == "saas_app"
    assert db.session.scalars(select(Membership)).all() == []
