#!/bin/sh
# Prints a help2man include file: a COMMANDS section made of each command's own
# `reconciler COMMAND --help`, so that reconciler(1) is the CLI's help and
# cannot drift from it. Usage: man_commands.sh RECONCILER_BIN > commands.h2m
set -eu
bin=$1
# The commands are the lines under "Commands:" in the top-level help.
commands=$("$bin" --help | sed -n '/^Commands:/,/^$/p' | sed -n 's/^  \([a-z][a-z-]*\) .*/\1/p')
[ -n "$commands" ] || { echo "man_commands.sh: no commands in $bin --help" >&2; exit 1; }
echo "[COMMANDS]"
for c in $commands; do
  case $c in help|version) continue ;; esac
  echo ".SS \"reconciler $c\""
  echo ".nf"
  # roff: a leading dot or quote would be read as a request; backslashes escaped.
  "$bin" "$c" --help | sed -e 's/\\/\\e/g' -e "s/^[.']/\\\\\\&&/"
  echo ".fi"
done
