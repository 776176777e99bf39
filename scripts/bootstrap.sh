#!/usr/bin/env bash
# Makes the project runnable on a fresh Debian machine: system packages, then .venv with the project
# and its dev tools. Idempotent and quick when everything is already there.
set -eu
cd "$(dirname "$0")/.."
bash scripts/system-packages.sh

python=${PYTHON:-}
if [ -z "$python" ]; then
  for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1; then python=$candidate; break; fi
  done
fi
[ -n "$python" ] || { echo "Python 3.11 is needed (apt-get install python3)" >&2; exit 1; }

if [ ! -x .venv/bin/python ]; then
  if ! "$python" -c "import ensurepip, venv" >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
    else
      echo "Run once as root: sudo apt-get install -y python3-venv" >&2; exit 1
    fi
  fi
  "$python" -m venv .venv
fi

stamp=.venv/.installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e '.[dev]'
  touch "$stamp"
fi
