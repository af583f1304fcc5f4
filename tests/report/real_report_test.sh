#!/usr/bin/env bash
# A real report, checked as its readers use it: the README's demo (the real
# `reconciler` against the simulator), then two more runs on the same
# database (the same window again, then the next one), so that the report
# has escalations still open from an earlier run and a trend of three runs.
#   - every run directory's report.json, findings.jsonl, corrections.jsonl
#     and findings.csv pass docs/schema/ (check_report_data.py, python3-jsonschema);
#   - reports/index.html lists the three runs with report.json's totals, and
#     the last report.html's trend has the three runs;
#   - report.html opens in headless Chromium (tests/e2e/chromium_report_test.sh:
#     offline, Dashboard links on the test path, sort and filter, no console errors).
# Usage: real_report_test.sh RECONCILER_BIN STRIPE_SIM_BIN DELIVERY_RECEIVER_BIN
# Env:   REAL_REPORT_KEEP (a directory: the screenshots and the report are kept there)
# Exit:  0 pass, 1 a check failed, 77 chromium missing (and CHROMIUM_REQUIRED unset).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
rec=$1 sim=$2 rx=$3
dir=$(mktemp -d)
sim_pid=
cleanup() {
  [ -z "$sim_pid" ] || { kill "$sim_pid" 2>/dev/null || true; wait "$sim_pid" 2>/dev/null || true; }
  rm -rf "$dir"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
py=/usr/bin/python3
[ -z "${REAL_REPORT_KEEP:-}" ] || mkdir -p "$REAL_REPORT_KEEP"

export RECONCILER_BIN=$rec STRIPE_SIM_BIN=$sim DELIVERY_RECEIVER_BIN=$rx
DEMO_DIR=$dir/demo DEMO_PORT=0 "$root/tools/demo.sh" >"$dir/demo.out" 2>&1 || {
  cat "$dir/demo.out" "$dir/demo/reconciler.log" >&2 || true; fail "tools/demo.sh"; }
demo=$dir/demo

# The simulator again, on the demo's data, and the config pointed at its port.
export STRIPE_API_KEY=sk_test_again_0123456789abcdef
rm -f "$demo/sim.port"
"$sim" serve --data "$demo/data" --port 0 --tls-dir "$demo/tls" --port-file "$demo/sim.port" &
sim_pid=$!
for _ in $(seq 100); do [ -s "$demo/sim.port" ] && break; sleep 0.1; done
[ -s "$demo/sim.port" ] || fail "the simulator did not start"
sed -i -E "s|https://127\.0\.0\.1:[0-9]+|https://127.0.0.1:$(tr -d '\n' <"$demo/sim.port")|" "$demo/reconciler.yaml"
window=$($py -c 'import json,sys; w=json.load(open(sys.argv[1]))["run"]["window"]; print(w["start"], w["end"])' \
         "$demo/reports/run-1/report.json")
read -r since until <<<"$window"
"$rec" run --config "$demo/reconciler.yaml" --since "$since" --until "$until" >"$dir/run2.out" 2>"$dir/run2.log" || {
  cat "$dir/run2.log" >&2; fail "the second run (same window)"; }
"$rec" run --config "$demo/reconciler.yaml" >"$dir/run3.out" 2>"$dir/run3.log" || {
  cat "$dir/run3.log" >&2; fail "the third run"; }

reports=$demo/reports
for run in 1 2 3; do
  [ -f "$reports/run-$run/report.json" ] || fail "no report for run $run"
done
$py "$root/tests/report/check_report_data.py" "$root/docs/schema" "$reports/run-1" --min-findings 10 \
    --min-corrections 1 || fail "run 1's report does not match docs/schema"
for run in 2 3; do
  $py "$root/tests/report/check_report_data.py" "$root/docs/schema" "$reports/run-$run" || fail "run $run's report"
done

# The index and the trend: three runs, each with its report.json's totals.
$py - "$reports" <<'PY' || fail "reports/index.html or the trend"
import json, re, sys, pathlib
reports = pathlib.Path(sys.argv[1])
index = (reports / "index.html").read_text(encoding="utf-8")
last = (reports / "run-3" / "report.html").read_text(encoding="utf-8")
errors = []
for run in (1, 2, 3):
    t = json.loads((reports / f"run-{run}" / "report.json").read_text())["totals"]
    for page, name in ((index, "index.html"), (last, "run-3/report.html")):
        pat = (rf'data-run-findings="{run}">(\d+)<' if page is index else rf'data-trend-run="{run}" data-findings="(\d+)"')
        m = re.search(pat, page)
        if not m or int(m.group(1)) != t["findings"]:
            errors.append(f"{name}: run {run} findings {m and m.group(1)}, report.json says {t['findings']}")
    m = re.search(rf'data-run-corrections="{run}">(\d+)<', index)
    if not m or int(m.group(1)) != t["applied"]:
        errors.append(f"index.html: run {run} corrections {m and m.group(1)}, report.json says {t['applied']}")
    if f'href="run-{run}/report.html"' not in index:
        errors.append(f"index.html does not link run {run}'s report")
# The action summary's new and still-open counts are the run's: run 2 saw
# run 1's escalations again (still open), and raised none of its own.
for run in (1, 2, 3):
    page = (reports / f"run-{run}" / "report.html").read_text(encoding="utf-8")
    r = json.loads((reports / f"run-{run}" / "report.json").read_text())
    open_now = sum(1 for e in r["escalations"] if e["status"] == "open")
    fresh = sum(1 for e in r["escalations"] if e["status"] == "open" and e["new"])
    got = {k: int(v) for k, v in re.findall(r'data-action-count="(new|still_open)">(\d+)<', page)}
    if got != {"new": fresh, "still_open": open_now - fresh}:
        errors.append(f"run-{run}/report.html: action summary {got}, report.json: {fresh} new of {open_now} open")
    if run == 2 and not (fresh == 0 and open_now > 0):
        errors.append(f"run 2 should see run 1's escalations still open and none new: {fresh} new of {open_now}")
for e in errors:
    print("FAIL:", e, file=sys.stderr)
sys.exit(1 if errors else 0)
PY

status=0
for run in 1 2; do
  CHROMIUM_SCREENSHOT=${REAL_REPORT_KEEP:+$REAL_REPORT_KEEP/run-$run.png} \
    bash "$root/tests/e2e/chromium_report_test.sh" "$reports/run-$run" || status=$?
  [ "$status" -eq 0 ] || break
done
if [ -n "${REAL_REPORT_KEEP:-}" ]; then
  rm -rf "$REAL_REPORT_KEEP/reports"
  cp -r "$reports" "$REAL_REPORT_KEEP/reports"
fi
exit "$status"
