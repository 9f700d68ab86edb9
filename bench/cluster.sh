#!/usr/bin/env bash
# bench/cluster.sh — the cluster benchmark: one room over several server
# processes on this machine (docs/architecture.md §11).
#
#   bench/cluster.sh quick   # 5 nodes, 5,000 members, 1 repetition: checks the set-up (~3 min)
#   bench/cluster.sh full    # 6 nodes, 100,000 members, 3 repetitions: the numbers (~20 min)
#
# Numbers you will quote: run it alone on the machine:
#   bench/cluster.sh full   (with nothing else running)
#
# It builds the server and cmd/loadgen, starts etcd (Debian's etcd-server) on
# loopback with a temporary data dir, and for each repetition
#   1. ramp: a fresh cluster of NODES processes; N members join one room,
#      spread evenly over every node (loadgen ramp with one --url per node),
#      then STEPS single joins and leaves. It reports the time from the last
#      handshake until every member reads N, one change → the last of the N
#      members, CPU seconds and peak RSS per node, cross-node messages per
#      change and the aggregator's messages per second;
#   2. failover, three times on a fresh cluster of FNODES with FN members
#      (loadgen failover): SIGKILL of a node, SIGSTOP of a node, and a
#      partition (nftables drops every packet between the node's protoactor
#      port and the others'; the node runs as user nobody so the rule can
#      tell its connections apart on loopback). Each reports the time from
#      the event until every member of the other nodes reads the corrected
#      total.
# Results (JSON, logs) go to bench/results/<stamp>-cluster/, and the
# "Cluster" section of BENCHMARKS.md (between its cluster:begin and
# cluster:end markers) is rewritten with the medians.
#
# One process may hold at most 20,000 open files here, which is why 100,000
# members need at least six nodes (16,667 sockets each, plus the node's own
# files) and six load-generator workers. Ports: PORT_BASE (24000) and up.
set -euo pipefail
cd "$(dirname "$0")/.."

MODE=${1:-quick}
case $MODE in
full) N=${N:-100000} NODES=${NODES:-6} FN=${FN:-20000} FNODES=${FNODES:-5} REPS=${REPS:-3} STEPS=${STEPS:-40} ;;
quick) N=${N:-5000} NODES=${NODES:-5} FN=${FN:-2000} FNODES=${FNODES:-5} REPS=${REPS:-1} STEPS=${STEPS:-10} ;;
*)
	echo "usage: bench/cluster.sh quick|full" >&2
	exit 2
	;;
esac
PORT_BASE=${PORT_BASE:-24000}
# NODE_FLAGS: extra flags for every node. The full run gives clients longer to
# answer a ping: its six load-generator workers, 16,667 sockets each on a
# shared core, answered some of the default 10 s pong deadlines too late
# (bench/notes.md, Reading the Cluster section). The client pings play no part in the failovers.
DEFAULT_NODE_FLAGS=""
[ "$MODE" = full ] && DEFAULT_NODE_FLAGS="--ping-interval 60s --pong-timeout 30s"
read -ra NODE_FLAGS <<<"${NODE_FLAGS-$DEFAULT_NODE_FLAGS}"
# FAILOVERS: which failover runs follow each ramp (none: "").
read -ra FAILOVERS <<<"${FAILOVERS-kill stop partition}"
PER_WORKER=${PER_WORKER:-17000}
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
OUT=bench/results/$STAMP-cluster-$MODE
mkdir -p "$OUT"
ln -sfn "$STAMP-cluster-$MODE" bench/results/latest-cluster
HZ=$(getconf CLK_TCK)

log() { echo "cluster.sh: $*" >&2; }

# --- everything started here is stopped on exit -----------------------------
PIDS=()
NFT_TABLE=presence-i10-bench
cleanup() {
	nft delete table inet "$NFT_TABLE" 2>/dev/null || true
	for pid in "${PIDS[@]}"; do kill -CONT "$pid" 2>/dev/null || true; kill -KILL "$pid" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$OUT/etcd-data" "$OUT/victim"
}
trap cleanup EXIT

for tool in etcd jq curl nft setpriv; do
	command -v $tool >/dev/null || { echo "cluster.sh: $tool is missing (apt-get install etcd-server jq curl nftables util-linux)" >&2; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "cluster.sh: the partition run needs root (nftables)" >&2; exit 1; }

log "building into $OUT"
git rev-parse --short HEAD >"$OUT/commit"
[ ${#NODE_FLAGS[@]} -eq 0 ] || echo "${NODE_FLAGS[*]}" >"$OUT/node-flags"
git diff --quiet HEAD -- . ':!BENCHMARKS.md' || echo "+uncommitted changes" >>"$OUT/commit"
go build -o "$OUT/presence" .
go build -o "$OUT/loadgen" ./cmd/loadgen
mkdir -p "$OUT/victim" && cp "$OUT/presence" "$OUT/victim/presence" && chmod 755 "$OUT/victim" "$OUT/victim/presence"

# --- etcd ---------------------------------------------------------------------
ETCD=http://127.0.0.1:$PORT_BASE
etcd --name bench --data-dir "$OUT/etcd-data" \
	--listen-client-urls "$ETCD" --advertise-client-urls "$ETCD" \
	--listen-peer-urls "http://127.0.0.1:$((PORT_BASE + 1))" --initial-advertise-peer-urls "http://127.0.0.1:$((PORT_BASE + 1))" \
	--initial-cluster "bench=http://127.0.0.1:$((PORT_BASE + 1))" >"$OUT/etcd.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do curl -sf "$ETCD/health" >/dev/null && break; sleep 0.1; done
curl -sf "$ETCD/health" >/dev/null || { echo "cluster.sh: etcd did not start (see $OUT/etcd.log)" >&2; exit 1; }

# --- a cluster ----------------------------------------------------------------
# start_cluster NAME COUNT [VICTIM]: nodes 1..COUNT (node VICTIM as nobody);
# sets NODE_PID, NODE_HTTP, NODE_PORT (arrays from 1).
start_cluster() {
	local name=$1 count=$2 victim=${3:-0} i bin
	NODE_PID=() NODE_HTTP=() NODE_PORT=()
	for i in $(seq "$count"); do
		NODE_HTTP[i]=127.0.0.1:$((PORT_BASE + 10 + i))
		NODE_PORT[i]=$((PORT_BASE + 40 + i))
		bin=("$OUT/presence")
		[ "$i" = "$victim" ] && bin=(setpriv --reuid=65534 --regid=65534 --clear-groups "$OUT/victim/presence")
		"${bin[@]}" --addr "${NODE_HTTP[i]}" --max-conns-per-ip 0 --log-format json "${NODE_FLAGS[@]}" \
			--cluster "$name" --cluster-bind "127.0.0.1:${NODE_PORT[i]}" --etcd "$ETCD" \
			>"$OUT/$name-node$i.log" 2>&1 &
		NODE_PID[i]=$!
		PIDS+=($!)
	done
	for i in $(seq "$count"); do
		for _ in $(seq 300); do curl -sf "http://${NODE_HTTP[i]}/readyz" >/dev/null && break; sleep 0.1; done
		curl -sf "http://${NODE_HTTP[i]}/readyz" >/dev/null || { echo "cluster.sh: node $i did not join (see $OUT/$name-node$i.log)" >&2; exit 1; }
	done
	for i in $(seq "$count"); do # every node sees every other
		for _ in $(seq 300); do
			[ "$(curl -sf "http://${NODE_HTTP[i]}/api/cluster" | jq '[.members[] | select(.status=="alive")] | length')" = "$count" ] && break
			sleep 0.1
		done
		[ "$(curl -sf "http://${NODE_HTTP[i]}/api/cluster" | jq '[.members[] | select(.status=="alive")] | length')" = "$count" ] ||
			{ echo "cluster.sh: node $i does not see all $count members (see $OUT/$name-node$i.log)" >&2; exit 1; }
	done
}

stop_cluster() {
	local pid
	for pid in "${NODE_PID[@]}"; do kill -CONT "$pid" 2>/dev/null || true; kill -TERM "$pid" 2>/dev/null || true; done
	for pid in "${NODE_PID[@]}"; do wait "$pid" 2>/dev/null || true; done
}

urls() { local i s=""; for i in $(seq "$1"); do s+="${s:+,}$2${NODE_HTTP[i]}$3"; done; echo "$s"; }

# cpu_seconds PID, peak_rss_mb PID (from /proc)
cpu_seconds() { awk -v hz="$HZ" '{ print ($14 + $15) / hz }' "/proc/$1/stat" 2>/dev/null || echo 0; }
peak_rss_mb() { awk '/^VmHWM:/ { print $2 / 1024 }' "/proc/$1/status" 2>/dev/null || echo 0; }

# cluster_counter: one presence_cluster counter summed over the nodes.
cluster_counter() {
	local i sum=0 v
	for i in $(seq "$1"); do
		v=$(curl -sf "http://${NODE_HTTP[i]}/metrics" | awk -v m="$2" 'index($0, m) == 1 && $0 !~ /^#/ { s += $NF } END { print s + 0 }')
		sum=$(awk -v a="$sum" -v b="$v" 'BEGIN { print a + b }')
	done
	echo "$sum"
}

# --- 1. ramp ------------------------------------------------------------------
ramp() {
	local rep=$1 i host=0 t0 t1 msgs0 msgs1 node_json="[]"
	log "ramp $rep/$REPS: $N members over $NODES nodes"
	start_cluster "ramp$rep" "$NODES"
	declare -A cpu0
	for i in $(seq "$NODES"); do cpu0[$i]=$(cpu_seconds "${NODE_PID[i]}"); done
	msgs0=$(cluster_counter "$NODES" presence_cluster_partials_received_total)+$(cluster_counter "$NODES" presence_cluster_vectors_sent_total)
	t0=$(date +%s.%N)
	"$OUT/loadgen" ramp --url "$(urls "$NODES" ws:// "")" --metrics-url "$(urls "$NODES" http:// /metrics)" \
		--n "$N" --per-worker "$PER_WORKER" --concurrency 400 --steps "$STEPS" --step-gap 200ms \
		--timeout 10m --deadline 40m --progress never --label "cluster-$NODES" \
		--json "$OUT/ramp-$rep.json" >"$OUT/ramp-$rep.txt" 2>"$OUT/ramp-$rep.log" || log "ramp $rep: loadgen exit $? (see $OUT/ramp-$rep.log)"
	t1=$(date +%s.%N)
	# Why members left during the ramp (a client the servers dropped), per node.
	for i in $(seq "$NODES"); do
		curl -sf "http://${NODE_HTTP[i]}/metrics" | grep '^presence_leaves_total' | sed "s/^/node$i /"
	done >"$OUT/ramp-$rep-leaves.txt" || true
	msgs1=$(cluster_counter "$NODES" presence_cluster_partials_received_total)+$(cluster_counter "$NODES" presence_cluster_vectors_sent_total)
	for i in $(seq "$NODES"); do
		local agg
		agg=$(curl -sf "http://${NODE_HTTP[i]}/metrics" | awk '$1 == "presence_cluster_aggregators" { print $2 }')
		[ "${agg:-0}" != 0 ] && host=$i
		node_json=$(jq -c --argjson i "$i" --argjson cpu "$(awk -v a="$(cpu_seconds "${NODE_PID[i]}")" -v b="${cpu0[$i]}" 'BEGIN { print a - b }')" \
			--argjson rss "$(peak_rss_mb "${NODE_PID[i]}")" '. + [{node: $i, cpuS: $cpu, peakRssMB: $rss}]' <<<"$node_json")
	done
	jq -n --argjson nodes "$node_json" --argjson wall "$(awk -v a="$t1" -v b="$t0" 'BEGIN { print a - b }')" \
		--argjson msgs "$(awk "BEGIN { print ($msgs1) - ($msgs0) }")" --argjson host "$host" \
		'{nodes: $nodes, wallS: $wall, aggregatorHost: $host, aggregatorMessages: $msgs, aggregatorMessagesPerS: ($msgs / $wall)}' >"$OUT/ramp-$rep-nodes.json"
	stop_cluster
}

# --- 2. failover --------------------------------------------------------------
failover() {
	local rep=$1 kind=$2 victim=$FNODES event after="" i ports="" vport
	[ "$kind" = partition ] && victim_user=$victim || victim_user=0
	start_cluster "$kind$rep" "$FNODES" "$victim_user"
	vport=${NODE_PORT[victim]}
	for i in $(seq "$FNODES"); do [ "$i" != "$victim" ] && ports+="${ports:+, }${NODE_PORT[i]}"; done
	case $kind in
	kill) event="kill -KILL ${NODE_PID[victim]}" ;;
	stop) event="kill -STOP ${NODE_PID[victim]}" after="kill -CONT ${NODE_PID[victim]}" ;;
	partition)
		cat >"$OUT/partition.nft" <<-EOF
			table inet $NFT_TABLE {
				chain out {
					type filter hook output priority 0; policy accept;
					tcp dport $vport drop
					meta skuid 65534 tcp dport { $ports } drop
				}
			}
		EOF
		event="nft -f $OUT/partition.nft" after="nft delete table inet $NFT_TABLE"
		;;
	esac
	log "failover $rep/$REPS: $kind of node $victim with $FN members over $FNODES nodes"
	"$OUT/loadgen" failover --url "$(urls "$FNODES" ws:// "")" --victim $((victim - 1)) --event "$event" \
		--n "$FN" --per-worker "$PER_WORKER" --concurrency 400 --timeout 2m --progress never --label "$kind" \
		--json "$OUT/failover-$kind-$rep.json" >"$OUT/failover-$kind-$rep.txt" 2>"$OUT/failover-$kind-$rep.log" ||
		log "failover $kind $rep: loadgen exit $? (see $OUT/failover-$kind-$rep.log)"
	[ -n "$after" ] && { $after || true; }
	stop_cluster
}

for rep in $(seq "$REPS"); do
	ramp "$rep"
	for kind in "${FAILOVERS[@]}"; do failover "$rep" "$kind"; done
done

# --- the report -----------------------------------------------------------------
log "writing the Cluster section of BENCHMARKS.md"
bench/cluster-report.sh "$OUT" "$MODE" >"$OUT/section.md"
if [ "$MODE" = full ] || [ "${WRITE:-}" = 1 ]; then
	awk -v section="$OUT/section.md" '
		/<!-- cluster:begin -->/ { print; while ((getline line < section) > 0) print line; skip = 1; next }
		/<!-- cluster:end -->/ { skip = 0 }
		!skip { print }' BENCHMARKS.md >"$OUT/BENCHMARKS.md"
	cp "$OUT/BENCHMARKS.md" BENCHMARKS.md
fi
cat "$OUT/section.md"
