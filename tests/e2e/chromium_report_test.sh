#!/usr/bin/env bash
# Opens a run's report.html in Debian's headless Chromium, offline, and checks
# what a reader would see:
#   - chromium exits 0 and logs no console error, CSP violation or failed load;
#   - the rendered DOM has no <script>, no on* handler, nothing to fetch;
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
if ! run_chromium --window-size=1280,2000 --hide-scrollbars --screenshot="$work/report.png" "$url" \
    >"$work/shot.stdout" 2>"$work/shot.stderr"; then
  echo "FAIL: chromium --screenshot exited non-zero; its stderr:" >&2
  cat "$work/shot.stderr" >&2
  fail=1
fi

# Console output about the page: JS errors (there should be no JS at all), CSP
# violations (something tried to load or run), failed loads.
pattern='CONSOLE|Uncaught|Refused to|Content.Security.Policy|Failed to load resource|net::ERR_'
if grep -E -h "$pattern" "$work/dom.stderr" "$work/shot.stderr" >"$work/console.txt"; then
  echo "FAIL: chromium reported problems with the page:" >&2
  cat "$work/console.txt" >&2
  fail=1
fi

python3 - "$report_dir/report.json" "$work/dom.html" "$work/report.png" <<'PY' || fail=1
import json, math, sys
from html.parser import HTMLParser

report_path, dom_path, png_path = sys.argv[1:4]
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

class Page(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found = {attr: {} for attr in expected}
        self.open = []  # [attr, key, tag, text]
        self.title = ""
        self.in_title = False

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "iframe", "object", "embed", "img", "link", "base", "form", "frame"):
            errors.append(f"the page has a <{tag}> element")
        if tag == "meta":
            d = dict(attrs)
            if (d.get("http-equiv") or "").lower() == "refresh":
                errors.append("the page has a meta refresh")
        for name, value in attrs:
            if name.startswith("on"):
                errors.append(f"<{tag}> has an event handler attribute {name}={value!r}")
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

with open(dom_path, encoding="utf-8") as f:
    dom = f.read()
if "</html>" not in dom.lower():
    errors.append("chromium dumped no complete document")
page = Page()
page.feed(dom)
page.close()

# Serialised DOM escapes '<' in text, so a raw "<script" is an element. (A
# URL in the text is data shown as text, which is fine; loads are checked above.)
if "<script" in dom.lower():
    errors.append("the rendered page contains '<script'")

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
    print(f"ok: {checked} numbers on the page equal report.json's")
sys.exit(1 if errors else 0)
PY

if [ -n "${CHROMIUM_SCREENSHOT:-}" ] && [ -s "$work/report.png" ]; then
  cp "$work/report.png" "$CHROMIUM_SCREENSHOT"
fi
[ "$fail" -eq 0 ] || { echo "FAIL: $report_dir/report.html" >&2; exit 1; }
echo "PASS: $report_dir/report.html renders offline in $("$chromium" --version 2>/dev/null || echo chromium)"
