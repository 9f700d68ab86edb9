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

# Headless Chromium drives the page in the browser tests (browser_test.go).
# It comes from Debian's package: test frameworks cannot download browsers
# here. PRESENCE_BROWSER_TESTS=required turns the tests' skip-when-missing
# into a failure, so this run cannot pass without them.
if [ -z "${PRESENCE_CHROMIUM:-}" ] && ! have chromium; then
	echo "test.sh: installing chromium for the browser tests" >&2
	as_root apt-get update -q
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium
fi
export PRESENCE_BROWSER_TESTS=required

# --- the Go tests -----------------------------------------------------------
go test -race -shuffle=on -count=1 "$@" ./...
