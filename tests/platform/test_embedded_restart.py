"""The embedded PostgreSQL is never orphaned: after `attest serve` is SIGKILLed, the next serve joins the
server it left running, and that serve's clean SIGTERM stops it (real processes, a real data folder)."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from tests.conftest import free_port
from tests.processes import ATTEST, wait_for

pytestmark = pytest.mark.slow


def _postgres_of(pgdata: Path) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(attrs=["name", "cmdline"]):
        if proc.info["name"] == "postgres" and str(pgdata) in " ".join(proc.info["cmdline"] or []):
            found.append(proc)
    return found


@pytest.fixture
def data_dir(tmp_path: Path) -> Iterator[Path]:
    data = tmp_path / "data"
    yield data
    for proc in _postgres_of((data / "pg").resolve()):  # whatever the test left behind
        proc.kill()


def _serve(data: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ATTEST_") and k != "DATABASE_URL"}
    env.update(ATTEST_DATA_DIR=str(data), ATTEST_PORT=str(port), ATTEST_LOG_LEVEL="WARNING",
               ATTEST_MULTILINGUAL_MODEL="off")
    proc = subprocess.Popen([ATTEST, "serve"], env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT)

    def healthy() -> bool:
        if proc.poll() is not None:
            raise AssertionError("attest serve exited:\n" + log.read_text()[-3000:])
        try:
            return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    wait_for(healthy, 120, "attest serve to answer /healthz")
    return proc


def test_a_clean_stop_after_a_sigkill_leaves_no_postgres_behind(data_dir: Path, tmp_path: Path) -> None:
    log = tmp_path / "serve.log"
    pgdata = (data_dir / "pg").resolve()
    first = _serve(data_dir, free_port(), log)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=30)
    assert _postgres_of(pgdata), "the killed serve's PostgreSQL should still be running for the next one"

    second = _serve(data_dir, free_port(), log)
    second.send_signal(signal.SIGTERM)
    assert second.wait(timeout=60) in (0, -signal.SIGTERM), log.read_text()[-3000:]
    wait_for(lambda: not _postgres_of(pgdata), 30, "the embedded PostgreSQL to stop")
    assert not (pgdata / "postmaster.pid").exists()
