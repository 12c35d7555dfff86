#!/bin/sh
# Load benchmarks driven by ebload, results as JSON in
# <build>/../bench/bench-load.json (build/bench/ for build/release):
#   1. concurrent subscribed connections held from ONE ebload command
#      (goal >= 100000): several ebmock processes on several ports (each under
#      its 20000 fd limit, 12000 connections each), ebload --procs; the
#      same run gives the connect rate (goal >= 17000/s; issue 16: 8500/s, auth + subscribe) and
#      ebload's own CPU (user and system apart, goals <= 25 us user per
#      connection and <= 2 us per notification) and memory per connection;
#   2. fan-out latency of one push to 10000 subscribers of one store, at a
#      push rate one ebmock keeps up with, over at least 100 pushes, with
#      ebmock's own CPU per notification and the generator's receive time
#      per push (so a reader sees which side the figure measures);
#   3. notifications delivered per second with one ebmock per core and more
#      pushes offered than they deliver (goal >= 100000 notifications/s).
# Every step is bounded in time; traffic stays on loopback.
# Usage: sh tools/bench-load.sh build/<config>
# Env: BENCH_LOAD_CONNS (102000), BENCH_LOAD_PER_MOCK (12000),
#      BENCH_LOAD_RATE (20000), BENCH_LOAD_SUBS (10000), BENCH_LOAD_PUSH (40),
#      BENCH_LOAD_FAN_PUSH (2), BENCH_LOAD_FAN_SECONDS (55),
#      BENCH_LOAD_FAN_THREADS (2), BENCH_LOAD_THR_SERVERS (2),
#      BENCH_SECONDS (10).
set -u
B=${1:?usage: bench-load.sh build/<config>}
BIN=$B/bin
OUT=$(dirname "$B")/bench
mkdir -p "$OUT"
T=$(mktemp -d "${TMPDIR:-/tmp}/ebbenchload.XXXXXX")
CONNS=${BENCH_LOAD_CONNS:-102000}
PER_MOCK=${BENCH_LOAD_PER_MOCK:-12000}
RATE=${BENCH_LOAD_RATE:-20000}
SUBS=${BENCH_LOAD_SUBS:-10000}
PUSH=${BENCH_LOAD_PUSH:-40}
FAN_PUSH=${BENCH_LOAD_FAN_PUSH:-2}
FAN_SECS=${BENCH_LOAD_FAN_SECONDS:-55}
FAN_THREADS=${BENCH_LOAD_FAN_THREADS:-2}
THR_MOCKS=${BENCH_LOAD_THR_SERVERS:-2}
SECS=${BENCH_SECONDS:-10}
SECRET=bench-secret
MOCKS=""

# shellcheck source=tools/lib-proc.sh
. "$(dirname "$0")/lib-proc.sh"

stop_mocks() { proc_stop "$MOCKS" 50; MOCKS=""; }
trap 'stop_mocks; rm -rf "$T"' EXIT
trap 'exit 2' INT TERM

die() { echo "bench-load: $*" >&2; exit 2; }
for p in ebmock ebload; do
	[ -x "$BIN/$p" ] || die "$BIN/$p missing (make first)"
done

# start_mocks N LOOP: N ebmock processes on event loop LOOP (MOCKS empty
# before: stop_mocks ran); sets MOCKS and URLS.
start_mocks() {
	URLS=""
	k=0
	while [ $k -lt "$1" ]; do
		proc_start pid "$T/m$k.log" "$T/m$k.port" "$BIN/ebmock" --jwt-secret "$SECRET" \
			--ping-interval-s 0 --quiet --event-loop "$2"
		MOCKS="$MOCKS $pid"
		k=$((k + 1))
	done
	k=0
	for pid in $MOCKS; do
		proc_wait_port port "$pid" "$T/m$k.port" 10 ||
			{ cat "$T/m$k.log" >&2; die "ebmock $k $PROC_ERR"; }
		# shellcheck disable=SC2154 # port is set by proc_wait_port
		URLS="$URLS --url http://127.0.0.1:$port"
		k=$((k + 1))
	done
}

jnum() {
	tr -d ' \n\t' < "$1" | sed -n "s/.*\"$2\":{[^}]*\"$3\":\([0-9.e+-]*\)[,}].*/\1/p" | head -n 1
}
jlat() {
	tr -d ' \n\t' < "$1" | sed -n "s/.*\"latency\":{.*\"$2\":{\"count\":[0-9]*,[^}]*\"$3\":\([0-9.e+-]*\)[,}].*/\1/p" | head -n 1
}

NPROC=$(nproc)
LOAD=$(cut -d' ' -f1 /proc/loadavg)
echo "bench-load: $NPROC cores, load average $LOAD at start (shared machine: figures are lower bounds)" >&2

# ---- 1. capacity, connect rate, ebload's own cost ---------------------------
NM=$(( (CONNS + PER_MOCK - 1) / PER_MOCK ))
start_mocks "$NM" ev
# one address pair per ebmock port: PER_MOCK stays below the ports connect()
# searches first (docs/LOADGEN.md, Scale), so no --source binding is needed
echo "bench-load: $CONNS connections over $NM ebmock processes (libev)" >&2
# shellcheck disable=SC2086
timeout $((SECS + 600)) "$BIN/ebload" $URLS --connections "$CONNS" \
	--connect-rate "$RATE" --connect-timeout 30 --max-pending 300 --stores 100 \
	--push-rate 10 --duration "$SECS" --drain 2 \
	--jwt-secret "$SECRET" \
	--json "$OUT/bench-load-capacity.json" > "$T/capacity.log" 2> "$T/capacity.err"
CAP_RC=$?
stop_mocks
tail -n 4 "$T/capacity.err" >&2
HELD=$(jnum "$OUT/bench-load-capacity.json" connections openAtHoldEnd)
PEAK=$(jnum "$OUT/bench-load-capacity.json" connections peakOpen)
CR_MEAN=$(jnum "$OUT/bench-load-capacity.json" rates connectPerSecondMean)
CR_PEAK=$(jnum "$OUT/bench-load-capacity.json" rates connectPerSecondPeak)
RSS_PC=$(jnum "$OUT/bench-load-capacity.json" resources rssPerConnectionBytes)
CPU_PC=$(jnum "$OUT/bench-load-capacity.json" resources cpuPerConnectionMs)
USR_PC=$(jnum "$OUT/bench-load-capacity.json" resources userPerConnectionUs)
SYS_PC=$(jnum "$OUT/bench-load-capacity.json" resources sysPerConnectionUs)
MISSED1=$(jnum "$OUT/bench-load-capacity.json" notifications missed)
echo "bench-load: held $HELD (peak $PEAK), connect rate mean $CR_MEAN/s peak $CR_PEAK/s, ebload $RSS_PC bytes and $CPU_PC ms CPU per connection, user $USR_PC us system $SYS_PC us in its workers (exit $CAP_RC)" >&2

# mock_cpu_ticks: user+system clock ticks of the ebmock processes so far
mock_cpu_ticks() {
	t=0
	for pid in $MOCKS; do
		t=$((t + $(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null || echo 0)))
	done
	echo "$t"
}

# notify_run SERVERS PUSHES_PER_S NAME [SECONDS [THREADS]]: SUBS subscribers
# of one store per ebmock (poll loop: it writes notifications faster than
# libev), report in $OUT/bench-load-NAME.json, exit status in RUN_RC, the
# ebmock processes' CPU over the run in MOCK_TICKS (clock ticks).
notify_run() {
	start_mocks "$1" poll
	t0=$(mock_cpu_ticks)
	# shellcheck disable=SC2086
	timeout $((${4:-$SECS} + 120)) "$BIN/ebload" $URLS --connections "$SUBS" \
		--connect-rate 5000 --stores 1 --push-rate "$2" --duration "${4:-$SECS}" --drain 3 \
		--threads "${5:-1}" --jwt-secret "$SECRET" --json "$OUT/bench-load-$3.json" \
		> "$T/$3.log" 2> "$T/$3.err"
	RUN_RC=$?
	MOCK_TICKS=$(($(mock_cpu_ticks) - t0))
	stop_mocks
}

# ---- 2. fan-out latency: one push to SUBS subscribers of one store -------
# At FAN_PUSH pushes/s the offered notifications stay below what one ebmock
# process delivers, so the percentiles are the fan-out itself, not a queue;
# FAN_SECS makes it 100 pushes or more. FAN_THREADS receiving threads split
# the subscribers; the generator's receive time per push is its CPU per
# notification times the subscribers of one thread (genMsPerPush): when
# that is far below the fan-out figure, the figure is ebmock's.
notify_run 1 "$FAN_PUSH" fanout "$FAN_SECS" "$FAN_THREADS"
FAN_RC=$RUN_RC
FAN_PUSHES=$(jnum "$OUT/bench-load-fanout.json" pushes ok)
FAN_RECV=$(jnum "$OUT/bench-load-fanout.json" notifications received)
FAN_GEN_US=$(jnum "$OUT/bench-load-fanout.json" resources cpuPerNotificationUs)
# ebmock's CPU per notification (whole run, ramp included: an upper bound)
FAN_MOCK_US=$(awk -v t="$MOCK_TICKS" -v n="${FAN_RECV:-0}" -v hz="$(getconf CLK_TCK)" \
	'BEGIN { printf "%.2f", (n > 0 ? t * 1e6 / hz / n : 0) }')
FAN_GEN_MS=$(awk -v c="${FAN_GEN_US:-0}" -v s="$SUBS" -v w="$FAN_THREADS" \
	'BEGIN { printf "%.1f", c * s / w / 1000 }')
F50=$(jlat "$OUT/bench-load-fanout.json" fanout p50Ms)
F99=$(jlat "$OUT/bench-load-fanout.json" fanout p99Ms)
N50=$(jlat "$OUT/bench-load-fanout.json" notification p50Ms)
N99=$(jlat "$OUT/bench-load-fanout.json" notification p99Ms)
MISSED2=$(jnum "$OUT/bench-load-fanout.json" notifications missed)
echo "bench-load: one push to $SUBS subscribers, $FAN_PUSH pushes/s, $FAN_PUSHES pushes: fan-out p50 $F50 ms p99 $F99 ms, notification p50 $N50 ms p99 $N99 ms, missed $MISSED2; ebmock $FAN_MOCK_US us CPU per notification, generator $FAN_GEN_MS ms receive time per push per thread ($FAN_THREADS threads) (exit $FAN_RC)" >&2

# ---- 3. notifications per second, both cores ------------------------------
# THR_MOCKS ebmock processes (one per core), SUBS subscribers in all, one
# store each, pushes offered beyond what they deliver: the delivered rate
# is the figure, and ebload's CPU per notification shows how much of the
# machine the generator itself took.
notify_run "$THR_MOCKS" "$PUSH" throughput
THR_RC=$RUN_RC
NR_MEAN=$(jnum "$OUT/bench-load-throughput.json" rates notificationsPerSecondMean)
NR_PEAK=$(jnum "$OUT/bench-load-throughput.json" rates notificationsPerSecondPeak)
CPU_PN=$(jnum "$OUT/bench-load-throughput.json" resources cpuPerNotificationUs)
USR_PN=$(jnum "$OUT/bench-load-throughput.json" resources userPerNotificationUs)
SYS_PN=$(jnum "$OUT/bench-load-throughput.json" resources sysPerNotificationUs)
PUSHOK=$(jnum "$OUT/bench-load-throughput.json" pushes ok)
MISSED3=$(jnum "$OUT/bench-load-throughput.json" notifications missed)
echo "bench-load: $SUBS subscribers on $THR_MOCKS servers, $PUSH pushes/s offered: $NR_MEAN notifications/s mean ($NR_PEAK peak), ebload $CPU_PN us CPU per notification, user $USR_PN us system $SYS_PN us in its workers (exit $THR_RC)" >&2

LOAD_END=$(cut -d' ' -f1 /proc/loadavg)
cat > "$OUT/bench-load.json" <<JSON
{
  "schema": "ebload-bench-load/1",
  "machine": { "cores": $NPROC, "loadAverageStart": $LOAD, "loadAverageEnd": $LOAD_END,
               "note": "shared machine; ebmock processes and ebload ran on the same 2 cores as other work" },
  "capacity": { "target": $CONNS, "servers": $NM, "heldAtHoldEnd": ${HELD:-0}, "peakOpen": ${PEAK:-0},
                "goal": 100000, "missed": ${MISSED1:-0}, "exit": $CAP_RC,
                "report": "bench-load-capacity.json" },
  "connectRate": { "meanPerSecond": ${CR_MEAN:-0}, "peakPerSecond": ${CR_PEAK:-0}, "goal": 17000,
                   "requested": $RATE },
  "ebloadCost": { "rssBytesPerConnection": ${RSS_PC:-0}, "cpuMsPerConnection": ${CPU_PC:-0},
                  "cpuUsPerNotification": ${CPU_PN:-0},
                  "userUsPerConnection": ${USR_PC:-0}, "sysUsPerConnection": ${SYS_PC:-0},
                  "userUsPerNotification": ${USR_PN:-0}, "sysUsPerNotification": ${SYS_PN:-0},
                  "goals": { "userUsPerConnection": 25, "userUsPerNotification": 2 } },
  "fanout": { "subscribers": $SUBS, "servers": 1, "pushesPerSecond": $FAN_PUSH,
              "pushes": ${FAN_PUSHES:-0}, "seconds": $FAN_SECS, "generatorThreads": $FAN_THREADS,
              "ebmockCpuUsPerNotification": ${FAN_MOCK_US:-0},
              "generatorCpuUsPerNotification": ${FAN_GEN_US:-0},
              "generatorMsPerPushPerThread": ${FAN_GEN_MS:-0},
              "fanoutP50Ms": ${F50:-0}, "fanoutP99Ms": ${F99:-0},
              "notificationP50Ms": ${N50:-0}, "notificationP99Ms": ${N99:-0},
              "missed": ${MISSED2:-0}, "exit": $FAN_RC, "report": "bench-load-fanout.json" },
  "notifications": { "subscribers": $SUBS, "servers": $THR_MOCKS, "pushesPerSecondOffered": $PUSH,
                     "pushesOk": ${PUSHOK:-0}, "meanPerSecond": ${NR_MEAN:-0},
                     "peakPerSecond": ${NR_PEAK:-0}, "goal": 100000, "missed": ${MISSED3:-0},
                     "exit": $THR_RC, "report": "bench-load-throughput.json" }
}
JSON
echo "bench-load: results in $OUT/bench-load.json" >&2
if [ -x "$BIN/ebplot" ]; then
	"$BIN/ebplot" percentiles "$OUT/bench-load-fanout-percentiles.svg" \
		"fan-out=$OUT/bench-load-fanout.json" &&
	"$BIN/ebplot" ramp "$OUT/bench-load-capacity-ramp.svg" "$OUT/bench-load-capacity.json" &&
	echo "bench-load: plots in $OUT/bench-load-*.svg" >&2
fi
cat "$OUT/bench-load.json"
# 4. the cluster curve: 1, 2 and 4 ebmock nodes on one PostgreSQL
# (tools/bench-cluster.sh, bench-cluster.json; skipped without PostgreSQL)
sh "$(dirname "$0")/bench-cluster.sh" "$B" || echo "bench-load: the cluster curve failed" >&2
