"""What a campaign's imported authors' addresses have in common, beside its texts: how many look
generated against how many of the same shops' other imported authors, and how many share one
private domain. Added to the campaign flag's evidence for the moderator to read; it never makes or
removes a flag (see `reviews.collection.contacts`)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from embedding.detect import Flag
from reviews.collection.contacts import Contact
from reviews.platform.db import Executor

# How many of the shops' other imported reviews give the background share (the newest ones).
BACKGROUND = 2000


async def annotate(conn: Executor, flags: list[Flag]) -> None:
    """Add `contacts` to each campaign's evidence (the members share one evidence object)."""
    seen: set[int] = set()
    for flag in flags:
        if flag.kind == "campaign" and id(flag.evidence) not in seen:
            seen.add(id(flag.evidence))
            found = await _contacts(conn, [int(i) for i in flag.evidence.get("related", [])])
            if found is not None:
                flag.evidence["contacts"] = found


async def _contacts(conn: Executor, members: list[int]) -> dict[str, Any] | None:
    rows = await conn.fetch("SELECT merchant_id, author_contact FROM reviews WHERE id = ANY($1::bigint[])", members)
    shapes = [c for r in rows if (c := Contact.parse(r["author_contact"])) is not None]
    generated = Counter(c.generated for c in shapes if c.generated)
    private = Counter(c.domain for c in shapes if c.private).most_common(1)
    shared = private[0][1] if private else 0
    if len(shapes) < 2 or (sum(generated.values()) < 2 and shared < 2):
        return None
    others = await conn.fetch(
        """SELECT author_contact FROM reviews
           WHERE merchant_id = ANY($1::bigint[]) AND author_contact IS NOT NULL AND NOT id = ANY($2::bigint[])
           ORDER BY id DESC LIMIT $3""",
        sorted({r["merchant_id"] for r in rows}), members, BACKGROUND)
    background = [c for r in others if (c := Contact.parse(r["author_contact"])) is not None]
    return {
        "with_address": len(shapes),
        "generated": sum(generated.values()),
        "generated_kinds": dict(generated.most_common()),
        "one_private_domain": shared,
        "background": len(background),
        "background_generated": sum(1 for c in background if c.generated),
    }


def describe(found: dict[str, Any]) -> list[str]:
    """The evidence in English, for `attest flags --explain`."""
    lines = []
    if found.get("generated"):
        share = (f"{found['background_generated']} of {found['background']}" if found.get("background")
                 else "no other imported authors to compare with")
        lines.append(f"{found['generated']} of {found['with_address']} members' imported addresses look generated "
                     f"({', '.join(found.get('generated_kinds', {}))}); the shops' other imported authors: {share}")
    if found.get("one_private_domain", 0) >= 2:
        lines.append(f"{found['one_private_domain']} of {found['with_address']} members' addresses are at one "
                     "private domain (not a public mail provider)")
    return lines
