from __future__ import annotations

import numpy as np
import pytest

from matcher.ranking import (
    DEFAULT_WEIGHTS,
    FEATURE_LABELS,
    Evidence,
    Place,
    Profile,
    Suggestion,
    area_fit,
    best_sentence_pair,
    equal_treatment,
    for_review,
    gini,
    key_phrases,
    phrase_words,
    rescale_similarity,
    score_candidates,
    with_confidence,
)
from matcher.text import NorwegianAnalyzer

GRORUD = Place(bydel="Bydel Grorud", kommune="Oslo")


def ev(cos: float, lex: float = 0.0) -> Evidence:
    return Evidence(cosine=cos, lexical=lex)


@pytest.mark.parametrize(
    "areas,score",
    [
        (["Bydel Grorud"], 1.0),
        (["Oslo"], 1.0),
        (["Hele landet"], 0.7),
        (["Asker", "Bærum"], 0.0),
        ([], 0.0),
    ],
)
def test_area_fit_follows_the_place_convention(areas: list[str], score: float) -> None:
    assert area_fit(areas, GRORUD)[0] == score


def test_area_is_a_preference_not_a_wall() -> None:
    need = Profile(id=1, themes=["eldre"], place=GRORUD)
    far = Profile(id=2, themes=["eldre"], service_areas=["Asker"])
    near = Profile(id=3, themes=["eldre"], service_areas=["Oslo"])
    ranked = score_candidates(need, [far, near], [ev(0.93), ev(0.78)])
    assert ranked[0].id == 2  # much better text fit from Asker still wins


def test_score_is_the_sum_of_its_explained_parts() -> None:
    need = Profile(id=1, themes=["eldre", "frivillighet"], target_groups=["eldre"], place=GRORUD)
    cand = Profile(
        id=9,
        themes=["eldre"],
        target_groups=["Eldre"],
        service_areas=["Oslo"],
        capacity=4,
        active=1,
        approved=3,
        decided=4,
    )
    [s] = score_candidates(need, [cand], [ev(0.85, 0.4)], theme_labels={"eldre": "Eldre"})
    parts = s.explanation["parts"]
    assert set(parts) == {FEATURE_LABELS[k] for k in DEFAULT_WEIGHTS}
    assert s.score == pytest.approx(sum(parts.values()), abs=1e-3)
    assert s.features["themes"] == 0.5 and s.features["target_groups"] == 1.0
    assert s.features["capacity"] == 0.75 and s.features["history"] == pytest.approx(4 / 6)
    assert s.features["lexical"] == pytest.approx(0.4)
    assert s.explanation["themes"] == ["Eldre"]
    assert s.explanation["capacity"] == "1 aktive samarbeid av 4 mulige"
    assert "3 av 4" in s.explanation["history"]
    assert "Felles temaer: Eldre" in s.explanation["summary"]


def test_no_history_and_unknown_capacity_are_neutral() -> None:
    need = Profile(id=1, place=GRORUD)
    [s] = score_candidates(need, [Profile(id=2, service_areas=["Oslo"])], [ev(0.8)])
    assert s.features["history"] == 0.5 and s.features["capacity"] == 0.5


def test_cross_language_pairs_do_not_lose_on_shared_words() -> None:
    need = Profile(id=1, place=GRORUD, language="nb")
    en = Profile(id=2, service_areas=["Oslo"], language="en")
    nb = Profile(id=3, service_areas=["Oslo"], language="nb")
    en_s, nb_s = score_candidates(need, [en, nb], [ev(0.85, 0.0), ev(0.85, 0.0)])
    assert {en_s.id, nb_s.id} == {2, 3}
    by_id = {s.id: s for s in (en_s, nb_s)}
    assert by_id[2].features["lexical"] == by_id[2].features["similarity"]
    assert by_id[2].explanation["language_note"] and by_id[3].explanation["language_note"] is None


def test_rescale_similarity_is_clipped() -> None:
    assert rescale_similarity(0.2) == 0.0 and rescale_similarity(0.99) == 1.0
    assert 0 < rescale_similarity(0.8) < 1


def test_ties_break_by_id_for_a_stable_order() -> None:
    need = Profile(id=1, place=GRORUD)
    cands = [Profile(id=i, service_areas=["Oslo"]) for i in (5, 3, 4)]
    assert [s.id for s in score_candidates(need, cands, [ev(0.8)] * 3)] == [3, 4, 5]


def _s(i: int, score: float) -> Suggestion:
    return Suggestion(id=i, score=score, features={}, explanation={})


def test_equal_treatment_reorders_only_within_the_tolerance() -> None:
    ranked = [_s(1, 0.90), _s(2, 0.89), _s(3, 0.88), _s(4, 0.80), _s(5, 0.79)]
    exposure = {1: 9, 2: 0, 3: 4, 4: 7, 5: 0}
    out = equal_treatment(ranked, exposure, tolerance=0.03)
    assert [s.id for s in out] == [2, 3, 1, 5, 4]  # never crosses the 0.88 -> 0.80 gap
    assert "likebehandling" in out[0].explanation["equal_treatment"]
    assert all(s.explanation["exposure"] == exposure[s.id] for s in out)
    assert [s.id for s in equal_treatment(ranked, {}, tolerance=0.03)] == [1, 2, 3, 4, 5]


def test_confidence_reads_the_score_and_the_distance_to_the_best() -> None:
    from matcher import confidence

    out = with_confidence([_s(1, 0.80), _s(2, 0.78), _s(3, 0.40)])
    assert [s.id for s in out] == [1, 2, 3]  # labelled, never cut or reordered
    p = [s.confidence for s in out]
    assert p[0] > p[1] > p[2] and all(0.0 <= x <= 1.0 for x in p)
    for s in out:
        c = s.explanation["confidence"]
        assert c["probability"] == s.confidence
        assert c["label"] == confidence.LABELS[confidence.level(s.confidence)]
    # the same score is less sure far below a much better candidate than at the top
    alone = with_confidence([_s(9, 0.60)])[0].confidence
    below = with_confidence([_s(8, 0.95), _s(9, 0.60)])[1].confidence
    assert below < alone
    assert [s.id for s in for_review(out)] == [
        s.id for s in out if s.confidence >= confidence.REVIEW_CUT
    ]


def test_gini() -> None:
    assert gini([1, 1, 1, 1]) == pytest.approx(0.0)
    assert gini([0, 0, 0, 4]) == pytest.approx(0.75)
    assert gini([]) == 0.0 and gini([0, 0]) == 0.0


def test_best_sentence_pair_and_key_phrases() -> None:
    src = ["Eldre faller hjemme.", "Vi trenger vaktmester."]
    cand = ["Vi driver en kafé.", "Vi skifter lyspærer hjemme hos eldre."]
    sv = np.array([[1.0, 0.0], [0.0, 1.0]])
    cv = np.array([[0.0, 0.5], [0.9, 0.1]])
    assert best_sentence_pair(src, sv, cand, cv) == (src[0], cand[1])
    shared = np.array([[0.0, 2.0], [0.0, 0.0]])  # two shared words tip a near tie
    cv2 = np.array([[0.9, 0.0], [0.89, 0.0]])
    assert best_sentence_pair(src, sv, cand, cv2) == (src[0], cand[0])
    assert best_sentence_pair(src, sv, cand, cv2, shared) == (src[0], cand[1])
    a = NorwegianAnalyzer()
    phrases = key_phrases(a.terms(" ".join(src)), a.terms(" ".join(cand)))
    assert phrases == ["eldre", "hjemme"]


def test_a_need_of_oslo_as_a_whole_is_covered_by_oslos_bydeler() -> None:
    etat = Place(bydel=None, kommune="Oslo")  # e.g. Bymiljøetaten: Oslo, no bydel
    score, text = area_fit(["Bydel Alna", "Bydel Grorud", "Bydel Stovner"], etat)
    assert score == 1.0 and text == "Arbeider i Oslo (Bydel Alna, Bydel Grorud og 1 til)"
    assert area_fit(["Asker"], etat) == (0.0, "Arbeider ikke i Oslo (Asker)")
    # a bydel's need is not covered by another bydel
    assert area_fit(["Bydel Alna"], GRORUD)[0] == 0.0


def test_key_phrases_name_the_word_each_text_uses() -> None:
    a = NorwegianAnalyzer()
    need = a.terms("Vi ønsker besøksvenner for eldre som er ensomme.")
    offer = a.terms("Vi besøker eldre som er ensomme hjemme.")
    # "besøksvenner" shares only the compound part "besøk" with the offer's "besøker"
    assert key_phrases(need, offer) == ["besøksvenner / besøker", "eldre", "ensomme"]
    assert phrase_words(["besøksvenner / besøker", "eldre"]) == ["besøksvenner", "besøker", "eldre"]
