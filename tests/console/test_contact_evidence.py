"""A campaign of imported reviews shows the moderator what its authors' addresses share, in words, on the
review's file and on the campaign's page."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from reviews.accounts import manage, users
from reviews.platform.services import Services
from tests.console.test_appeal_rule import _sign_in
from tests.console.test_console import PASSWORD
from tests.screening.test_explain import _import, addressed_campaign

pytestmark = pytest.mark.slow  # over a second a test: `make test` runs it, `make check` does not


async def test_the_moderator_reads_what_the_campaigns_addresses_share(
        client: httpx.AsyncClient, services: Services, tmp_path: Path) -> None:
    await _import(services, tmp_path, addressed_campaign())
    first = await services.pool.fetchval("SELECT id FROM reviews WHERE external_id = 'x-300'")
    user, _link = await manage.invite(services, "mod@example.com", "moderator", None, actor="test", all_merchants=True)
    async with services.pool.acquire() as conn:
        await users.set_password(conn, user.id, PASSWORD)
    await _sign_in(client, "mod@example.com")
    for path in (f"/console/reviews/{first}", f"/console/campaigns/{first}"):
        page = (await client.get(path)).text
        assert "3 of 3 members' addresses look generated" in page, path
        assert "Among the same shops' other imported authors: 0 of 8." in page
        assert "3 of 3 members' addresses are at one private domain" in page
        assert "deals-mail" not in page  # only the shape is kept
