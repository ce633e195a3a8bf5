import asyncio
import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from reviews import cli
from reviews.platform.services import Services
from reviews.platform.settings import Settings, listening_at, record_base_url

COMMANDS = [[], ["serve"], ["web"], ["worker"], ["migrate"], ["merchant"], ["merchant", "create"],
            ["merchant", "set"], ["stats"], ["jobs"]]


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.slow
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


async def test_errors_are_one_readable_line_unless_json(env: Services, capsys: pytest.CaptureFixture[str]) -> None:
    assert await run("user", "create", "--email", "o@example.com", "--role", "owner") == 2
    err = capsys.readouterr().err
    assert err == "attest: merchant: an owner belongs to a merchant: name it\n"
    assert await run("--json", "user", "create", "--email", "o@example.com", "--role", "viewer") == 2
    body = json.loads(capsys.readouterr().err)
    assert body["error"]["fields"] == {"merchant": "a viewer belongs to a merchant: name it"}


async def test_links_use_the_address_the_server_recorded(env: Services, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("ATTEST_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("ATTEST_PORT", "8000")  # this shell's port is not the server's
    monkeypatch.delenv("ATTEST_BASE_URL", raising=False)
    record_base_url(listening_at(Settings.from_env(), None, 8311))
    assert await run("merchant", "create", "--name", "Corner Shop") == 0
    capsys.readouterr()
    assert await run("user", "create", "--email", "o@example.com", "--role", "owner", "--merchant", "corner-shop") == 0
    assert json.loads(capsys.readouterr().out)["sign_in_link"].startswith("http://127.0.0.1:8311/console/link/")
    monkeypatch.setenv("ATTEST_BASE_URL", "https://reviews.example/")
    assert await run("user", "create", "--email", "a@example.com", "--role", "agent", "--merchant", "corner-shop") == 0
    assert json.loads(capsys.readouterr().out)["sign_in_link"].startswith("https://reviews.example/console/link/")


def test_a_read_only_data_folder_records_no_address(tmp_path: Path) -> None:
    (tmp_path / "base_url").mkdir()  # stands in for a file that cannot be written
    settings = replace(Settings.from_env({"ATTEST_SECRET_KEY": "k"}), data_dir=tmp_path)
    assert record_base_url(settings) is False


def test_a_server_told_its_port_links_to_it() -> None:
    told = listening_at(Settings.from_env({"ATTEST_SECRET_KEY": "k"}), "10.0.0.5", 8311, {})
    assert (told.host, told.port, told.base_url) == ("10.0.0.5", 8311, "http://10.0.0.5:8311")
    public = Settings.from_env({"ATTEST_BASE_URL": "https://reviews.example", "ATTEST_SECRET_KEY": "k"})
    assert listening_at(public, None, 8311, {"ATTEST_BASE_URL": "https://reviews.example"}).base_url == \
        "https://reviews.example"


async def test_an_imported_shop_gets_next_steps_and_no_unseen_key(env: Services, tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    def line(n: int, merchant: str, **more: str) -> str:
        return json.dumps({"id": f"x-{n}", "merchant": merchant, "product_id": "P", "order_id": f"O-{n}", "lang": "en",
                           "rating": 5, "body": "Lovely tea, fresh and fragrant.", "author_name": "Ann",
                           "author_email": f"ann{n}@example.com", "created_at": "2025-03-01T10:00:00Z", **more})
    path = tmp_path / "r.jsonl"
    path.write_text(line(1, "tea-house") + "\n" + line(2, "mug-shop", merchant_name="Mug & Co") + "\n")
    assert await run("import", str(path), "--create-merchants") == 0
    out = capsys.readouterr()
    assert json.loads(out.out)["merchants_created"] == ["tea-house", "mug-shop"]
    assert "New shop tea-house (named after its slug, no owner, no API key): next steps" in out.err
    assert "New shop mug-shop (named 'Mug & Co' from the file, no owner, no API key): next steps" in out.err
    assert "--role owner --merchant tea-house" in out.err and "attest merchant new-key mug-shop" in out.err
    assert await env.pool.fetchval("SELECT count(*) FROM api_keys") == 0


async def test_the_import_progress_counts_reviews_not_lines(env: Services, capsys: pytest.CaptureFixture[str]) -> None:
    # A CSV's header and quoted line breaks are lines, not reviews: the bar ends full.
    export = Path(__file__).parent / "collection" / "fixtures" / "judgeme_export.csv"
    assert await run("import", str(export), "--merchant", "linen-house", "--create-merchants") == 0
    out = capsys.readouterr()
    assert json.loads(out.out)["imported"] == 4
    assert "4/4" in out.err and "/5" not in out.err
