"""A topic keeps its id across recomputations while it is the same topic, so the links made to it
(a digest's, a bookmarked drill-down, a public page's `?topic=` indexed by search engines) keep
leading to it.

Two topics are the same when they share enough of their clauses: each new topic takes the id of the
old topic of its product whose clauses it shares most, measured by Jaccard (shared clauses over
the clauses of either), when that reaches `FLOOR`. An old id goes to at most one new topic; the
pairs are taken most similar first, ties by the most shared clauses, then the earlier new topic and
the smaller old id, so the same topics always get the same ids. An old topic no new one takes is
gone, and its id with it: its links answer as for any unknown topic.

A clause is known by its review and the md5 of its words, not by its offsets: a review edited
elsewhere in its text keeps what it said about the topic.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from fractions import Fraction

Clause = tuple[int, str]  # review id, md5 of the clause's text

# At least one clause shared for every two that are not. Measured on the development corpus
# (`bench/topics.py --ids`: each product's reviews added one at a time, then each withdrawn in
# turn; 183 times a topic followed an old one of its aspect that shared clauses with it): at 1/3, 181
# kept their id and none took the id of a topic of another aspect; at 1/2, 6 lost theirs (small
# topics of 3-4 clauses that swap one: 2 shared of 5), at 0.6, 18. The only old and new topics of
# different aspects that shared clauses at all shared 1 in 7 (0.14): 1/3 stays well above it.
# Below 1/2 an old topic may be that close to two new ones (a split): the closer takes its id.
FLOOR = Fraction(1, 3)


def carry(old: Mapping[int, set[Clause]], new: Sequence[set[Clause]],
          floor: Fraction = FLOOR) -> list[int | None]:
    """For each new topic (its clauses), the id of the old topic it continues, or None."""
    pairs = []
    for j, clauses in enumerate(new):
        for old_id, before in old.items():
            shared = len(clauses & before)
            if not shared:
                continue
            similarity = Fraction(shared, len(clauses | before))
            if similarity >= floor:
                pairs.append((-similarity, -shared, j, old_id))
    pairs.sort()
    ids: list[int | None] = [None] * len(new)
    taken: set[int] = set()
    for _, _, j, old_id in pairs:
        if ids[j] is None and old_id not in taken:
            ids[j] = old_id
            taken.add(old_id)
    return ids
