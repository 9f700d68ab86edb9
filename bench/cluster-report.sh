#!/usr/bin/env bash
# bench/cluster-report.sh DIR MODE — the "Cluster" section of BENCHMARKS.md
# from the results bench/cluster.sh left in DIR: medians over the
# repetitions, with the range in brackets.
set -euo pipefail
DIR=$1 MODE=$2
cd "$(dirname "$0")/.."

# stat FILES JQ: "median (min–max)" of the number JQ picks from each file.
stat() {
	local pattern=$1 expr=$2 unit=${3:-} scale=${4:-1}
	# shellcheck disable=SC2086
	jq -s -r --arg unit "$unit" --argjson scale "$scale" "map($expr | select(. != null) * \$scale) | sort |
		if length == 0 then \"—\"
		elif length == 1 then \"\(.[0] | . * 10 | round / 10)\(\$unit)\"
		else \"\(.[(length / 2 | floor)] | . * 10 | round / 10)\(\$unit) (\(.[0] | . * 10 | round / 10)–\(.[-1] | . * 10 | round / 10))\" end" $DIR/$pattern
}
count() { ls $DIR/$1 2>/dev/null | wc -l; }
first() { jq -r "$2" "$(ls $DIR/$1 | head -1)"; }

N=$(first 'ramp-*[0-9].json' .n)
NODES=$(first 'ramp-*-nodes.json' '.nodes | length')
FN=$(first 'failover-kill-*.json' .n)
FNODES=$(first 'failover-kill-*.json' '.url | split(",") | length')
REPS=$(count 'ramp-*[0-9].json')
STEPS=$(first 'ramp-*[0-9].json' '.latency.samples')
ok=$(jq -s -r 'map(.ok) | all' $DIR/ramp-*[0-9].json $DIR/failover-*.json)

cat <<EOF
## Cluster: one room over several processes

\`bench/cluster.sh $MODE\` (run alone on the machine),
$(date -u +%Y-%m-%d), commit $(paste -sd' ' "$DIR/commit"), on this machine: $(nproc) cores,
$(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), Linux; etcd $(etcd --version | awk '/etcd Version/ { print $3 }')
and every node and load-generator worker on it, over loopback, sharing its two cores. Medians of
$REPS repetitions, the range in brackets. Every phase ended with exact counts: **$ok**.
Results and logs: \`bench/results/$(basename "$DIR")/\`.
$(if [ -s "$DIR/node-flags" ]; then echo "Every node ran with \`$(cat "$DIR/node-flags")\` besides the defaults: with the defaults (a ping every 25 s, 10 s to answer) the load generator, starved on this two-core machine, answered some pings too late and members were dropped for \`ping_timeout\` (bench/notes.md, *Reading the Cluster section*)."; fi)
$(if [ -s "$DIR/failovers-from" ]; then echo "The ramps are this run's; the failover rows come from the run in \`bench/results/$(cat "$DIR/failovers-from")/\` (same commit, default node flags)."; fi)

| what | measured | goal |
| --- | --- | --- |
| members in one room | $(printf "%'d" "$N") over $NODES nodes | 100,000 over ≥ 5 |
| handshakes per second while filling it | $(stat 'ramp-*[0-9].json' .setup.handshakesPerS) | |
| last handshake → every member reads $(printf "%'d" "$N") | $(stat 'ramp-*[0-9].json' .setup.seenAfterLastMs " ms") | |
| one change → the last of $(printf "%'d" "$N") members reads it, p50 | $(stat 'ramp-*[0-9].json' .latency.p50Ms " ms") | |
| the same, p95 / max of $STEPS changes | $(stat 'ramp-*[0-9].json' .latency.p95Ms " ms") / $(stat 'ramp-*[0-9].json' .latency.maxMs " ms") | |
| SIGKILL of a node → every member of the others reads the corrected total | $(stat 'failover-kill-*.json' .failover.correctedMs " ms") | ≤ 1 s |
| SIGSTOP of a node → the same | $(stat 'failover-stop-*.json' .failover.correctedMs " ms") | ≤ 10 s |
| a partition (nftables) cuts a node off → the same, on the majority side | $(stat 'failover-partition-*.json' .failover.correctedMs " ms") | ≤ 10 s |
| cross-node messages per membership change (isolated changes) | $(stat 'ramp-*[0-9].json' .latency.clusterMessagesPerChange) | |
| the aggregator's messages per second, average over the ramp | $(stat 'ramp-*-nodes.json' .aggregatorMessagesPerS) | |

The failovers ran on a fresh cluster of $FNODES nodes with $(printf "%'d" "$FN") members each time.

Per node during the ramp (CPU seconds over the whole run, peak RSS):

| node | CPU s | peak RSS MB |
| --- | --- | --- |
$(for i in $(seq "$NODES"); do echo "| $i | $(stat 'ramp-*-nodes.json' ".nodes[$((i - 1))].cpuS") | $(stat 'ramp-*-nodes.json' ".nodes[$((i - 1))].peakRssMB") |"; done)

How to read it: see docs/architecture.md §11 (what limits each figure, and
the cost at 50 nodes and 1,000,000 members).
EOF
