# bench/baselines/centrifugo/bench.sh — sourced by bench/run.sh: everything
# the benchmark needs to build, start and load Centrifugo, the "centrifugo"
# label. Nothing of Centrifugo is committed: it is built from the Go module
# proxy with 'go install' into bench/.bin (git-ignored), once per version.
#
# Centrifugo has no "count" to push. Each scenario runs with the config that
# a Centrifugo application of that kind would use (see bench/notes.md):
#   idle                 config.json            presence on, join/leave off;
#                                               loadgen --centrifugo-mode presence
#   ramp, churn, leave   config-joinleave.json  presence and join/leave on;
#                                               loadgen --centrifugo-mode joinleave

CENTRIFUGO_VERSION=v6.9.1
CENTRIFUGO_MODULE=github.com/centrifugal/centrifugo/v6
CENTRIFUGO_DIR=bench/baselines/centrifugo

# centrifugo_build BIN: install Centrifugo (cached in bench/.bin between
# runs; a few minutes the first time) and link it as BIN/centrifugo.
centrifugo_build() {
	local bin=$1 cache="$ROOT/bench/.bin/centrifugo-$CENTRIFUGO_VERSION"
	if [ ! -x "$cache/centrifugo" ]; then
		log "building Centrifugo $CENTRIFUGO_VERSION (go install, once: a few minutes)"
		mkdir -p "$cache"
		GOBIN="$cache" go install "$CENTRIFUGO_MODULE@$CENTRIFUGO_VERSION"
	fi
	ln -sf "$cache/centrifugo" "$ROOT/$bin/centrifugo"
}

# centrifugo_config SCENARIO: the config file of that scenario.
centrifugo_config() {
	case $1 in
	idle) echo "$CENTRIFUGO_DIR/config.json" ;;
	*) echo "$CENTRIFUGO_DIR/config-joinleave.json" ;;
	esac
}

# centrifugo_mode SCENARIO: the load generator's --centrifugo-mode.
centrifugo_mode() {
	case $1 in
	idle) echo presence ;;
	*) echo joinleave ;;
	esac
}

# centrifugo_api_key: the HTTP API key of the committed configs.
centrifugo_api_key() {
	sed -n 's/.*"http_api": *{ *"key": *"\([^"]*\)".*/\1/p' "$CENTRIFUGO_DIR/config.json"
}

# centrifugo_start SCENARIO PORT: become Centrifugo on 127.0.0.1:PORT with
# the scenario's config. The caller runs it in the background ('… &'): exec
# makes that background process Centrifugo itself, so $! is the server's
# PID (to measure, and to stop) rather than a subshell waiting on it.
centrifugo_start() {
	CENTRIFUGO_HTTP_SERVER_ADDRESS=127.0.0.1 CENTRIFUGO_HTTP_SERVER_PORT=$2 \
		exec "${SERVER_CPU[@]}" "$BIN/centrifugo" --config "$(centrifugo_config "$1")"
}

# centrifugo_loadgen_flags SCENARIO PORT: the load generator's flags for it.
centrifugo_loadgen_flags() {
	echo --centrifugo-mode "$(centrifugo_mode "$1")" --centrifugo-api-key "$(centrifugo_api_key)" \
		--metrics-url "http://127.0.0.1:$2/metrics"
}
