#!/usr/bin/env bash
# Slowloris against the real server with Debian's slowhttptest (a manual
# check; the test suite's TestAbuseSlowlorisHandshake is the CI version).
#
#   bench/slowloris.sh            # 1000 slow handshakes for 30 s
#   CONNS=2000 LENGTH=60 bench/slowloris.sh
#
# It builds the server, starts it on a free loopback port with
# --handshake-timeout (HANDSHAKE, default 5s), runs slowhttptest in
# slow-headers mode against /ws, and meanwhile checks every second that
# /healthz still answers. The server drops each trickling request at the
# handshake timeout, so slowhttptest should report the service as available
# throughout and its connections closed long before the test ends.
# Needs: apt-get install slowhttptest curl. Targets 127.0.0.1 only.
set -euo pipefail
cd "$(dirname "$0")/.."

CONNS="${CONNS:-1000}"
LENGTH="${LENGTH:-30}"
HANDSHAKE="${HANDSHAKE:-5s}"
OUT="${OUT:-bench/results/slowloris}"

command -v slowhttptest >/dev/null || { echo "slowloris.sh: install slowhttptest (apt-get install slowhttptest)" >&2; exit 2; }
mkdir -p "$OUT"
bin="$OUT/presence"
go build -o "$bin" .

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$bin" --addr "127.0.0.1:$port" --handshake-timeout "$HANDSHAKE" --log-level warn 2>"$OUT/server.log" &
server=$!
trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true' EXIT
for _ in $(seq 50); do curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.1; done

# A probe beside slowhttptest's own: /healthz every second.
(
	ok=0 bad=0
	for _ in $(seq "$LENGTH"); do
		if curl -fsS -m 2 "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; then ok=$((ok + 1)); else bad=$((bad + 1)); fi
		sleep 1
	done
	echo "healthz probe: $ok answered, $bad failed" >"$OUT/probe.txt"
) &
probe=$!

# -H slow headers, -i seconds between header lines, -r connections per
# second, -l test length, -p probe timeout; -g -o write CSV/HTML stats.
slowhttptest -H -c "$CONNS" -i 2 -r 200 -l "$LENGTH" -p 3 \
	-u "http://127.0.0.1:$port/ws?room=lobby" -g -o "$OUT/stats" | tee "$OUT/slowhttptest.txt"
wait $probe
cat "$OUT/probe.txt"
echo "server still running: $(kill -0 $server 2>/dev/null && echo yes || echo NO)"
echo "open files of the server now: $(ls /proc/$server/fd | wc -l)"
echo "stats: $OUT/stats.csv, $OUT/stats.html"
