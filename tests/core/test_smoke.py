"""End to end: what `make run` starts, on a fresh instance/ with the embedded
PostgreSQL and Redis, answers, lets the demo operator in, and stops cleanly."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import requests

from saas.auth.totp import for_secret
from saas.config import ROOT

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def csrf(html: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


def test_make_run_serves_the_demo_and_stops(tmp_path: Path):
    instance = Path(tempfile.mkdtemp(prefix="carehub-smoke-"))
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "APP_DATABASE_URL"}}
    env.update(INSTANCE_PATH=str(instance), PORT=str(port), SECRET_KEY="smoke-test-secret")
    log = (tmp_path / "run.log").open("w+")
    proc = subprocess.Popen(
        [sys.executable, "-m", "saas.cli", "run"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 150
        ready = None
        while time.time() < deadline:
            assert proc.poll() is None, Path(log.name).read_text()[-3000:]
            try:
                ready = requests.get(f"{base}/readyz", timeout=2)
                if ready.status_code == 200:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.5)
        assert ready is not None and ready.status_code == 200, Path(log.name).read_text()[-3000:]
        assert ready.json()["checks"] == {"database": True, "redis": True}
        output = Path(log.name).read_text()
        assert "operator@demo.example" in output and "JBSWY3DPEHPK3PXP" in output, "demo logins printed"

        web = requests.Session()
        page = web.get(f"{base}/login")
        step = web.post(
            f"{base}/login",
            data={
                "email": "operator@demo.example",
                "password": "demo-pass-2026",
                "csrf_token": csrf(page.text),
            },
            allow_redirects=False,
        )
        assert step.status_code == 302 and step.headers["Location"].endswith("/login/two-factor")
        page = web.get(f"{base}/login/two-factor")
        code = for_secret("JBSWY3DPEHPK3PXP").now()
        done = web.post(
            f"{base}/login/two-factor",
            data={"code": code, "csrf_token": csrf(page.text)},
            allow_redirects=False,
        )
        assert done.status_code == 302 and done.headers["Location"].endswith("/operator/")
        console = web.get(f"{base}/operator/")
        assert console.status_code == 200
        assert "Sunrise Home Care" in console.text and "/a/kangning/" in console.text
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            code = proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
        log.close()
    tail = Path(log.name).read_text()[-3000:]
    assert code == 0, tail
    assert "Stopped." in tail
    assert not (instance / "pgdata" / "postmaster.pid").exists(), "embedded PostgreSQL stopped"
    shutil.rmtree(instance, ignore_errors=True)  # kept only when the run failed, to look into
