"""`attest serve` as a real process with its own embedded PostgreSQL, and the CLI beside it
on the same data folder: what a new user does after `make serve`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port
from tests.processes import ATTEST, wait_for

# Real processes: slow, so `make check` leaves it to `make test`.
pytestmark = pytest.mark.slow

@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, dict[str, str], Path]]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "ATTEST_SMTP_URL")}
    env.update(ATTEST_DATA_DIR=str(tmp_path / "data"), ATTEST_PORT=str(port), ATTEST_LOG_LEVEL="WARNING")
    log = (tmp_path / "serve.log").open("w")
    proc = subprocess.Popen([ATTEST, "serve"], env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"

    def healthy() -> bool:
        if proc.poll() is not None:
            raise AssertionError("attest serve exited:\n" + (tmp_path / "serve.log").read_text()[-3000:])
        try:
            return httpx.get(base + "/healthz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_for(healthy, 120, "attest serve to answer /healthz")
        yield base, env, tmp_path / "data"
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            # uvicorn shuts down gracefully, then re-raises the signal it caught.
            assert proc.wait(timeout=60) in (0, -signal.SIGTERM), (tmp_path / "serve.log").read_text()[-3000:]
        finally:
            if proc.poll() is None:
                proc.kill()
            log.close()
    # The last process using the embedded PostgreSQL stopped it on the way out.
    assert not (tmp_path / "data" / "pg" / "postmaster.pid").exists()


def test_serve_and_the_cli_share_the_embedded_database(served: tuple[str, dict[str, str], Path]) -> None:
    base, env, data = served
    out = subprocess.run([ATTEST, "merchant", "create", "--name", "Corner Shop", "--invite-delay-days", "0"],
                         env=env, capture_output=True, text=True, check=True, timeout=120)
    key = json.loads(out.stdout)["api_key"]
    now = datetime.now(UTC).isoformat()
    r = httpx.post(base + "/api/v1/orders", headers={"Authorization": f"Bearer {key}"}, timeout=30, json={
        "order_id": "1", "status": "fulfilled", "occurred_at": now, "consent": True,
        "customer": {"email": "eva@example.com", "name": "Eva Novak", "locale": "de"},
        "products": [{"id": "P1", "name": "Teekanne"}]})
    assert r.status_code == 200 and r.json()["invitation"]["state"] == "scheduled"
    # The worker inside `serve` mails it to the dev outbox without being asked.
    outbox = data / "outbox"
    wait_for(lambda: outbox.exists() and any(outbox.glob("*.eml")), 60, "the invitation in the outbox")
    eml = next(outbox.glob("*.eml")).read_text()
    assert "Content-Language: de" in eml and base + "/r/" in eml.replace("=\n", "")
    stats = subprocess.run([ATTEST, "stats", "corner-shop"], env=env, capture_output=True, text=True, check=True,
                           timeout=120)
    assert json.loads(stats.stdout)["invitations"]["sent"] == 1


def test_serve_rides_out_its_database_being_killed(served: tuple[str, dict[str, str], Path]) -> None:
    """SIGKILL of the embedded postmaster: `serve` notices, starts it again, answers 503 meanwhile,
    and its worker carries on without a restart of Attest."""
    base, env, data = served
    out = subprocess.run([ATTEST, "merchant", "create", "--name", "Night Shop", "--invite-delay-days", "0"],
                         env=env, capture_output=True, text=True, check=True, timeout=120)
    key = json.loads(out.stdout)["api_key"]
    pid_file = data / "pg" / "postmaster.pid"
    postmaster = int(pid_file.read_text().split()[0])
    os.kill(postmaster, signal.SIGKILL)

    def restarted() -> bool:
        try:
            return pid_file.exists() and int(pid_file.read_text().split()[0]) != postmaster
        except (OSError, ValueError, IndexError):
            return False

    def answers(status: int) -> bool:
        try:
            return httpx.get(base + "/widgets/v1/night-shop/summary.json", timeout=5).status_code == status
        except httpx.HTTPError:
            return False

    wait_for(restarted, 60, "serve to start its PostgreSQL again")
    wait_for(lambda: answers(200), 60, "the widgets to answer again")
    r = httpx.post(base + "/api/v1/orders", headers={"Authorization": f"Bearer {key}"}, timeout=30, json={
        "order_id": "after-outage", "status": "fulfilled", "occurred_at": datetime.now(UTC).isoformat(),
        "consent": True, "customer": {"email": "ola@example.com", "name": "Ola Nowak", "locale": "pl"},
        "products": [{"id": "P1", "name": "Czajnik"}]})
    assert r.status_code == 200 and r.json()["invitation"]["state"] == "scheduled"
    outbox = data / "outbox"
    wait_for(lambda: outbox.exists() and any(outbox.glob("*.eml")), 90, "the invitation sent after the outage")
    health = httpx.get(base + "/healthz", timeout=10).json()
    assert health["status"] == "ok" and health["worker"]["state"] == "ok"
