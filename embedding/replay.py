"""A labeled corpus replayed offline through the detector (`scan_corpus`), with vectors computed once.

The live scan and `scan_corpus` read the same things (both channels' top-k, each review's language,
its author, the background of older reviews), so a corpus whose vectors were computed once, by the
worker or by a benchmark, can be replayed under any number of draws of times in a second or two
each: vectors do not depend on when a review was posted. The quality gate runs its extra draws of
the spread variant this way, after one run through the real pipeline.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from embedding.detect import Doc, Params, scan_corpus


def review_text(row: Mapping[str, Any]) -> str:
    """Title and body as the worker embeds them."""
    title, body = (row.get("title") or "").strip(), (row.get("body") or "").strip()
    return f"{title}\n{body}" if title else body


def _author(row: Mapping[str, Any]) -> str:
    # As the worker: the address when there is one, else the shop-scoped display name.
    email = (row.get("author_email") or "").strip().lower()
    return email or f"name:{row['merchant']}:{(row.get('author_name') or '').strip().lower()}"


def docs(rows: list[Mapping[str, Any]], vectors: Mapping[str, np.ndarray],
         xvectors: Mapping[str, np.ndarray] | None = None) -> list[Doc]:
    """The rows as the detector reads them; `vectors` and `xvectors` by the row's `id`."""
    out = []
    for n, row in enumerate(rows):
        xvec = xvectors.get(row["id"]) if xvectors is not None else None
        out.append(Doc(id=n, merchant=row["merchant"], author=_author(row), product=row.get("product_id"),
                       rating=int(row["rating"]), text=review_text(row),
                       created_at=datetime.fromisoformat(str(row["created_at"]).replace("Z", "+00:00")),
                       vector=np.asarray(vectors[row["id"]], dtype=np.float32),
                       xvector=None if xvec is None else np.asarray(xvec, dtype=np.float32),
                       language=row.get("lang")))
    return out


def flagged(rows: list[Mapping[str, Any]], vectors: Mapping[str, np.ndarray],
            xvectors: Mapping[str, np.ndarray] | None = None, params: Params | None = None) -> set[str]:
    """The ids of the rows that end up with any flag."""
    replayed = docs(rows, vectors, xvectors)
    # One BLAS thread, as in the worker (`reviews.screening.scanning.quiet_blas`): a scan's products
    # are some forty vectors, and OpenBLAS spreading each over the cores made a replay 5x slower.
    with threadpool_limits(1, user_api="blas"):
        flags = scan_corpus(replayed, params)
    return {str(rows[f.review_id]["id"]) for f in flags}
