"""What a shop's developer does with /openapi.json: generate a client with openapi-python-client on its
defaults (which once died on the time-zone enum: GMT+0, GMT-0 and GMT0 make one identifier), then post an
order and change settings through it, against the real server on loopback."""

from __future__ import annotations

import asyncio
import dataclasses
import importlib
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from reviews.app import create_app
from reviews.intake.openapi import document
from reviews.merchants.model import Merchant
from reviews.platform import server
from reviews.platform.services import Services
from tests.conftest import free_port
from tests.processes import eventually

pytestmark = pytest.mark.slow
GENERATOR = Path(sys.executable).with_name("openapi-python-client")


@pytest.fixture
async def base_url(services: Services) -> AsyncIterator[str]:
    port = free_port()
    settings = dataclasses.replace(services.settings, base_url=f"http://127.0.0.1:{port}")
    app = create_app(dataclasses.replace(services, settings=settings))
    srv = uvicorn.Server(server.config(app, settings, host="127.0.0.1", port=port, log_level="warning"))
    task = asyncio.create_task(srv.serve())
    await eventually(lambda: srv.started, 30, "the server to start")
    try:
        yield settings.base_url
    finally:
        srv.should_exit = True
        await asyncio.wait_for(task, 30)


def _generate(tmp_path: Path, base: str) -> Any:
    (tmp_path / "openapi.json").write_text(json.dumps(document(base)))
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    done = subprocess.run([str(GENERATOR), "generate", "--path", "openapi.json", "--output-path", "client"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    sys.path.insert(0, str(tmp_path / "client"))
    importlib.invalidate_caches()
    return importlib.import_module("attest_client")


async def test_a_generated_client_posts_an_order_and_patches_settings(
        tmp_path: Path, base_url: str, merchant: tuple[Merchant, str]) -> None:
    package = _generate(tmp_path, base_url)
    try:
        client_module = importlib.import_module("attest_client.client")
        orders = importlib.import_module("attest_client.api.default.post_api_v1_orders")
        patch = importlib.import_module("attest_client.api.default.patch_api_v1_merchant_settings")
        models = importlib.import_module("attest_client.models")
        client = client_module.AuthenticatedClient(base_url=base_url, token=merchant[1])
        body = models.OrderEventBody.from_dict({
            "order_id": "GEN-1", "status": "fulfilled", "occurred_at": "2026-01-05T09:00:00Z",
            "customer": {"email": "ines@example.com", "name": "Inés García", "locale": "es"},
            "consent": True, "products": [{"id": "SKU-1", "name": "Trail shoes"}]})
        answer = await asyncio.to_thread(orders.sync_detailed, client=client, body=body)
        assert answer.status_code == 200, answer.content
        assert answer.parsed.order_id == "GEN-1"
        changed = await asyncio.to_thread(
            patch.sync_detailed, client=client,
            body=models.SettingsPatch.from_dict({"timezone": "Europe/Madrid", "reminder_days": 3,
                                                 "name": "Tienda Demo"}))
        assert changed.status_code == 200, changed.content
        assert changed.parsed.name == "Tienda Demo"
        assert changed.parsed.settings.reminder_days == 3  # a typed setting, not Any
        assert str(changed.parsed.settings.timezone.value if hasattr(changed.parsed.settings.timezone, "value")
                   else changed.parsed.settings.timezone) == "Europe/Madrid"
    finally:
        sys.path.remove(str(tmp_path / "client"))
        for name in [m for m in sys.modules if m == package.__name__ or m.startswith(package.__name__ + ".")]:
            del sys.modules[name]
