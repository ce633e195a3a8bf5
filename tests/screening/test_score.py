"""The graded score that orders the held queue: each kind graded by what its evidence measures, never
1.00, a copy above a likeness, more authors above fewer, another shop above the same one; a review's
further flags add less than the first."""

from __future__ import annotations

from reviews.screening.score import CEILING, grade, of_flags

NEAR = {"related": [7], "merchants": ["a", "a"]}
ELSEWHERE = {"related": [7], "merchants": ["a", "b"]}


def test_each_kind_is_graded_by_its_evidence_and_none_reaches_one() -> None:
    exact = grade("exact_duplicate", 1.0, NEAR).value
    exact_elsewhere = grade("exact_duplicate", 1.0, ELSEWHERE).value
    near_92 = grade("near_duplicate", 0.92, NEAR).value
    near_61 = grade("near_duplicate", 0.61, NEAR).value
    near_elsewhere = grade("near_duplicate", 0.92, ELSEWHERE).value
    campaign_3 = grade("campaign", 3.0, {"authors": 3, "merchants": ["a"]}).value
    campaign_9 = grade("campaign", 9.0, {"authors": 9, "merchants": ["a"]}).value
    campaign_30 = grade("campaign", 30.0, {"authors": 30, "merchants": ["a", "b"]}).value
    burst = grade("burst", 6.0, {"count": 8, "rating": 5}).value
    twice = grade("self_duplicate", 0.95, NEAR).value
    assert exact_elsewhere > exact > near_elsewhere > near_92 > near_61
    assert campaign_30 > campaign_9 > campaign_3
    assert burst < near_61 and twice < near_61  # about a window, or one buyer twice: weaker than a copy
    every = [exact, exact_elsewhere, near_92, near_61, near_elsewhere, campaign_3, campaign_9, campaign_30, burst,
             twice]
    assert all(0 < v < 1 for v in every)
    assert len({round(v, 2) for v in every}) == len(every)  # ten situations, ten scores


def test_further_flags_add_less_than_the_first_and_the_ceiling_holds() -> None:
    near = of_flags([("near_duplicate", 0.92, NEAR)])
    both = of_flags([("near_duplicate", 0.92, NEAR), ("campaign", 9.0, {"authors": 9, "merchants": ["a"]})])
    assert both.kind == "campaign" and both.facts["num"] == 9  # the flag that weighs most says why
    assert near.value < both.value < 1
    many = of_flags([("exact_duplicate", 1.0, ELSEWHERE)] * 5 + [("campaign", 80.0, {"authors": 80})] * 3)
    assert many.value == CEILING
    assert of_flags([]).value == 0.0


def test_a_campaign_of_members_in_one_window_spreads_by_evidence_not_by_flag_count() -> None:
    """A page of held reviews from different situations reads as many scores, not a column of 1.00s."""
    page = [of_flags(flags).value for flags in (
        [("exact_duplicate", 1.0, ELSEWHERE)],
        [("near_duplicate", 0.7, NEAR)],
        [("near_duplicate", 0.85, ELSEWHERE), ("campaign", 4.0, {"authors": 4, "merchants": ["a", "b"]})],
        [("campaign", 12.0, {"authors": 12, "merchants": ["a"]})],
        [("burst", 9.0, {"count": 12, "rating": 1})],
        [("import_moderation", 1.0, {})],
    )]
    assert max(page) < 1 and len(set(page)) == len(page)
    assert max(page) - min(page) > 0.3
