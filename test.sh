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

# The npm ws package is an independent WebSocket peer that checks the frames
# the server sends (interop_test.go); it is pinned in interop/package-lock.json
# and installed with npm ci. Node.js and npm come from Debian when missing.
# PRESENCE_NODE_TESTS=required makes those tests fail rather than skip.
if ! have node || ! have npm; then
	echo "test.sh: installing nodejs and npm for the interop tests" >&2
	as_root apt-get update -q
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q nodejs npm
fi
if [ ! -f interop/node_modules/.package-lock.json ] || [ interop/package-lock.json -nt interop/node_modules/.package-lock.json ]; then
	(cd interop && npm ci --no-audit --no-fund)
fi
export PRESENCE_NODE_TESTS=required

# The cluster tests (cluster_*_test.go) start real etcd processes and cut
# nodes apart with network namespaces and nftables. etcd comes from Debian's
# etcd-server (3.4, whose API the pinned protoactor's etcd client v3.5
# speaks); ip and nft from iproute2 and nftables. PRESENCE_CLUSTER_TESTS=required
# turns the tests' skip-when-missing into a failure.
missing=()
have etcd || missing+=(etcd-server)
have ip || missing+=(iproute2)
have nft || missing+=(nftables)
if [ ${#missing[@]} -gt 0 ]; then
	echo "test.sh: installing ${missing[*]} for the cluster tests" >&2
	as_root apt-get update -q
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
fi
export PRESENCE_CLUSTER_TESTS=required

# --- lint -------------------------------------------------------------------
# golangci-lint, pinned (its configuration is .golangci.yml); a finding fails
# the run. `go run pkg@version` builds it from the module proxy into Go's
# cache once (a few minutes on a fresh machine), outside our module's graph.
GOLANGCI_LINT=github.com/golangci/golangci-lint/v2/cmd/golangci-lint@v2.15.0
go run "$GOLANGCI_LINT" run ./...

# --- the Go tests -----------------------------------------------------------
# (The soak runs on its own below; PRESENCE_SOAK only sets its length.)
PRESENCE_SOAK= go test -race -shuffle=on -count=1 "$@" ./...
# The cluster's in-process tests cannot run under -race: the pinned
# protoactor's gossip races with its own remote (see cluster/node_test.go).
go test -shuffle=on -count=1 "$@" ./cluster

# --- fuzzing and the soak (a full run only: not with extra arguments) -------
# Each fuzz target runs for a bounded time (PRESENCE_FUZZTIME, default 15s);
# a crasher is written to testdata/fuzz/ and fails the run. Each new input
# that widens coverage is minimised for at most 20 runs (Go's default is a
# minute each, which ate most of a 15 s budget: ~1,200 runs instead of
# ~40,000). The soak churns connections for PRESENCE_SOAK (default 2m; e.g.
# PRESENCE_SOAK=30m for a longer one) and checks that goroutines, files and
# memory come back; it runs without -race, whose shadow memory would hide the
# RSS it measures.
if [ $# -eq 0 ]; then
	fuzztime="${PRESENCE_FUZZTIME:-15s}"
	fuzz() { go test -run='^$' -fuzz="^$1\$" -fuzztime="$fuzztime" -fuzzminimizetime=20x "$2"; }
	fuzz FuzzReadLoop ./transport
	fuzz FuzzTextRoundTrip ./transport
	fuzz FuzzDecodeEvent ./actors
	fuzz FuzzDecodePayload ./transport/socketio
	fuzz FuzzDecodeSocketIO ./transport/socketio
	PRESENCE_SOAK="${PRESENCE_SOAK:-2m}" go test -count=1 -timeout=0 -run="^TestSoak$" -v .

	# The fallback read mode (one goroutine per socket; --read-mode goroutine),
	# shorter: the server's suites that exercise reading (the conformance
	# table against the production server, abuse, bad input, every kind of
	# leave, kill -9, shutdown) and a 20 s soak. The transport package's own
	# tests, conformance and fuzz targets already run in both modes above.
	export PRESENCE_TEST_READ_MODE=goroutine
	go test -race -count=1 -run '^(TestConformanceProductionServer|TestAbuse.*|TestBadInput.*|TestNetwork.*|TestKill9.*|TestShutdown.*)$' .
	PRESENCE_SOAK=20s go test -count=1 -timeout=0 -run="^TestSoak$" .
	unset PRESENCE_TEST_READ_MODE
fi
