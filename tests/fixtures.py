"""The common fixtures, defined once (loaded by tests/conftest.py through
`pytest_plugins`): an agency and its people. A test module that needs
something different names its own fixture for how it differs.

`admin` is signed in on the `client` test client, as most page tests want;
the other roles get a test client of their own (`coordinator_client`,
`carer_client`), so a test can drive two people at once."""

from __future__ import annotations

import pytest

from saas.models import Agency, Role, User
from tests.factories import login


@pytest.fixture
def agency(factory) -> Agency:
    return factory.agency()


@pytest.fixture
def admin(factory, agency, client) -> User:
    """The agency's admin, signed in on `client`."""
    user, _ = factory.member(agency, Role.ADMIN, name="Ada Admin")
    login(client, user)
    return user


@pytest.fixture
def coordinator(factory, agency) -> User:
    user, _ = factory.member(agency, Role.COORDINATOR, name="Cora Coordinator")
    return user


@pytest.fixture
def carer(factory, agency) -> User:
    """A carer with a staff file made through the staffing service."""
    from tests.staffing.workforce_helpers import staff

    user, _membership, _staff_id = staff(factory, agency, name="Casey Carer")
    return user


@pytest.fixture
def coordinator_client(app, coordinator):
    """A test client of its own, signed in as `coordinator`."""
    signed_in = app.test_client()
    login(signed_in, coordinator)
    return signed_in


@pytest.fixture
def carer_client(app, carer):
    """A test client of its own, signed in as `carer`."""
    signed_in = app.test_client()
    login(signed_in, carer)
    return signed_in
