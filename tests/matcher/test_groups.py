from matcher.groups import groups_of, infer_groups
from matcher.ranking import Evidence, Profile, features_for


def test_groups_are_read_from_bokmal_nynorsk_and_english() -> None:
    assert infer_groups("Mange over 80 år bor alene; flere pensjonister er ensomme.") == {"eldre"}
    assert infer_groups("Nyankomne foreldre kjenner ikke tilbudene.") == {
        "innvandrere og flyktninger",
        "foreldre og familier",
    }
    assert infer_groups("Tilbod til born og ungdommar i bygda.") == {"barn", "ungdom"}
    assert infer_groups("We help refugees and young adults find work.") == {
        "innvandrere og flyktninger",
        "unge voksne",
    }
    assert infer_groups("Vi reparerer sykler.") == set()
    # a word that only begins like a group is no group ("rusk", "barnslig" is, though)
    assert "rus" not in infer_groups("Vi rydder rusk og rask i parken.")


def test_declared_groups_are_read_the_same_way() -> None:
    assert groups_of(["Ungdom 16–20"], "Vi driver et verksted.") == ["ungdom"]


def test_the_group_feature_is_a_miss_a_match_or_unknown() -> None:
    need = Profile(id=1, target_groups=["ungdom"])
    other = Profile(id=2, target_groups=["eldre"])
    same = Profile(id=3, target_groups=["ungdom", "barn"])
    unknown = Profile(id=4, target_groups=[])
    ev = Evidence(cosine=0.8)
    assert features_for(need, other, ev)[0]["target_groups"] == 0.0  # walking football for 60+
    assert features_for(need, same, ev)[0]["target_groups"] == 1.0
    assert features_for(need, unknown, ev)[0]["target_groups"] == 0.5
