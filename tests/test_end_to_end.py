"""The whole flow through HTTP and SMTP: merchant, order, email, link, form, review,
embedding, published, summary."""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import replace
from email.message import Message

import httpx
import pytest

from reviews import cli
from reviews.platform.services import Services
from reviews.worker import make_worker
from tests.conftest import RecordingHandler, smtp_url
from tests.helpers import FormParser, auth, order_event


def text_part(message: Message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode(part.get_content_charset() or "utf-8")
    raise AssertionError("no text part")


@pytest.fixture
def mail_services(services: Services, smtp_server: tuple[object, RecordingHandler]) -> Services:
    controller, _ = smtp_server
    services.settings = replace(services.settings, smtp_url=smtp_url(controller))  # type: ignore[misc]
    return services


async def test_order_to_published_review(client: httpx.AsyncClient, mail_services: Services,
                                         smtp_server: tuple[object, RecordingHandler],
                                         monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    svc = mail_services
    _, smtp = smtp_server

    # A merchant, from the command line, with no delay.
    monkeypatch.setenv("DATABASE_URL", svc.dsn)
    monkeypatch.setenv("ATTEST_SECRET_KEY", svc.settings.secret_key)
    assert await asyncio.to_thread(cli.main, ["merchant", "create", "--name", "Bäckerei Lüdtke", "--slug", "baeckerei",
                     "--locale", "de", "--invite-delay-days", "0"]) == 0
    created = json.loads(capsys.readouterr().out)
    assert created["slug"] == "baeckerei" and created["api_key"].startswith("atk_")

    # The shop sends a fulfilled order.
    r = await client.post("/api/v1/orders", headers=auth(created["api_key"]), json=order_event(
        "B-77", locale="pl", name="Jan Nowak", email="jan.nowak@example.com",
        products=[{"id": "BROT-1", "name": "Sauerteigbrot"}, {"id": "KUCHEN-2", "name": "Apfelkuchen"}]))
    assert r.status_code == 200 and r.json()["invitation"]["state"] == "scheduled"

    # The worker mails the invitation through a real SMTP server.
    async with make_worker(svc) as worker:
        await worker.drain()
    assert len(smtp.messages) == 1
    email = smtp.messages[0]
    assert email["To"] == "Jan Nowak <jan.nowak@example.com>"
    assert email["Content-Language"] == "pl"
    assert email["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = re.search(r"http://testserver(/r/[A-Za-z0-9_.\-]+)", text_part(email))
    assert link, text_part(email)
    assert await svc.pool.fetchval("SELECT state FROM invitations") == "sent"

    # The buyer opens the link: a form with a rating and a text per product.
    page = await client.get(link.group(1))
    assert page.status_code == 200
    form = FormParser()
    form.feed(page.text)
    assert form.radios == {key: ["1", "2", "3", "4", "5"] for key in ("rating_0", "rating_1", "rating_shop")}
    assert {"body_0", "body_1", "csrf", "display_name"} <= set(form.fields)
    assert form.fields["display_name"] == "Jan N."
    assert await svc.pool.fetchval("SELECT count(*) FROM reviews") == 0  # a GET stores nothing

    fields = {**form.fields, "rating_0": "5", "body_0": "Bestes Brot der Stadt, knusprige Kruste und saftig.",
              "rating_1": "4", "body_1": "Lecker, aber beim nächsten Mal bitte mit mehr Äpfeln."}
    assert form.action
    r = await client.post(form.action, data=fields)
    assert r.status_code == 200, r.text
    rows = await svc.pool.fetch("SELECT * FROM reviews ORDER BY product_id")
    assert [(x["product_id"], x["rating"], x["state"], x["method"]) for x in rows] == [
        ("BROT-1", 5, "pending", "invited"), ("KUCHEN-2", 4, "pending", "invited")]
    order_id, invitation_id = await svc.pool.fetchrow("SELECT order_id, id FROM invitations")
    assert all(x["order_id"] == order_id and x["invitation_id"] == invitation_id for x in rows)
    assert all(x["ip_hash"] and "203.0.113.7" not in x["ip_hash"] for x in rows)

    # Not published before the scan.
    summary = (await client.get("/widgets/v1/baeckerei/summary.json")).json()
    assert summary["count"] == 0

    # The worker embeds and scans them, then publishes.
    async with make_worker(svc) as worker:
        await worker.drain()
    # One vector per review and channel (the main model, the multilingual one).
    assert await svc.pool.fetchval("SELECT count(*) FROM review_embeddings") == 4
    assert await svc.pool.fetchval("SELECT count(*) FROM reviews WHERE state = 'published'") == 2

    r = await client.get("/widgets/v1/baeckerei/summary.json")
    assert r.headers["access-control-allow-origin"] == "*"
    assert r.json() == {"average": 4.5, "count": 2,
                        "distribution": {"1": 0, "2": 0, "3": 0, "4": 1, "5": 1}}
    product = (await client.get("/widgets/v1/baeckerei/products/BROT-1/summary.json")).json()
    assert product["count"] == 1 and product["average"] == 5.0
