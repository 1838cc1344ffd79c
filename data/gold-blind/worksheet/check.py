#!/usr/bin/env python3
"""Check script for the Brobygger blind set (GUIDELINES.md §6).
Merged set: taken from writer B's part script, extended at merge with the kommuner of parts A and C
and a hard check of the rule "at least 10 profiles grade 3 for needs from 2 or more places".

Usage:
  python3 check.py [DIR] [--part]      (DIR defaults to the folder above this script)

--part: checks one writer's part (temporary ids like B-c01 / B-e01, part quotas, >=5 bydeler/kommuner).
Without --part: full-set mode (ids b-c001 / b-e001, guideline minimums).
Fails loudly (exit code 1) and lists every failure. Prints a per-kind summary.
"""
import json, os, re, sys, unicodedata
from collections import Counter, defaultdict

args = [a for a in sys.argv[1:] if not a.startswith("--")]
PART = "--part" in sys.argv
BASE = args[0] if args else os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

if PART:
    CID = re.compile(r"^[A-Z]-c\d{2}$"); EID = re.compile(r"^[A-Z]-e\d{2}$")
    KIND_MIN = {"paraphrase": 4, "trap": 4, "english": 3, "nynorsk": 3, "short": 3,
                "outside_area": 3, "thin_profile": 2, "standard": 0}
    MIN_BYDELER, MIN_KOMMUNER, MIN_NEEDS, MIN_PROFILES, MIN_NN_NEED = 5, 5, 22, 54, 2
else:
    CID = re.compile(r"^b-c\d{3}$"); EID = re.compile(r"^b-e\d{3}$")
    KIND_MIN = {"paraphrase": 12, "trap": 12, "english": 8, "nynorsk": 8, "short": 8,
                "outside_area": 8, "thin_profile": 4, "standard": 4}
    MIN_BYDELER, MIN_KOMMUNER, MIN_NEEDS, MIN_PROFILES, MIN_NN_NEED = 12, 12, 64, 160, 4

THEMES = {"arbeidsinkludering", "eldre", "barn-og-unge", "skole-og-oppvekst", "flyktninger-og-integrering",
          "helse-og-rus", "bolig-og-nærmiljø", "miljø-og-klima", "kultur-og-fritid", "frivillighet"}
BYDELER = {"Alna", "Bjerke", "Frogner", "Gamle Oslo", "Grorud", "Grünerløkka", "Nordre Aker", "Nordstrand",
           "Sagene", "St. Hanshaugen", "Stovner", "Søndre Nordstrand", "Ullern", "Vestre Aker", "Østensjø"}
# Kommuner (2024 structure, official name "X kommune") accepted by this check. Extend when new ones are used;
# each entry was checked by hand to be a current kommune with a plain Norwegian name.
KOMMUNER = {
    "Oslo", "Sarpsborg", "Fredrikstad", "Halden", "Trondheim", "Malvik", "Melhus", "Stjørdal", "Steinkjer",
    "Levanger", "Volda", "Ørsta", "Ulstein", "Hareid", "Gjøvik", "Østre Toten", "Vestre Toten", "Hamar",
    "Lillehammer", "Bodø", "Meløy", "Gildeskål", "Tromsø", "Skien", "Porsgrunn", "Bamble", "Stord", "Bømlo",
    "Fitjar", "Bergen", "Kristiansand", "Vennesla", "Drammen", "Lier", "Hå", "Time", "Klepp", "Stavanger",
    "Sandnes", "Sunnfjord", "Askvoll", "Sogndal", "Luster", "Bærum", "Asker", "Lillestrøm",
    # added at merge (parts A and C)
    "Alta", "Arendal", "Askøy", "Balsfjord", "Elverum", "Etne", "Giske", "Grimstad", "Hammerfest", "Harstad", "Hvaler", "Inderøy", "Kinn", "Kvinnherad", "Kvæfjord", "Lørenskog", "Moss", "Namsos", "Narvik", "Nord-Fron", "Nordre Follo", "Overhalla", "Randaberg", "Ringebu", "Ringsaker", "Sel", "Senja", "Sola", "Stad", "Stange", "Sula", "Sør-Fron", "Verdal", "Ålesund", "Årdal",
}
NYNORSK_KOMMUNER = {"Volda", "Ørsta", "Ulstein", "Hareid", "Stord", "Bømlo", "Fitjar", "Hå", "Time", "Klepp",
                    "Sunnfjord", "Askvoll", "Sogndal", "Luster",
                    "Kvinnherad", "Nord-Fron", "Etne", "Kinn", "Stad", "Årdal"}
KINDS = ["paraphrase", "trap", "english", "nynorsk", "short", "outside_area", "thin_profile", "standard"]
STOP = set("""og i på til for med som en et ei er det den de av at har vi oss vår våre kan skal vil om
fra ikke eller men så seg sin sine dere blir ble være var mer også etter over under inn opp hos
når hvor hva hvordan noe noen alle mange
ikkje ein eit dei me kva korleis frå òg berre mykje vere
the and of to in for with we our are is you""".split())
NEIGHBOURS = {
    "K1": ["K2", "K10", "K12"], "K2": ["K1", "K11"], "K3": ["K4", "K5", "K7"], "K4": ["K3", "K7", "K11"],
    "K5": ["K3", "K6"], "K6": ["K5", "K8", "K10"], "K7": ["K3", "K4", "K6"], "K8": ["K6", "K9", "K12"],
    "K9": ["K4", "K8"], "K10": ["K1", "K6"], "K11": ["K2", "K4"], "K12": ["K1", "K8"],
}

FAIL = []
WARN = []


def fail(msg):
    FAIL.append(msg)


def words(text):
    return re.findall(r"[^\W_]+", text.lower())


def content(text):
    return [w for w in words(text) if len(w) > 2 and w not in STOP]


def stems(text):
    return {w[:5] for w in content(text)}


def ngrams(seq, n):
    return {tuple(seq[i:i + n]) for i in range(len(seq) - n + 1)}


def n_sentences(text):
    parts = [p for p in re.split(r"(?<=[.!?])\s+(?=\S)", text.strip()) if p.strip()]
    return len(parts)


def n_words(text):
    return len(text.split())


def read_raw(path):
    with open(path, "rb") as f:
        raw = f.read()
    name = os.path.relpath(path, BASE)
    if raw.startswith(b"\xef\xbb\xbf"):
        fail(f"{name}: BOM")
    if b"\r" in raw:
        fail(f"{name}: CR line endings")
    txt = raw.decode("utf-8")
    if unicodedata.normalize("NFC", txt) != txt:
        fail(f"{name}: not NFC")
    if txt and not txt.endswith("\n"):
        fail(f"{name}: no final newline")
    return txt


def read_tsv(name, nfields):
    path = os.path.join(BASE, name)
    if not os.path.exists(path):
        fail(f"missing file {name}")
        return []
    rows = []
    for i, line in enumerate(read_raw(path).split("\n")[:-1], 1):
        if line != line.rstrip(" ") or line.startswith(" "):
            fail(f"{name}:{i}: leading/trailing space")
        f = line.split("\t")
        if len(f) != nfields:
            fail(f"{name}:{i}: {len(f)} fields, expected {nfields}")
            continue
        rows.append(f)
    return rows


def load_json(name, keys, idpat):
    path = os.path.join(BASE, name)
    txt = read_raw(path)
    if "\\u" in txt:
        fail(f"{name}: contains \\u escapes")
    try:
        data = json.loads(txt)
    except Exception as e:
        fail(f"{name}: invalid JSON: {e}")
        return []
    if not isinstance(data, list):
        fail(f"{name}: not a list")
        return []
    if txt != json.dumps(data, ensure_ascii=False, indent=2) + "\n":
        WARN.append(f"{name}: not in the canonical pretty-printed form (indent=2)")
    seen = set()
    for o in data:
        if set(o.keys()) != set(keys):
            fail(f"{name}: {o.get('id')}: keys {sorted(o.keys())}")
        if not idpat.match(str(o.get("id", ""))):
            fail(f"{name}: bad id {o.get('id')}")
        if o.get("id") in seen:
            fail(f"{name}: duplicate id {o.get('id')}")
        seen.add(o.get("id"))
        for k, v in o.items():
            if isinstance(v, str) and v != v.strip():
                fail(f"{name}: {o['id']}.{k} has leading/trailing whitespace")
    return data


def orgnr_ok(s):
    if not re.fullmatch(r"[89]\d{8}", s):
        return False
    w = [3, 2, 7, 6, 5, 4, 3, 2]
    r = sum(int(a) * b for a, b in zip(s[:8], w)) % 11
    c = 0 if r == 0 else 11 - r
    return c != 10 and c == int(s[8])


# ---------------------------------------------------------------- load
CH = load_json("challenges.json", ["id", "organisation", "title", "description", "themes", "language"], CID)
EN = load_json("entrepreneurs.json", ["id", "name", "org_nr", "description", "themes", "service_areas", "language"], EID)
C = {c["id"]: c for c in CH}
E = {e["id"]: e for e in EN}

# ---------------------------------------------------------------- records
def place_of(c):
    org = c["organisation"]
    if org.startswith("Bydel "):
        return ("bydel", org[6:])
    if org == "Oslo kommune":
        return ("oslo", "Oslo")
    if org.endswith(" kommune"):
        return ("kommune", org[:-8])
    return (None, org)


def check_themes(rec, most):
    if not (isinstance(rec["themes"], list) and 1 <= len(rec["themes"]) <= most):
        fail(f"{rec['id']}: needs 1–{most} themes")
    for t in rec["themes"]:
        if t not in THEMES:
            fail(f"{rec['id']}: unknown theme {t!r}")


for c in CH:
    kind, nm = place_of(c)
    if kind == "bydel" and nm not in BYDELER:
        fail(f"{c['id']}: unknown bydel {nm!r}")
    elif kind == "kommune" and nm not in KOMMUNER:
        fail(f"{c['id']}: kommune {nm!r} not in the checked list")
    elif kind is None:
        fail(f"{c['id']}: organisation {c['organisation']!r} has a bad form")
    if not (3 <= n_words(c["title"]) <= 10):
        fail(f"{c['id']}: title has {n_words(c['title'])} words")
    ns = n_sentences(c["description"])
    if not (1 <= ns <= 6):
        fail(f"{c['id']}: description has {ns} sentences")
    check_themes(c, 4)
    if len(set(c["themes"])) != len(c["themes"]):
        fail(f"{c['id']}: duplicate theme")
    if c["language"] not in ("nb", "nn", "en"):
        fail(f"{c['id']}: bad language")
    if c["language"] == "nn" and kind == "kommune" and nm not in NYNORSK_KOMMUNER:
        fail(f"{c['id']}: nynorsk need from {nm}, not a nynorsk kommune in the list")

orgs = Counter(e["org_nr"] for e in EN)
for e in EN:
    if orgs[e["org_nr"]] > 1:
        fail(f"{e['id']}: duplicate org_nr {e['org_nr']}")
    if not orgnr_ok(e["org_nr"]):
        fail(f"{e['id']}: bad org_nr {e['org_nr']}")
    if PART and not e["org_nr"].startswith("92"):
        fail(f"{e['id']}: part org_nr must start with 92")
    check_themes(e, 5)
    sa = e["service_areas"]
    if not (isinstance(sa, list) and 1 <= len(sa) <= 4) or len(set(sa)) != len(sa):
        fail(f"{e['id']}: needs 1–4 distinct service areas")
    for a in sa:
        if a.startswith("Bydel "):
            if a[6:] not in BYDELER:
                fail(f"{e['id']}: unknown bydel area {a!r}")
        elif a in ("Oslo", "Hele landet"):
            pass
        elif a.endswith(" kommune") or a not in KOMMUNER:
            fail(f"{e['id']}: bad area {a!r}")
    if e["language"] not in ("nb", "nn", "en"):
        fail(f"{e['id']}: bad language")
    if not e["description"] or not e["name"]:
        fail(f"{e['id']}: empty name/description")


def covers(e, c):
    kind, nm = place_of(c)
    sa = set(e["service_areas"])
    if "Hele landet" in sa:
        return True
    if kind == "bydel":
        return ("Bydel " + nm) in sa or "Oslo" in sa
    if kind == "oslo":
        return "Oslo" in sa
    return nm in sa


# ---------------------------------------------------------------- qrels / cases / traps
Q = {}
G3 = defaultdict(list)
graded = defaultdict(dict)
for cid, eid, g in read_tsv("qrels.tsv", 3):
    if cid not in C:
        fail(f"qrels: unknown need {cid}")
    if eid not in E:
        fail(f"qrels: unknown profile {eid}")
    if g not in ("1", "2", "3"):
        fail(f"qrels: bad grade {cid} {eid} {g}")
        continue
    if (cid, eid) in Q:
        fail(f"qrels: duplicate pair {cid} {eid}")
    Q[(cid, eid)] = int(g)
    graded[cid][eid] = int(g)
    if g == "3":
        G3[cid].append(eid)

for cid in C:
    gs = graded[cid].values()
    if not any(g >= 2 for g in gs):
        fail(f"{cid}: no grade >= 2")
    if len(graded[cid]) > 8:
        fail(f"{cid}: {len(graded[cid])} graded profiles (max 8)")

CASES = {}
for cid, kind in read_tsv("cases.tsv", 2):
    if cid not in C:
        fail(f"cases: unknown need {cid}")
    if kind not in KINDS:
        fail(f"cases: bad kind {kind}")
    if cid in CASES:
        fail(f"cases: {cid} listed twice")
    CASES[cid] = kind
for cid in C:
    if cid not in CASES:
        fail(f"cases: {cid} missing")
kc = Counter(CASES.values())
for k, m in KIND_MIN.items():
    if kc[k] < m:
        fail(f"kind {k}: {kc[k]} < minimum {m}")

TR = defaultdict(list)
for cid, eid in read_tsv("traps.tsv", 2):
    if cid not in C or eid not in E:
        fail(f"traps: unknown id {cid} {eid}")
    if CASES.get(cid) != "trap":
        fail(f"traps: {cid} is not a trap need")
    if (cid, eid) in Q:
        fail(f"traps: pair {cid} {eid} is in qrels")
    TR[cid].append(eid)
for cid, k in CASES.items():
    if k == "trap" and not TR[cid]:
        fail(f"{cid}: trap need without traps.tsv line")

# ---------------------------------------------------------------- kind rules
need_text = {cid: c["title"] + " " + c["description"] for cid, c in C.items()}
prof_text = {eid: e["name"] + " " + e["description"] for eid, e in E.items()}
need_st = {cid: stems(t) for cid, t in need_text.items()}
prof_st = {eid: stems(t) for eid, t in prof_text.items()}
detail = {}
for cid, k in CASES.items():
    c = C[cid]
    g3 = G3[cid]
    if k != "standard" and not g3:
        fail(f"{cid} ({k}): no grade-3 profile")
    shared3 = {e: len(need_st[cid] & prof_st[e]) for e in g3}
    if k == "paraphrase":
        for e, n in shared3.items():
            if n > 4:
                fail(f"{cid} paraphrase: shares {n} stems with grade-3 {e}: {sorted(need_st[cid] & prof_st[e])}")
        detail[cid] = f"g3 shared stems {shared3}"
    elif k == "trap":
        mx = max(shared3.values(), default=0)
        for e in TR[cid]:
            n = len(need_st[cid] & prof_st[e])
            if n < 6 or n <= mx:
                fail(f"{cid} trap: {e} shares {n} stems (grade-3 max {mx})")
        detail[cid] = f"trap {[(e, len(need_st[cid] & prof_st[e])) for e in TR[cid]]} vs g3 max {mx}"
    elif k == "english":
        if c["language"] == "en":
            fail(f"{cid} english: need itself must be Norwegian")
        for e in g3:
            if E[e]["language"] != "en":
                fail(f"{cid} english: grade-3 {e} is {E[e]['language']}")
    elif k == "nynorsk":
        if not (c["language"] == "nn" or any(E[e]["language"] == "nn" for e in g3)):
            fail(f"{cid} nynorsk: neither need nor a grade-3 profile is nn")
    elif k == "short":
        d = c["description"]
        if n_sentences(d) != 1 or n_words(d) > 20:
            fail(f"{cid} short: {n_sentences(d)} sentences, {n_words(d)} words")
        if n_words(c["title"]) > 5:
            fail(f"{cid} short: title has {n_words(c['title'])} words")
    elif k == "outside_area":
        if place_of(c)[0] == "oslo":
            fail(f"{cid} outside_area: need from Oslo kommune")
        for e in g3:
            if covers(E[e], c):
                fail(f"{cid} outside_area: grade-3 {e} covers the place")
        for e, g in graded[cid].items():
            if covers(E[e], c) and g > 2:
                fail(f"{cid} outside_area: covering profile {e} graded {g}")
    elif k == "thin_profile":
        for e in g3:
            d = E[e]["description"]
            if n_words(d) > 30 or not (1 <= n_sentences(d) <= 2):
                fail(f"{cid} thin: grade-3 {e} has {n_words(d)} words / {n_sentences(d)} sentences")
        if not any(g in (1, 2) and n_words(E[e]["description"]) > 30 for e, g in graded[cid].items()):
            fail(f"{cid} thin: no longer profile graded 1–2")
    elif k == "standard":
        if not (2 <= len(graded[cid]) <= 5):
            WARN.append(f"{cid} standard: {len(graded[cid])} graded profiles (2–5 expected)")
nn_need = sum(1 for cid, k in CASES.items() if k == "nynorsk" and C[cid]["language"] == "nn")
if nn_need < MIN_NN_NEED:
    fail(f"nynorsk: only {nn_need} nynorsk needs written in nn (min {MIN_NN_NEED})")

# ---------------------------------------------------------------- leak rules
need_seq = {}
for cid, c in C.items():
    need_seq[cid] = ngrams(content(c["title"]), 4) | ngrams(content(c["description"]), 4)
for eid, e in E.items():
    ps = ngrams(content(e["name"]), 4) | ngrams(content(e["description"]), 4)
    for cid, s in need_seq.items():
        common = ps & s
        if common:
            fail(f"copy: {eid} shares 4 content words with {cid}: {sorted(common)[:2]}")
five = defaultdict(set)
for eid, e in E.items():
    for g in ngrams(words(e["description"]), 5):
        five[g].add(eid)
for g, ids in five.items():
    if len(ids) > 3:
        fail(f"5-word sequence {' '.join(g)!r} in {len(ids)} profiles")

# ---------------------------------------------------------------- distribution
byd = {place_of(c)[1] for c in CH if place_of(c)[0] == "bydel"}
kom = {place_of(c)[1] for c in CH if place_of(c)[0] == "kommune"}
if len(byd) < MIN_BYDELER:
    fail(f"only {len(byd)} distinct bydeler")
if len(kom) < MIN_KOMMUNER:
    fail(f"only {len(kom)} distinct kommuner")
n_oslo_k = sum(1 for c in CH if c["organisation"] == "Oslo kommune")
if n_oslo_k > 6:
    fail(f"{n_oslo_k} needs from Oslo kommune (max 6)")
if len(CH) < MIN_NEEDS or len(EN) < MIN_PROFILES:
    fail(f"size: {len(CH)} needs, {len(EN)} profiles")
relevant = {e for (_, e) in Q}
distr = [e for e in E if e not in relevant]
share = len(distr) / max(1, len(E))
if not (0.20 <= share <= 0.30):
    fail(f"distractor share {share:.0%} outside 20–30 %")
multi = Counter(e for (_, e) in Q)
if sum(1 for e in relevant if multi[e] >= 2) * 2 < len(relevant):
    fail("fewer than half of the graded profiles are graded for 2+ needs")
no3 = [cid for cid in C if not G3[cid]]
for cid in no3:
    if CASES.get(cid) not in ("standard", "short"):
        fail(f"{cid}: no grade 3 but kind {CASES.get(cid)}")
same_theme = [cid for cid in C if any(set(C[cid]["themes"]) == set(E[e]["themes"]) for e in G3[cid])]
if len(same_theme) > 0.20 * len(C):
    fail(f"{len(same_theme)} needs share the exact theme set with a grade-3 profile (max 20 %)")
hl = sum(1 for e in EN if "Hele landet" in e["service_areas"]) / max(1, len(EN))
if not (0.08 <= hl <= 0.18):
    WARN.append(f"Hele landet share {hl:.0%} (about 10–15 % expected)")
multi_place = [e for e in E if len({C[c]["organisation"] for c in C if e in G3[c]}) >= 2]
if not PART and len(multi_place) < 10:
    fail(f"only {len(multi_place)} profiles are grade 3 for needs from 2+ places (min 10)")
no3_share = len(no3) / max(1, len(C))
if no3_share > 0.16:
    fail(f"{no3_share:.0%} of needs have no grade 3 (about 15 % max)")

# ---------------------------------------------------------------- worksheet
CL = {}
for row in read_tsv("worksheet/clusters.tsv", 3):
    rid, cl, sec = row
    if rid in CL:
        fail(f"clusters: {rid} twice")
    if cl not in NEIGHBOURS:
        fail(f"clusters: {rid} bad cluster {cl}")
    secs = [s for s in sec.split(",") if s]
    for s in secs:
        if s not in NEIGHBOURS:
            fail(f"clusters: {rid} bad secondary {s}")
    CL[rid] = (cl, secs)
for rid in list(C) + list(E):
    if rid not in CL:
        fail(f"clusters: {rid} missing")
J = {}
for cid, eid, g, note in read_tsv("worksheet/judged.tsv", 4):
    if cid not in C or eid not in E:
        fail(f"judged: unknown id {cid} {eid}")
        continue
    if g not in ("0", "1", "2", "3"):
        fail(f"judged: bad grade {cid} {eid} {g}")
        continue
    if (cid, eid) in J:
        fail(f"judged: duplicate {cid} {eid}")
    J[(cid, eid)] = int(g)
for cid in C:
    if cid not in CL:
        continue
    allowed = {CL[cid][0]} | set(NEIGHBOURS[CL[cid][0]])
    for eid in E:
        if eid not in CL:
            continue
        pcl = {CL[eid][0]} | set(CL[eid][1])
        if pcl & allowed and (cid, eid) not in J:
            fail(f"judged: missing cluster/neighbour pair {cid} {eid}")
for (cid, eid), g in J.items():
    if g >= 1 and Q.get((cid, eid)) != g:
        fail(f"judged/qrels mismatch {cid} {eid}: judged {g}, qrels {Q.get((cid, eid))}")
for (cid, eid), g in Q.items():
    if J.get((cid, eid)) != g:
        fail(f"qrels pair {cid} {eid} not in judged with the same grade")
for cid, lst in TR.items():
    for eid in lst:
        if J.get((cid, eid)) != 0:
            fail(f"trap pair {cid} {eid} not judged 0 in judged.tsv")

# ---------------------------------------------------------------- summary
lang_n = Counter(c["language"] for c in CH) + Counter(e["language"] for e in EN)
tot = sum(lang_n.values())
print(f"needs {len(CH)}, profiles {len(EN)}, qrels {len(Q)} "
      f"(grade 3: {sum(1 for g in Q.values() if g == 3)}, 2: {sum(1 for g in Q.values() if g == 2)}, "
      f"1: {sum(1 for g in Q.values() if g == 1)}), judged lines {len(J)}")
print(f"distractors {len(distr)} ({share:.0%}); graded profiles {len(relevant)}, of which graded for 2+ needs "
      f"{sum(1 for e in relevant if multi[e] >= 2)}; grade 3 for 2+ places: {len(multi_place)}")
print(f"bydeler {len(byd)}: {', '.join(sorted(byd))}")
print(f"kommuner {len(kom)}: {', '.join(sorted(kom))}; Oslo kommune needs: {n_oslo_k}")
print("language share: " + ", ".join(f"{k} {v} ({v / tot:.0%})" for k, v in sorted(lang_n.items())))
print(f"Hele landet share {hl:.0%}; needs with same theme set as a grade-3 profile: {len(same_theme)}")
print("per kind:")
for k in KINDS:
    ids = sorted(cid for cid, kk in CASES.items() if kk == k)
    print(f"  {k:13s} {len(ids):3d} (min {KIND_MIN[k]})")
    for cid in ids:
        extra = detail.get(cid, "")
        print(f"      {cid} graded={len(graded[cid])} g3={sorted(G3[cid])} {extra}")
for w in WARN:
    print("WARNING:", w)
if FAIL:
    print(f"\nFAILED: {len(FAIL)} problem(s)")
    for f in FAIL:
        print("  -", f)
    sys.exit(1)
print("\nALL CHECKS PASSED")
