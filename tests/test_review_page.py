from datetime import timedelta

import httpx

from reviews import tokens
from reviews.merchants import Merchant
from reviews.services import Services
from tests.helpers import auth, order_event
from tests.test_end_to_end import FormParser

Fixture = tuple[Merchant, str]


async def invite(client: httpx.AsyncClient, services: Services, key: str, **kwargs: object) -> str:
    r = await client.post("/api/v1/orders", json=order_event(**kwargs), headers=auth(key))  # type: ignore[arg-type]
    assert r.status_code == 200
    inv_id = await services.pool.fetchval("SELECT max(id) FROM invitations")
    return "/r/" + services.signer.sign(tokens.REVIEW, {"i": inv_id})


async def form_of(client: httpx.AsyncClient, path: str) -> FormParser:
    page = await client.get(path)
    assert page.status_code == 200, page.text
    form = FormParser()
    form.feed(page.text)
    return form


async def test_tampered_link_is_a_friendly_400(client: httpx.AsyncClient, merchant: Fixture,
                                               services: Services) -> None:
    path = await invite(client, services, merchant[1])
    r = await client.get(path[:-3] + "xyz")
    assert r.status_code == 400
    assert "not valid" in r.text and "Traceback" not in r.text
    r = await client.post(path[:-3] + "xyz", data={"rating_0": "5"})
    assert r.status_code == 400


async def test_expired_link_is_a_friendly_410(client: httpx.AsyncClient, merchant: Fixture,
                                              services: Services) -> None:
    path = await invite(client, services, merchant[1])
    services.clock.advance(timedelta(days=services.settings.review_link_days, seconds=1))
    r = await client.get(path)
    assert r.status_code == 410
    assert "expired" in r.text


async def test_link_of_a_cancelled_order_says_so(client: httpx.AsyncClient, merchant: Fixture,
                                                 services: Services) -> None:
    path = await invite(client, services, merchant[1])
    await client.post("/api/v1/orders", json=order_event(status="cancelled", products=[]), headers=auth(merchant[1]))
    r = await client.get(path)
    assert r.status_code == 410
    assert "cancelled" in r.text


async def test_a_link_for_another_purpose_is_refused(client: httpx.AsyncClient, merchant: Fixture,
                                                     services: Services) -> None:
    await invite(client, services, merchant[1])
    inv_id = await services.pool.fetchval("SELECT max(id) FROM invitations")
    r = await client.get("/r/" + services.signer.sign(tokens.UNSUBSCRIBE, {"i": inv_id}))
    assert r.status_code == 400


async def test_star_link_preselects_the_rating(client: httpx.AsyncClient, merchant: Fixture,
                                               services: Services) -> None:
    path = await invite(client, services, merchant[1])
    form = await form_of(client, path + "?p=1&rating=4")
    assert form.fields.get("rating_1") == "4"
    assert "rating_0" not in form.fields
    assert await services.pool.fetchval("SELECT count(*) FROM reviews") == 0


async def test_invalid_submit_keeps_what_was_typed(client: httpx.AsyncClient, merchant: Fixture,
                                                   services: Services) -> None:
    path = await invite(client, services, merchant[1])
    form = await form_of(client, path)
    typed = "Great shoes, but the sizing runs small <b>really</b>."
    r = await client.post(form.action or path, data={**form.fields, "body_0": typed, "title_0": "Comfy"})
    assert r.status_code == 422
    again = FormParser()
    again.feed(r.text)
    assert again.fields["body_0"] == typed
    assert again.fields["title_0"] == "Comfy"
    assert "Choose a rating" in r.text
    assert "<b>really</b>" not in r.text  # escaped, never markup
    assert await services.pool.fetchval("SELECT count(*) FROM reviews") == 0


async def test_missing_csrf_is_refused_and_nothing_stored(client: httpx.AsyncClient, merchant: Fixture,
                                                          services: Services) -> None:
    path = await invite(client, services, merchant[1])
    form = await form_of(client, path)
    fields = {**form.fields, "rating_0": "5", "body_0": "Lovely shoes, very comfortable."}
    fields.pop("csrf")
    r = await client.post(path, data=fields)
    assert r.status_code == 400
    assert await services.pool.fetchval("SELECT count(*) FROM reviews") == 0


async def test_edit_keeps_history_and_goes_back_to_pending(client: httpx.AsyncClient, merchant: Fixture,
                                                           services: Services) -> None:
    path = await invite(client, services, merchant[1])
    form = await form_of(client, path)
    first = {**form.fields, "rating_0": "2", "body_0": "The soles came apart after a week of use."}
    assert (await client.post(path, data=first)).status_code == 200
    await services.pool.execute("UPDATE reviews SET state = 'published', published_at = now()")
    services.clock.advance(days=2)
    form = await form_of(client, path)
    assert form.fields["body_0"] == first["body_0"]  # the saved review is shown for editing
    second = {**form.fields, "rating_0": "4", "body_0": "The shop replaced them quickly, the new pair is fine."}
    assert (await client.post(path, data=second)).status_code == 200
    review = await services.pool.fetchrow("SELECT * FROM reviews")
    assert (review["rating"], review["state"], review["edited_at"] is not None) == (4, "pending", True)
    versions = await services.pool.fetch("SELECT rating, body FROM review_versions")
    assert [(v["rating"], v["body"]) for v in versions] == [(2, first["body_0"])]
    assert await services.pool.fetchval("SELECT count(*) FROM reviews") == 1


async def test_page_speaks_the_buyers_language(client: httpx.AsyncClient, merchant: Fixture,
                                               services: Services) -> None:
    path = await invite(client, services, merchant[1], locale="de-AT")
    r = await client.get(path)
    assert r.headers["content-language"] == "de"
    assert '<html lang="de">' in r.text
