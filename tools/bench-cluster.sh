#!/bin/sh
# The scale-out curve of ebmock's cluster mode: 1, 2 and 4 ebmock nodes on
# one throwaway PostgreSQL (tools/pg-tmp.sh), ebload with one --url per node
# and --shared-backend (a push through any node must reach subscribers on
# all), the same connections and push rate for each size. Reports held
# connections, notifications/s delivered, latency and the CPU of ebmock
# processes and of PostgreSQL, into <build>/../bench/bench-cluster.json.
# On a 2-core machine this shows the mechanism and where it saturates, not
# absolute scaling: every node, the database and the generator share the
# same two cores.
# Usage: sh tools/bench-cluster.sh build/<config>
# Env: BENCH_CLUSTER_CONNS (4000), BENCH_CLUSTER_PUSH (400: beyond what one
#      node commits, so the curve shows where it saturates),
#      BENCH_CLUSTER_STORES (20), BENCH_CLUSTER_NODES ("1 2 4"),
#      BENCH_SECONDS (10).
set -u
B=${1:?usage: bench-cluster.sh build/<config>}
BIN=$B/bin
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=$(dirname "$B")/bench
mkdir -p "$OUT"
CONNS=${BENCH_CLUSTER_CONNS:-4000}
PUSH=${BENCH_CLUSTER_PUSH:-400}
STORES=${BENCH_CLUSTER_STORES:-20}
SIZES=${BENCH_CLUSTER_NODES:-1 2 4}
SECS=${BENCH_SECONDS:-10}
SECRET=bench-cluster-secret
T=$(mktemp -d "${TMPDIR:-/tmp}/ebbenchcluster.XXXXXX")
MOCKS=""

# shellcheck source=tools/lib-proc.sh
. "$(dirname "$0")/lib-proc.sh"

cleanup() {
	proc_stop "$MOCKS" 50
	sh "$ROOT/tools/pg-tmp.sh" stop "$T/pg" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 2' INT TERM

die() { echo "bench-cluster: $*" >&2; exit 2; }
for p in ebmock ebload; do
	[ -x "$BIN/$p" ] || die "$BIN/$p missing (make first)"
done
URL=$(sh "$ROOT/tools/pg-tmp.sh" start "$T/pg" 2>"$T/pg.err")
rc=$?
if [ "$rc" -eq 77 ]; then
	echo "bench-cluster: skipped: $(cat "$T/pg.err")" >&2
	exit 0
fi
[ "$rc" -eq 0 ] || die "throwaway PostgreSQL did not start: $(cat "$T/pg.err")"
PGPID=$(head -n 1 "$(cat "$T/pg/root")/data/postmaster.pid")

jnum() {
	tr -d ' \n\t' < "$1" | sed -n "s/.*\"$2\":{[^}]*\"$3\":\([0-9.e+-]*\)[,}].*/\1/p" | head -n 1
}
jlat() {
	tr -d ' \n\t' < "$1" | sed -n "s/.*\"latency\":{.*\"$2\":{\"count\":[0-9]*,[^}]*\"$3\":\([0-9.e+-]*\)[,}].*/\1/p" | head -n 1
}
# ticks PIDS: user+system clock ticks of these processes so far
ticks() {
	t=0
	for p in $1; do
		v=$(awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null || echo 0)
		t=$((t + ${v:-0}))
	done
	echo "$t"
}
# pg_ticks: the same for every PostgreSQL process (children of the postmaster)
pg_ticks() {
	ticks "$PGPID $(pgrep -P "$PGPID" | tr '\n' ' ')"
}
HZ=$(getconf CLK_TCK)

echo "bench-cluster: $(nproc) cores, load average $(cut -d' ' -f1 /proc/loadavg) at start (shared machine)" >&2
ROWS=""
for n in $SIZES; do
	MOCKS=""
	URLS=""
	k=0
	while [ $k -lt "$n" ]; do
		proc_start pid "$T/m$n-$k.log" "$T/m$n-$k.port" "$BIN/ebmock" --quiet \
			--jwt-secret "$SECRET" --backend "$URL"
		# shellcheck disable=SC2154 # pid and port are set by proc_start/proc_wait_port (eval)
		MOCKS="$MOCKS $pid"
		proc_wait_port port "$pid" "$T/m$n-$k.port" 20 || die "node $k of $n did not start ($PROC_ERR)"
		# shellcheck disable=SC2154 # set by proc_wait_port (eval)
		URLS="$URLS --url http://127.0.0.1:$port"
		k=$((k + 1))
	done
	m0=$(ticks "$MOCKS")
	p0=$(pg_ticks)
	# shellcheck disable=SC2086
	timeout $((SECS + 180)) "$BIN/ebload" $URLS --shared-backend --connections "$CONNS" \
		--connect-rate 2000 --stores "$STORES" --pushers "$STORES" --push-rate "$PUSH" \
		--duration "$SECS" \
		--jwt-secret "$SECRET" --quiet --json "$OUT/bench-cluster-$n.json" \
		> "$T/l$n.log" 2>&1
	lrc=$?
	m1=$(ticks "$MOCKS")
	p1=$(pg_ticks)
	proc_stop "$MOCKS" 50
	MOCKS=""
	J=$OUT/bench-cluster-$n.json
	HELD=$(jnum "$J" connections openAtHoldEnd)
	NPS=$(jnum "$J" rates notificationsPerSecondMean)
	POK=$(jnum "$J" pushes ok)
	MISS=$(jnum "$J" notifications missed)
	P50=$(jlat "$J" notification p50Ms)
	P99=$(jlat "$J" notification p99Ms)
	MCPU=$(awk -v a="$m0" -v b="$m1" -v h="$HZ" -v s="$SECS" 'BEGIN { printf "%.2f", (b - a) / h / s }')
	PCPU=$(awk -v a="$p0" -v b="$p1" -v h="$HZ" -v s="$SECS" 'BEGIN { printf "%.2f", (b - a) / h / s }')
	echo "bench-cluster: $n node(s): held ${HELD:-?} of $CONNS, ${NPS:-?} notifications/s, pushes ok ${POK:-?}, missed ${MISS:-?}, notification p50 ${P50:-?} ms p99 ${P99:-?} ms; CPU (cores, over the hold: an upper bound, ramp included) ebmock $MCPU, PostgreSQL $PCPU (ebload exit $lrc)" >&2
	ROWS="$ROWS${ROWS:+,
}    { \"nodes\": $n, \"held\": ${HELD:-null}, \"notificationsPerSecond\": ${NPS:-null}, \"pushesOk\": ${POK:-null}, \"missed\": ${MISS:-null}, \"p50Ms\": ${P50:-null}, \"p99Ms\": ${P99:-null}, \"ebmockCores\": $MCPU, \"postgresCores\": $PCPU, \"exit\": $lrc, \"report\": \"bench-cluster-$n.json\" }"
done
cat > "$OUT/bench-cluster.json" <<JSON
{
  "schema": "ebmock-bench-cluster/1",
  "machine": { "cores": $(nproc), "loadAverageAtEnd": $(cut -d' ' -f1 /proc/loadavg),
               "note": "every node, PostgreSQL and ebload on the same cores as other work: the curve shows the mechanism and where it saturates, not absolute scaling" },
  "load": { "connections": $CONNS, "pushesPerSecond": $PUSH, "stores": $STORES, "holdSeconds": $SECS },
  "curve": [
$ROWS
  ]
}
JSON
echo "bench-cluster: $OUT/bench-cluster.json" >&2
