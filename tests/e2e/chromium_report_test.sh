#!/usr/bin/env bash
# Opens a run's report.html in Debian's headless Chromium, offline, and checks
# what a reader would see:
#   - chromium exits 0 and logs no console error, CSP violation or failed load;
#   - the rendered DOM has no on* handler and nothing to fetch; its one
#     <script> is the one the CSP allows by hash (sha256 of report.html's);
#   - every Stripe id of a finding (subject, customer) links to its Dashboard
#     page, with the test/live path and /acct_…/ prefix report.json's run
#     implies (run.livemode, run.stripe_account), and no other link leaves the page;
#   - sorting and filtering work: the page opened at
#     #findings-table?team=T&sort=kind&dir=desc shows exactly team T's
#     findings, by kind descending; with scripts off every row is in the HTML;
#   - every data-total / data-kind-total / data-team-total (and the
#     data-team-flagged / data-disposition-total / data-age-bucket) number
#     equals report.json's, by the rule of docs/report-schema.md ("Totals in
#     the human formats"), and every number report.json has is on the page;
#   - a screenshot renders (a PNG; kept at $CHROMIUM_SCREENSHOT if set).
#
# Usage: chromium_report_test.sh REPORT_DIR     (holding report.html and report.json)
# Exit:  0 pass; 77 skipped (no chromium or python3, and CHROMIUM_REQUIRED unset
#        or 0: ctest's SKIP_RETURN_CODE); 1 a check failed; 2 usage.
# Env:   CHROMIUM_BIN (default: chromium, then chromium-browser), CHROMIUM_REQUIRED,
#        CHROMIUM_SCREENSHOT (path to keep the PNG), CHROMIUM_TIMEOUT (s, default 120).
set -euo pipefail

if [ $# -ne 1 ] || [ ! -f "$1/report.html" ] || [ ! -f "$1/report.json" ]; then
  echo "usage: $0 REPORT_DIR   (a directory with report.html and report.json)" >&2
  exit 2
fi
report_dir=$(cd "$1" && pwd)

required=0
case "${CHROMIUM_REQUIRED:-}" in ""|0) ;; *) required=1 ;; esac
skip_or_fail() {
  if [ "$required" -eq 1 ]; then
    echo "FAIL: $1 (CHROMIUM_REQUIRED is set)" >&2
    exit 1
  fi
  echo "SKIP: $1 (apt-get install chromium python3; set CHROMIUM_REQUIRED=1 to make this a failure)" >&2
  exit 77
}

chromium=${CHROMIUM_BIN:-}
if [ -z "$chromium" ]; then
  chromium=$(command -v chromium || command -v chromium-browser || true)
fi
[ -n "$chromium" ] && [ -x "$(command -v "$chromium" || true)" ] || skip_or_fail "chromium is not installed"
command -v python3 >/dev/null || skip_or_fail "python3 is not installed"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
url=$(python3 -c 'import pathlib, sys; print(pathlib.Path(sys.argv[1]).resolve().as_uri())' "$report_dir/report.html")
timeout_s=${CHROMIUM_TIMEOUT:-120}

# A fresh profile per invocation, and every background fetch off: the page
# must render with no network at all.
run_chromium() {
  local profile
  profile=$(mktemp -d "$work/profile.XXXXXX")
  timeout --kill-after=10 "$timeout_s" "$chromium" --headless --no-sandbox --disable-gpu --disable-quic \
    --no-first-run --disable-background-networking --disable-component-update --disable-sync \
    --disable-default-apps --disable-extensions --no-default-browser-check --mute-audio \
    --user-data-dir="$profile" --enable-logging=stderr --v=0 "$@"
}

fail=0
if ! run_chromium --dump-dom "$url" >"$work/dom.html" 2>"$work/dom.stderr"; then
  echo "FAIL: chromium --dump-dom exited non-zero; its stderr:" >&2
  cat "$work/dom.stderr" >&2
  exit 1
fi
# The same page opened filtered and sorted through its URL fragment (the
# table script reads it): team and order are chosen by the checker below.
filter_fragment=$(python3 - "$report_dir/report.json" <<'PY'
import json, sys, urllib.parse
r = json.load(open(sys.argv[1], encoding="utf-8"))
f = [x for x in r.get("findings", []) if isinstance(x, dict)] if isinstance(r, dict) else []
teams = sorted({x.get("team") for x in f if isinstance(x.get("team"), str) and x.get("team")})
count = {t: sum(1 for x in f if x.get("team") == t) for t in teams}
# A team whose filter hides some rows and keeps several, if there is one.
pick = sorted(teams, key=lambda t: (not (1 < count[t] < len(f)), -count[t], t))
print("findings-table?team=" + urllib.parse.quote(pick[0] if pick else "", safe="") + "&sort=kind&dir=desc")
PY
)
sort_fragment="findings-table?sort=subject&dir=desc"
for name in filtered sorted; do
  fragment=$filter_fragment
  [ "$name" = sorted ] && fragment=$sort_fragment
  if ! run_chromium --dump-dom "$url#$fragment" >"$work/$name.html" 2>"$work/$name.stderr"; then
    echo "FAIL: chromium --dump-dom (#$fragment) exited non-zero; its stderr:" >&2
    cat "$work/$name.stderr" >&2
    exit 1
  fi
done
if ! run_chromium --window-size=1280,2000 --hide-scrollbars --screenshot="$work/report.png" "$url" \
    >"$work/shot.stdout" 2>"$work/shot.stderr"; then
  echo "FAIL: chromium --screenshot exited non-zero; its stderr:" >&2
  cat "$work/shot.stderr" >&2
  fail=1
fi

# Console output about the page: JS errors (there should be no JS at all), CSP
# violations (something tried to load or run), failed loads.
pattern='CONSOLE|Uncaught|Refused to|Content.Security.Policy|Failed to load resource|net::ERR_'
if grep -E -h "$pattern" "$work/dom.stderr" "$work/shot.stderr" "$work/filtered.stderr" "$work/sorted.stderr" >"$work/console.txt"; then
  echo "FAIL: chromium reported problems with the page:" >&2
  cat "$work/console.txt" >&2
  fail=1
fi

python3 - "$report_dir/report.json" "$work/dom.html" "$work/report.png" "$report_dir/report.html" \
          "$work/filtered.html" "$filter_fragment" "$work/sorted.html" <<'PY' || fail=1
import base64, hashlib, json, math, re, sys, urllib.parse
from html.parser import HTMLParser

report_path, dom_path, png_path, html_path, filtered_path, fragment, sorted_path = sys.argv[1:8]
errors = []

with open(report_path, encoding="utf-8") as f:
    report = json.load(f)
if not isinstance(report, dict):
    report = {}

# --- what the page must say: docs/report-schema.md, "Totals in the human formats"
INT64 = (-(2**63), 2**63 - 1)

def integral(v):
    if isinstance(v, bool):
        return None
    if isinstance(v, int):
        return v if INT64[0] <= v <= INT64[1] else None
    if isinstance(v, float) and math.isfinite(v) and v == math.floor(v) and abs(v) < 9.0e15:
        return int(v)
    return None

def text_of(v):
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    return ""

def obj(v):
    return v if isinstance(v, dict) else None

totals = obj(report.get("totals")) or {}
findings = report.get("findings") if isinstance(report.get("findings"), list) else []
run = obj(report.get("run")) or {}

def disposition(f):
    return text_of(f.get("disposition")) if isinstance(f, dict) else ""

def is_flagged(d):
    return d in ("flagged", "failed")

def count(key, flagged_only=False):
    out = {}
    for f in findings:
        if not isinstance(f, dict):
            continue
        if flagged_only and not is_flagged(disposition(f)):
            continue
        k = text_of(f.get(key))
        if k:
            out[k] = out.get(k, 0) + 1
    return out

def breakdown(given, derived):
    given = obj(given)
    if given is None:
        return derived
    out = {}
    for k, v in given.items():
        n = integral(v)
        out[k] = n if n is not None else derived.get(k, 0)
    return out

def total(key, derived):
    n = integral(totals.get(key))
    return n if n is not None else derived

expected = {
    "data-total": {
        "findings": total("findings", len(findings)),
        "applied": total("applied", sum(1 for f in findings if disposition(f) == "applied")),
        "flagged": total("flagged", sum(1 for f in findings if is_flagged(disposition(f)))),
    },
    "data-kind-total": breakdown(totals.get("by_kind"), count("kind")),
    "data-disposition-total": breakdown(totals.get("by_disposition"), count("disposition")),
    "data-team-total": breakdown(totals.get("by_team"), count("team")),
    "data-team-flagged": breakdown(totals.get("flagged_by_team"), count("team", True)),
}
if isinstance(report.get("escalations"), list):
    buckets = {"0-1d": 0, "1-7d": 0, "7-30d": 0, "30d+": 0}
    unknown = 0
    for e in report["escalations"]:
        if not isinstance(e, dict) or text_of(e.get("status")) != "open":
            continue
        a = e.get("age_days")
        if isinstance(a, bool) or not isinstance(a, (int, float)) or not math.isfinite(a):
            unknown += 1
        elif a < 1:
            buckets["0-1d"] += 1
        elif a < 7:
            buckets["1-7d"] += 1
        elif a <= 30:
            buckets["7-30d"] += 1
        else:
            buckets["30d+"] += 1
    if unknown:
        buckets["unknown"] = unknown
    expected["data-age-bucket"] = buckets

# --- what the page says
FETCHING = {"src", "href", "xlink:href", "srcset", "action", "formaction", "data", "poster", "background"}
RESOURCES = {"cus_": "customers", "sub_": "subscriptions", "in_": "invoices", "ch_": "payments", "py_": "payments",
             "pi_": "payments", "dp_": "disputes", "du_": "disputes", "evt_": "events", "price_": "prices"}
DASHBOARD = re.compile(r"^https://dashboard\.stripe\.com/(acct_[A-Za-z0-9]+/)?(test/)?([a-z]+)/([A-Za-z0-9_]+)$")

class Page(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found = {attr: {} for attr in expected}
        self.open = []  # [attr, key, tag, text]
        self.title = ""
        self.in_title = False
        self.scripts = 0
        self.csp = ""
        self.links = []  # Dashboard hrefs
        self.rows = {}   # table id -> [(attrs of the tbody row)]
        self.table = None

    def handle_starttag(self, tag, attrs):
        d = dict(attrs)
        if tag in ("iframe", "object", "embed", "img", "link", "base", "form", "frame"):
            errors.append(f"the page has a <{tag}> element")
        if tag == "script":
            self.scripts += 1
        if tag == "meta":
            if (d.get("http-equiv") or "").lower() == "refresh":
                errors.append("the page has a meta refresh")
            if (d.get("http-equiv") or "").lower() == "content-security-policy":
                self.csp = d.get("content") or ""
        if tag == "table":
            self.table = d.get("id")
        if tag == "tr" and self.table and "data-kind" in d:
            self.rows.setdefault(self.table, []).append(d)
        for name, value in attrs:
            if name.startswith("on"):
                errors.append(f"<{tag}> has an event handler attribute {name}={value!r}")
            if name == "href" and tag == "a" and value is not None and value.startswith("#"):
                continue
            if name == "href" and tag == "a" and value and DASHBOARD.match(value):
                self.links.append(value)
                continue
            if name in FETCHING and value:
                errors.append(f"<{tag}> would fetch {name}={value!r}")
            if name == "style" and value and "url(" in value.lower():
                errors.append(f"<{tag}> style loads a url: {value!r}")
        for name, value in attrs:
            if name in self.found:
                self.open.append([name, value or "", tag, ""])
        if tag == "title":
            self.in_title = True

    def handle_endtag(self, tag):
        if tag == "title":
            self.in_title = False
        if tag == "table":
            self.table = None
        while self.open and self.open[-1][2] == tag:
            name, key, _, text = self.open.pop()
            if key in self.found[name]:
                errors.append(f"{name}={key!r} appears twice")
            self.found[name][key] = text.strip()

    def handle_data(self, data):
        for o in self.open:
            o[3] += data
        if self.in_title:
            self.title += data

def parse(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    if "</html>" not in text.lower():
        errors.append(f"{path}: no complete document")
    p = Page()
    p.feed(text)
    p.close()
    return text, p

dom, page = parse(dom_path)
source, static = parse(html_path)

# The one script is the one the CSP allows, by the hash of report.html's bytes.
scripts = re.findall(r"<script>(.*?)</script>", source, re.S)
if len(scripts) != 1 or page.scripts != 1:
    errors.append(f"expected exactly one inline script (report.html has {len(scripts)}, the DOM {page.scripts})")
else:
    digest = base64.b64encode(hashlib.sha256(scripts[0].encode("utf-8")).digest()).decode()
    if f"script-src 'sha256-{digest}'" not in page.csp:
        errors.append(f"the CSP {page.csp!r} does not allow the page's script (sha256-{digest})")
if "default-src 'none'" not in page.csp:
    errors.append(f"the CSP {page.csp!r} lacks default-src 'none'")

# Dashboard links: the right path for every finding's Stripe ids.
live = run.get("livemode")
account = run.get("stripe_account") if isinstance(run.get("stripe_account"), str) else ""
if not re.fullmatch(r"acct_[A-Za-z0-9]+", account):
    account = ""  # not an account id: the page must not use it
def dashboard(i):
    for prefix, resource in RESOURCES.items():
        if i.startswith(prefix) and re.fullmatch(r"[A-Za-z0-9]+", i[len(prefix):] or "-"):
            return ("https://dashboard.stripe.com/" + (account + "/" if account else "") +
                    ("" if live else "test/") + resource + "/" + i)
    return None
for href in page.links:
    m = DASHBOARD.match(href)
    if not isinstance(live, bool):
        errors.append(f"link {href}: report.json's run does not say livemode, so the page must not link")
        continue
    if (m.group(2) is None) != live or (m.group(1) or "") != (account + "/" if account else ""):
        errors.append(f"link {href}: wrong mode path or account (run.livemode={live}, stripe_account={account!r})")
    if dashboard(m.group(4)) != href:
        errors.append(f"link {href}: the id's prefix does not open that Dashboard page")
wanted = set()
if isinstance(live, bool):
    for f in findings:
        if isinstance(f, dict):
            for key in ("subject_id", "customer"):
                url = dashboard(text_of(f.get(key)))
                if url:
                    wanted.add(url)
missing = wanted - set(page.links)
if missing:
    errors.append(f"{len(missing)} Dashboard links missing, e.g. {sorted(missing)[:3]}")

# With scripts off every finding is a row of the HTML, none hidden.
static_rows = static.rows.get("findings-table", [])
if len(static_rows) != len(findings):
    errors.append(f"report.html lists {len(static_rows)} findings rows, report.json has {len(findings)}")
if any("hidden" in r for r in static_rows):
    errors.append("report.html hides rows before any script ran")

# Sorting and filtering, driven through the URL fragment.
query = urllib.parse.parse_qs(fragment.split("?", 1)[1]) if "?" in fragment else {}
team = query.get("team", [""])[0]
_, filtered = parse(filtered_path)
rows = filtered.rows.get("findings-table", [])
shown = [r for r in rows if "hidden" not in r]
want_rows = [f for f in findings if isinstance(f, dict) and (not team or f.get("team") == team)]
if findings and len(rows) != len(findings):
    errors.append(f"filtered page: {len(rows)} findings rows, expected all {len(findings)} (hidden or shown)")
if len(shown) != len(want_rows):
    errors.append(f"filter team={team!r}: {len(shown)} rows shown, report.json has {len(want_rows)}")
if any(r.get("data-team") != team for r in shown):
    errors.append(f"filter team={team!r}: rows of other teams are shown")
kinds = [(r.get("data-kind") or "").lower() for r in shown]
if kinds != sorted(kinds, reverse=True):
    errors.append(f"sort kind desc: rows are in order {kinds}")
# Sorted by subject, descending, nothing hidden: the script's order (code
# units, case ignored, ties in page order) is Python's stable sort's.
_, by_subject = parse(sorted_path)
got = [(r.get("data-subject") or "").lower() for r in by_subject.rows.get("findings-table", [])]
page_order = [(r.get("data-subject") or "").lower() for r in static_rows]
if got != sorted(page_order, reverse=True):
    errors.append(f"sort subject desc: rows are in order {got}")
if len(set(page_order)) > 1 and got == page_order:
    errors.append("sort subject desc: the rows kept the page's order")
if any("hidden" in r for r in by_subject.rows.get("findings-table", [])):
    errors.append("sort without a filter hid rows")
if findings and 'data-filter="team"' not in dom:
    errors.append("the script built no filter controls")

run_id = text_of(run.get("id"))
if run_id and run_id not in page.title:
    errors.append(f"the title {page.title!r} does not name run {run_id}")

checked = 0
for attr, want in expected.items():
    got = page.found[attr]
    for key, n in want.items():
        if key not in got:
            errors.append(f"missing {attr}={key!r} (report.json: {n})")
        elif got[key] != str(n):
            errors.append(f"{attr}={key!r}: page shows {got[key]!r}, report.json says {n}")
        else:
            checked += 1
    for key in got.keys() - want.keys():
        errors.append(f"{attr}={key!r} on the page ({got[key]!r}) is not in report.json")

try:
    with open(png_path, "rb") as f:
        head = f.read(8)
    if head != b"\x89PNG\r\n\x1a\n":
        errors.append("the screenshot is not a PNG")
except OSError as e:
    errors.append(f"no screenshot: {e}")

for e in errors:
    print("FAIL:", e, file=sys.stderr)
if not errors:
    print(f"ok: {checked} numbers on the page equal report.json's; {len(page.links)} Dashboard links; "
          f"filter team={team!r} shows {len(shown)} of {len(rows)} rows, sorted")
sys.exit(1 if errors else 0)
PY

if [ -n "${CHROMIUM_SCREENSHOT:-}" ] && [ -s "$work/report.png" ]; then
  cp "$work/report.png" "$CHROMIUM_SCREENSHOT"
fi
[ "$fail" -eq 0 ] || { echo "FAIL: $report_dir/report.html" >&2; exit 1; }
echo "PASS: $report_dir/report.html renders offline in $("$chromium" --version 2>/dev/null || echo chromium)"
