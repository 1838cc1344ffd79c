"""Pages and patterns in a real browser: the error summary (focus on it, links that move focus
to the field), the focus ring's contrast measured on the page, the error page, search and
filters on the public lists, an entrepreneur's profile for staff, and the pages about the
service with its accessibility and privacy statements."""

from __future__ import annotations

import re

import httpx
import pytest

from service.web.pages import TESTED_SIZES
from tests.web.helpers import VIEWPORTS, check_accessibility, login, shot


def _active_id(page) -> str:
    return page.evaluate("document.activeElement && document.activeElement.id")


# -- the error summary ---------------------------------------------------------------------------


def test_login_error_summary_gets_focus_and_links_move_focus(live, browser) -> None:
    page = browser.new_page(locale="nb-NO")
    page.goto(live + "/logg-inn")
    page.get_by_role("button", name="Logg inn").click()
    page.wait_for_load_state()
    summary = page.get_by_role("region", name=re.compile("^For å gå videre"))
    assert summary.is_visible()
    assert _active_id(page) == "feil"  # focus on the summary as the page loads
    assert page.title().startswith("Feil: ")
    links = summary.get_by_role("link")
    assert links.all_inner_texts() == ["Skriv inn e-postadressen din.", "Skriv inn passordet ditt."]
    assert [a.get_attribute("href") for a in links.all()] == ["#email", "#password"]
    # the same words next to each field
    assert page.locator("#password-feil").inner_text() == "Skriv inn passordet ditt."
    check_accessibility(page)
    links.nth(1).click()
    assert _active_id(page) == "password"
    page.get_by_role("link", name="Skriv inn e-postadressen din.").focus()
    page.keyboard.press("Enter")  # by keyboard too
    assert _active_id(page) == "email"
    page.close()


def test_profile_error_summary_names_the_fields_and_focuses_them(live, browser) -> None:
    page = login(browser, live, "entrepreneur")
    page.goto(live + "/profil")
    page.get_by_label("Organisasjonsnummer").fill("123456789")
    for box in page.locator("input[name=themes]").all():
        box.uncheck()
    page.get_by_role("button", name="Lagre profilen").click()
    page.wait_for_load_state()
    assert _active_id(page) == "feil"
    summary = page.locator("#feil")
    texts = summary.get_by_role("link").all_inner_texts()
    assert any(t.startswith("Organisasjonsnummer: ") and "kontrollsiffer" in t for t in texts)
    assert any(t.startswith("Temaer: ") for t in texts)
    check_accessibility(page)
    summary.get_by_role("link", name=re.compile("^Temaer")).click()
    assert _active_id(page) == "themes"  # the first theme checkbox
    summary.get_by_role("link", name=re.compile("^Organisasjonsnummer")).click()
    assert _active_id(page) == "org_nr"
    page.close()


# -- the focus ring ---------------------------------------------------------------------------

RING = """el => {
  const cs = getComputedStyle(el);
  const r = el.getBoundingClientRect();
  const reach = parseFloat(cs.outlineOffset) + parseFloat(cs.outlineWidth) + 2;
  const background = (x, y) => {
    if (x < 0 || y < 0 || x >= innerWidth || y >= innerHeight) return null;
    for (let e = document.elementFromPoint(x, y); e; e = e.parentElement) {
      const c = getComputedStyle(e).backgroundColor;
      if (c !== "rgba(0, 0, 0, 0)" && c !== "transparent") return c;
    }
    return getComputedStyle(document.documentElement).backgroundColor || "rgb(255, 255, 255)";
  };
  // just outside the outer ring, right of and below the element: what the ring is seen against
  const around = [background(r.right + reach, r.top + r.height / 2),
                  background(r.left + r.width / 2, r.bottom + reach)].filter(c => c);
  return {tag: el.tagName, text: (el.textContent || el.id || "").trim().slice(0, 40),
          style: cs.outlineStyle, width: parseFloat(cs.outlineWidth), outer: cs.outlineColor,
          inner: cs.boxShadow, around: around};
}"""


def _rgb(css: str) -> tuple[float, float, float]:
    r, g, b = (float(x) for x in re.findall(r"[\d.]+", css)[:3])
    return r, g, b


def _luminance(rgb: tuple[float, float, float]) -> float:
    def channel(c: float) -> float:
        c /= 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    la, lb = sorted((_luminance(_rgb(a)), _luminance(_rgb(b))), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def test_contrast_formula() -> None:
    assert round(contrast("rgb(0, 0, 0)", "rgb(255, 255, 255)"), 1) == 21.0
    assert round(contrast("rgb(245, 183, 0)", "rgb(255, 255, 255)"), 1) == 1.8  # the old ring


def test_focus_ring_has_3_to_1_against_every_background(live, browser) -> None:
    """Tab through the open needs page (header on the brand colour, the filter form on white,
    the cards on grey, the footer) and measure the ring on each element it reaches."""
    page = browser.new_page(viewport=VIEWPORTS["desktop"], locale="nb-NO")
    page.goto(live + "/")
    seen: dict[str, float] = {}
    reached_card = False
    for _ in range(40):
        page.keyboard.press("Tab")
        ring = page.evaluate_handle("document.activeElement").evaluate(RING)
        assert ring["style"] == "solid" and ring["width"] >= 2, ring
        # two rings 9:1 apart (WCAG technique C40): one of them stands out on any background
        assert contrast(ring["outer"], ring["inner"]) >= 9, ring
        for bg in ring["around"]:
            ratio = contrast(ring["outer"], bg)
            seen[f"{ring['tag']} «{ring['text']}» på {bg}"] = ratio
            assert ratio >= 3, (ring, bg, ratio)
        if page.evaluate("!!document.activeElement.closest('.card')"):
            reached_card = True
            break
    backgrounds = {k.rsplit(" på ", 1)[1] for k in seen}
    assert reached_card and len(backgrounds) >= 3, seen  # brand header, white, grey card
    page.close()


# -- the error page ---------------------------------------------------------------------------


def test_404_page_says_it_once_and_helps_onwards(live, browser) -> None:
    page = browser.new_page(locale="nb-NO")
    response = page.goto(live + "/finnes-ikke/her")
    assert response is not None and response.status == 404
    main = page.locator("main")
    assert page.get_by_role("heading", level=1).inner_text() == "Fant ikke siden"
    text = main.locator("p").first.inner_text()
    assert "ingen side på denne adressen" in text
    assert main.inner_text().count(text) == 1  # not once as a notice and once as the text
    assert page.locator("p.notice").count() == 0
    for name in ("Åpne behov", "Kontaktpersoner per fagfelt", "Logg inn"):
        assert main.get_by_role("link", name=name).is_visible()
    check_accessibility(page)
    page.close()
    wrong = httpx.post(live + "/om")  # a page that only answers GET
    assert wrong.status_code == 405 and "Kan ikke åpnes slik" in wrong.text


# -- search and filters on the public lists --------------------------------------------------


def _status(page) -> str:
    return page.get_by_role("status").inner_text()


def test_needs_search_and_organisation_filter(live, browser) -> None:
    page = browser.new_page(viewport=VIEWPORTS["mobil"], locale="nb-NO")
    page.goto(live + "/")
    page.get_by_label("Søk i åpne behov").fill("eldre")
    page.get_by_label("Kommune, bydel eller etat").select_option("Oslo kommune")
    page.get_by_label("Vis tema").select_option("eldre")
    page.get_by_role("button", name="Vis").click()
    page.wait_for_url("**/?sok=eldre&organisasjon=Oslo+kommune&tema=eldre")
    status = _status(page)
    assert status.endswith("innen Eldre fra Oslo kommune som inneholder «eldre».")
    cards = page.locator(".cards > li.card")
    count = int(status.split()[0])
    assert count == cards.count() >= 2
    for card in cards.all():
        assert "eldre" in card.inner_text().lower()
        assert "kommune" not in card.locator(".meta").inner_text()  # Oslo's bydeler and etater
    assert page.get_by_label("Søk i åpne behov").input_value() == "eldre"  # kept in the form
    check_accessibility(page)
    shot(page, "behov-sok-mobil")

    # a bydel narrows it further; Asker is not in Oslo
    page.goto(live + "/?organisasjon=Asker+kommune")
    metas = page.locator(".cards .meta").all_inner_texts()
    assert metas and all(m.startswith("Asker kommune") for m in metas)

    # bad input: a Norwegian message where the field is, never a server error
    response = page.goto(live + "/?sok=" + "x" * 201 + "&tema=ukjent")
    assert response is not None and response.status == 422
    assert _active_id(page) == "feil"
    assert page.locator("#sok-feil").inner_text() == "Søket er for langt. Skriv høyst 200 tegn."
    assert page.locator("#tema-feil").inner_text() == "Velg et tema fra listen."
    assert page.get_by_label("Søk i åpne behov").get_attribute("aria-invalid") == "true"
    check_accessibility(page)
    response = page.goto(live + "/?sok=a%00b%1F&organisasjon=Bydel%00X")
    assert response is not None and response.status == 422
    assert "tegn som ikke kan søkes etter" in page.locator("#sok-feil").inner_text()
    assert page.locator("#organisasjon-feil").is_visible()
    page.close()


def test_needs_search_works_without_javascript(live, browser) -> None:
    context = browser.new_context(java_script_enabled=False, locale="nb-NO")
    page = context.new_page()
    page.goto(live + "/")
    page.get_by_label("Søk i åpne behov").fill("småreparasjoner")
    page.get_by_role("button", name="Vis").click()
    page.wait_for_url("**/?sok=sm%C3%A5reparasjoner**")
    assert _status(page).startswith("1 åpent behov som inneholder")
    assert page.locator(".cards h2").all_inner_texts() == [
        "Hjelp med småreparasjoner hjemme hos eldre"
    ]
    context.close()


def test_contacts_search_and_organisation_filter(live, browser) -> None:
    page = browser.new_page(locale="nb-NO")
    page.goto(live + "/kontakter")
    page.get_by_label("Søk i kontaktpersoner").fill("SÆTHER")  # Norwegian letters, any case
    page.get_by_role("button", name="Vis").click()
    page.wait_for_url("**/kontakter?sok=S%C3%86THER**")
    assert _status(page) == "1 kontaktperson som inneholder «SÆTHER»."
    assert "Henrik Sæther" in page.locator("main").inner_text()
    page.get_by_label("Søk i kontaktpersoner").fill("")
    page.get_by_label("Kommune, bydel eller etat").select_option("Bydel Grorud")
    page.get_by_role("button", name="Vis").click()
    page.wait_for_url("**organisasjon=Bydel+Grorud**")
    assert _status(page) == "2 kontaktpersoner fra Bydel Grorud."
    people = page.locator(".people li").all_inner_texts()
    assert people and all("Bydel Grorud" in p for p in people)
    assert {p.split(",")[0] for p in people} == {"Kari Nordby", "Tor Ekeberg"}
    page.get_by_label("Vis fagfelt").select_option("kultur-og-fritid")
    page.get_by_role("button", name="Vis").click()
    page.wait_for_url("**tema=kultur-og-fritid**")
    assert _status(page) == "1 kontaktperson innen Kultur og fritid fra Bydel Grorud."
    assert page.get_by_role("heading", level=2).all_inner_texts()[-1] == "Kultur og fritid"
    check_accessibility(page)
    response = page.goto(live + "/kontakter?sok=%07")
    assert response is not None and response.status == 422
    assert _active_id(page) == "feil"
    check_accessibility(page)
    page.close()


# -- an entrepreneur's profile ---------------------------------------------------------------------


def test_municipal_user_opens_a_suggested_entrepreneurs_profile(live, browser) -> None:
    page = login(browser, live, "municipal")
    page.get_by_role("link", name="Arbeidstrening for unge voksne som står utenfor").first.click()
    page.wait_for_url("**/behov/*")
    first = page.locator("ol.suggestions > li").first
    link = first.get_by_role("heading", level=3).get_by_role("link")
    name = link.inner_text()
    link.click()
    page.wait_for_url("**/entrepreneurer/*")
    assert page.get_by_role("heading", level=1).inner_text() == name
    main = page.locator("main")
    assert main.get_by_role("heading", name="Hva de tilbyr").is_visible()
    assert main.get_by_role("list", name="Temaer").inner_text().strip()
    facts = main.locator("dl.facts").inner_text()
    for label in ("Hvor de jobber", "Målgrupper", "Fase", "Kapasitet"):
        assert label in facts
    contact = main.get_by_role("region", name="Kontakt")
    assert contact.locator("a[href^='mailto:']").count() == 1  # the person to write to
    check_accessibility(page)
    shot(page, "entreprenor-profil")
    page.close()

    reviewer = login(browser, live, "reviewer", "mobil")
    reviewer.goto(live + "/vurdering")
    reviewer.locator(".queue h2 a").first.click()
    reviewer.wait_for_url("**/forslag/*")
    reviewer.get_by_role("link", name=re.compile("^Profilen og kontaktpersonen til ")).click()
    reviewer.wait_for_url("**/entrepreneurer/*")
    assert reviewer.get_by_role("region", name="Kontakt").is_visible()
    check_accessibility(reviewer)
    reviewer.close()


def test_entrepreneur_sees_only_their_own_profile_and_the_public_none(live, browser) -> None:
    page = login(browser, live, "entrepreneur")
    page.goto(live + "/profil")
    page.get_by_role("link", name="Se profilen slik kommunen ser den").click()
    page.wait_for_url("**/entrepreneurer/*")
    own = int(page.url.rsplit("/", 1)[1])
    assert "Slik ser ansatte i kommunen profilen deres" in page.locator("main").inner_text()
    check_accessibility(page)
    other = own + 1 if own < 30 else own - 1
    response = page.goto(f"{live}/entrepreneurer/{other}")
    assert response is not None and response.status == 403
    assert page.get_by_role("heading", level=1).inner_text() == "Ingen tilgang"
    check_accessibility(page)
    page.close()

    public = browser.new_page()
    public.goto(f"{live}/entrepreneurer/{other}")
    assert "/logg-inn?neste=/entrepreneurer/" in public.url  # log in first
    public.close()

    staff = login(browser, live, "organiser")
    response = staff.goto(f"{live}/entrepreneurer/999999")
    assert response is not None and response.status == 404
    assert staff.get_by_role("heading", level=1).inner_text() == "Fant ikke entreprenøren"
    staff.close()


# -- what the service is, and its statements ------------------------------------------------------

ABOUT = [
    ("/om", "Om Brobygger", "Slik blir virksomheten din med"),
    ("/tilgjengelighet", "Tilgjengelighetserklæring", "Kjente mangler"),
    ("/personvern", "Personvernerklæring", "Dine rettigheter, og hvordan du bruker dem"),
]


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
@pytest.mark.parametrize("path,heading,section", ABOUT, ids=[p for p, _, _ in ABOUT])
def test_about_pages_at_phone_and_desktop_size(
    live, browser, path: str, heading: str, section: str, viewport: str
) -> None:
    page = browser.new_page(viewport=VIEWPORTS[viewport], locale="nb-NO")
    page.goto(live + path)
    assert page.get_by_role("heading", level=1).inner_text() == heading
    assert page.get_by_role("heading", level=2, name=section).is_visible()
    footer = page.get_by_role("navigation", name="Om tjenesten")
    assert footer.get_by_role("link", name=heading).get_attribute("aria-current") == "page"
    check_accessibility(page)
    shot(page, f"{path.strip('/')}-{viewport}")
    page.close()


def test_statements_say_what_the_service_does(live, browser) -> None:
    page = browser.new_page(locale="nb-NO")
    page.goto(live + "/")  # the footer is on every page
    footer = page.get_by_role("navigation", name="Om tjenesten")
    assert footer.get_by_role("link").all_inner_texts() == [
        "Om Brobygger",
        "Tilgjengelighetserklæring",
        "Personvernerklæring",
    ]

    page.goto(live + "/tilgjengelighet")
    text = page.locator("main").inner_text()
    # the sizes it claims are the sizes the browser tests use
    assert {(w, h) for _n, w, h in TESTED_SIZES} == {
        (v["width"], v["height"]) for v in VIEWPORTS.values()
    }
    for w, h in ((v["width"], v["height"]) for v in VIEWPORTS.values()):
        assert f"{w} × {h} piksler" in text
    assert "axe-core" in text and "uansett alvorlighetsgrad" in text
    complaint = page.get_by_role("link", name=re.compile("Uu-tilsynet"))
    assert (complaint.get_attribute("href") or "").startswith("https://www.uutilsynet.no/")

    page.goto(live + "/personvern")
    text = page.locator("main").inner_text()
    for fact in (
        "730 dager",
        "høyst 8 timer",
        "etter 1 time uten bruk",
        "15 minutter",
        "brobygger privacy export",
        "brobygger privacy erase",
        "pseudonym",
    ):
        assert fact in text, fact
    page.close()
