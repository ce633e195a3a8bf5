import asyncio
import json
import subprocess
import sys

import pytest

from reviews import cli
from reviews.platform.services import Services

COMMANDS = [[], ["serve"], ["web"], ["worker"], ["migrate"], ["merchant"], ["merchant", "create"],
            ["merchant", "set"], ["stats"], ["jobs"]]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command: list[str]) -> None:
    out = subprocess.run([sys.executable, "-m", "reviews.cli", *command, "--help"], capture_output=True, text=True,
                         check=False)
    assert out.returncode == 0, out.stderr
    assert "usage: attest" in out.stdout


@pytest.fixture
def env(services: Services, monkeypatch: pytest.MonkeyPatch) -> Services:
    monkeypatch.setenv("DATABASE_URL", services.dsn)
    monkeypatch.setenv("ATTEST_SECRET_KEY", services.settings.secret_key)
    return services


async def run(*argv: str) -> int:
    return await asyncio.to_thread(cli.main, list(argv))


async def test_merchant_create_set_show_and_stats(env: Services, capsys: pytest.CaptureFixture[str]) -> None:
    assert await run("merchant", "create", "--name", "Księgarnia Pod Globusem", "--locale", "pl") == 0
    created = json.loads(capsys.readouterr().out)
    assert created["slug"] == "ksiegarnia-pod-globusem"
    stored = await env.pool.fetchval("SELECT key_hash FROM api_keys")
    assert created["api_key"] not in stored

    assert await run("merchant", "set", created["slug"], "invite_delay_days=0", "send_window=off",
                     "shopify_secret=abc") == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["settings"]["invite_delay_days"] == 0
    assert shown["settings"]["shopify_secret"] == "set"  # secrets are never printed back

    assert await run("merchant", "set", created["slug"], "invite_delay_days=99") == 2
    assert "invite_delay_days" in capsys.readouterr().err

    assert await run("stats", created["slug"]) == 0
    assert json.loads(capsys.readouterr().out)["invitations"]["ordered"] == 0
    assert await run("stats", "no-such-shop") == 1


async def test_duplicate_slug_is_a_clear_error(env: Services, capsys: pytest.CaptureFixture[str]) -> None:
    assert await run("merchant", "create", "--name", "A", "--slug", "same") == 0
    assert await run("merchant", "create", "--name", "B", "--slug", "same") == 2
    assert "already taken" in capsys.readouterr().err


async def test_worker_drain_and_jobs(env: Services, capsys: pytest.CaptureFixture[str]) -> None:
    assert await run("worker", "--drain") == 0
    assert json.loads(capsys.readouterr().out) == {"jobs_run": 0}
    assert await run("jobs", "--dead") == 0
