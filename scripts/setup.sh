#!/usr/bin/env bash
# Set up ruralcare on a fresh Debian machine: system packages (as root), the pinned Python
# environment in .venv, the dbt manifest and the local Dagster home. Safe to run again.
# `--spark` adds the Spark engine: a Java runtime and requirements-spark.lock (docs/engines.md).
set -euo pipefail
cd "$(dirname "$0")/.."

export DO_NOT_TRACK=1
PYTHON=${PYTHON:-python3.11}
WITH_SPARK=0
[ "${1:-}" = "--spark" ] && WITH_SPARK=1
APT_PACKAGES=$(grep -hv '^#' scripts/apt-packages.txt $([ $WITH_SPARK = 1 ] && echo scripts/apt-packages-spark.txt) | xargs)

if [ -n "$APT_PACKAGES" ]; then
  missing=$(for p in $APT_PACKAGES; do dpkg -s "$p" >/dev/null 2>&1 || echo "$p"; done | xargs)
  if [ -n "$missing" ]; then
    if [ "$(id -u)" = 0 ]; then
      echo "==> apt-get install $missing"
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
    else
      echo "!! Debian packages missing: $missing"
      echo "   Run: sudo apt-get update && sudo apt-get install -y --no-install-recommends $missing"
    fi
  fi
fi

if ! command -v "$PYTHON" >/dev/null; then
  echo "!! $PYTHON not found: ruralcare needs Python 3.11 (Debian: apt-get install python3.11 python3.11-venv)" >&2
  exit 1
fi

if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv"
  "$PYTHON" -m venv .venv
fi
if ! cmp -s requirements.lock .venv/.installed-lock || ! cmp -s pyproject.toml .venv/.installed-pyproject; then
  echo "==> installing pinned packages (requirements.lock)"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -r requirements.lock
  .venv/bin/python -m pip install -q --no-deps -e .
  cp requirements.lock .venv/.installed-lock
  cp pyproject.toml .venv/.installed-pyproject
fi
if [ $WITH_SPARK = 1 ] && ! cmp -s requirements-spark.lock .venv/.installed-spark-lock; then
  echo "==> installing the Spark engine (requirements-spark.lock)"
  # Pinned on top of requirements.lock, whose dbt-core it shares.
  .venv/bin/python -m pip install -q --no-deps -r requirements-spark.lock
  .venv/bin/python -m pip check
  cp requirements-spark.lock .venv/.installed-spark-lock
fi

echo "==> preparing the dbt manifest"
(cd dbt_project && ../.venv/bin/ruralcare-dbt parse --profiles-dir . --quiet)

# Bytecode for ruralcare's own modules (pip compiles the installed packages, not an editable
# one): where PYTHONDONTWRITEBYTECODE is set, as on some CI images, every command would
# otherwise compile them again as it starts (≈ 1 s of each refresh process's imports).
echo "==> compiling ruralcare's modules"
.venv/bin/python -m compileall -q pipelines bench

mkdir -p .dagster_home
[ -e .dagster_home/dagster.yaml ] || ln -s ../dagster.yaml .dagster_home/dagster.yaml
echo "==> setup done"
