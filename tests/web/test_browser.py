"""The web pages in a real browser (Debian's Chromium driven by Playwright) on a live server:
the public pages and each role's main journey end to end, with an accessibility check
(axe-core) on every page visited and screenshots of the main pages (``BROBYGGER_SCREENSHOTS``
chooses where; ``make screenshots`` puts them in docs/screenshots)."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from service.runtime import DEMO_PASSWORD
from tests.web.helpers import (
    EMAILS,
    HOSTILE,
    VIEWPORTS,
    check_accessibility,
    login,
    message,
    shot,
)


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
@pytest.mark.parametrize(
    "path,heading",
    [("/", "Åpne behov"), ("/kontakter", "Kontaktpersoner per fagfelt"), ("/logg-inn", "Logg inn")],
)
def test_public_pages_render_and_pass_axe(
    live, browser, path: str, heading: str, viewport: str
) -> None:
    page = browser.new_page(viewport=VIEWPORTS[viewport], locale="nb-NO")
    page.goto(live + path)
    assert page.locator("html").get_attribute("lang") == "nb"
    assert page.get_by_role("heading", level=1).inner_text() == heading
    check_accessibility(page)
    shot(page, f"{path.strip('/') or 'behov'}-{viewport}")
    page.close()


def test_public_sees_open_needs_and_filters_by_theme(live, browser) -> None:
    page = browser.new_page()
    page.goto(live + "/")
    assert page.get_by_role("heading", name="Arbeidstrening for unge voksne som står utenfor")
    assert "29 åpne behov" in page.get_by_role("status").inner_text()
    page.get_by_label("Vis tema").select_option("eldre")
    page.get_by_role("button", name="Vis").click()
    assert "innen Eldre" in page.get_by_role("status").inner_text()
    titles = page.locator(".card h2").all_inner_texts()
    assert titles and "Ensomhet blant eldre som bor hjemme" in titles
    assert "Arbeidstrening for unge voksne som står utenfor" not in titles
    page.close()


def test_public_contact_persons_per_field(live, browser) -> None:
    page = browser.new_page()
    page.goto(live + "/kontakter")
    section = page.get_by_role("region", name="Eldre")
    assert "Berit Haugen" in section.inner_text()
    assert "Eva Moe" not in page.content()  # not public
    page.close()


def test_keyboard_login_errors_and_logout(live, browser) -> None:
    page = browser.new_page()
    page.goto(live + "/logg-inn")
    page.keyboard.press("Tab")  # the skip link comes first
    assert page.evaluate("document.activeElement.textContent") == "Hopp til innholdet"
    page.get_by_label("E-post").fill("innovasjon@oslo.example.no")
    page.get_by_label("Passord").fill("feil-passord")
    page.get_by_label("Passord").press("Enter")
    error = page.locator("#password-feil")
    assert error.inner_text() == "Feil e-post eller passord."
    assert page.get_by_label("Passord").get_attribute("aria-invalid") == "true"
    check_accessibility(page)
    page.get_by_label("Passord").fill("brobygger-demo")
    page.get_by_role("button", name="Logg inn").click()
    page.wait_for_url(live + "/vurdering")  # the reviewer's start page
    assert "Ingrid Innovasjon (saksbehandler)" in page.locator("header").inner_text()
    page.get_by_role("button", name="Logg ut").click()
    page.wait_for_url(live + "/")
    assert page.get_by_role("link", name="Logg inn").is_visible()
    page.close()


def test_user_text_is_escaped(live, browser) -> None:
    page = browser.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(live + "/")
    page.wait_for_load_state("load")
    time.sleep(0.3)
    assert dialogs == []  # no script ran
    assert HOSTILE in page.locator(".card h2").all_inner_texts()  # shown as text
    card = page.locator(".card", has=page.get_by_role("heading", name=HOSTILE))
    assert "<b>nå</b> <img src=x onerror=alert(2)>" in card.inner_text()  # markup as text
    assert page.locator(".card img").count() == 0
    page.close()


# -- each role's journey ---------------------------------------------------------------------

NEED_TEXT = (
    "Mange eldre i bydelen bor alene og sier de er ensomme. Vi ønsker besøksvenner "
    "og faste møteplasser der eldre kan treffe andre, gjerne med frivillige fra "
    "nabolaget."
)


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_municipal_posts_a_need_and_sends_suggestions_to_review(
    live, browser, viewport: str
) -> None:
    page = login(browser, live, "municipal", viewport)
    assert page.url == live + "/mine-behov"  # the role's start page
    check_accessibility(page)
    page.get_by_role("link", name="Legg inn nytt behov").click()

    # an empty form: errors in Norwegian next to each field, and a summary that links to them
    page.get_by_role("button", name="Lagre og se forslag").click()
    assert page.locator("#title-feil").inner_text() == "Skriv en kort tittel."
    assert page.locator("#themes-feil").inner_text() == "Velg minst ett tema."
    assert page.get_by_label("Tittel").get_attribute("aria-invalid") == "true"
    summary = page.get_by_role("region", name="For å gå videre må du rette opp disse 3 feilene:")
    assert page.evaluate("document.activeElement.id") == "feil"  # focus on the summary
    summary.get_by_role("link", name="Temaer: Velg minst ett tema.").click()
    assert page.evaluate("document.activeElement.id") == "themes"
    check_accessibility(page)

    # live suggestions while typing, right under the text box on a phone (above the Save)
    page.get_by_label("Tittel").fill(f"Besøksvenner for eldre ({viewport})")
    page.get_by_label("Beskrivelse av behovet").fill(NEED_TEXT)
    page.get_by_label("Eldre", exact=True).check()
    page.locator("#live li").first.wait_for(timeout=20_000)
    assert page.locator("#live li").count() >= 1
    text_box = page.get_by_label("Beskrivelse av behovet").bounding_box()
    live_box = page.locator("aside.live").bounding_box()
    save_box = page.get_by_role("button", name="Lagre og se forslag").bounding_box()
    if viewport == "mobil":
        assert 0 <= live_box["y"] - (text_box["y"] + text_box["height"]) < 120
        assert live_box["y"] < save_box["y"]
    else:  # beside the form
        assert live_box["x"] > text_box["x"] + text_box["width"] and live_box["y"] < save_box["y"]
    assert page.locator("#description-tegn").inner_text() == f"{len(NEED_TEXT)} av 5\u00a0000 tegn."
    check_accessibility(page)
    shot(page, f"nytt-behov-{viewport}")

    page.get_by_role("button", name="Lagre og se forslag").click()
    page.wait_for_url("**/behov/*?melding=lagret")
    assert message(page).startswith("Behovet er lagret. Forslagene står under")
    # the page answered at once; it shows the suggestions by itself when they are ready
    cards = page.locator("ol.suggestions > li")
    cards.first.wait_for(timeout=60_000)
    assert message(page).startswith("Behovet er lagret. Forslagene står under")
    assert cards.count() >= 2
    assert "likebehandling" in page.locator("#forslag > p.hint").first.inner_text()
    # every card says how sure it is; "the N best of M" and "show all" agree with what is shown
    labels = cards.locator(".conf").all_inner_texts()
    assert len(labels) == cards.count()
    assert set(labels) <= {"Sterkt treff", "Mulig treff", "Svakt treff"}
    more = page.locator("#forslag p", has_text="beste av")
    if more.count():
        shown, total = (int(w) for w in re.findall(r"\d+", more.inner_text())[:2])
        assert shown == cards.count() < total
        more.get_by_role("link").click()
        page.wait_for_url("**alle=1**")
        assert page.locator("ol.suggestions > li").count() == total
        page.go_back()
    first = cards.first
    # the explanation a reviewer can check: themes, area, highlighted words, score parts
    assert "Felles temaer" in first.locator(".summary").inner_text()
    assert first.get_by_role("list", name="Felles temaer").inner_text().strip()
    assert first.locator("details.why[open]").count() == 1
    assert first.locator("mark").count() >= 1
    assert first.get_by_role("table").locator("th[scope=row]").all_inner_texts()[0] == (
        "Tekstlikhet"
    )
    assert "Geografi" in first.locator("dl.facts").inner_text()
    check_accessibility(page)
    shot(page, f"forslag-{viewport}")
    shot(page, f"forklaring-{viewport}", element=first)

    # send two chosen suggestions to the review queue
    boxes = page.locator("input[name=entrepreneur]")
    names = [
        b.locator("xpath=..").inner_text().removeprefix("Send ").removesuffix(" til vurdering")
        for b in boxes.all()[:2]
    ]
    boxes.nth(0).check()
    boxes.nth(1).check()
    page.get_by_role("button", name="Send valgte til vurdering").click()
    page.wait_for_url("**melding=sendt*")
    assert message(page) == "De valgte forslagene er sendt til vurderingskøen."
    states = page.locator("ol.suggestions .state").all_inner_texts()
    assert sum("sendt av kommunen" in s for s in states) == 2
    need_url = page.url.split("?")[0]

    # the reviewer sees them in the queue, filtered on origin
    other = login(browser, live, "reviewer", viewport)
    other.goto(live + "/vurdering?kilde=staff&sorter=nyest")
    queued = other.locator(".queue h2").all_inner_texts()
    assert set(names) <= set(queued), (names, queued)
    other.close()

    # edit the need
    page.goto(need_url + "/endre")
    assert page.get_by_label("Tittel").input_value().startswith("Besøksvenner for eldre")
    page.get_by_label("Tittel").fill(f"Besøksvenner og møteplasser for eldre ({viewport})")
    page.get_by_role("button", name="Lagre endringene").click()
    page.wait_for_url("**melding=lagret")
    assert (
        page.get_by_role("heading", level=1).inner_text().startswith("Besøksvenner og møteplasser")
    )
    # the page reloads itself once the changed text's suggestions are ready: let it, so that
    # leaving does not race that reload (net::ERR_ABORTED)
    page.locator("ol.suggestions > li").first.wait_for(timeout=60_000)
    page.goto(live + "/mine-behov")
    assert page.get_by_role("link", name=f"Besøksvenner og møteplasser for eldre ({viewport})")
    page.close()


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_reviewer_queue_on_phone_and_desktop(live, browser, viewport: str) -> None:
    page = login(browser, live, "reviewer", viewport)
    assert page.url == live + "/vurdering"
    assert page.get_by_role("heading", level=1).inner_text() == "Vurderingskø"
    check_accessibility(page)
    shot(page, f"vurderingsko-{viewport}")
    scores = [int(x) for x in page.locator(".queue .score-num").all_inner_texts()]
    assert scores and scores == sorted(scores, reverse=True)  # best first by default
    page.get_by_label("Tema", exact=True).select_option("eldre")
    page.get_by_label("Sorter", exact=True).select_option("eldst")
    page.get_by_role("button", name="Vis").click()
    page.wait_for_url("**tema=eldre**")
    assert "forslag" in page.get_by_role("status").inner_text()
    page.close()


def test_reviewer_decides_and_follows_the_pipeline(live, browser) -> None:
    page = login(browser, live, "reviewer")
    page.goto(live + "/vurdering?sorter=poeng")
    page.locator(".queue h2 a").nth(1).click()
    page.wait_for_url("**/forslag/*")
    proposal_url = page.url
    assert page.get_by_role("heading", name="Begrunnelse").is_visible()
    check_accessibility(page)

    # rejecting needs a reason from the fixed list: the page comes back at the decision, with
    # the summary in view and focused, and the error next to the field
    page.get_by_role("button", name="Avvis").click()
    page.wait_for_url("**/vurder#feil")
    assert page.locator("#reason_code-feil").inner_text() == "Velg en begrunnelse for avvisningen."
    assert page.get_by_label("Begrunnelse for avvisning").get_attribute("aria-invalid") == "true"
    assert page.evaluate("document.activeElement.id") == "feil"
    top = page.evaluate("document.getElementById('feil').getBoundingClientRect().top")
    assert 0 <= top < page.viewport_size["height"] / 2, top  # where the user looks
    check_accessibility(page)

    # before approving, the page says who gets the introduction mail
    page.goto(proposal_url)
    before = page.locator("#godkjenn-epost").inner_text()
    assert before.startswith("Godkjenner du, får ") and "introduksjons-e-post" in before
    page.get_by_label("Kommentar").fill("Godt treff på arbeidstrening.")
    page.get_by_role("button", name="Godkjenn").click()
    page.wait_for_url("**melding=godkjent#innhold")
    assert message(page).startswith("Forslaget er godkjent og ført i historikken. Under «E-post»")
    mails = page.get_by_role("region", name="E-post").inner_text()
    named = re.match(r"Godkjenner du, får (.+?) \(.+?\) og (.+?) \(", before)
    assert named, before
    for person in named.groups():  # the people named before approving, by name, no address
        assert f"Introduksjon til {person}:" in mails, mails
    assert "@" not in mails
    assert "lagt i utboksen" in mails and "brobygger" not in mails  # no SMTP server here
    page.get_by_role("button", name="Sett til «kontaktet»").click()
    page.wait_for_url("**melding=vurdert#innhold")
    assert "Ingen e-post sendes" in message(page)
    rows = page.locator("table.log tbody tr").all_inner_texts()
    assert "Foreslått" in rows[0] and "Brobygger (automatisk)" in rows[0]
    assert "foreslått → godkjent" in rows[1] and "Godt treff på arbeidstrening." in rows[1]
    assert "Ingrid Innovasjon (saksbehandler)" in rows[1] and "@" not in rows[1]
    assert "faste vekter (standard-v3)" in rows[1]
    assert "godkjent → kontaktet" in rows[2]
    check_accessibility(page)
    shot(page, "forslag-med-historikk")
    name = page.get_by_role("heading", level=1).inner_text().split(" for «")[0]

    # the pipeline board shows it under "Kontaktet" with today's date
    page.get_by_role("link", name="Tavle").click()
    column = page.get_by_role("region", name="Kontaktet")
    assert name in column.inner_text()
    from datetime import datetime
    from zoneinfo import ZoneInfo

    today = datetime.now(ZoneInfo("Europe/Oslo"))  # dates are shown in Oslo time
    assert f"siden {today:%d.%m.%Y}" in column.inner_text()
    check_accessibility(page)
    shot(page, "tavle")
    page.close()


def test_entrepreneur_finds_needs_with_a_named_person_and_shows_interest(live, browser) -> None:
    page = login(browser, live, "entrepreneur")
    assert page.url == live + "/for-deg"
    check_accessibility(page)
    shot(page, "behov-for-deg")
    card = page.locator("ol.cards > li", has=page.get_by_role("button", name="Meld interesse"))
    first = card.first
    title = first.locator("h3").inner_text()
    assert "Kontakt:" in first.locator(".contact").inner_text()  # a person, not a system
    # read from the entrepreneur's side, "the need says" still quotes the need
    first.get_by_text("Hvorfor dette forslaget?").click()
    quotes = first.locator(".pair p").all_inner_texts()
    need_text = first.locator(":scope > p").nth(1).inner_text()
    assert quotes[0].startswith("Behovet sier:") and quotes[1].startswith("Tilbudet sier:")
    said = quotes[0].removeprefix("Behovet sier: «").removesuffix("»").rstrip(".")
    assert said in need_text or said in title, (said, need_text)
    assert "@" in first.locator(".contact a").first.inner_text()
    first.get_by_role("button", name="Meld interesse").click()
    page.wait_for_url("**melding=interesse")
    assert message(page).startswith("Interessen din er meldt")
    done = page.locator("ol.cards > li", has=page.get_by_role("heading", name=title))
    assert "Du har meldt interesse" in done.locator(".state").inner_text()

    # the profile: an invalid org.nr is refused next to the field, a good save re-indexes
    page.get_by_role("link", name="Min profil").click()
    check_accessibility(page)
    shot(page, "profil")
    page.get_by_label("Organisasjonsnummer").fill("123456789")
    page.get_by_role("button", name="Lagre profilen").click()
    assert "kontrollsiffer" in page.locator("#org_nr-feil").inner_text().lower()
    check_accessibility(page)
    page.get_by_label("Organisasjonsnummer").fill("974760673")
    description = page.get_by_label("Hva dere tilbyr")
    description.fill(description.input_value() + " Vi tar også imot deltakere fra Bydel Bjerke.")
    page.get_by_role("button", name="Lagre profilen").click()
    page.wait_for_url("**melding=profil")
    assert "Bydel Bjerke" in page.get_by_label("Hva dere tilbyr").input_value()
    page.close()


def test_admin_reindexes_with_progress_and_manages_users_and_tokens(live, browser) -> None:
    import httpx

    page = login(browser, live, "admin")
    assert page.url == live + "/admin"
    check_accessibility(page)
    page.get_by_label("Bygg alt på nytt").check()
    page.get_by_role("button", name="Oppdater indeksen").click()
    status = page.locator("#indeks-framdrift [data-status]")
    # (not wait_for_function: its polling needs eval, which the CSP forbids)
    expect(status).to_have_text(re.compile(r"^Ferdig"), timeout=90_000)
    assert "Entreprenører: 34 søkbare" in status.inner_text()
    assert page.locator("#indeks-progress").evaluate("p => p.value === p.max")
    check_accessibility(page)
    shot(page, "drift")

    page.get_by_role("link", name="Brukere").click()
    check_accessibility(page)
    page.get_by_label("E-post").fill("ikke-en-adresse")
    page.get_by_role("button", name="Opprett bruker").click()
    assert "e-postadressen" in page.locator("#email-feil").inner_text().lower()
    page.get_by_label("E-post").fill("ny.ansatt@bgr.oslo.kommune.no")
    page.get_by_label("Navn", exact=True).fill("Ny Ansatt")
    page.get_by_label("Rolle").select_option("municipal")
    page.get_by_label("Organisasjon").select_option("Bydel Grorud")
    page.get_by_role("button", name="Opprett bruker").click()
    page.wait_for_url("**melding=bruker")
    page.get_by_role("button", name="Nytt token for ny.ansatt@bgr.oslo.kommune.no").click()
    token = page.locator("#nytt-token").inner_text()
    assert token.startswith("bb_")
    check_accessibility(page)
    shot(page, "brukere")
    api = f"{live}/api/v1/proposals"
    assert httpx.get(api, headers={"Authorization": f"Bearer {token}"}).status_code == 200
    page.get_by_role("button", name="Trekk tilbake alle for ny.ansatt@bgr.oslo.kommune.no").click()
    page.wait_for_url("**melding=trukket")
    assert httpx.get(api, headers={"Authorization": f"Bearer {token}"}).status_code == 401

    page.get_by_role("link", name="Organisasjoner").click()
    check_accessibility(page)
    page.get_by_label("Navn").fill("Bydel Testby")
    page.get_by_label("Kommunenummer").fill("12")
    page.get_by_role("button", name="Lagre organisasjonen").click()
    assert page.locator("#kommunenummer-feil").inner_text().startswith("Kommunenummeret")
    page.get_by_label("Kommunenummer").fill("0301")
    page.get_by_label("Hører til").select_option("Oslo kommune")
    page.get_by_role("button", name="Lagre organisasjonen").click()
    page.wait_for_url("**melding=organisasjon")
    assert "Bydel Testby" in page.get_by_role("table").inner_text()
    page.close()


def test_a_page_that_needs_log_in_comes_back_after_it(live, browser) -> None:
    page = browser.new_page()
    page.goto(live + "/vurdering?tema=eldre")
    assert "/logg-inn?neste=" in page.url
    page.get_by_label("E-post").fill(EMAILS["reviewer"])
    page.get_by_label("Passord").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Logg inn").click()
    page.wait_for_url(live + "/vurdering?tema=eldre")
    page.close()
