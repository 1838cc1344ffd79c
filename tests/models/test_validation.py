import pytest

from models.validation import org_nr_problem, place_problem, theme_problem, with_check_digit


@pytest.mark.parametrize("nr", ["974760673", "923609016", "914778271"])
def test_real_org_numbers_pass_mod11(nr: str) -> None:
    # 974760673 is Brønnøysundregistrene, 923609016 Equinor, 914778271 a valid test number
    assert org_nr_problem(nr) is None


@pytest.mark.parametrize(
    "nr,reason",
    [
        ("974760674", "kontrollsifferet"),
        ("12345678", "9 siffer"),
        ("abcdefghi", "9 siffer"),
    ],
)
def test_bad_org_numbers_are_explained(nr: str, reason: str) -> None:
    problem = org_nr_problem(nr)
    assert problem is not None and reason in problem


def test_check_digit_ten_has_no_valid_number() -> None:
    # Eight digits whose weighted sum leaves remainder 1 need check digit 10: no such org nr.
    for n in range(10_000_000, 10_000_200):
        eight = str(n)
        full = with_check_digit(eight)
        if full is None:
            assert all(org_nr_problem(eight + str(d)) for d in range(10))
        else:
            assert org_nr_problem(full) is None


def test_theme_and_place_checks() -> None:
    assert theme_problem("eldre") is None
    assert "ukjent tema" in (theme_problem("gamle") or "")
    assert place_problem("Bydel Grorud") is None
    assert place_problem("Asker") is None
    assert "ukjent bydel" in (place_problem("Bydel Bergen") or "")


@pytest.mark.parametrize("bad", ["\x00", "\x07", "\x1b[31m", "\x7f"])
def test_control_characters_are_refused_in_text_and_lists(bad: str) -> None:
    from models.importing import ImportValidationError, validate_rows
    from models.validation import CONTROL_PROBLEM

    row = {
        "id": "se-test",
        "name": f"Test{bad}AS",
        "org_nr": "923804668",
        "description": "Vi lager mat.\tMed\nlinjeskift og tabulator er det tekst.",
        "themes": ["eldre"],
        "service_areas": [f"Oslo{bad}"],
        "language": "nb",
    }
    with pytest.raises(ImportValidationError) as caught:
        validate_rows("entrepreneurs", [row])
    assert {(e.field, e.reason) for e in caught.value.errors} == {
        ("name", CONTROL_PROBLEM),
        ("service_areas", CONTROL_PROBLEM),
    }
    # tab and line breaks are text
    clean = {**row, "name": "Test AS", "service_areas": ["Oslo"]}
    assert validate_rows("entrepreneurs", [clean])[0]["description"].startswith("Vi lager mat.")


@pytest.mark.parametrize("invisible", ["\u0092", "\u200b\u200b", "\u00a0\u2060", "\ufeff"])
def test_a_required_text_of_invisible_characters_is_missing(invisible: str) -> None:
    from models.importing import ImportValidationError, validate_rows
    from models.validation import INVISIBLE_PROBLEM, visible

    assert not visible(invisible) and visible(f"Ø{invisible}")
    row = {
        "id": "ch-test",
        "organisation": "Bydel Alna",
        "title": invisible,
        "description": "Eldre trenger selskap.",
        "themes": ["eldre"],
        "language": "nb",
    }
    with pytest.raises(ImportValidationError) as caught:
        validate_rows("challenges", [row])
    assert {(e.field, e.reason) for e in caught.value.errors} == {("title", INVISIBLE_PROBLEM)}
