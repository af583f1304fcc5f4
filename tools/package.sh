#!/usr/bin/env bash
# Builds the Debian package from the tree: a Release build without the tests
# or their seams, in its own directory, then CPack (cmake/package.cmake).
# Prints the .deb's path on the last line.
# Env: BUILD_DIR (default build-deb), JOBS.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build-deb}
# dpkg-dev: dpkg-shlibdeps (library dependencies); file: CPack finds the ELF
# files with it; help2man: reconciler(1).
"$root/tools/install-deps.sh" dpkg-dev file help2man
# CMAKE_SKIP_INSTALL_ALL_DEPENDENCY: cpack installs what is built here, not
# `all` (the simulator and the bench tools are not in the package). No
# -Werror: the test builds hold the warnings; a packager's compiler may add some.
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr \
      -DRECONCILER_BUILD_TESTS=OFF -DRECONCILER_TEST_HOOKS=OFF -DRECONCILER_PACKAGE=ON \
      -DCMAKE_SKIP_INSTALL_ALL_DEPENDENCY=ON >/dev/null
cmake --build "$build" -j"${JOBS:-$(nproc)}" --target reconciler reconciler_man
(cd "$build" && cpack -G DEB >/dev/null)
ls "$build"/stripe-reconciler_*.deb
