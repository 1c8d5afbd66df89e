#!/usr/bin/env bash
# `make run`: the web app and a Huey consumer side by side; one Ctrl-C stops both.
# Expects the migrations to have run (the Makefile does that first).
set -euo pipefail

BIN=${VENV_BIN:-.venv/bin}
HOST=${HOST:-127.0.0.1}
PORT=${PORT:-5000}

if "$BIN/python" - "$HOST" "$PORT" <<'EOF'
import socket, sys
with socket.socket() as s:
    s.settimeout(0.5)
    sys.exit(0 if s.connect_ex((sys.argv[1], int(sys.argv[2]))) == 0 else 1)
EOF
then
    echo "Something is already listening on $HOST:$PORT. Stop it, or run: make run PORT=5001" >&2
    exit 1
fi

pids=()
stop() {
    trap - INT TERM EXIT
    echo
    echo "Stopping Checkie (web and worker)…"
    kill -TERM "${pids[@]}" 2>/dev/null || true
    wait "${pids[@]}" 2>/dev/null || true
}
trap stop EXIT
trap 'stop; exit 0' INT TERM

"$BIN/huey_consumer" checkie.worker.huey --workers 2 --worker-type thread &
pids+=($!)
"$BIN/flask" --app wsgi run --host "$HOST" --port "$PORT" --with-threads &
pids+=($!)

echo "Checkie is starting at http://$HOST:$PORT (worker and web in this terminal; Ctrl-C stops both)."
# Whichever stops first (a crash, or Ctrl-C reaching it) stops the other too, through the trap.
status=0
wait -n "${pids[@]}" || status=$?
exit "$status"
