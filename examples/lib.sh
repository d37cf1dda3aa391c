# Shared helpers of the example scripts (sourced, not run). Each script
# starts local wakunode processes on 127.0.0.1, so it needs the binaries:
#   cargo build -p waku-node -p waku-cli --bins
# WAKUNODE and WAKU override where they are (default: target/debug).

set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WAKUNODE="${WAKUNODE:-$ROOT/target/debug/wakunode}"
WAKU="${WAKU:-$ROOT/target/debug/waku}"
WORK="$(mktemp -d)"
PIDS=()

cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

fail() {
    echo "FAILED: $*" >&2
    for log in "$WORK"/*.log; do
        [ -e "$log" ] || continue
        echo "--- $log" >&2
        tail -n 30 "$log" >&2
    done
    exit 1
}

# start NAME ARGS...: runs wakunode in the background, its log in $WORK/NAME.log.
start() {
    local name="$1"
    shift
    (cd "$WORK" && exec "$WAKUNODE" "$@") >"$WORK/$name.log" 2>&1 &
    PIDS+=("$!")
}

# wait_rest PORT: until the node's REST API answers (30 s at most).
wait_rest() {
    for _ in $(seq 300); do
        curl -fs "http://127.0.0.1:$1/health" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    fail "no REST API on port $1"
}

# listen_addr PORT: the node's first listen address with its peer id.
listen_addr() {
    curl -fs "http://127.0.0.1:$1/debug/v1/info" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["listenAddresses"][0])'
}

# urlencode TEXT
urlencode() {
    python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$1"
}

# retry SECONDS COMMAND...: runs COMMAND every 0.2 s until it succeeds.
retry() {
    local until=$((SECONDS + $1))
    shift
    while ! "$@" >/dev/null 2>&1; do
        [ "$SECONDS" -lt "$until" ] || return 1
        sleep 0.2
    done
}
