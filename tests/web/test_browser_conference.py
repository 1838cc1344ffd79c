"""The organiser's conference pages in a real browser (Chromium, Playwright) on a live server:
a participant list as Norwegian Excel saves it, the template, a bad file refused with its
rows, planning, every change to the plan answered where the organiser acted, publishing,
the agendas on a phone, and axe-core on every page at phone and desktop size with no
violation of any impact."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from tests.conftest import REPO
from tests.web.helpers import VIEWPORTS, login, shot

DEMO = REPO / "data" / "demo" / "konferanse.csv"


def fits(page) -> None:
    """Nothing on the page makes it scroll sideways (wide tables scroll in their own box)."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], width


def check_axe(page) -> None:
    """axe-core on the page: no violation at all, whatever its impact."""
    from axe_playwright_python.sync_playwright import Axe

    found = Axe().run(page).response["violations"]
    assert not found, [
        (v["id"], v["impact"], v["help"], [n["target"] for n in v["nodes"]][:3]) for v in found
    ]


def norwegian_excel_file(path: Path) -> Path:
    """The demo participants as Norwegian Excel saves «CSV (semikolonseparert)»: Norwegian
    headers and values, ``;`` between columns, Windows-1252."""
    from service.conference import COLUMNS

    names = {c.key: c.name for c in COLUMNS}
    rows = list(csv.DictReader(DEMO.open(encoding="utf-8")))
    out = io.StringIO()
    w = csv.writer(out, delimiter=";", lineterminator="\r\n")
    w.writerow([names[k] for k in rows[0]])
    for r in rows:
        r["side"] = {"municipal": "kommune", "entrepreneur": "entreprenør"}[r["side"]]
        w.writerow([v.replace(";", ", ") if k != "description" else v for k, v in r.items()])
    path.write_bytes(out.getvalue().encode("cp1252"))
    return path


def wait_planned(page) -> None:
    """Until the background plan is done and the page has loaded itself again (its script
    reloads it when the job ends)."""
    from playwright.sync_api import expect

    expect(page.locator("#plan-framdrift [data-status]")).to_have_text(
        re.compile(r"^Ferdig"), timeout=90_000
    )
    page.wait_for_load_state()


def answer(page, where: str, focused: bool = True):
    """The answer shown after a change: the URL's anchor, at the place acted on (inside it,
    or for a meeting in the table row right above it), in view and focused (the browser
    focuses a focusable fragment target when it opens the page; after the automatic reload
    that shows a finished plan it restores the scroll position instead, so there the answer
    is in view but has no focus)."""
    from playwright.sync_api import expect

    assert page.url.endswith(f"#{where}"), page.url
    box = page.locator("[data-answer]")
    expect(box).to_have_count(1)
    assert box.get_attribute("id") == where
    assert box.evaluate(
        "(b, id) => { const t = document.querySelector(`[data-place='${id}']`);"
        " return t.contains(b) || t.previousElementSibling.contains(b); }",
        where,
    )
    expect(box).to_be_in_viewport()
    if where.startswith("mote-"):  # the meeting it speaks of is in view with it
        expect(page.locator(f"tr[data-place={where}]")).to_be_in_viewport()
    if focused:
        expect(box).to_be_focused()
    return box


def test_new_conference_explains_the_file_offers_templates_and_lists_file_errors(
    live, browser, tmp_path: Path
) -> None:
    page = login(browser, live, "organiser", "mobil")
    page.goto(live + "/konferanser")
    check_axe(page)
    page.get_by_role("link", name="Ny konferanse").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Ny konferanse"
    page.get_by_text("Kolonnene i deltakerlisten").click()
    assert "vil_møte" in page.locator("#kolonner").inner_text()
    fits(page)
    check_axe(page)
    for name, kind in (("mal som CSV", "csv"), ("mal for Excel (.xlsx)", "xlsx")):
        link = page.get_by_role("link", name=name)
        got = page.request.get(live + link.get_attribute("href"))
        assert got.ok
        assert f"filename*=UTF-8''deltakerliste-mal.{kind}" in got.headers["content-disposition"]
        if kind == "csv":
            assert got.body().startswith(b"\xef\xbb\xbfid;type;navn;organisasjon;")

    # a bad file: refused whole, every error with its row as the spreadsheet shows it
    bad = tmp_path / "deltakere.csv"
    bad.write_bytes(
        "id;type;navn;temaer\nk1;kommune;Kari;romfart\ne1;kunde;Ola;eldre\n".encode("cp1252")
    )
    page.get_by_label("Navn", exact=True).fill("Feilfest")
    page.get_by_label("Sted").fill("Oslo")
    page.get_by_label("Deltakerliste").set_input_files(str(bad))
    with page.expect_navigation():
        page.get_by_role("button", name="Last opp og planlegg").click()
    summary = page.locator("[data-error-summary]")
    assert "Deltakerliste: Deltakerlisten har 2 feil" in summary.inner_text()
    assert page.evaluate("document.activeElement.id") == "feil"  # focus on the summary
    errors = page.locator("#participants-feil li").all_inner_texts()
    assert errors[0].startswith("rad 2, felt «temaer»: ukjent tema «romfart»")
    assert errors[1].startswith("rad 3, felt «type»: «kunde» er ikke gyldig")
    assert page.get_by_label("Deltakerliste").get_attribute("aria-invalid") == "true"
    fits(page)
    check_axe(page)
    page.set_viewport_size(VIEWPORTS["desktop"])
    check_axe(page)
    page.close()


def test_organiser_plans_reviews_and_publishes_a_conference(live, browser, tmp_path) -> None:
    page = login(browser, live, "organiser")
    assert page.url == live + "/konferanser"
    check_axe(page)
    page.get_by_role("link", name="Ny konferanse").click()
    page.get_by_role("button", name="Last opp og planlegg").click()  # nothing filled in
    assert page.locator("#name-feil").inner_text() == "Skriv navnet på konferansen."
    assert "deltakerliste" in page.locator("#participants-feil").inner_text().lower()
    check_axe(page)
    page.get_by_label("Navn", exact=True).fill("SosEnt 2026")
    page.get_by_label("Dato").fill("2026-11-26")
    page.get_by_label("Sted").fill("Oslo rådhus")
    page.get_by_label("Tidsluker").fill("6")
    page.get_by_label("Bord").fill("5")
    page.get_by_label("Høyst så mange").fill("1")
    page.get_by_label("Deltakerliste").set_input_files(
        str(norwegian_excel_file(tmp_path / "deltakere.csv"))
    )
    with page.expect_navigation():
        page.get_by_role("button", name="Last opp og planlegg").click()
    assert page.url.rstrip("/").split("/")[-1].isdigit()
    base = page.url
    # the plan is made in the background; the page shows progress and then the result
    wait_planned(page)
    assert page.get_by_role("table", name="Tidsluke 1: 09:00–09:15").is_visible()
    count = int(page.locator(".stats dd").first.inner_text())
    assert count > 0
    stats = page.locator(".stats").inner_text()
    assert re.search(r"Hvor godt parene passer, samlet\s+\d+,\d av høyst \d+,\d mulige", stats)
    assert re.search(r"Av det beste mulige\s+\d+(,\d)? %", stats)
    status = page.locator("#plan-framdrift [data-status]").inner_text()
    assert re.match(r"Ferdig på \d+,\d s\. \d+ møter planlagt\. Hvor godt parene passer", status)
    text = page.locator("main").inner_text()
    for jargon in ("Samlet treff", "Øvre grense", "Avstand", "øvre grense", "optimal"):
        assert jargon not in text
    check_axe(page)
    shot(page, "konferanse")

    # lock a meeting: the page comes back to its row and says so there
    first_lock = page.get_by_role("button", name="Lås møtet").first
    name = " ".join(first_lock.text_content().split("møtet", 1)[1].split())
    row_id = first_lock.locator("xpath=ancestor::tr").get_attribute("data-place")
    with page.expect_navigation():
        first_lock.click()
    said = answer(page, row_id)
    assert said.get_attribute("role") == "status"
    assert re.match(
        rf"Møtet {re.escape(name)} er låst i tidsluke \d \(\d\d:\d\d–\d\d:\d\d\)\. "
        "Det blir stående der",
        said.inner_text(),
    )
    assert page.get_by_role("button", name=f"Lås opp møtet {name}").is_visible()

    # a move that clashes (Tor Ekeberg is busy in slots 1 and 2): refused at the row
    tor = page.locator(
        "tr[data-place^=mote-]", has=page.get_by_role("link", name="Tor Ekeberg")
    ).first
    tor_id = tor.get_attribute("data-place")
    tor.get_by_label(re.compile("^Flytt .* til tidsluke$")).select_option("1")
    with page.expect_navigation():
        tor.get_by_role("button", name=re.compile("^Flytt")).click()
    said = answer(page, tor_id)
    assert said.get_attribute("role") == "alert"
    assert said.inner_text().startswith(
        "Møtet ble ikke flyttet: Tor Ekeberg er ikke ledig i tidsluke 1. Det står der det stod."
    )
    check_axe(page)  # the answer in the table breaks nothing

    # remove one: the page stays at its slot, which now has a free table
    last = page.locator("tr[data-place^=mote-]").last
    freed = last.locator("xpath=ancestor::div[@role='region']").get_attribute("data-place")
    with page.expect_navigation():
        last.get_by_role("button", name=re.compile("^Fjern")).click()
    said = answer(page, freed)
    assert "er fjernet. Paret settes ikke opp igjen" in said.inner_text()
    assert int(page.locator(".stats dd").first.inner_text()) == count - 1

    # a move into that free place: the page follows the meeting to its new slot
    slot = int(freed.split("-")[1])
    busy = set(page.locator(f"[data-place={freed}] td a").all_inner_texts())
    movable = [
        r
        for r in page.locator("tr[data-place^=mote-]").all()
        if r.locator("xpath=ancestor::div[@role='region']").get_attribute("data-place") != freed
        and not busy & set(r.locator("td a").all_inner_texts())
        and not (slot <= 2 and "Tor Ekeberg" in r.inner_text())  # busy in slots 1 and 2
    ]
    row = movable[0]
    row_id = row.get_attribute("data-place")
    row.get_by_label(re.compile("^Flytt")).select_option(str(slot))
    with page.expect_navigation():
        row.get_by_role("button", name=re.compile("^Flytt")).click()
    said = answer(page, row_id)
    assert re.match(
        rf"Møtet .+ er flyttet til tidsluke {slot} \(\d\d:\d\d–\d\d:\d\d\), "
        r"bord \d+, og låst der\. Plassen i tidsluke \d står tom",
        said.inner_text(),
    )
    assert page.locator(f"[data-place={freed}] [data-place={row_id}]").count() == 1

    # add one by hand that cannot be placed: refused in the form's section
    page.get_by_label("Kommune", exact=True).select_option(label="Tor Ekeberg")
    page.get_by_label("Tidsluke", exact=True).select_option("2")
    with page.expect_navigation():
        page.get_by_role("button", name="Legg til").click()
    said = answer(page, "legg-til")
    assert said.inner_text().startswith("Møtet ble ikke lagt til: ")

    # a no-show re-plans the rest of the day; the answer stands in its section
    page.get_by_label("Deltaker", exact=True).select_option(label="Liv Sandvik")
    page.get_by_label("Fra tidsluke").select_option("4")
    with page.expect_navigation():
        page.get_by_role("button", name="Registrer og planlegg resten").click()
    wait_planned(page)  # the page loads itself again with the new plan ...
    said = answer(page, "uteblitt")  # ... at the same place, answer and all, focused
    assert said.inner_text().startswith("Registrert at Liv Sandvik ikke kom fra tidsluke 4.")
    who = page.get_by_label("Deltaker", exact=True)
    assert "Liv Sandvik (borte fra luke 4)" in who.inner_text()
    for slot in (4, 5, 6):
        table = page.locator("table.slot").nth(slot - 1)
        assert "Liv Sandvik" not in table.inner_text()
    page.set_viewport_size(VIEWPORTS["mobil"])
    fits(page)
    check_axe(page)
    page.set_viewport_size(VIEWPORTS["desktop"])

    with page.expect_navigation():
        page.get_by_role("button", name="Publiser planen").click()
    said = answer(page, "handlinger")
    assert said.inner_text().startswith(
        "Planen er publisert og kan ikke endres lenger. Deltakerne får ikke e-post automatisk"
    )
    assert "publisert" in page.locator("p.meta").first.inner_text()
    assert page.get_by_role("button", name="Planlegg resten på nytt").count() == 0
    check_axe(page)
    page.reload()  # the answer is said once; the plan's state stays on the page
    assert page.locator("[data-answer]").count() == 0
    assert "kan ikke endres" in page.locator("#handlinger").inner_text()

    # the files, with Norwegian names and headers, numbers with decimal comma
    got = page.request.get(base + "/filer/" + "m%C3%B8ter.csv")
    assert got.ok and got.headers["content-disposition"] == (
        'attachment; filename="sosent-2026-moter.csv"; '
        "filename*=UTF-8''sosent-2026-m%C3%B8ter.csv"
    )
    lines = got.body().decode("utf-8-sig").splitlines()
    assert lines[0].startswith("Tidsluke;Tid;Bord;Kommuneansatt;Organisasjon;Entreprenør;")
    assert re.search(r";\d+,\d\d;", lines[1]), lines[1]
    for link in ("møteplan (Excel)", "møteplan (CSV)", "hvor godt alle par passer (CSV)"):
        assert page.request.get(live + page.get_by_role("link", name=link).get_attribute("href")).ok
    sheet = page.request.get(base + "/filer/m%C3%B8ter.xlsx")
    assert sheet.ok and sheet.body().startswith(b"PK")  # a zip: the workbook
    for size in VIEWPORTS:
        page.set_viewport_size(VIEWPORTS[size])
        page.goto(base + "/filer/oppsummering.html")
        assert page.locator("svg").count() == 2
        assert "Hvor godt parene passer, samlet:" in page.locator("main").inner_text()
        fits(page)
        check_axe(page)
    page.close()

    # the agenda of one person, on a phone and on a desktop
    for size in ("mobil", "desktop"):
        page = login(browser, live, "organiser", size)
        page.goto(base)
        with page.expect_navigation():
            page.get_by_role("link", name="Kari Nordby").first.click()
        assert page.locator("html").get_attribute("lang") == "nb"
        assert page.locator("main").count() == 1
        assert page.get_by_role("heading", level=1).inner_text() == "Møteplan for Kari Nordby"
        assert "26. november 2026" in page.locator("main").inner_text()
        fits(page)  # 390 px on a phone: no scrolling sideways
        why = page.locator("ol.agenda .why").all_inner_texts()
        assert why and all(w.startswith(("Felles", "Nærliggende")) for w in why)
        check_axe(page)
        if size == "mobil":
            shot(page, "agenda-mobil")
            pdf = page.request.get(page.url + "?format=pdf")
            assert pdf.headers["content-type"] == "application/pdf"
            assert pdf.body().startswith(b"%PDF")
            assert (
                "filename*=UTF-8''m%C3%B8teplan-kari-nordby.pdf"
                in pdf.headers["content-disposition"]
            )
            ics = page.request.get(page.url + "?format=ics").text()
            assert ics.startswith("BEGIN:VCALENDAR") and "BEGIN:VEVENT" in ics
        page.close()

    page = login(browser, live, "organiser")
    response = page.goto(live + "/vurdering")  # another role's page
    assert response.status == 403
    assert page.get_by_role("heading", level=1).inner_text() == "Ingen tilgang"
    page.close()
