#!/usr/bin/env bash
# Syntra operations. Every command installs what it needs on first use (venv, requirements),
# so a fresh clone needs nothing but Python 3.11+. Run `./manage.sh help` for the list.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$ROOT"
VENV="$ROOT/.venv"
PY="$VENV/bin/python"

die() { echo "manage.sh: $*" >&2; exit 1; }

find_python() {
  local candidate
  for candidate in python3.13 python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
      "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
      echo "$candidate"
      return 0
    fi
  done
  return 1
}

# Create the venv and (re)install requirements when they changed since the last install.
ensure_venv() {
  if [ ! -x "$PY" ]; then
    local python
    python="$(find_python)" || die "Python 3.11 or newer is required (python3 --version)"
    echo "Creating virtual environment in .venv ($("$python" --version))..."
    "$python" -m venv "$VENV" || die "cannot create a venv (on Debian/Ubuntu: apt install python3-venv)"
  fi
  local stamp="$VENV/.requirements.sha256" wanted
  wanted="$(cat requirements.txt requirements-dev.txt | sha256sum | cut -d' ' -f1)"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$wanted" ]; then
    echo "Installing requirements..."
    "$PY" -m pip install --quiet --upgrade pip >/dev/null
    "$PY" -m pip install --quiet -r requirements-dev.txt || die "pip install failed"
    echo "$wanted" >"$stamp"
  fi
}

cmd_help() {
  cat <<'HELP'
Usage: ./manage.sh <command> [args]

  install              create .venv and install requirements (done on demand by every command)
  migrate              apply database migrations (alembic upgrade head)
  test                 ruff (lint + format check), mypy, then pytest on a real PostgreSQL
  bench [earn]         the earn-path benchmark against a pgbench baseline (see docs/PERFORMANCE.md)
  audit                check the ledger invariants of the configured database
  db start|stop|status|psql
                       the embedded PostgreSQL (used when DATABASE_URL is not set)
  help                 this text

Settings come from the environment or .env (see .env.example and README.md).
HELP
}

cmd_test() {
  ensure_venv
  echo "== ruff check"; "$VENV/bin/ruff" check .
  echo "== ruff format --check"; "$VENV/bin/ruff" format --check .
  echo "== mypy config src"; "$VENV/bin/mypy" config src
  echo "== pytest"
  local code=0
  "$PY" -m pytest "$@" || code=$?
  # pytest's 5 means "no tests collected": for us that is a failure, not a pass.
  [ "$code" -eq 5 ] && echo "manage.sh: pytest collected no tests" >&2
  return "$code"
}

cmd_db() {
  ensure_venv
  local sub="${1:-status}"
  shift || true
  case "$sub" in
    start | stop | status) "$PY" -m src.database.embedded "$sub" ;;
    psql)
      if [ -n "${DATABASE_URL:-}" ]; then
        command -v psql >/dev/null || die "psql is not installed"
        exec psql "${DATABASE_URL/+asyncpg/}" "$@"
      fi
      exec "$PY" -m src.database.embedded psql syntra "$@" ;;
    *) die "unknown db command '$sub' (start|stop|status|psql)" ;;
  esac
}

main() {
  local cmd="${1:-help}"
  shift || true
  case "$cmd" in
    help | -h | --help) cmd_help ;;
    install) ensure_venv; echo "Environment ready: $VENV" ;;
    migrate) ensure_venv; "$VENV/bin/alembic" upgrade head && echo "Database is at the latest migration." ;;
    test) cmd_test "$@" ;;
    bench)
      ensure_venv
      case "${1:-earn}" in
        earn) shift || true; "$PY" -m bench.earn_bench "$@" ;;
        *) die "unknown benchmark '${1}' (earn)" ;;
      esac ;;
    audit) ensure_venv; "$PY" -m src.services.ledger_audit ;;
    db) cmd_db "$@" ;;
    *) echo "manage.sh: unknown command '$cmd'" >&2; cmd_help >&2; exit 2 ;;
  esac
}

main "$@"
