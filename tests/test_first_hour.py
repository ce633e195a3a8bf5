"""The README's "Your first hour", run as written: `attest serve` on a port of its own, then every
other command from a shell that has none of the server's variables, against the same data folder."""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port
from tests.processes import ATTEST, clean_env, wait_for

# Real processes with their own embedded PostgreSQL: slow, so `make check` leaves it to `make test`.
pytestmark = pytest.mark.slow

README = Path(__file__).resolve().parent.parent / "README.md"
REVIEWS = [{"id": f"cs-{n}", "merchant": "corner-shop", "product_id": "MUG-1", "order_id": f"O-{n}", "lang": "en",
            "rating": 4 + n % 2, "title": "", "body": body, "author_name": f"Buyer {n}",
            "author_email": f"buyer{n}@example.com", "created_at": f"2025-03-0{n + 1}T10:00:00Z"}
           for n, body in enumerate(["The mug keeps tea warm for ages.", "Handle is a bit small for my hand.",
                                     "Bought two more as gifts, lovely glaze."])]


def first_hour_commands() -> list[list[str]]:
    """The commands of the section's shell block, as the reader would type them."""
    section = README.read_text(encoding="utf-8").split("## Your first hour", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block, "the first-hour section has a shell block"
    return [shlex.split(line, comments=True) for line in block.group(1).splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path, Path]]:
    """`attest serve` as the README starts it (on a free port for the README's), in a folder of its own."""
    commands = first_hour_commands()
    port = free_port()
    serve = [str(port) if word == "8311" else word for word in commands[0][1:]]
    assert serve == ["serve", "--port", str(port)], "the README serves on a port it names"
    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen([ATTEST, *serve], cwd=tmp_path, env=clean_env(ATTEST_LOG_LEVEL="WARNING"),
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        base = f"http://127.0.0.1:{port}"

        def healthy() -> bool:
            assert proc.poll() is None, "attest serve exited:\n" + log_path.read_text()[-3000:]
            try:
                return httpx.get(base + "/healthz", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        try:
            wait_for(healthy, 180, "attest serve to answer /healthz")
            yield base, tmp_path, log_path
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=60)
            finally:
                if proc.poll() is None:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait(timeout=30)


def test_the_readme_first_hour_runs_as_written(served: tuple[str, Path, Path]) -> None:
    base, folder, log_path = served
    commands = first_hour_commands()
    assert [c[:2] for c in commands] == [["attest", "serve"], ["attest", "user"], ["attest", "import"],
                                         ["attest", "merchant"], ["attest", "user"], ["attest", "merchant"]]
    said = log_path.read_text()
    assert f"Console: {base}/console" in said and "attest user create --email" in said, said[-2000:]
    (folder / "reviews.jsonl").write_text("".join(json.dumps(r) + "\n" for r in REVIEWS))
    # The second terminal has no ATTEST_PORT: only what `serve` recorded in the data folder names the port.
    env = clean_env(ATTEST_LOG_LEVEL="WARNING")
    results = []
    for words in commands[1:]:
        done = subprocess.run([ATTEST, *words[1:]], cwd=folder, env=env, capture_output=True, text=True,
                              timeout=300, check=False)
        assert done.returncode == 0, f"{shlex.join(words)}:\n{done.stderr[-3000:]}"
        results.append(done)
    first_user, imported, named, owner, key = results

    link = json.loads(first_user.stdout)["sign_in_link"]
    assert link.startswith(base + "/console/link/"), link
    mailed = "".join(p.read_text() for p in (folder / ".attest" / "outbox").glob("*.eml")).replace("=\n", "")
    assert base + "/console/link/" in mailed
    assert httpx.get(link, timeout=30).status_code == 200  # the link works: same server, same port

    assert json.loads(imported.stdout)["merchants_created"] == ["corner-shop"]
    assert "New shop corner-shop (named after its slug, no owner, no API key): next steps" in imported.stderr
    assert "attest merchant new-key corner-shop" in imported.stderr
    assert json.loads(named.stdout)["name"] == "Corner Shop"
    assert json.loads(owner.stdout)["sign_in_link"].startswith(base + "/console/link/")
    api_key = json.loads(key.stdout)["api_key"]
    shop = httpx.get(base + "/api/v1/merchant", headers={"Authorization": f"Bearer {api_key}"}, timeout=30)
    assert shop.status_code == 200 and shop.json()["slug"] == "corner-shop"
