#!/usr/bin/env bash
# Make sure Debian's chromium is installed, for the browser tests
# (tests/test_browser.py), and print its path.
#   scripts/chromium.sh      -> /usr/bin/chromium
# Installs the Debian package with apt-get only when /usr/bin/chromium is
# missing (CI runs as root). Playwright drives this browser; its own
# browser downloads are never used. Recommended packages come too: they
# bring the fonts (fonts-liberation) the screenshots are drawn with.
set -euo pipefail
browser=/usr/bin/chromium
if [ ! -x "$browser" ]; then
  echo "installing Chromium (Debian package chromium)" >&2
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >&2
fi
# Debian's launcher script can print shell noise on stderr; the version is on stdout.
echo "$("$browser" --version 2>/dev/null | head -n 1)" >&2
echo "$browser"
