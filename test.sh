#!/usr/bin/env bash
# Runs the whole test suite, the way CI does (.ci/run calls this script).
#
# It first installs what the tests need when it is missing, so that it works
# on a fresh Debian machine, then runs every Go test with the race detector.
# Extra arguments go to `go test` (e.g. ./test.sh -run TestBadInput -v).
set -euo pipefail
cd "$(dirname "$0")"

have() { command -v "$1" >/dev/null 2>&1; }

as_root() {
	if [ "$(id -u)" = 0 ]; then "$@"; elif have sudo; then sudo "$@"; else
		echo "test.sh: need root to run: $*" >&2
		return 1
	fi
}

# --- tools the tests need ---------------------------------------------------

# --- the Go tests -----------------------------------------------------------
go test -race -shuffle=on -count=1 "$@" ./...
