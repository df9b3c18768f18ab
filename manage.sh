#!/usr/bin/env bash
# Syntra operations. Every command installs what it needs on first use (venv, requirements),
# so a fresh clone needs nothing but Python 3.11+. Run `./manage.sh help` for the list.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$ROOT"
# SYNTRA_VENV puts the virtual environment elsewhere (a deployment may keep code read-only).
VENV="${SYNTRA_VENV:-$ROOT/.venv}"
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

# Create the venv and install what the command needs, again only when the requirements changed.
# `ensure_venv` (runtime: start, console, migrate, ...) installs requirements.txt alone;
# `ensure_venv dev` (test, bench) also requirements-dev.txt (ruff, mypy, pytest, ...). Each
# level has its stamp, the hash of the files it installed: a venv made for `start` is topped up
# by the first `test`, and a venv made by `test` already has everything `start` needs.
ensure_venv() {
  local level="${1:-runtime}"
  if [ ! -x "$PY" ]; then
    local python
    python="$(find_python)" || die "Python 3.11 or newer is required (python3 --version)"
    echo "Creating virtual environment in $VENV ($("$python" --version))..."
    "$python" -m venv "$VENV" || die "cannot create a venv (on Debian/Ubuntu: apt install python3-venv)"
  fi
  local runtime_stamp="$VENV/.requirements.sha256" dev_stamp="$VENV/.requirements-dev.sha256"
  local runtime_hash dev_hash
  runtime_hash="$(sha256sum requirements.txt | cut -d' ' -f1)"
  dev_hash="$(cat requirements.txt requirements-dev.txt | sha256sum | cut -d' ' -f1)"
  if [ "$level" = dev ]; then
    [ "$(cat "$dev_stamp" 2>/dev/null)" = "$dev_hash" ] && return 0
    echo "Installing requirements and the development tools..."
    "$PY" -m pip install --quiet --upgrade pip >/dev/null
    "$PY" -m pip install --quiet -r requirements-dev.txt || die "pip install failed"
    echo "$dev_hash" >"$dev_stamp"
    echo "$runtime_hash" >"$runtime_stamp"  # requirements-dev.txt includes requirements.txt
  else
    [ "$(cat "$runtime_stamp" 2>/dev/null)" = "$runtime_hash" ] && return 0
    echo "Installing requirements..."
    "$PY" -m pip install --quiet --upgrade pip >/dev/null
    "$PY" -m pip install --quiet -r requirements.txt || die "pip install failed"
    echo "$runtime_hash" >"$runtime_stamp"
  fi
}

cmd_help() {
  cat <<'HELP'
Usage: ./manage.sh <command> [args]

  install [dev]        create .venv and install requirements.txt (with dev: also the test tools
                       of requirements-dev.txt); every command does it on demand
  migrate              apply database migrations (alembic upgrade head)
  test                 ruff (lint + format check), mypy, then pytest on a real PostgreSQL
  chaos [pytest args]  only the fault tests (kill -9, database down, stop mid-answer; also in test)
  bench [earn]         the earn-path benchmark against a pgbench baseline (see docs/PERFORMANCE.md)
  bench analytics      analytics, user card, leaderboard and rank timings on 1M users / 10M rows
                       (seeds its own database first if it is empty)
  bench seed [args]    (re)seed that database: python -m bench.seed_data --help for the options
  bench api            GET /api/points/balance against a bare FastAPI endpoint (wrk)
  bench chart          /chart end to end (fetch, indicators, render, send) with 8 at once
  start [bot|api]      start the services in the background (all when none is named)
  start bot --workers N
                       N webhook workers on one port (SO_REUSEPORT; see docs/SCALING.md)
  stop [bot|api]       stop them gracefully (in-flight updates and requests finish first)
  restart [bot|api]    stop, then start (safe to repeat)
  status [bot|api]     running/stopped with pid and uptime (exit 0 running, 3 stopped)
  logs [bot|api]       follow logs/bot.log, logs/api.log (JSON lines; grep 💎 for points)
  init-data ID [ru|en] print Mini App init data for Telegram user ID, signed with BOT_TOKEN
                       (for curl: -H "Authorization: tma $(./manage.sh init-data 42)")
  console              chat with the bot in this terminal, no Telegram needed
  audit                check the ledger invariants of the configured database
  rank rebuild         rebuild the rank index (PostgreSQL markers, and Redis if REDIS_URL is set)
  db start|stop|status|psql
                       the embedded PostgreSQL (used when DATABASE_URL is not set)
  db backup [FILE]     pg_dump (custom format) of the database to FILE (default backups/)
  db restore FILE      replace the database with a backup (all or nothing; the bot stopped),
                       then migrate and audit the ledger
  help                 this text

Settings come from the environment or .env (see .env.example and README.md).
HELP
}

# ---------------------------------------------------------------- services: the bot and the API
SERVICES=(bot api)
# Pidfiles and logs; LOG_DIR is the bot's own setting (where it writes bot.log), RUN_DIR lets
# tests (or a second checkout) keep separate pidfiles. Relative paths are from the project root.
RUN_DIR="${RUN_DIR:-$ROOT/run}"
LOG_DIR="${LOG_DIR:-}"

# LOG_DIR as the bot sees it: the environment, else .env, else ./logs.
resolve_log_dir() {
  if [ -z "$LOG_DIR" ]; then
    LOG_DIR="$(grep -E '^[[:space:]]*LOG_DIR=' "$ROOT/.env" 2>/dev/null | tail -n 1 | cut -d= -f2- | tr -d "\"'" || true)"
    LOG_DIR="${LOG_DIR:-$ROOT/logs}"
  fi
  case "$LOG_DIR" in /*) ;; *) LOG_DIR="$ROOT/$LOG_DIR" ;; esac
}
resolve_log_dir

# What runs each service, as arguments to the venv's python (run from the project root).
service_args() {
  case "$1" in
    bot) SERVICE_ARGS=("$ROOT/bot.py") ;;
    api) SERVICE_ARGS=(-m src.api) ;;
    *) die "unknown service '$1' (known: ${SERVICES[*]})" ;;
  esac
}

# Alive and not a zombie (a child that exited but was not yet reaped still answers kill -0).
alive() {
  kill -0 "$1" 2>/dev/null && [ "$(ps -o stat= -p "$1" 2>/dev/null | cut -c1)" != "Z" ]
}

service_pid() {
  local pidfile="$RUN_DIR/$1.pid" pid
  [ -f "$pidfile" ] || return 1
  pid="$(cat "$pidfile" 2>/dev/null)"
  if [ -n "$pid" ] && alive "$pid"; then
    echo "$pid"
    return 0
  fi
  rm -f "$pidfile"  # stale: the process is gone
  return 1
}

# A service runs as one process named after it ("bot"), or as workers "bot.0" ... "bot.N-1"
# (`start bot --workers N`: webhook workers sharing one port); each has its own pidfile, ready
# file and .out, and run/bot.workers records N for status and restart.
WORKERS=""

# The instances of service $1 that status and stop look at.
instances() {
  local name="$1" count i
  count="$(cat "$RUN_DIR/$name.workers" 2>/dev/null || true)"
  if [[ "$count" =~ ^[0-9]+$ ]] && [ "$count" -gt 0 ]; then
    for ((i = 0; i < count; i++)); do echo "$name.$i"; done
  else
    echo "$name"
  fi
}

service_start() {
  local name="$1" pid instance count="" i
  [ "$name" != bot ] || count="${WORKERS:-}"
  service_args "$name"
  for instance in $(instances "$name"); do
    if pid="$(service_pid "$instance")"; then
      echo "$instance: already running (pid $pid)"
      return 0
    fi
  done
  rm -f "$RUN_DIR/$name.workers"
  if [ -z "$count" ]; then
    start_instance "$name" "$name"
    return
  fi
  "$PY" "${SERVICE_ARGS[@]}" --worker "0/$count" --check || return 1
  mkdir -p "$RUN_DIR"
  echo "$count" >"$RUN_DIR/$name.workers"
  # Worker 0 first: it migrates and sets the webhook; then the others start together.
  launch_instance "$name" "$name.0" --worker "0/$count"
  local code=0
  await_instance "$name" "$name.0" || code=1
  if [ "$code" -eq 0 ]; then
    for ((i = 1; i < count; i++)); do launch_instance "$name" "$name.$i" --worker "$i/$count"; done
    for ((i = 1; i < count; i++)); do await_instance "$name" "$name.$i" || code=1; done
  fi
  if [ "$code" -ne 0 ]; then
    service_stop "$name" >/dev/null  # all workers or none
    return 1
  fi
}

# start_instance SERVICE INSTANCE [extra args for it]: refuse early, start, wait until it serves.
start_instance() {
  local name="$1" instance="$2"
  # Refuse early, in this terminal, on what would stop the service anyway (token, settings).
  "$PY" "${SERVICE_ARGS[@]}" "${@:3}" --check || return 1
  launch_instance "$@"
  await_instance "$name" "$instance"
}

declare -A OUT_BEFORE=()  # per instance: the size of its .out before this start

# launch_instance SERVICE INSTANCE [extra args]: start it in the background, pidfile written.
launch_instance() {
  local name="$1" instance="$2" pid
  shift 2
  mkdir -p "$RUN_DIR" "$LOG_DIR"
  local ready="$RUN_DIR/$instance.ready" out="$LOG_DIR/$instance.out"
  rm -f "$ready"
  OUT_BEFORE[$instance]="$(stat -c %s "$out" 2>/dev/null || echo 0)"  # what this start adds comes after
  SYNTRA_READY_FILE="$ready" nohup "$PY" "${SERVICE_ARGS[@]}" "$@" >>"$out" 2>&1 </dev/null &
  pid=$!
  echo "$pid" >"$RUN_DIR/$instance.pid"
}

# await_instance SERVICE INSTANCE: wait until it serves (it touches its ready file once
# started up: migrations applied; the bot's commands set and polling or webhook on; the API's
# port bound) or ends (bad setting, database down, token refused), so the exit code tells
# which. A start slower than 60 s is reported, not treated as a failure.
await_instance() {
  local name="$1" instance="$2" pid waited=0
  local ready="$RUN_DIR/$instance.ready" out="$LOG_DIR/$instance.out"
  pid="$(cat "$RUN_DIR/$instance.pid")"
  while [ ! -f "$ready" ] && [ "$waited" -lt 600 ]; do
    if ! alive "$pid"; then
      rm -f "$RUN_DIR/$instance.pid"
      # The service's own last line says why (bot.py prints one for every expected failure;
      # for a crash it is the exception). One line here; the details are in the log.
      local reason
      reason="$(tail -c +"$((${OUT_BEFORE[$instance]:-0} + 1))" "$out" | grep -v '^[[:space:]]*$' | tail -n 1 || true)"
      echo "$instance: failed to start: ${reason#"$name: "} (log: $LOG_DIR/$name.log)" >&2
      return 1
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
  if [ -f "$ready" ]; then
    echo "$instance: started (pid $pid); logs: ./manage.sh logs $name"
  else
    echo "$instance: started (pid $pid), still starting up after 60 s; logs: ./manage.sh logs $name"
  fi
}

# On SIGTERM the bot lets in-flight updates finish for up to its shutdown grace (the LLM
# timeout plus a margin: an AI answer being generated always goes out). It writes that grace
# into its ready file; stop waits that long plus 10 s before it kills. A bot still starting
# up has no ready file yet: the grace of the default settings (60 s + 15 s) is assumed.
DEFAULT_SHUTDOWN_GRACE=75

stop_wait_seconds() {
  local grace
  grace="$(sed -n 's/^shutdown_grace_seconds=//p' "$RUN_DIR/$1.ready" 2>/dev/null | head -n 1)"
  grace="${grace%%.*}"
  [[ "$grace" =~ ^[0-9]+$ ]] || grace=$DEFAULT_SHUTDOWN_GRACE
  echo $((grace + 1 + 10))  # +1: a fractional grace rounded up
}

# Every instance gets SIGTERM at once (workers drain in parallel), then each is waited for.
service_stop() {
  local name="$1" instance pid waited limit stopped=()
  for instance in $(instances "$name"); do
    if pid="$(service_pid "$instance")"; then
      kill -TERM "$pid" 2>/dev/null || true
      stopped+=("$instance:$pid")
    else
      echo "$instance: not running"
      rm -f "$RUN_DIR/$instance.ready"
    fi
  done
  rm -f "$RUN_DIR/$name.workers"
  for entry in "${stopped[@]}"; do
    instance="${entry%%:*}" pid="${entry##*:}" waited=0
    limit="$(stop_wait_seconds "$instance")"
    # Each service writes its shutdown grace into its ready file (the bot's covers in-flight
    # updates and the LLM timeout, the API's its in-flight requests).
    while alive "$pid" && [ "$waited" -lt $((limit * 10)) ]; do
      sleep 0.1
      waited=$((waited + 1))
    done
    if alive "$pid"; then
      echo "$instance: did not stop in $limit s, killing" >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$RUN_DIR/$instance.pid" "$RUN_DIR/$instance.ready"
    echo "$instance: stopped"
  done
}

# Exit 0 when every instance runs, 3 when any is stopped.
service_status() {
  local name="$1" instance pid code=0
  for instance in $(instances "$name"); do
    if pid="$(service_pid "$instance")"; then
      echo "$instance: running (pid $pid, uptime $(ps -o etime= -p "$pid" | tr -d ' '))"
    else
      echo "$instance: stopped"
      code=3
    fi
  done
  return "$code"
}

for_services() {
  local action="$1" target="${2:-}" code=0 name
  if [ -n "$target" ]; then
    service_args "$target"
    "service_$action" "$target" || code=$?
  else
    for name in "${SERVICES[@]}"; do "service_$action" "$name" || code=$?; done
  fi
  return "$code"
}

# [bot|api] [--workers N] -> TARGET, WORKERS
TARGET=""
parse_workers() {
  while [ "$#" -gt 0 ]; do
    case "$1" in
      --workers)
        [[ "${2:-}" =~ ^[0-9]+$ ]] && [ "$2" -ge 1 ] && [ "$2" -le 64 ] ||
          die "--workers takes a number from 1 to 64"
        WORKERS="$2"
        shift 2 ;;
      --workers=*) parse_workers --workers "${1#--workers=}"; shift ;;
      *) TARGET="$1"; shift ;;
    esac
  done
  [ -z "$WORKERS" ] || [ "$TARGET" != api ] || die "--workers is for the bot only"
  [ "$WORKERS" != 1 ] || WORKERS=""  # one worker is the plain bot
}

cmd_logs() {
  local names=("${SERVICES[@]}") files=() name
  if [ -n "${1:-}" ]; then service_args "$1"; names=("$1"); fi
  for name in "${names[@]}"; do
    [ -f "$LOG_DIR/$name.log" ] && files+=("$LOG_DIR/$name.log")
  done
  [ "${#files[@]}" -gt 0 ] || die "no log yet in $LOG_DIR (start the ${1:-services} first)"
  if [ -t 1 ]; then exec tail -n 100 -F "${files[@]}"; else exec tail -n 100 "${files[@]}"; fi
}

cmd_test() {
  ensure_venv dev
  echo "== ruff check"; "$VENV/bin/ruff" check .
  echo "== ruff format --check"; "$VENV/bin/ruff" format --check .
  echo "== mypy config src bot.py"; "$VENV/bin/mypy" config src bot.py
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
    backup)
      [ "$#" -le 1 ] || die "usage: ./manage.sh db backup [FILE]"
      "$PY" -m src.database.backup backup "$@" ;;
    restore)
      [ "$#" -eq 1 ] || die "usage: ./manage.sh db restore FILE"
      [ -f "$1" ] || die "no such backup file: $1"
      local name
      for name in "${SERVICES[@]}"; do
        if service_pid "$name" >/dev/null; then
          die "the $name is running: stop it first (./manage.sh stop), then restore"
        fi
      done
      # All or nothing; then an older backup is migrated up and the ledger checked.
      "$PY" -m src.database.backup restore "$1"
      "$VENV/bin/alembic" upgrade head || die "restored, but the migrations failed"
      "$PY" -m src.services.ledger_audit || die "restored, but the ledger audit failed (above)" ;;
    *) die "unknown db command '$sub' (start|stop|status|psql|backup|restore)" ;;
  esac
}

main() {
  local cmd="${1:-help}"
  shift || true
  case "$cmd" in
    help | -h | --help) cmd_help ;;
    install)
      case "${1:-}" in
        "") ensure_venv ;;
        dev) ensure_venv dev ;;
        *) die "unknown install level '$1' (install, or install dev)" ;;
      esac
      echo "Environment ready: $VENV" ;;
    migrate) ensure_venv; "$PY" -m src.migrate ;;
    test) cmd_test "$@" ;;
    chaos) ensure_venv dev; "$PY" -m pytest -m chaos "$@" ;;
    bench)
      ensure_venv dev
      case "${1:-earn}" in
        earn) shift || true; "$PY" -m bench.earn_bench "$@" ;;
        analytics) shift; "$PY" -m bench.analytics_bench "$@" ;;
        seed) shift; "$PY" -m bench.seed_data "$@" ;;
        api) shift; "$PY" -m bench.api_bench "$@" ;;
        chart) shift; "$PY" -m bench.chart_bench "$@" ;;
        *) die "unknown benchmark '${1}' (earn|analytics|seed|api|chart)" ;;
      esac ;;
    start) ensure_venv; parse_workers "$@"; for_services start "$TARGET" ;;
    stop) for_services stop "${1:-}" ;;
    restart)
      ensure_venv
      parse_workers "$@"
      # Without --workers, the bot comes back with as many workers as it had.
      if [ -z "$WORKERS" ] && [ "$TARGET" != api ]; then
        WORKERS="$(cat "$RUN_DIR/bot.workers" 2>/dev/null || true)"
      fi
      for_services stop "$TARGET"; for_services start "$TARGET" ;;
    status) for_services status "${1:-}" ;;
    logs) cmd_logs "${1:-}" ;;
    init-data) ensure_venv; "$PY" -m src.api.init_data "$@" ;;
    console) ensure_venv; exec "$PY" -m src.bot.console "$@" ;;
    audit) ensure_venv; "$PY" -m src.services.ledger_audit ;;
    rank)
      ensure_venv
      [ "${1:-}" = "rebuild" ] || die "unknown rank command '${1:-}' (rebuild)"
      "$PY" -m src.services.rank_service rebuild ;;
    db) cmd_db "$@" ;;
    *) echo "manage.sh: unknown command '$cmd'" >&2; cmd_help >&2; exit 2 ;;
  esac
}

main "$@"
