#!/usr/bin/env bash
# Installs the built Debian package on this machine, checks it as an SRE
# would, then removes and purges it: CI runs it on its throwaway machine
# (.ci/run). It changes the system (/usr, /etc, /var/lib), so it refuses to
# run where stripe-reconciler is already installed or has left state behind.
# Usage: tests/package/deb_test.sh PATH/stripe-reconciler_VERSION_ARCH.deb   (as root)
set -euo pipefail
deb=$(realpath "$1")
root=$(cd "$(dirname "$0")/../.." && pwd)
pkg=stripe-reconciler
failures=0
ok()   { echo "ok   - $*"; }
fail() { echo "FAIL - $*"; failures=$((failures + 1)); }
check() { local what=$1; shift; if "$@"; then ok "$what"; else fail "$what"; fi; }

[ "$(id -u)" -eq 0 ] || { echo "deb_test: run as root (it installs a package)" >&2; exit 2; }
if dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q installed || [ -e /etc/stripe-reconciler ] ||
   [ -e /var/lib/stripe-reconciler ] || [ -e /var/lib/private/stripe-reconciler ]; then
  echo "deb_test: $pkg is installed here or has left files in /etc or /var/lib; not touching them" >&2
  exit 2
fi
version=$(dpkg-deb -f "$deb" Version)

echo "# install $deb"
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$deb" >/dev/null
check "reconciler is /usr/bin/reconciler" test "$(command -v reconciler)" = /usr/bin/reconciler
check "reconciler --version says $version" test "$(reconciler --version)" = "stripe-reconciler $version"
check "the example config is a conffile" \
  sh -c "dpkg-query -W -f='\${Conffiles}' $pkg | grep -q '^ /etc/stripe-reconciler/reconciler.yaml '"
check "check-config accepts the installed example (the default --config)" \
  sh -c 'env -u RECONCILER_CONFIG reconciler check-config'
check "the units are installed where systemd looks" \
  test -f /usr/lib/systemd/system/reconciler.service -a -f /usr/lib/systemd/system/reconciler.timer \
       -a -f /usr/lib/systemd/system/reconciler-daemon.service -a -f "/usr/lib/systemd/system/reconciler-alert@.service"
check "nothing is enabled" sh -c '! ls /etc/systemd/system/*.wants/reconciler* 2>/dev/null | grep -q .'
echo "# the installed units (verify, security <= 2.0)"
check "systemd-analyze verify and security on the installed units" \
  "$root/tests/systemd/verify_units.sh" /usr/lib/systemd/system /usr/bin/reconciler
# reconciler(1) is the CLI's help: every command is in it.
man_text=$(zcat /usr/share/man/man1/reconciler.1.gz)
for c in $(reconciler --help | sed -n '/^Commands:/,/^$/p' | sed -n 's/^  \([a-z][a-z-]*\) .*/\1/p'); do
  case $c in help|version) continue ;; esac
  check "reconciler(1) has 'reconciler $c'" grep -q "reconciler $c\"" <<<"$man_text"
done

echo "# remove: the binary goes, the edited conffile stays"
echo "# edited by the operator" >> /etc/stripe-reconciler/reconciler.yaml
mkdir -p /var/lib/stripe-reconciler/reports/run-1
echo '{}' > /var/lib/stripe-reconciler/reports/run-1/report.json
echo 'stripe_reconciler_last_run_success 1' > /var/lib/stripe-reconciler/reports/reconciler.prom
DEBIAN_FRONTEND=noninteractive apt-get remove -y -qq "$pkg" >/dev/null
check "remove deletes /usr/bin/reconciler" test ! -e /usr/bin/reconciler
check "remove deletes the units" test ! -e /usr/lib/systemd/system/reconciler.service
check "remove keeps the edited config" grep -q "edited by the operator" /etc/stripe-reconciler/reconciler.yaml

echo "# purge: what the package and the reconciler created is gone"
DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq "$pkg" >/dev/null
check "purge deletes /etc/stripe-reconciler" test ! -e /etc/stripe-reconciler
check "purge deletes the reports" test ! -e /var/lib/stripe-reconciler
check "dpkg forgets the package" sh -c "! dpkg-query -W -f='\${Status}' $pkg 2>/dev/null | grep -q 'ok'"

echo "# purge keeps an app database kept in the state directory"
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$deb" >/dev/null
mkdir -p /var/lib/stripe-reconciler/reports
echo app > /var/lib/stripe-reconciler/app.db
touch /var/lib/stripe-reconciler/app.db.reconciler.lock
DEBIAN_FRONTEND=noninteractive apt-get purge -y "$pkg" >"${TMPDIR:-/tmp}/deb_test.purge.log" 2>&1
check "purge keeps app.db" test -f /var/lib/stripe-reconciler/app.db
check "purge deletes the reports and the lock beside app.db" \
  test ! -e /var/lib/stripe-reconciler/reports -a ! -e /var/lib/stripe-reconciler/app.db.reconciler.lock
check "purge says what it kept" grep -q "kept /var/lib/stripe-reconciler" "${TMPDIR:-/tmp}/deb_test.purge.log"
rm -rf /var/lib/stripe-reconciler "${TMPDIR:-/tmp}/deb_test.purge.log"

if [ "$failures" -ne 0 ]; then echo "$failures check(s) failed"; exit 1; fi
echo "all checks passed"
