"""A client generated from the OpenAPI document that `saas run` serves
(openapi-python-client, into a temporary directory: generated code is never
committed) runs the office's journey: add a client, book a visit, assign a
carer (an admin overrides with a reason if every carer is refused, as the
board allows), and find it in the list."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import typing
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import requests

from tests.journeys.conftest import Stack
from tests.journeys.test_phone_api import token

pytestmark = [pytest.mark.journey, pytest.mark.slow, pytest.mark.xdist_group("journeys")]


def _generate(stack: Stack, where: Path) -> str:
    spec = where / "openapi.json"
    spec.write_bytes(requests.get(f"{stack.base_url}/api/v1/openapi.json", timeout=30).content)
    config = where / "config.yaml"
    package = "carehub_journey_client"
    config.write_text(f"package_name_override: {package}\nproject_name_override: carehub-journey-client\n")
    tool = Path(sys.executable).with_name("openapi-python-client")
    run = subprocess.run(
        [
            str(tool),
            "generate",
            "--path",
            str(spec),
            "--output-path",
            str(where / "out"),
            "--config",
            str(config),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, "PATH": f"{tool.parent}{os.pathsep}{os.environ.get('PATH', '')}"},
    )
    assert (where / "out" / package / "client.py").exists(), run.stdout + run.stderr
    sys.path.insert(0, str(where / "out"))
    return package


def _body(operation, data: dict):
    """The operation's generated body model, filled from a dict."""
    model = typing.get_type_hints(operation.sync_detailed)["body"]
    return model.from_dict(data)


def test_the_office_journey_through_a_generated_client(stack: Stack, tmp_path):
    package = _generate(stack, tmp_path)
    try:
        generated = importlib.import_module(package)
        api = importlib.import_module(f"{package}.api")

        def module(tag: str, name: str):
            return importlib.import_module(f"{api.__name__}.{tag}.{name}")

        office = generated.AuthenticatedClient(base_url=stack.base_url, token=token(stack, "coordinator"))
        head = generated.AuthenticatedClient(base_url=stack.base_url, token=token(stack, "admin"))

        post_clients = module("clients", "post_clients")
        made = post_clients.sync_detailed(
            client=office,
            body=_body(
                post_clients,
                {
                    "full_name": "Gwen Generated",
                    "preferred_name": "Gwen",
                    "date_of_birth": "1944-02-03",
                    "gender": "female",
                    "address": "1 Client Road, London",
                    "consent_services": True,
                    "contacts": [{"name": "Owen Generated", "relationship": "son", "phone": "07700 900777"}],
                },
            ),
        )
        assert made.status_code == 201, made.content
        client_id = made.parsed.id
        assert made.parsed.contacts[0].name == "Owen Generated"

        models = importlib.import_module(f"{package}.models")
        plans = module("clients", "get_plans").sync_detailed(
            client=office, status=models.GetPlansStatus("active")
        )
        assert plans.status_code == 200, plans.content
        service_item_id = plans.parsed.items[0].items[0].service_item_id

        day = (datetime.now(ZoneInfo("Europe/London")) + timedelta(days=2)).date()
        post_visits = module("visits", "post_visits")
        booked = post_visits.sync_detailed(
            client=office,
            body=_body(
                post_visits,
                {
                    "client_id": str(client_id),
                    "service_item_id": str(service_item_id),
                    "day": day.isoformat(),
                    "start_time": "13:00",
                    "duration_minutes": 60,
                },
            ),
        )
        assert booked.status_code == 201, booked.content
        visit_id = booked.parsed.id
        assert booked.parsed.staff_id is None

        carers = module("workforce", "get_staff_files").sync_detailed(
            client=office, staff_role=models.GetStaffFilesStaffRole("carer")
        )
        assert carers.status_code == 200 and carers.parsed.items, carers.content
        assign = module("visits", "post_assign_visit")
        given = None
        for carer in carers.parsed.items:
            answer = assign.sync_detailed(
                visit_id, client=office, body=_body(assign, {"staff_id": str(carer.id)})
            )
            if answer.status_code == 200:
                given = carer.id
                break
            assert answer.status_code == 422, answer.content  # refused: every reason named
            assert answer.parsed.field == "staff_id" and answer.parsed.detail
        if given is None:
            carer = carers.parsed.items[0]
            answer = assign.sync_detailed(
                visit_id,
                client=head,
                body=_body(assign, {"staff_id": str(carer.id), "override_reason": "Covering for the week"}),
            )
            assert answer.status_code == 200, answer.content
            given = carer.id

        listed = module("visits", "get_visits").sync_detailed(client=office, client_id=client_id)
        assert listed.status_code == 200, listed.content
        mine = [v for v in listed.parsed.items if v.id == visit_id]
        assert mine and mine[0].staff_id == given and mine[0].client == "Gwen Generated"
    finally:
        sys.path.remove(str(tmp_path / "out"))
        for name in [m for m in sys.modules if m == package or m.startswith(package + ".")]:
            del sys.modules[name]
