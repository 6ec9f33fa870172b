#!/usr/bin/env bash
# Puts `promtool` (from Debian's `prometheus` package) in .cache/promtool, where the alert-rules
# test (test/cli/deploy.spec.ts) looks for it when it is not on PATH. Only the package is
# downloaded and unpacked, never installed: nothing runs as a service and no root is needed.
# Where apt is missing or the package cannot be had, it says so and exits 0: the test then skips.
set -uo pipefail
cd "$(dirname "$0")/.."
target=.cache/promtool
if command -v promtool >/dev/null || [ -x "$target/usr/bin/promtool" ]; then
  exit 0
fi
if ! command -v apt-get >/dev/null || ! command -v dpkg-deb >/dev/null; then
  echo "fetch-promtool: no apt-get or dpkg-deb here; the promtool check will be skipped" >&2
  exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if (cd "$work" && apt-get download -q prometheus >/dev/null 2>&1) && dpkg-deb -x "$work"/prometheus_*.deb "$work/x"; then
  mkdir -p "$target/usr/bin"
  mv "$work/x/usr/bin/promtool" "$target/usr/bin/promtool"
  echo "fetch-promtool: $("$target/usr/bin/promtool" --version 2>&1 | head -1)"
else
  echo "fetch-promtool: Debian's prometheus package could not be downloaded; the promtool check will be skipped" >&2
fi
