#!/usr/bin/env bash
# Checks the generated systemd units (BUILD/systemd, from systemd/*.in):
#   1. `systemd-analyze verify` finds nothing to say about them. Its exit code
#      alone is not enough: an unknown key ("ProtectSytem=") or an unparsable
#      value ("Type=oneshoot") is only a warning, exit 0, and the setting is
#      silently dropped, so any message about our units is a failure.
#   2. every timer's Unit= is one of the units;
#   3. ExecStart= runs the installed binary (EXPECTED_BIN);
#   4. `systemd-analyze security --offline=true` rates each service at an
#      overall exposure of 2.0 or less (OK is up to 4.9; the units are at 1.2,
#      and 2.0 keeps a dropped sandbox line from passing unnoticed);
#   5. both services have the same sandbox, and no core dumps (LimitCORE=0:
#      the process holds the Stripe key);
#   6. the checker itself: deliberately broken copies of the units must fail
#      1-4, so a check that cannot fail does not pass silently.
# No running systemd needed (works in a container): the units are copied to a
# temporary directory with EXPECTED_BIN replaced by a stub executable, since
# verify refuses an ExecStart= binary that does not exist.
#
# Usage: verify_units.sh UNIT_DIR EXPECTED_BIN
# Exit 0 pass, 1 fail, 77 skipped (no systemd-analyze; SYSTEMD_REQUIRED=1 makes that a failure).
# Env: SYSTEMD_ANALYZE (default systemd-analyze).
set -uo pipefail

if [ $# -ne 2 ]; then
    echo "usage: $0 UNIT_DIR EXPECTED_BIN" >&2
    exit 2
fi
units_dir=$1
expected_bin=$2
sa=${SYSTEMD_ANALYZE:-systemd-analyze}
units=(reconciler.service reconciler.timer reconciler-daemon.service reconciler-alert@.service)
services=(reconciler.service reconciler-daemon.service)  # the ones that run the reconciler

if ! command -v "$sa" >/dev/null 2>&1; then
    if [ "${SYSTEMD_REQUIRED:-0}" = 1 ]; then
        echo "FAIL: $sa not found (Debian: apt-get install systemd)" >&2
        exit 1
    fi
    echo "SKIP: $sa not found (Debian: apt-get install systemd; SYSTEMD_REQUIRED=1 makes this a failure)"
    exit 77
fi
sa_version=$("$sa" --version | sed -n '1s/^systemd \([0-9]*\).*/\1/p')
if [ -z "$sa_version" ] || [ "$sa_version" -lt 250 ]; then  # security --offline/--threshold: 250
    msg="systemd-analyze ${sa_version:-?} is older than 250 (no security --offline)"
    if [ "${SYSTEMD_REQUIRED:-0}" = 1 ]; then echo "FAIL: $msg" >&2; exit 1; fi
    echo "SKIP: $msg"
    exit 77
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/verify_units.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
stub="$tmp/bin/reconciler"
mkdir -p "$tmp/bin"
printf '#!/bin/sh\nexit 0\n' >"$stub"
chmod 0755 "$stub"

failures=0
ok()   { echo "ok   - $*"; }
fail() { echo "FAIL - $*"; failures=$((failures + 1)); }
indent() { sed 's/^/       | /'; }

# stage DIR: copies the units to DIR with the installed binary replaced by the
# stub, and as they are to DIR.raw.
stage() {
    mkdir -p "$1" "$1.raw"
    local u
    for u in "${units[@]}"; do
        sed "s|$expected_bin|$stub|g" "$units_dir/$u" >"$1/$u"
        cp "$units_dir/$u" "$1.raw/$u"
    done
}

# check_verify DIR: 0 if `systemd-analyze verify` is silent about the units in DIR.
# Messages about units not ours (the host's targets) are shown but ignored.
check_verify() {
    local dir=$1 out rc=0 ours
    out=$(cd "$dir" && "$sa" verify --man=no --generators=no --recursive-errors=yes \
              "$dir"/*.service "$dir"/*.timer 2>&1) || rc=$?
    ours=$(printf '%s\n' "$out" | grep -F -e "$dir/" -e reconciler || true)
    if [ -n "$out" ]; then printf '%s\n' "$out" | indent; fi
    [ "$rc" -eq 0 ] && [ -z "$ours" ]
}

# check_timers DIR: 0 if each timer's Unit= (default: the same name .service) is in DIR.
check_timers() {
    local dir=$1 t target rc=0
    for t in "$dir"/*.timer; do
        target=$(sed -n 's/^Unit=[[:space:]]*//p' "$t" | tail -n1)
        [ -n "$target" ] || target=$(basename "$t" .timer).service
        if [ ! -f "$dir/$target" ]; then
            echo "       | $(basename "$t") triggers $target, which is not one of the units"
            rc=1
        fi
    done
    return "$rc"
}

# check_exec DIR: 0 if every service's ExecStart= runs EXPECTED_BIN.
check_exec() {
    local dir=$1 s rc=0
    for s in "${services[@]}"; do
        if ! grep -Eq "^ExecStart=$expected_bin( |\$)" "$dir/$s"; then
            echo "       | $s: ExecStart= does not run $expected_bin: $(grep '^ExecStart=' "$dir/$s")"
            rc=1
        fi
    done
    return "$rc"
}

# check_no_core DIR: 0 if every service sets LimitCORE=0 (the last setting wins).
check_no_core() {
    local dir=$1 s rc=0 v
    for s in "${services[@]}"; do
        v=$(sed -n 's/^LimitCORE=[[:space:]]*//p' "$dir/$s" | tail -n1)
        if [ "$v" != 0 ]; then
            echo "       | $s: LimitCORE=${v:-(unset)}, not 0: a core dump would hold the Stripe key"
            rc=1
        fi
    done
    return "$rc"
}

# check_security UNITFILE: 0 if the overall exposure is 2.0 or less.
check_security() {
    local out rc=0 line level
    out=$("$sa" security --offline=true --threshold=20 --no-pager "$1" 2>&1) || rc=$?
    line=$(printf '%s\n' "$out" | grep 'Overall exposure level' | tail -n1)
    level=$(printf '%s\n' "$line" | sed -n 's/.*: \([0-9]*\)\.\([0-9]\) .*/\1\2/p')
    echo "       | ${line:-no rating in the output}"
    if [ -n "$level" ] && [ "$level" -le 20 ] && [ "$rc" -eq 0 ]; then return 0; fi
    printf '%s\n' "$out" | grep -v -E '^(✓|\+) |^  NAME|^$' | indent  # the weak points
    return 1
}

sandbox_of() {
    grep -E '^(DynamicUser|User|Group|StateDirectory|LoadCredential|UMask|LimitCORE|Protect|Private|Restrict|SystemCall|Capability|AmbientCapabilities|NoNewPrivileges|MemoryDenyWriteExecute|LockPersonality|KeyringMode|RemoveIPC|ProcSubset|ReadWritePaths)' "$1" | sort
}

for u in "${units[@]}"; do
    if [ ! -f "$units_dir/$u" ]; then
        echo "FAIL - $units_dir/$u is missing (generated by cmake/install.cmake at configure time)"
        exit 1
    fi
done
echo "# systemd-analyze $sa_version; units from $units_dir; installed binary $expected_bin"

# ---- the real units ----
good="$tmp/good"
stage "$good"
if check_exec "$units_dir"; then ok "ExecStart= runs $expected_bin"; else fail "ExecStart= runs $expected_bin"; fi
if check_verify "$good"; then ok "systemd-analyze verify: no complaints"; else fail "systemd-analyze verify"; fi
if check_timers "$good"; then ok "timers trigger existing units"; else fail "timers trigger existing units"; fi
if check_no_core "$good"; then ok "no core dumps (LimitCORE=0)"; else fail "no core dumps (LimitCORE=0)"; fi
# The alert template is checked as the instance systemd starts.
cp "$good/reconciler-alert@.service" "$good/reconciler-alert@reconciler.service.service"
for s in "${services[@]}" reconciler-alert@reconciler.service.service; do
    if check_security "$good/$s"; then ok "security $s: exposure <= 2.0"; else fail "security $s: exposure > 2.0"; fi
done
if diff <(sandbox_of "$good/reconciler.service") <(sandbox_of "$good/reconciler-daemon.service") | indent; then
    ok "both services have the same sandbox"
else
    fail "the services' sandboxes differ (lines above: < reconciler.service, > reconciler-daemon.service)"
fi

# ---- the checker must reject broken units ----
# expect_reject NAME CHECK SED_SCRIPT UNIT: a copy of the units with UNIT edited must fail CHECK.
n=0
expect_reject() {
    local name=$1 check=$2 script=$3 unit=$4 dir
    n=$((n + 1))
    dir="$tmp/broken$n"
    stage "$dir"
    sed -i -E "$script" "$dir/$unit" "$dir.raw/$unit"
    if cmp -s "$dir/$unit" "$good/$unit"; then
        fail "broken unit ($name): the edit did not apply to $unit (update this test)"
        return
    fi
    if "$check" "$dir" >"$tmp/reject.log" 2>&1; then
        fail "broken unit ($name) was accepted by $check"
    else
        ok "broken unit ($name) rejected by $check"
        sed "s/^/  /" "$tmp/reject.log" | head -n 4
    fi
}
verify_dir()   { check_verify "$1"; }
exec_dir()     { check_exec "$1.raw"; }
security_dir() { check_security "$1/reconciler-daemon.service"; }

expect_reject "misspelt key, a warning with exit 0"    verify_dir   's/^ProtectSystem=/ProtectSytem=/'                  reconciler.service
expect_reject "unparsable value, a warning with exit 0" verify_dir  's/^Type=oneshot/Type=oneshoot/'                     reconciler.service
expect_reject "unknown syscall group"                  verify_dir   's/@resources$/@resource/'                          reconciler-daemon.service
expect_reject "bad calendar spec"                      verify_dir   's/^OnCalendar=.*/OnCalendar=nightly at three/'      reconciler.timer
expect_reject "missing executable"                     verify_dir   "s|^ExecStart=[^ ]*|ExecStart=$tmp/nonexistent/reconciler|" reconciler-daemon.service
expect_reject "timer triggers a missing unit"          check_timers 's/^Unit=.*/Unit=reconciler-nightly.service/'        reconciler.timer
expect_reject "binary not at the install path"         exec_dir     "s|^ExecStart=[^ ]*|ExecStart=/opt/elsewhere/reconciler|" reconciler.service
expect_reject "core dumps allowed"                     check_no_core '/^LimitCORE=/d'                                   reconciler-daemon.service
expect_reject "sandbox removed"                        security_dir '/^(Protect|Private|Restrict|SystemCall|Capability|NoNewPrivileges|MemoryDeny|LockPersonality|ProcSubset|DynamicUser)/d' reconciler-daemon.service

if [ "$failures" -ne 0 ]; then
    echo "$failures check(s) failed"
    exit 1
fi
echo "all checks passed"
