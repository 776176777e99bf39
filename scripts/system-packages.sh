#!/usr/bin/env bash
# Installs the Debian packages the project needs and are missing: pango (WeasyPrint), a CJK font,
# HarfBuzz's subsetter (fast CJK font subsetting), gettext (make messages), Chromium (browser tests)
# wrk (make bench) and poppler-utils (tests read PDFs back as text).
# As root it runs apt-get; otherwise it prints the one line to run and goes on.
set -u
packages="libpango-1.0-0 libpangoft2-1.0-0 fonts-noto-cjk libharfbuzz-subset0 gettext chromium wrk poppler-utils"
missing=""
for p in $packages; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ]; then
  echo "Installing system packages:$missing"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq --no-install-recommends $missing >/dev/null || {
    echo "apt-get failed for:$missing" >&2; exit 1; }
else
  echo "Missing system packages. Run once as root:"
  echo "  sudo apt-get install -y --no-install-recommends$missing"
fi
