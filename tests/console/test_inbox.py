"""Issue 12, the merchants' inbox: every review of the shop in every state with what that state means,
its filters; one review with the shop's public reply (agents and owners only; shown escaped in the
widgets; its author mailed once) and its reports to the moderators (the Reported tab, the outcome
the merchant then sees); the CSV and JSONL exports."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import httpx
import pytest

from reviews.accounts import manage
from reviews.collection import listing, replies, reply_notices
from reviews.collection import store as reviews
from reviews.collection.replies import NOTICE_JOB
from reviews.console.shop import export
from reviews.merchants import store as merchants
from reviews.merchants.model import Merchant
from reviews.platform import jobs, tokens
from reviews.platform.services import Services
from reviews.worker import all_tasks
from tests.helpers import HOSTILE, FormParser, add_review, form_of, invite

pytestmark = pytest.mark.slow  # over a second a test: `make test` runs it, `make check` does not

Fixture = tuple[Merchant, str]
PASSWORD = "correct horse battery staple"
BUYER = "jonas.becker@example.com"
FORMULA = "=cmd|' /C calc'!A0"


def _form(html: str, action: str, marker: str | None = None) -> dict[str, str]:
    """The fields of the page's (first) form that posts to `action`, or of the form holding `marker`."""
    start = html.index(marker) if marker else html.index(f'action="{action}"')
    parser = FormParser()
    parser.feed(html[html.rindex("<form", 0, start):html.index("</form>", start)])
    return dict(parser.fields)


async def sign_in(client: httpx.AsyncClient, services: Services, email: str, role: str,
                  merchant: str | None = "demo-shop") -> None:
    client.cookies.clear()
    _user, link = await manage.invite(services, email, role, merchant, actor="test",
                                      all_merchants=role == "moderator" and merchant is None)
    path = link.removeprefix(services.settings.base_url)
    page = await client.get(path)
    assert page.status_code == 200
    parser = FormParser()  # signed out: the page's only form
    parser.feed(page.text)
    r = await client.post(path, data={**parser.fields, "password": PASSWORD})
    assert r.status_code == 303, r.text


def outbox(svc: Services, to: str) -> list[EmailMessage]:
    folder = svc.settings.outbox_dir
    found = []
    for path in sorted(folder.glob("*.eml")) if folder.exists() else []:
        msg = message_from_bytes(path.read_bytes(), policy=policy.default)
        assert isinstance(msg, EmailMessage)
        if msg["To"].addresses[0].addr_spec == to:
            found.append(msg)
    return found


@pytest.fixture
async def worker(services: Services) -> AsyncIterator[jobs.Worker]:
    """Only the reply emails (the invitations and scans are not what is tested here)."""
    async with jobs.Worker(pool=services.pool, dsn=services.dsn, tasks=reply_notices.tasks(services),
                           clock=services.clock) as w:
        yield w


async def invited_review(client: httpx.AsyncClient, services: Services, key: str) -> tuple[int, int]:
    """A German buyer's published review of the first product, written from their invitation: (review, invitation)."""
    path = await invite(client, services, key, order_id="B-77", locale="de", email=BUYER, name="Jonas Becker")
    form = await form_of(client, path)
    assert form.action is not None
    r = await client.post(form.action, data={**form.fields, "rating_0": "4", "body_0": "Bequem und leicht."})
    assert r.status_code == 200, r.text
    review_id = int(await services.pool.fetchval("SELECT max(id) FROM reviews"))
    async with services.pool.acquire() as conn:
        await reviews.publish(conn, review_id, services.clock.now())
    invitation_id = int(await services.pool.fetchval("SELECT invitation_id FROM reviews WHERE id = $1", review_id))
    return review_id, invitation_id


@pytest.fixture
async def shop(services: Services, merchant: Fixture) -> dict[str, Any]:
    """demo-shop with a review in every state (and an imported one with its source's reply, a German one,
    one of the shop itself, one whose text looks like a formula), and another shop's review."""
    m = merchant[0]
    ids = {
        "published": await add_review(services, m.id, 5, product_id="SKU-1", product_name="Trail shoes",
                                      title="Great shoes", body="100% happy with them."),
        "held": await add_review(services, m.id, 1, state="held", product_id="SKU-1", title="Held one"),
        "pending": await add_review(services, m.id, 3, state="pending", product_id="SKU-2", title="Pending one"),
        "rejected": await add_review(services, m.id, 2, state="rejected", product_id="SKU-2", title="Rejected one"),
        "withdrawn": await add_review(services, m.id, 4, state="withdrawn", title="Withdrawn one"),
        "imported": await add_review(services, m.id, 4, method="imported", product_id="SKU-2",
                                     product_name="Merino socks", title="Warm socks", body="1000 steps warm."),
        "german": await add_review(services, m.id, 5, product_id="SKU-1", title="Sehr gut", locale="de-AT"),
        "formula": await add_review(services, m.id, 3, title=FORMULA, body="@SUM(1+1)"),
    }
    await services.pool.execute("UPDATE reviews SET reject_reason = 'offensive' WHERE id = $1", ids["rejected"])
    async with services.pool.acquire() as conn:
        assert await replies.add_imported(conn, merchant_id=m.id, review_id=ids["imported"],
                                          text="Thanks from the old platform", at=None, now=services.clock.now())
        other, _ = await merchants.create(conn, name="Other Shop", slug="other-shop", locale="en")
    ids["other"] = await add_review(services, other.id, 1, title="LEAKED other shop", product_id="SKU-1")
    return ids


# --- the inbox ---------------------------------------------------------------------------------


async def test_the_inbox_lists_every_state_with_its_sentence_and_the_filters_work(
        client: httpx.AsyncClient, services: Services, shop: dict[str, Any]) -> None:
    await sign_in(client, services, "viewer@example.com", "viewer")
    page = await client.get("/console/m/demo-shop?replied=any")  # every review, not the work list
    assert page.status_code == 200
    text = page.text
    for key in ("published", "held", "pending", "rejected", "withdrawn", "imported", "german", "formula"):
        assert f'/console/m/demo-shop/reviews/{shop[key]}"' in text, key
    assert "LEAKED" not in text and "8 reviews" in text
    assert "Held for a moderator's check; Attest's moderators decide, not the shop." in text
    assert "Withdrawn by its author, who alone decides" in text
    assert "Waiting for Attest's automatic check" in text
    assert "rejected it and told its author why" in text and "Reason: Offensive" in text
    assert text.count("a shop cannot edit, hide or delete a review") == 1  # said once, not on every card
    assert "✓ Verified order" in text and "Imported, unverified" in text
    # Newest first.
    order = [int(i) for i in re.findall(r'/console/m/demo-shop/reviews/(\d+)"', text)]
    assert order == sorted(order, reverse=True)

    async def listed(query: str) -> set[int]:
        r = await client.get(f"/console/m/demo-shop?{query}")
        assert r.status_code == 200
        return {int(i) for i in re.findall(r'/console/m/demo-shop/reviews/(\d+)"', r.text)}

    assert await listed("stars=1") == {shop["held"]}
    assert await listed("state=held") == {shop["held"]}
    assert await listed("state=withdrawn") == {shop["withdrawn"]}
    assert await listed("lang_filter=de") == {shop["german"]}
    assert await listed("product=SKU-2") == {shop["pending"], shop["rejected"], shop["imported"]}
    assert await listed("product=-") == {shop["withdrawn"], shop["formula"]}
    assert await listed("replied=yes") == {shop["imported"]}
    assert len(await listed("replied=no")) == 7
    # Text search on title and body; % and _ are the text's own, not wildcards.
    assert await listed("q=great") == {shop["published"]}
    assert await listed("q=100%25") == {shop["published"]}
    assert await listed("q=10%25%25") == set()
    assert await listed("q=1_00") == set()
    assert await listed("q=sehr") == {shop["german"]}
    # A date range (add_review's reviews were submitted on 2026-01-01).
    assert len(await listed("from=2026-01-01&to=2026-01-01")) == 8
    assert await listed("from=2026-01-02") == set()
    assert await listed("to=2025-12-31") == set()
    combined = await client.get("/console/m/demo-shop?stars=5&product=SKU-1&lang_filter=en&q=shoes")
    assert {int(i) for i in re.findall(r'/reviews/(\d+)"', combined.text)} == {shop["published"]}
    assert 'value="shoes"' in combined.text  # the filters stay in the URL and the form
    # Nonsense is left out, not an error.
    assert len(await listed("stars=9&state=lost&from=yesterday&replied=maybe")) == 8


async def test_the_inbox_opens_on_unanswered_reviews_with_the_figures_and_a_reply_inline(
        client: httpx.AsyncClient, services: Services, shop: dict[str, Any]) -> None:
    await sign_in(client, services, "agent@example.com", "agent")
    page = await client.get("/console/m/demo-shop")
    listed = {int(i) for i in re.findall(r'/console/m/demo-shop/reviews/(\d+)"', page.text)}
    published = {r["id"] for r in await services.pool.fetch(
        "SELECT r.id FROM reviews r JOIN merchants m ON m.id = r.merchant_id LEFT JOIN review_replies p "
        "ON p.review_id = r.id WHERE m.slug = 'demo-shop' AND r.state = 'published' AND p.review_id IS NULL")}
    assert listed == published and shop["imported"] not in listed  # the imported one has its reply
    for words in ("Average rating, last 30 days", "Average rating, all time", "Waiting for a reply", "Reply rate",
                  "Median time to reply"):
        assert words in page.text, words
    rid = min(published)
    action = f"/console/m/demo-shop/reviews/{rid}/reply"
    fields = _form(page.text, action)
    assert fields["back"] == "inbox"
    r = await client.post(action, data={**fields, "reply": "Thank you, glad it fits!"})
    assert r.status_code == 303 and r.headers["location"].startswith("/console/m/demo-shop?")
    after = await client.get(r.headers["location"])
    assert "Your reply is saved" in after.text and f'/console/m/demo-shop/reviews/{rid}"' not in after.text
    assert await services.pool.fetchval("SELECT body FROM review_replies WHERE review_id = $1", rid) == (
        "Thank you, glad it fits!")
    assert "Median time to reply" in after.text and "—" not in after.text.split("Median time to reply")[1][:80]


async def test_the_inbox_pages(client: httpx.AsyncClient, services: Services, shop: dict[str, Any],
                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(listing, "PAGE", 3)
    await sign_in(client, services, "viewer@example.com", "viewer")
    seen: list[int] = []
    for n in (1, 2, 3):
        r = await client.get(f"/console/m/demo-shop?replied=any&page={n}")
        assert f"Page {n} of 3" in r.text
        seen += [int(i) for i in re.findall(r'/console/m/demo-shop/reviews/(\d+)"', r.text)]
    assert len(seen) == len(set(seen)) == 8
    second = await client.get("/console/m/demo-shop?state=published&page=1")
    assert "page=2" not in second.text or "state=published&amp;page=2" in second.text


async def test_another_shops_review_is_404_and_so_is_another_shop(
        client: httpx.AsyncClient, services: Services, shop: dict[str, Any]) -> None:
    await sign_in(client, services, "agent@example.com", "agent")
    assert (await client.get(f"/console/m/demo-shop/reviews/{shop['published']}")).status_code == 200
    r = await client.get(f"/console/m/demo-shop/reviews/{shop['other']}")
    assert r.status_code == 404 and "LEAKED" not in r.text
    for path in ("/console/m/demo-shop/reviews/abc", "/console/m/demo-shop/reviews/99999999",
                 "/console/m/other-shop", f"/console/m/other-shop/reviews/{shop['other']}",
                 "/console/m/other-shop/export.csv"):
        assert (await client.get(path)).status_code == 404, path
    page = await client.get(f"/console/m/demo-shop/reviews/{shop['published']}")
    fields = _form(page.text, f"/console/m/demo-shop/reviews/{shop['published']}/reply")
    r = await client.post(f"/console/m/demo-shop/reviews/{shop['other']}/reply", data={**fields, "reply": "Hi"})
    assert r.status_code == 404
    r = await client.post(f"/console/m/demo-shop/reviews/{shop['other']}/report",
                          data={"csrf": fields["csrf"], "reason": "other"})
    assert r.status_code == 404
    assert await services.pool.fetchval("SELECT count(*) FROM review_replies WHERE source = 'console'") == 0
    assert await services.pool.fetchval("SELECT count(*) FROM review_reports") == 0


async def test_a_viewer_sees_no_reply_form_and_a_forged_post_from_one_is_refused(
        client: httpx.AsyncClient, services: Services, shop: dict[str, Any]) -> None:
    await sign_in(client, services, "viewer@example.com", "viewer")
    rid = shop["published"]
    page = await client.get(f"/console/m/demo-shop/reviews/{rid}")
    assert page.status_code == 200
    assert 'name="reply"' not in page.text and "/reply" not in page.text and "/report" not in page.text
    csrf = _form(page.text, "/console/sign-out")["csrf"]  # a valid token of their own session
    r = await client.post(f"/console/m/demo-shop/reviews/{rid}/reply", data={"csrf": csrf, "reply": "Forged"})
    assert r.status_code == 403
    r = await client.post(f"/console/m/demo-shop/reviews/{rid}/report", data={"csrf": csrf, "reason": "other"})
    assert r.status_code == 403
    assert await services.pool.fetchval("SELECT count(*) FROM review_replies WHERE source = 'console'") == 0
    assert await services.pool.fetchval("SELECT count(*) FROM review_reports") == 0
    # An agent without the form's token is refused too.
    await sign_in(client, services, "agent@example.com", "agent")
    r = await client.post(f"/console/m/demo-shop/reviews/{rid}/reply", data={"reply": "No token"})
    assert r.status_code == 400


# --- the public reply --------------------------------------------------------------------------


async def test_an_agent_replies_and_edits_the_author_is_mailed_once_in_their_language(
        client: httpx.AsyncClient, services: Services, merchant: Fixture, worker: jobs.Worker) -> None:
    rid, invitation_id = await invited_review(client, services, merchant[1])
    await sign_in(client, services, "agent@example.com", "agent")
    path = f"/console/m/demo-shop/reviews/{rid}"
    page = await client.get(path)
    fields = _form(page.text, f"{path}/reply")
    assert "reply" in fields and fields["reply"] == ""
    empty = await client.post(f"{path}/reply", data={**fields, "reply": "   "})
    assert empty.status_code == 422 and "Please write a reply" in empty.text
    r = await client.post(f"{path}/reply", data={**fields, "reply": f"Danke! {HOSTILE}"})
    assert r.status_code == 303 and r.headers["location"] == f"{path}?saved=reply"
    page = await client.get(r.headers["location"])
    assert "Your reply is saved" in page.text
    assert HOSTILE not in page.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    first_at = await services.pool.fetchval("SELECT updated_at FROM review_replies WHERE review_id = $1", rid)
    assert f'<time datetime="{first_at:%Y-%m-%dT%H:%M:%S}Z" title="' in page.text  # with its exact time
    assert "Jan 5, 2026 10:00\u202fAM" in page.text  # in words, in the browser's zone (UTC until it says)

    await worker.drain()
    (mail,) = outbox(services, BUYER)
    assert mail["Content-Language"] == "de"
    text = mail.get_body(("plain",))
    assert text is not None
    content = text.get_content()
    assert "Hallo Jonas Becker," in content  # the buyer's language
    assert f"Danke! {HOSTILE}" in content
    link = re.search(r"http://testserver/r/(\S+)", content)
    assert link is not None  # the author's own signed review link
    assert services.signer.load(tokens.REVIEW, link.group(1), 3600) == {"i": invitation_id}
    html_part = mail.get_body(("html",))
    assert html_part is not None and "<script>alert(1)" not in html_part.get_content()

    # The edit: saved, shown, audited, but no second email.
    page = await client.get(path)
    fields = _form(page.text, f"{path}/reply")
    assert fields["reply"] == f"Danke! {HOSTILE}"
    services.clock.advance(timedelta(minutes=5))  # type: ignore[attr-defined]
    r = await client.post(f"{path}/reply", data={**fields, "reply": "Danke für die Bewertung!"})
    assert r.status_code == 303
    page = await client.get(path)
    assert "Danke für die Bewertung!" in page.text and "edited" in page.text
    await worker.drain()
    assert len(outbox(services, BUYER)) == 1
    assert await services.pool.fetchval("SELECT count(*) FROM jobs WHERE kind = $1", NOTICE_JOB) == 1
    actions = [r["action"] for r in await services.pool.fetch(
        "SELECT action FROM audit_log WHERE table_name = 'review_replies' ORDER BY id")]
    assert actions == ["reply.create", "reply.edit"]


async def test_the_review_link_in_the_email_is_the_authors_own(
        client: httpx.AsyncClient, services: Services, merchant: Fixture, worker: jobs.Worker) -> None:
    rid, invitation_id = await invited_review(client, services, merchant[1])
    await sign_in(client, services, "owner@example.com", "owner")
    path = f"/console/m/demo-shop/reviews/{rid}"
    fields = _form((await client.get(path)).text, f"{path}/reply")
    assert (await client.post(f"{path}/reply", data={**fields, "reply": "Thank you"})).status_code == 303
    await worker.drain()
    (mail,) = outbox(services, BUYER)
    text = mail.get_body(("plain",))
    assert text is not None
    found = re.search(r"http://testserver/r/\S+", text.get_content())
    assert found is not None
    client.cookies.clear()
    review_page = await client.get(found.group(0).removeprefix("http://testserver"))
    assert review_page.status_code == 200 and "Bequem und leicht." in review_page.text
    assert services.signer.load(tokens.REVIEW, found.group(0).rsplit("/", 1)[1], 3600) == {"i": invitation_id}


async def test_an_imported_review_has_no_one_to_mail(client: httpx.AsyncClient, services: Services,
                                                    shop: dict[str, Any], worker: jobs.Worker) -> None:
    await sign_in(client, services, "agent@example.com", "agent")
    path = f"/console/m/demo-shop/reviews/{shop['imported']}"
    page = await client.get(path)
    assert "Thanks from the old platform" in page.text and "Imported with the review." in page.text
    fields = _form(page.text, f"{path}/reply")
    assert fields["reply"] == "Thanks from the old platform"  # the shown reply, to start from
    assert (await client.post(f"{path}/reply", data={**fields, "reply": "Our own reply"})).status_code == 303
    # The imported reply was the review's first: editing it mails no one (there is no one to mail).
    assert await worker.drain() == 0
    assert await services.pool.fetchval("SELECT count(*) FROM jobs WHERE kind = $1", NOTICE_JOB) == 0
    own = await services.pool.fetchrow("SELECT body, source, author FROM review_replies WHERE review_id = $1",
                                       shop["imported"])
    assert (own["body"], own["source"], own["author"]) == ("Our own reply", "console", "agent@example.com")
    page = await client.get(path)
    assert "Imported with the review." not in page.text and "Edit your reply" in page.text
    # A review that is not published cannot be answered.
    held = f"/console/m/demo-shop/reviews/{shop['held']}"
    page = await client.get(held)
    assert 'name="reply"' not in page.text and "A reply can be written while the review is published." in page.text
    r = await client.post(f"{held}/reply", data={**fields, "reply": "Sneaky"})
    assert r.status_code == 422
    assert await services.pool.fetchval("SELECT count(*) FROM review_replies") == 1


async def test_the_reply_shows_escaped_in_every_widget_and_the_cache_notices_it(
        client: httpx.AsyncClient, services: Services, shop: dict[str, Any]) -> None:
    before = (await client.get("/widgets/v1/demo-shop/reviews.json?per_page=50")).json()["reviews"]
    by_id = {r["id"]: r for r in before}
    assert by_id[shop["published"]]["reply"] is None
    # An imported review shows its source's reply while the shop has written none.
    assert by_id[shop["imported"]]["reply"]["body"] == "Thanks from the old platform"
    widget = (await client.get("/widgets/v1/demo-shop/widget.html")).text
    assert "Thanks from the old platform" in widget and "Reply from Demo Shop" in widget

    await sign_in(client, services, "agent@example.com", "agent")
    path = f"/console/m/demo-shop/reviews/{shop['published']}"
    fields = _form((await client.get(path)).text, f"{path}/reply")
    assert (await client.post(f"{path}/reply", data={**fields, "reply": HOSTILE})).status_code == 303
    client.cookies.clear()

    for query in ("per_page=50", "per_page=5"):  # per_page=5: what embed.js's list asks for
        data = (await client.get(f"/widgets/v1/demo-shop/reviews.json?{query}")).json()
        mine = next(r for r in data["reviews"] if r["id"] == shop["published"])
        assert mine["reply"]["body"] == HOSTILE and mine["reply"]["replied_at"].endswith("Z")
    raw = (await client.get("/widgets/v1/demo-shop/reviews.json?per_page=50")).text
    widget = (await client.get("/widgets/v1/demo-shop/widget.html")).text
    assert "<script>alert(1)</script>" not in widget
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &#34;quotes&#34; &#39;single&#39;" in widget
    # embed.js's review list puts the reply in with textContent, under the review, with its label.
    js = (await client.get("/widgets/v1/js/reviews.js")).text
    # (Served with short local names: the properties and the string keys keep theirs.)
    assert ".reply.body" in js and re.search(r'\b\w\("reply"', js) and "innerHTML" not in js
    strings = (await client.get("/widgets/v1/i18n/de.json")).json()
    assert strings["reply"] == "Antwort von {name}"

    # An edit shows on the next request: the widgets' cache is versioned by the replies too.
    await sign_in(client, services, "agent@example.com", "agent")
    fields = _form((await client.get(path)).text, f"{path}/reply")
    assert (await client.post(f"{path}/reply", data={**fields, "reply": "Edited reply"})).status_code == 303
    client.cookies.clear()
    data = (await client.get("/widgets/v1/demo-shop/reviews.json?per_page=50")).json()
    assert next(r for r in data["reviews"] if r["id"] == shop["published"])["reply"]["body"] == "Edited reply"
    assert "Edited reply" in (await client.get("/widgets/v1/demo-shop/widget.html")).text
    # Held, pending, rejected and withdrawn reviews, and another shop's, still never show.
    assert "LEAKED" not in raw and "Held one" not in raw and "Withdrawn one" not in raw


async def test_every_worker_sends_the_reply_emails(services: Services) -> None:
    assert NOTICE_JOB in all_tasks(services)


# --- reports -----------------------------------------------------------------------------------


async def test_a_report_reaches_the_moderators_reported_tab_and_the_merchant_sees_the_outcome(
        client: httpx.AsyncClient, services: Services, shop: dict[str, Any]) -> None:
    await sign_in(client, services, "agent@example.com", "agent")
    rejected_later, kept_later = shop["published"], shop["german"]
    for rid, reason, note in ((rejected_later, "offensive", f"Insults our staff {HOSTILE}"),
                              (kept_later, "not_a_buyer", "")):
        path = f"/console/m/demo-shop/reviews/{rid}"
        page = await client.get(path)
        fields = _form(page.text, f"{path}/report")
        missing = await client.post(f"{path}/report", data=fields)
        assert missing.status_code == 422 and "Please choose why" in missing.text
        r = await client.post(f"{path}/report", data={**fields, "reason": reason, "note": note})
        assert r.status_code == 303 and r.headers["location"] == f"{path}?saved=report"
    page = await client.get(f"/console/m/demo-shop/reviews/{rejected_later}")
    assert "Waiting for a moderator" in page.text and "Offensive" in page.text
    assert HOSTILE not in page.text
    # A report never hides the review.
    assert await services.pool.fetchval("SELECT state FROM reviews WHERE id = $1", rejected_later) == "published"
    client.cookies.clear()
    listed = (await client.get("/widgets/v1/demo-shop/reviews.json?per_page=50")).json()["reviews"]
    assert rejected_later in {r["id"] for r in listed}

    await sign_in(client, services, "mod@example.com", "moderator", None)
    home = await client.get("/console")
    assert 'tab=reported">Reported</a>: 2' in home.text
    tab = await client.get("/console/queue?tab=reported")
    assert tab.status_code == 200 and "Reported (2)" in tab.text
    assert f"#{rejected_later}<" in tab.text and f"#{kept_later}<" in tab.text
    assert "Offensive" in tab.text and "Not a real buyer" in tab.text and "agent@example.com" in tab.text
    assert "Insults our staff" in tab.text and HOSTILE not in tab.text
    assert tab.text.index(f"#{rejected_later}<") < tab.text.index(f"#{kept_later}<")  # oldest report first
    assert "Great shoes" in tab.text and "Held one" not in tab.text

    # The moderator decides as for any review: reject one, keep (publish) the other.
    page = await client.get(f"/console/reviews/{rejected_later}?tab=reported")
    assert "Reported by the shop" in page.text and "Insults our staff" in page.text
    reject = _form(page.text, "", marker="data-reject-form")
    assert reject["decision"] == "reject"
    r = await client.post(f"/console/reviews/{rejected_later}/decision",
                          data={**reject, "code": "offensive", "note": ""})
    assert r.status_code == 303, r.text
    page = await client.get(f"/console/reviews/{kept_later}")
    keep = _form(page.text, f"/console/reviews/{kept_later}/decision")
    assert keep["decision"] == "publish"
    assert (await client.post(f"/console/reviews/{kept_later}/decision", data=keep)).status_code == 303
    tab = await client.get("/console/queue?tab=reported")
    assert "Reported (0)" in tab.text and f"#{rejected_later}<" not in tab.text

    await sign_in(client, services, "viewer@example.com", "viewer")
    page = await client.get(f"/console/m/demo-shop/reviews/{rejected_later}")
    assert "Outcome: a moderator rejected the review (Offensive)." in page.text
    assert "Not published: Attest's moderators rejected it" in page.text
    page = await client.get(f"/console/m/demo-shop/reviews/{kept_later}")
    assert "Outcome: a moderator looked at the review and kept it." in page.text
    closes = await services.pool.fetch(
        "SELECT after FROM audit_log WHERE action = 'report.close' ORDER BY id")
    assert [c["after"]["outcome"] for c in closes] == ["rejected", "kept"]


# --- the export --------------------------------------------------------------------------------


async def test_the_exports_stream_every_review_of_the_shop_only_without_personal_data(
        client: httpx.AsyncClient, services: Services, merchant: Fixture, shop: dict[str, Any],
        monkeypatch: pytest.MonkeyPatch) -> None:
    invited, _invitation = await invited_review(client, services, merchant[1])
    await sign_in(client, services, "viewer@example.com", "viewer")
    page = await client.get("/console/m/demo-shop")
    assert 'href="/console/m/demo-shop/export.csv"' in page.text
    expected = {v for k, v in shop.items() if k != "other"} | {invited}

    r = await client.get("/console/m/demo-shop/export.csv")
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/csv; charset=utf-8"
    assert 'attachment; filename="demo-shop-reviews.csv"' in r.headers["content-disposition"]
    body = r.content.decode("utf-8")
    assert body.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(body.removeprefix("\ufeff"))))
    assert {int(row["attest_id"]) for row in rows} == expected
    assert set(rows[0]) == set(listing.EXPORT_FIELDS)
    for field in ("id", "product_id", "order_id", "lang", "rating", "title", "body", "author_name", "created_at",
                  "collection_method", "verification", "state"):
        assert field in rows[0]
    by_id = {int(row["attest_id"]): row for row in rows}
    assert by_id[invited]["collection_method"] == "invited" and by_id[invited]["verification"] == "verified_order"
    assert by_id[invited]["order_id"] == "B-77" and by_id[invited]["lang"] == "de"
    assert by_id[shop["imported"]]["verification"] == "unverified"
    assert by_id[shop["imported"]]["reply"] == "Thanks from the old platform"
    assert {by_id[shop[s]]["state"] for s in ("held", "pending", "rejected", "withdrawn")} == {
        "held", "pending", "rejected", "withdrawn"}
    # A cell a spreadsheet would run is plain text.
    assert by_id[shop["formula"]]["title"] == "'" + FORMULA and by_id[shop["formula"]]["body"] == "'@SUM(1+1)"
    for secret in ("secret-author-hash", "secret-ip-hash", BUYER, "LEAKED", "Jonas Becker"):
        assert secret not in body

    r = await client.get("/console/m/demo-shop/export.jsonl")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/x-ndjson")
    lines = [json.loads(line) for line in r.text.splitlines()]
    assert {line["attest_id"] for line in lines} == expected
    found = {line["attest_id"]: line for line in lines}
    assert found[shop["formula"]]["title"] == FORMULA  # JSON needs no neutralising
    assert found[invited]["verification"] == "verified_order" and found[invited]["rating"] == 4
    for secret in ("secret-author-hash", "secret-ip-hash", BUYER, "LEAKED", "author_hash", "ip_hash", "email"):
        assert secret not in r.text
    exports = await services.pool.fetchval("SELECT count(*) FROM audit_log WHERE action = 'console.export'")
    assert exports == 2

    # Streamed: the rows come from a cursor a batch at a time and leave in chunks.
    monkeypatch.setattr(export, "CSV_ROWS_PER_CHUNK", 2)
    merchant_id = merchant[0].id
    chunks = [c async for c in export._csv_chunks(listing.export(services.pool, merchant_id, batch=2))]
    assert len(chunks) >= 5
    assert "".join(chunks) == body
    # A viewer's export in the export's shape re-imports (Attest's own format).
    assert rows[0]["merchant"] == "demo-shop"
