#!/usr/bin/env bash
# Installs the Debian 12 packages the build needs, if any is missing.
# Usage: tools/install-deps.sh [extra-package ...]   (run as root, or with sudo available)
set -euo pipefail

packages=(build-essential cmake pkg-config
          libboost1.81-dev libboost-json1.81-dev libboost-test1.81-dev
          libsqlitecpp-dev libsqlite3-dev libyaml-cpp-dev libssl-dev sqlite3
          libcli11-dev libboost-url1.81-dev libpq-dev "$@")

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "installing: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
