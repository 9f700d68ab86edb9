#!/usr/bin/env bash
# bench/run.sh — the side-by-side benchmark: builds our server, the two
# baselines and the load generator, runs every scenario against each server
# in turn (a fresh server process per run), and writes the report.
#
#   bench/run.sh quick   # small N, one repetition: checks that everything works (~3 min);
#                        # the report goes to bench/results/<stamp>-quick/ only
#   bench/run.sh full    # the real numbers (~45 min): writes BENCHMARKS.md and bench/charts/*.svg
#   bench/run.sh lean    # only the lean-connection rooms (9,000 and 15,000 idle members: memory,
#                        # handshakes, fan-out) for ours, ours-noam, ours-v1 and the write floor, and
#                        # churn at 10,000 for ours, ours-noam, ours-v1; 3 repetitions (~22 min):
#                        # rewrites BENCHMARKS.md's "Lean connections" section
#
# Environment: REPS (repetitions, default 3 in full, 1 in quick), PIN=0 (do
# not pin with taskset), BENCH_PORT (first port to try, default 39080),
# V1_COMMIT (the commit built as ours-v1, "before the lean connections";
# default cdb5f0f, cached in bench/results/cache/).
#
# Every run is bounded: the load generator bounds each phase (--timeout) and
# the whole run (--deadline), and this script kills a server that does not
# stop. Only loopback addresses are used. Results (JSON, logs, profiles) go to
# bench/results/<stamp>-<mode>/ (git-ignored); bench/results/latest points at
# the newest.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

MODE=${1:-}
case "$MODE" in
quick | full | lean) ;;
-h | --help)
	sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'
	exit 0
	;;
*)
	echo "usage: bench/run.sh quick|full|lean   (see bench/run.sh --help)" >&2
	exit 2
	;;
esac

need() { command -v "$1" >/dev/null 2>&1 || { echo "bench/run.sh: needs $1 ($2)" >&2; exit 1; }; }
need go "the Go toolchain"
need node "Node.js, for the Socket.IO baseline"
need npm "npm, for the Socket.IO baseline"
need curl "curl, for the profiling pass"

STAMP=$(date -u +%Y%m%dT%H%M%SZ)
OUT=bench/results/$STAMP-$MODE
BIN=$OUT/bin
mkdir -p "$OUT/logs" "$BIN"
ln -sfn "$STAMP-$MODE" bench/results/latest
log() { printf '%s %s\n' "$(date -u +%H:%M:%S)" "$*" | tee -a "$OUT/run.log" >&2; }
# shellcheck source=baselines/centrifugo/bench.sh
. bench/baselines/centrifugo/bench.sh

# --- build -------------------------------------------------------------------
log "building into $BIN"
go build -o "$BIN/presence" .
go build -tags pprof -o "$BIN/presence-pprof" .
go build -o "$BIN/loadgen" ./cmd/loadgen
(cd bench/baselines/gohub && go build -o "$ROOT/$BIN/gohub" .)
(cd bench/baselines/floor && go build -o "$ROOT/$BIN/floor" .)
# ours-v1: this server before the lean connections, from a pinned commit, so
# that before and after come from one run on one machine. Built once per
# commit from `git archive` (no worktree to clean up) and cached.
V1_COMMIT=$(git rev-parse --short "${V1_COMMIT:-cdb5f0f}")
V1_CACHE=bench/results/cache/ours-v1-$V1_COMMIT
if [ ! -x "$V1_CACHE/presence" ]; then
	log "building ours-v1 from $V1_COMMIT into $V1_CACHE"
	rm -rf "$V1_CACHE/src" && mkdir -p "$V1_CACHE/src"
	git archive "$V1_COMMIT" | tar -x -C "$V1_CACHE/src"
	(cd "$V1_CACHE/src" && go build -o ../presence .)
	rm -rf "$V1_CACHE/src"
fi
cp "$V1_CACHE/presence" "$BIN/presence-v1"
(cd bench/baselines/socketio && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
centrifugo_build "$BIN"

# --- pinning and ports ---------------------------------------------------------
SERVER_CPU=() LOAD_CPU=() PINNING="none"
if [ "${PIN:-1}" = 1 ] && command -v taskset >/dev/null 2>&1 && [ "$(nproc)" -ge 2 ]; then
	SERVER_CPU=(taskset -c 0)
	LOAD_CPU=(taskset -c 1)
	PINNING="server on CPU 0, load generator (all its processes) on CPU 1, with taskset; a Go server so pinned runs with GOMAXPROCS=1"
fi
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
PORT=${BENCH_PORT:-39080}
while port_busy "$PORT" || port_busy "$((PORT + 1))"; do PORT=$((PORT + 2)); done
PPROF_PORT=$((PORT + 1))

# --- servers --------------------------------------------------------------------
SERVER_PID=""
start_server() { # label [scenario]
	local label=$1 scenario=${2:-}
	case "$label" in
	ours | ours-sio) "${SERVER_CPU[@]}" "$BIN/presence" --addr "127.0.0.1:$PORT" --max-conns-per-ip 0 --log-level warn &;;
	ours-noam) "${SERVER_CPU[@]}" "$BIN/presence" --addr "127.0.0.1:$PORT" --max-conns-per-ip 0 --log-level warn --actor-metrics=false &;;
	ours-v1) "${SERVER_CPU[@]}" "$BIN/presence-v1" --addr "127.0.0.1:$PORT" --max-conns-per-ip 0 --log-level warn &;;
	floor) "${SERVER_CPU[@]}" "$BIN/floor" -addr "127.0.0.1:$PORT" &;;
	ours-pprof) PRESENCE_PPROF_ADDR="127.0.0.1:$PPROF_PORT" "${SERVER_CPU[@]}" "$BIN/presence-pprof" --addr "127.0.0.1:$PORT" --max-conns-per-ip 0 --log-level warn &;;
	gohub) "${SERVER_CPU[@]}" "$BIN/gohub" -addr "127.0.0.1:$PORT" &;;
	socketio) "${SERVER_CPU[@]}" node bench/baselines/socketio/server.js "$PORT" &;;
	centrifugo) centrifugo_start "$scenario" "$PORT" &;;
	*) echo "bench/run.sh: unknown server $label" >&2; exit 1;;
	esac 2>>"$OUT/logs/servers.log"
	SERVER_PID=$!
	for _ in $(seq 100); do
		port_busy "$PORT" && return 0
		kill -0 "$SERVER_PID" 2>/dev/null || { echo "bench/run.sh: $label exited at start (see $OUT/logs/servers.log)" >&2; exit 1; }
		sleep 0.1
	done
	echo "bench/run.sh: $label did not listen on $PORT within 10 s" >&2
	exit 1
}

stop_server() {
	[ -n "$SERVER_PID" ] || return 0
	kill -TERM "$SERVER_PID" 2>/dev/null || true
	for _ in $(seq 100); do
		kill -0 "$SERVER_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$SERVER_PID" 2>/dev/null || true
	wait "$SERVER_PID" 2>/dev/null || true
	SERVER_PID=""
	# Let the sockets of the last run finish closing before the next server binds.
	for _ in $(seq 50); do port_busy "$PORT" || break; sleep 0.1; done
}
trap 'stop_server' EXIT
trap 'exit 130' INT TERM

# --- one run ----------------------------------------------------------------------
RUN=0
run() { # scenario label n rep [loadgen flags...]
	local scenario=$1 label=$2 n=$3 rep=$4
	shift 4
	RUN=$((RUN + 1))
	local proto=presence metrics=()
	case "$label" in
	socketio) proto=socketio ;;
	ours-sio) proto=socketio metrics=(--metrics-url "http://127.0.0.1:$PORT/metrics") ;;
	ours*) metrics=(--metrics-url "http://127.0.0.1:$PORT/metrics") ;;
	centrifugo) proto=centrifugo; read -ra metrics <<<"$(centrifugo_loadgen_flags "$scenario" "$PORT")" ;;
	esac
	local name="$scenario-$label-n$n-r$rep"
	start_server "$label" "$scenario"
	# A /24 of source addresses per run, so that no run meets the last one's sockets.
	local src="127.0.$((RUN % 250 + 1)).2"
	local rc=0
	"${LOAD_CPU[@]}" "$BIN/loadgen" "$scenario" --url "ws://127.0.0.1:$PORT" --proto "$proto" --label "$label" \
		--n "$n" --server-pid "$SERVER_PID" "${metrics[@]}" --src "$src" --progress never \
		--json "$OUT/$name.json" "$@" >"$OUT/logs/$name.log" 2>&1 || rc=$?
	stop_server
	case $rc in
	0) log "$name: ok" ;;
	3) log "$name: finished with problems: $(grep -m1 '^  problem' "$OUT/logs/$name.log" | sed 's/^ *problem *//' | cut -c1-160)" ;;
	*) log "$name: FAILED (exit $rc), see $OUT/logs/$name.log" ;;
	esac
}

# --- the profiling pass: where an idle connection's memory goes --------------------
profile() { # n
	local n=$1
	log "profile: ours (pprof build) with $n idle members"
	start_server ours-pprof
	"${LOAD_CPU[@]}" "$BIN/loadgen" idle --url "ws://127.0.0.1:$PORT" --n "$n" --server-pid "$SERVER_PID" \
		--src 127.0.252.2 --progress never --hold 10s --settle 1s --steps 40 >"$OUT/logs/profile-loadgen.log" 2>&1 &
	local lg=$! users=""
	for _ in $(seq 240); do
		users=$(curl -fsS "http://127.0.0.1:$PORT/api/rooms" 2>/dev/null | grep -o '"currentUsers":[0-9]*' | cut -d: -f2 || true)
		[ "$users" = "$n" ] && break
		sleep 0.5
	done
	sleep 3
	{
		echo "$n idle members in one room, ours built with -tags pprof; heap profile after a forced GC (inuse_space),"
		echo "then the Go runtime's own figures from /metrics."
		echo
		curl -fsS "http://127.0.0.1:$PPROF_PORT/debug/pprof/heap?gc=1" -o "$OUT/heap.pb.gz" &&
			go tool pprof -top -sample_index=inuse_space "$OUT/heap.pb.gz" 2>/dev/null | sed -n '4,30p'
		echo
		curl -fsS "http://127.0.0.1:$PPROF_PORT/debug/pprof/goroutine?debug=1" -o "$OUT/goroutines.txt" &&
			{ head -1 "$OUT/goroutines.txt"; grep -m1 -A14 '^[0-9]* @' "$OUT/goroutines.txt" | sed 's/^#[[:space:]]*0x[0-9a-f]*[[:space:]]*/#   /'; }
		echo
		curl -fsS "http://127.0.0.1:$PORT/metrics" | grep -E '^(go_goroutines|go_memstats_(heap_inuse|heap_alloc|stack_inuse|sys)_bytes|process_resident_memory_bytes) '
		echo
		# Where the fan-out's microseconds go: a CPU profile over the latency
		# steps that follow the hold (one join or leave at a time, each pushed
		# to every member; an idle room costs no CPU, so the steps dominate).
		echo "CPU profile of the same server over 25 s that cover the hold's end and the latency steps (one join or leave at a time):"
		echo
		curl -fsS "http://127.0.0.1:$PPROF_PORT/debug/pprof/profile?seconds=25" -o "$OUT/cpu.pb.gz" &&
			go tool pprof -top -nodecount=30 "$OUT/cpu.pb.gz" 2>/dev/null | sed -n '4,36p'
	} >"$OUT/profile.txt" 2>&1 || log "profile: incomplete (see $OUT/profile.txt)"
	wait "$lg" || true
	stop_server
}

# --- the matrix ------------------------------------------------------------------
if [ "$MODE" = full ] || [ "$MODE" = lean ]; then
	REPS=${REPS:-3}
	BIG=10000 MID=5000 SMALL=1000 STEPS=20 IDLE_STEPS=40 HOLD=5s CHURN_S=10s SIO_BIG_TIMEOUT=60s
	FAN=(9000 15000) # the lean-connection targets: memory per idle member and fan-out against the floor
else
	REPS=${REPS:-1}
	BIG=1000 MID=500 SMALL=200 STEPS=10 IDLE_STEPS=10 HOLD=2s CHURN_S=3s SIO_BIG_TIMEOUT=20s
	FAN=(900 1500)
fi
ALL=(ours ours-noam ours-sio gohub socketio)
ALL+=(centrifugo) # bench/baselines/centrifugo/bench.sh: idle with presence, the rest with join/leave

{
	echo "command: bench/run.sh $MODE"
	echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "mode: $MODE, $REPS repetition(s) of every run; a fresh server process per run"
	echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(free -g | awk '/^Mem:/{print $2}') GiB, Linux $(uname -r)"
	echo "limits: $(ulimit -n) open files per process; ephemeral ports $(tr '\t' '-' </proc/sys/net/ipv4/ip_local_port_range) per source address"
	echo "pinning: $PINNING"
	echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine shares its cores)"
	echo "go: $(go version | cut -d' ' -f3-)"
	echo "node: $(node --version)"
	echo "ours: presence @ $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- '*.go' go.mod go.sum actors transport public cmd bench/baselines ':!*_test.go' 2>/dev/null || echo ' (with uncommitted changes to the code)'); protoactor-go $(grep -m1 'asynkron/protoactor-go ' go.mod | awk '{print $2}'), gobwas/ws $(grep -m1 'gobwas/ws ' go.mod | awk '{print $2}'); started with --max-conns-per-ip 0 --log-level warn (actor metrics on, the default); ours-noam adds --actor-metrics=false"
	echo "ours-sio: ours (the same binary and flags), reached over Socket.IO v4: the load generator speaks Engine.IO v4's WebSocket transport and Socket.IO v5, as a socket.io-client does once upgraded"
	echo "ours-v1: presence @ $V1_COMMIT (before the lean connections), same flags as ours"
	echo "floor: bench/baselines/floor, gobwas/ws $(grep -m1 'gobwas/ws ' bench/baselines/floor/go.mod | grep -o 'v[0-9.]*$')"
	echo "gohub: gorilla/websocket $(grep -m1 'gorilla/websocket ' bench/baselines/gohub/go.mod | grep -o 'v[0-9.]*$')"
	echo "centrifugo: Centrifugo $CENTRIFUGO_VERSION ($CENTRIFUGO_MODULE, go install); idle with $(centrifugo_config idle) (presence on, join/leave off; loadgen --centrifugo-mode presence), ramp, churn and leave with $(centrifugo_config ramp) (presence and join/leave on; --centrifugo-mode joinleave); ramp also at N = $MID (ours too) and at N = $BIG once, bounded by --timeout 60s; idle also at N = $BIG"
	echo "socketio: socket.io $(node -p "require('./bench/baselines/socketio/node_modules/socket.io/package.json').version"), engine.io $(node -p "require('./bench/baselines/socketio/node_modules/engine.io/package.json').version"), ws $(node -p "require('./bench/baselines/socketio/node_modules/ws/package.json').version")"
	if [ "$MODE" = lean ]; then
		echo "sizes: idle at N = ${FAN[*]} for ours, ours-noam, ours-v1 and floor, each followed by $IDLE_STEPS latency steps; idle hold $HOLD; churn at N = $BIG for ours, ours-noam and ours-v1, 100 joins/s + 100 leaves/s for $CHURN_S"
	else
		echo "sizes: ramp at N = $SMALL for every server, at $MID for ours, gohub and centrifugo, and at $BIG for ours, ours-noam, ours-v1 and ours-sio, with $STEPS latency steps after each; Socket.IO and Centrifugo at $BIG once, bounded by --timeout $SIO_BIG_TIMEOUT and 60s; churn and leave at N = $SMALL for ours, gohub, socketio and centrifugo (joins paced at 300/s so that each can form the room) and at $BIG for ours; idle at N = $SMALL for every label (paced likewise), at $BIG for ours, ours-noam, ours-sio and centrifugo, and at ${FAN[*]} for ours, ours-noam, ours-v1 and floor, each followed by $IDLE_STEPS latency steps; churn 100 joins/s + 100 leaves/s for $CHURN_S; idle hold $HOLD"
	fi
} >"$OUT/meta.txt"

# Lean connections: memory per idle member, and fan-out against the write
# floor, before (ours-v1) and after (ours; ours-noam without actor metrics),
# in one run.
lean_rooms() { # rep
	for n in "${FAN[@]}"; do
		for label in ours ours-noam ours-v1 floor; do
			run idle "$label" "$n" "$1" --hold "$HOLD" --steps "$IDLE_STEPS" --timeout 90s
		done
	done
}

# section NAME FILE: BENCHMARKS.md with the part between NAME's markers
# replaced by FILE (appended, markers and all, when it has none yet).
section() {
	local name=$1 file=$2
	if grep -q "<!-- $name:begin -->" BENCHMARKS.md; then
		awk -v section="$file" -v b="<!-- $name:begin -->" -v e="<!-- $name:end -->" '
			$0 == b { while ((getline line < section) > 0) print line; skip = 1; next }
			$0 == e { skip = 0; next }
			!skip { print }' BENCHMARKS.md >"$OUT/BENCHMARKS.md.new"
	else
		{ cat BENCHMARKS.md; echo; cat "$file"; } >"$OUT/BENCHMARKS.md.new"
	fi
	mv "$OUT/BENCHMARKS.md.new" BENCHMARKS.md
}

log "mode $MODE, $REPS repetition(s), port $PORT, pinning: $PINNING"
if [ "$MODE" = lean ]; then
	for rep in $(seq "$REPS"); do
		lean_rooms "$rep"
		# Churn in the big room: the one fan-out at a time that the lean
		# connections needed (docs/architecture.md §4).
		for label in ours ours-noam ours-v1; do
			run churn "$label" "$BIG" "$rep" --churn-rate 100 --duration "$CHURN_S" --timeout 60s
		done
	done
	echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUT/meta.txt"
	"$BIN/loadgen" report --results "$OUT" --out "$OUT/report.md" --charts "$OUT/charts" --baselines floor,ours-v1
	# The settings and the idle tables of that report, one heading level down.
	extract() { awk -v h="## $1" 'index($0, h) == 1 { on = 1; next } on && /^## / { exit } on' "$OUT/report.md" | sed 's/^## /### /'; }
	{
		echo "<!-- lean:begin -->"
		echo "## Lean connections, focused: \`bench/run.sh lean\`"
		echo
		echo "A run of its own, later than the tables above: the lean-connection rooms and churn in the big room, with **ours-noam** (\`--actor-metrics=false\`) beside **ours** (actor metrics on, the default), **ours-v1** (before the lean connections) and the **floor**, side by side. Medians of $REPS; results in \`$OUT\`."
		echo
		echo "### The machine and the versions"
		extract "The machine and the versions"
		echo "### Idle rooms: memory, handshakes, fan-out against the floor"
		extract "Idle: memory and CPU per connection"
		echo "### Churn at $BIG"
		extract "Churn:"
		echo "<!-- lean:end -->"
	} >"$OUT/lean-section.md"
	section lean "$OUT/lean-section.md"
	log "done: BENCHMARKS.md's lean section (results in $OUT)"
	exit 0
fi
for rep in $(seq "$REPS"); do
	# Ramp, with latency steps: every server at the small size; some larger.
	for label in "${ALL[@]}"; do
		run ramp "$label" "$SMALL" "$rep" --steps "$STEPS" --timeout 60s --dial-timeout 30s
	done
	run ramp gohub "$MID" "$rep" --steps "$STEPS" --timeout 60s
	for label in ours centrifugo; do
		run ramp "$label" "$MID" "$rep" --steps "$STEPS" --timeout 60s --dial-timeout 30s
	done
	for label in ours ours-noam ours-v1 ours-sio; do
		run ramp "$label" "$BIG" "$rep" --steps "$STEPS" --timeout 60s
	done
	# Churn, leave, idle: a room of the small size for everyone, paced joins so that
	# every server can form it; the big room for ours.
	for label in ours gohub socketio centrifugo; do
		run churn "$label" "$SMALL" "$rep" --rate 300 --churn-rate 100 --duration "$CHURN_S" --timeout 60s --dial-timeout 30s
		run leave "$label" "$SMALL" "$rep" --rate 300 --timeout 60s --dial-timeout 30s
	done
	for label in ours ours-noam ours-v1 ours-sio floor gohub socketio centrifugo; do
		run idle "$label" "$SMALL" "$rep" --rate 300 --hold "$HOLD" --steps "$IDLE_STEPS" --timeout 60s --dial-timeout 30s
	done
	run churn ours "$BIG" "$rep" --churn-rate 100 --duration "$CHURN_S" --timeout 60s
	run leave ours "$BIG" "$rep" --timeout 60s
	for label in ours ours-noam ours-sio centrifugo; do
		run idle "$label" "$BIG" "$rep" --hold "$HOLD" --steps "$IDLE_STEPS" --timeout 60s
	done
	lean_rooms "$rep"
done
# Centrifugo with join/leave on sends every member every join (O(N^2)): the big
# room does not form within the bound, so one bounded run.
run ramp centrifugo "$BIG" 1 --steps "$STEPS" --timeout 60s --dial-timeout 30s
# Socket.IO at the big size: its O(N^2) emits need minutes, so one bounded run.
run ramp socketio "$BIG" 1 --steps "$STEPS" --timeout "$SIO_BIG_TIMEOUT" --dial-timeout 30s
profile "${FAN[-1]}"
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUT/meta.txt"

if [ "$MODE" = full ]; then
	REPORT=BENCHMARKS.md CHARTS=bench/charts
else
	REPORT=$OUT/BENCHMARKS.md CHARTS=$OUT/charts
fi
# The sections of bench/run.sh lean and bench/cluster.sh: carried over this rewrite.
KEPT=$(awk '/<!-- (lean|cluster):begin -->/,/<!-- (lean|cluster):end -->/' BENCHMARKS.md)
"$BIN/loadgen" report --results "$OUT" --out "$REPORT" --charts "$CHARTS" --notes bench/notes.md --baselines floor,ours-v1,gohub,socketio,centrifugo
if [ -n "$KEPT" ] && [ "$MODE" = full ]; then printf '\n%s\n' "$KEPT" >>"$REPORT"; fi
log "done: $REPORT (results in $OUT)"
