from __future__ import annotations

import pytest

from matcher.ranking import (
    DEFAULT_WEIGHTS,
    FEATURE_LABELS,
    Place,
    Profile,
    area_fit,
    rescale_similarity,
    score_candidates,
)

GRORUD = Place(bydel="Bydel Grorud", kommune="Oslo")


@pytest.mark.parametrize("areas,score", [
    (["Bydel Grorud"], 1.0),
    (["Oslo"], 1.0),
    (["Hele landet"], 0.7),
    (["Asker", "Bærum"], 0.0),
    ([], 0.0),
])
def test_area_fit_follows_the_place_convention(areas: list[str], score: float) -> None:
    assert area_fit(areas, GRORUD)[0] == score


def test_area_is_a_preference_not_a_wall() -> None:
    need = Profile(id=1, themes=["eldre"], place=GRORUD)
    far = Profile(id=2, themes=["eldre"], service_areas=["Asker"])
    near = Profile(id=3, themes=["eldre"], service_areas=["Oslo"])
    ranked = score_candidates(need, [far, near], [0.93, 0.78])
    assert ranked[0].id == 2  # much better text fit from Asker still wins


def test_score_is_the_sum_of_its_explained_parts() -> None:
    need = Profile(id=1, themes=["eldre", "frivillighet"], target_groups=["eldre"], place=GRORUD)
    cand = Profile(id=9, themes=["eldre"], target_groups=["Eldre"], service_areas=["Oslo"])
    [s] = score_candidates(need, [cand], [0.85], theme_labels={"eldre": "Eldre"})
    parts = s.explanation["parts"]
    assert set(parts) == {FEATURE_LABELS[k] for k in DEFAULT_WEIGHTS}
    assert s.score == pytest.approx(sum(parts.values()), abs=1e-3)
    assert s.features["themes"] == 0.5 and s.features["target_groups"] == 1.0
    assert s.explanation["themes"] == ["Eldre"]
    assert "Felles temaer: Eldre" in s.explanation["summary"]


def test_rescale_similarity_is_clipped() -> None:
    assert rescale_similarity(0.2) == 0.0 and rescale_similarity(0.99) == 1.0
    assert 0 < rescale_similarity(0.8) < 1


def test_ties_break_by_id_for_a_stable_order() -> None:
    need = Profile(id=1, place=GRORUD)
    cands = [Profile(id=i, service_areas=["Oslo"]) for i in (5, 3, 4)]
    assert [s.id for s in score_candidates(need, cands, [0.8, 0.8, 0.8])] == [3, 4, 5]
