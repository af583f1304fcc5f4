#!/usr/bin/env bash
# The README's demo (tools/demo.sh) at one Stripe API version, with the built
# binaries: it must exit 0 and find exactly the seeded ground truth, with the
# clawbacks' numbers (refunds and disputes are what basil changed).
# Usage: demo_test.sh API_VERSION RECONCILER_BIN STRIPE_SIM_BIN DELIVERY_RECEIVER_BIN
set -euo pipefail
version=$1
root=$(cd "$(dirname "$0")/../.." && pwd)
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
export RECONCILER_BIN=$2 STRIPE_SIM_BIN=$3 DELIVERY_RECEIVER_BIN=$4
DEMO_DIR=$dir/demo DEMO_PORT=0 DEMO_API_VERSION=$version "$root/tools/demo.sh" > "$dir/demo.out" 2>&1 || {
  cat "$dir/demo.out" "$dir/demo/reconciler.log" >&2; echo "demo_test: tools/demo.sh failed at $version" >&2; exit 1; }
# What a newcomer reads: the demo itself compares with the ground truth, and
# its last line is the page to open.
grep -q "^Findings: [0-9]*, exactly the [0-9]* seeded in " "$dir/demo.out" || {
  cat "$dir/demo.out" >&2; echo "demo_test: the demo did not confirm its findings against the ground truth" >&2; exit 1; }
# A newcomer sees escalations reach a team: the demo routes two teams to its receiver.
grep -q "^Escalations delivered to the teams' receiver: [1-9][0-9]* " "$dir/demo.out" || {
  cat "$dir/demo.out" >&2; echo "demo_test: the demo delivered no escalation to its receiver" >&2; exit 1; }
tail -n1 "$dir/demo.out" | grep -q "report.html$" || {
  cat "$dir/demo.out" >&2; echo "demo_test: the demo's last line is not the report page" >&2; exit 1; }
python3 - "$dir/demo" "$version" <<'PY'
import json, sys
demo, version = sys.argv[1], sys.argv[2]
report = json.load(open(f"{demo}/reports/latest/report.json"))
truth = json.load(open(f"{demo}/data/ground_truth.json"))
assert report["run"]["stripe_api_version"] == version, report["run"]["stripe_api_version"]
found = {(f["kind"], f["subject_id"]): f for f in report["findings"]}
want = {(f["kind"], f["subject_id"]): f for f in truth["findings"]}
missed = sorted(set(want) - set(found))
extra = sorted(set(found) - set(want))
assert not missed and not extra, f"missed {missed}; extra {extra}"
kinds = {k for k, _ in want}
assert "refund_or_dispute" in kinds, "the demo seeds no refund or dispute"
for key, t in want.items():
    c = t["correction"]
    if c and c["kind"] == "revoke_credits":
        got = found[key]["correction"]
        assert got and got["credits"] == c["credits"] and got["unrecovered"] == c["unrecovered"], (key, got, c)
print(f"demo at {version}: {len(found)} findings, exactly the seeded ground truth")
PY
