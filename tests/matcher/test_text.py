import pytest

from matcher.text import NorwegianAnalyzer, content_hash, profile_warnings, sentences


@pytest.fixture(scope="module")
def analyzer() -> NorwegianAnalyzer:
    return NorwegianAnalyzer()


@pytest.mark.parametrize(
    "word,parts",
    [
        ("arbeidsinkludering", ("arbeid", "inkludering")),
        ("leksehjelp", ("lekse", "hjelp")),
        ("velferdsteknologi", ("velferd", "teknologi")),
        ("arbeid", ("arbeid",)),
        ("barne-og-ungdomsarbeid", ("barne", "og", "ungdomsarbeid")),
    ],
)
def test_compounds_are_split(analyzer: NorwegianAnalyzer, word: str, parts: tuple) -> None:
    assert analyzer.split_compound(word) == parts


def test_compound_parts_match_the_plain_words(analyzer: NorwegianAnalyzer) -> None:
    need = set(analyzer("Vi trenger arbeidsinkludering"))
    offer = set(analyzer("Vi gir inkludering i arbeid"))
    assert {"arbeid", "inkludering"} <= need & offer


def test_stop_words_of_both_written_forms_go(analyzer: NorwegianAnalyzer) -> None:
    assert analyzer("og det er ikke noe hos oss") == []
    assert analyzer("eg ikkje dei frå berre") == []
    assert "arbeid" in analyzer("arbeid")  # a content word the ISO list holds is kept


def test_bokmaal_and_nynorsk_forms_share_stems(analyzer: NorwegianAnalyzer) -> None:
    assert set(analyzer("flyktninger")) & set(analyzer("flyktningar"))


def test_sentences_and_hash() -> None:
    assert sentences("Én. To!\nTre?") == ["Én.", "To!", "Tre?"]
    assert content_hash("a  b") == content_hash("a b")


def test_thin_profiles_get_advice_not_refusal() -> None:
    assert len(profile_warnings("Hjelp til eldre.", kind="need")) == 2
    assert "målgruppe" in " ".join(profile_warnings("Vi trenger noe.", kind="need"))
    good = (
        "Vi trenger arbeidstrening for unge voksne i bydelen som har falt ut av skolen, "
        "med tett oppfølging av en fast veileder i et ekte arbeidsmiljø."
    )
    assert profile_warnings(good, kind="need") == []
    offer = "Vi tilbyr besøksvenner."
    assert "kort" in profile_warnings(offer, kind="offer")[0]
