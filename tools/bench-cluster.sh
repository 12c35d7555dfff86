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
# The ceiling of each size is named from what was measured over the hold
# alone (snapshots when ebload's progress line enters "hold" and "drain"):
# the machine's busy share (/proc/stat), the CPU of each node's event-loop
# thread (its main thread: the loop and nothing else) and of the node in
# all, of PostgreSQL and of ebload, and the NOTIFY queue's use
# (pg_notification_queue_usage). The first rule that holds names it:
#   event loop  a node's loop thread used >= 85 % of a core
#   database    PostgreSQL used >= 85 % of a core, or the NOTIFY queue is
#               over half full (notifications not consumed)
#   machine     the cores were >= 90 % busy (all processes, other work too)
#   latency     none of them: pushes wait on their round trips (each push
#               is two database round trips one after the other), so the
#               pushers' throughput is their latency
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
PSQL=$(ls -d /usr/lib/postgresql/*/bin/psql 2>/dev/null | sort -V | tail -n 1)
# cpu_busy_total: "busy total" jiffies of all cores (/proc/stat)
cpu_busy_total() {
	awk '/^cpu / { t = 0; for (i = 2; i <= NF; i++) t += $i; print t - $5 - $6, t; exit }' /proc/stat
}
# loop_ticks PIDS: the ticks of each node's main thread (its event loop),
# one number a node
loop_ticks() {
	for p in $1; do
		awk '{ printf "%d ", $14 + $15 }' "/proc/$p/task/$p/stat" 2>/dev/null || printf '0 '
	done
}
# tree_pids PID: PID and its descendants three levels down (timeout,
# ebload, its worker processes)
tree_pids() {
	_l=$1 _all=$1
	for _d in 1 2 3; do
		_n=""
		for _p in $_l; do _n="$_n $(pgrep -P "$_p" | tr '\n' ' ')"; done
		_l=$_n
		_all="$_all $_n"
	done
	echo "$_all"
}
# snap FILE LOADPID: every counter the ceiling is judged on, into FILE
snap() {
	{
		echo "machine $(cpu_busy_total)"
		echo "loops $(loop_ticks "$MOCKS")"
		echo "mocks $(ticks "$MOCKS")"
		echo "pg $(pg_ticks)"
		echo "load $(ticks "$(tree_pids "$2")")"
		echo "mono $(awk '{ print $1 }' /proc/uptime)"
	} > "$1"
}
field() { sed -n "s/^$2 //p" "$1"; }
# notify_usage: the NOTIFY queue's fill (0..1), or "null" without psql
notify_usage() {
	[ -n "$PSQL" ] || { echo null; return; }
	"$PSQL" -X -A -t -c 'SELECT pg_notification_queue_usage()' "$URL" 2>/dev/null | head -n 1 | grep -E '^[0-9.e-]+$' || echo null
}
# wait_phase LOG PHASE PID: until ebload's progress line shows PHASE (or
# it ended); 1 if it ended first
wait_phase() {
	while ! grep -q "\] $2 " "$1" 2>/dev/null; do
		kill -0 "$3" 2>/dev/null || return 1
		sleep 0.05
	done
	return 0
}

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
	# shellcheck disable=SC2086
	timeout $((SECS + 180)) "$BIN/ebload" $URLS --shared-backend --connections "$CONNS" \
		--connect-rate 2000 --stores "$STORES" --pushers "$STORES" --push-rate "$PUSH" \
		--duration "$SECS" \
		--jwt-secret "$SECRET" --json "$OUT/bench-cluster-$n.json" \
		> "$T/l$n.out" 2> "$T/l$n.log" &
	LPID=$!
	NQ=null
	if wait_phase "$T/l$n.log" hold "$LPID"; then
		snap "$T/s$n-0" "$LPID"
		wait_phase "$T/l$n.log" drain "$LPID"
		NQ=$(notify_usage)
		snap "$T/s$n-1" "$LPID"
	fi
	wait "$LPID"
	lrc=$?
	proc_stop "$MOCKS" 50
	MOCKS=""
	J=$OUT/bench-cluster-$n.json
	HELD=$(jnum "$J" connections openAtHoldEnd)
	NPS=$(jnum "$J" rates notificationsPerSecondMean)
	POK=$(jnum "$J" pushes ok)
	MISS=$(jnum "$J" notifications missed)
	P50=$(jlat "$J" notification p50Ms)
	P99=$(jlat "$J" notification p99Ms)
	PUSH50=$(jlat "$J" push p50Ms)
	if [ -f "$T/s$n-1" ]; then
		# cores used over the hold, each; the busiest loop thread; the verdict
		CEIL=$(awk -v h="$HZ" -v nq="$NQ" '
		FNR == 1 { f++ }
		{ k = $1; $1 = ""; v[f, k] = $0 }
		END {
			split(v[1, "mono"], a, " "); split(v[2, "mono"], b, " "); secs = b[1] - a[1]
			if (secs <= 0) secs = 1
			split(v[1, "machine"], a, " "); split(v[2, "machine"], b, " ")
			busy = (b[2] > a[2]) ? (b[1] - a[1]) / (b[2] - a[2]) : 0
			nl = split(v[1, "loops"], a, " "); split(v[2, "loops"], b, " ")
			loop = 0
			for (i = 1; i <= nl; i++) if ((b[i] - a[i]) / h / secs > loop) loop = (b[i] - a[i]) / h / secs
			split(v[1, "mocks"], a, " "); split(v[2, "mocks"], b, " "); mocks = (b[1] - a[1]) / h / secs
			split(v[1, "pg"], a, " "); split(v[2, "pg"], b, " "); pg = (b[1] - a[1]) / h / secs
			split(v[1, "load"], a, " "); split(v[2, "load"], b, " "); ld = (b[1] - a[1]) / h / secs
			if (loop >= 0.85) c = "event loop"
			else if (pg >= 0.85 || (nq != "null" && nq + 0 > 0.5)) c = "database"
			else if (busy >= 0.90) c = "machine"
			else c = "latency"
			printf "%.1f %.2f %.2f %.2f %.2f %.2f %s\n", secs, busy, loop, mocks, pg, ld, c
		}' "$T/s$n-0" "$T/s$n-1")
	else
		CEIL="0 0 0 0 0 0 unmeasured"
	fi
	set -- $CEIL
	HSECS=$1 BUSY=$2 LOOP=$3 MCPU=$4 PCPU=$5 LCPU=$6
	shift 6
	WHY=$*
	echo "bench-cluster: $n node(s): held ${HELD:-?} of $CONNS, ${NPS:-?} notifications/s, pushes ok ${POK:-?} (push p50 ${PUSH50:-?} ms), missed ${MISS:-?}, notification p50 ${P50:-?} ms p99 ${P99:-?} ms; over the ${HSECS} s hold: machine ${BUSY} busy, busiest event loop ${LOOP} core, ebmock ${MCPU}, PostgreSQL ${PCPU}, ebload ${LCPU} cores, NOTIFY queue ${NQ}; ceiling: $WHY (ebload exit $lrc)" >&2
	ROWS="$ROWS${ROWS:+,
}    { \"nodes\": $n, \"held\": ${HELD:-null}, \"notificationsPerSecond\": ${NPS:-null}, \"pushesOk\": ${POK:-null}, \"pushP50Ms\": ${PUSH50:-null}, \"missed\": ${MISS:-null}, \"p50Ms\": ${P50:-null}, \"p99Ms\": ${P99:-null}, \"holdSeconds\": $HSECS, \"machineBusy\": $BUSY, \"busiestLoopCores\": $LOOP, \"ebmockCores\": $MCPU, \"postgresCores\": $PCPU, \"ebloadCores\": $LCPU, \"notifyQueueUsage\": $NQ, \"ceiling\": \"$WHY\", \"exit\": $lrc, \"report\": \"bench-cluster-$n.json\" }"
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
