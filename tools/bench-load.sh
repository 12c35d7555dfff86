#!/bin/sh
# Load benchmarks driven by ebload, results as JSON in
# <build>/../bench/bench-load.json (build/bench/ for build/release):
#   1. concurrent subscribed connections held from ONE ebload command
#      (goal >= 100000): several ebmock processes on several ports (each under
#      its 20000 fd limit, 12000 connections each), ebload --procs; the
#      same run gives the connect rate (goals >= 17000/s, >= 8500/s with auth + subscribe) and
#      ebload's own CPU (user and system apart, goals <= 25 us user per
#      connection and <= 2 us per notification) and memory per connection;
#   2. fan-out latency of one push to 10000 subscribers of one store, at a
#      push rate one ebmock keeps up with, over at least 100 pushes, with
#      ebmock's own CPU per notification and per push over the hold (the
#      ramp left out) and the generator's receive time per push (so a
#      reader sees which side the figure measures);
#   3. notifications delivered per second with one ebmock per core and more
#      pushes offered than they deliver (goal >= 100000 notifications/s).
# ebload runs SCHED_BATCH (chrt -b 0; BENCH_GEN_SCHED=normal turns it off):
# a woken generator thread then does not preempt ebmock on the core they
# share after every message it reads (docs/BENCHMARKS.md, "Fan-out").
# Every step is bounded in time; traffic stays on loopback.
# Usage: sh tools/bench-load.sh build/<config>
# Env: BENCH_LOAD_CONNS (102000), BENCH_LOAD_PER_MOCK (12000),
#      BENCH_LOAD_RATE (20000), BENCH_LOAD_SUBS (10000), BENCH_LOAD_PUSH (40),
#      BENCH_LOAD_FAN_PUSH (2), BENCH_LOAD_FAN_SECONDS (55),
#      BENCH_LOAD_FAN_THREADS (2), BENCH_LOAD_THR_SERVERS (2),
#      BENCH_SECONDS (10), BENCH_GEN_SCHED (batch | normal),
#      BENCH_STEPS ("1 2 3 4": the steps to run).
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
STEPS=${BENCH_STEPS:-1 2 3 4}
GEN_SCHED=${BENCH_GEN_SCHED:-batch}
MOCKS=""
PORTS=""

# shellcheck source=tools/lib-proc.sh
. "$(dirname "$0")/lib-proc.sh"
# shellcheck source=tools/lib-bench.sh
. "$(dirname "$0")/lib-bench.sh"

stop_mocks() { proc_stop "$MOCKS" 50; MOCKS=""; }
trap 'stop_mocks; rm -rf "$T"' EXIT
trap 'exit 2' INT TERM

die() { echo "bench-load: $*" >&2; exit 2; }
bench_gen
for p in ebmock ebload; do
	[ -x "$BIN/$p" ] || die "$BIN/$p missing (make first)"
done

# start_mocks N LOOP: N ebmock processes on event loop LOOP (MOCKS empty
# before: stop_mocks ran); sets MOCKS and URLS.
start_mocks() {
	URLS=""
	PORTS=""
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
		PORTS="$PORTS $port"
		k=$((k + 1))
	done
}

NPROC=$(nproc)
LOAD=$(cut -d' ' -f1 /proc/loadavg)
echo "bench-load: $NPROC cores, load average $LOAD at start (shared machine: figures are lower bounds)" >&2

# mock_ticks FN: FN's clock ticks summed over the ebmock processes so far
# (FN: bench_cpu_ticks, user+system; bench_sys_ticks, the system part)
mock_ticks() {
	t=0
	for pid in $MOCKS; do
		t=$((t + $($1 "$pid")))
	done
	echo "$t"
}
mock_cpu_ticks() { mock_ticks bench_cpu_ticks; }
mock_sys_ticks() { mock_ticks bench_sys_ticks; }
# mock_sessions: open WebSocket sessions of all ebmock processes (/metrics;
# empty without curl)
mock_sessions() {
	command -v curl >/dev/null 2>&1 || return 0
	t=0
	for port in $PORTS; do
		v=$(curl -s --max-time 2 "http://127.0.0.1:$port/metrics" |
			awk '$1 == "ebmock_ws_sessions" {print $2}')
		t=$((t + ${v:-0}))
	done
	echo "$t"
}
# wait_held N PID SECONDS: returns once the ebmock processes hold N sessions,
# PID (the generator) has ended, or SECONDS have passed; HELD_AT says how
# many they held then.
wait_held() {
	_i=0
	HELD_AT=0
	while kill -0 "$2" 2>/dev/null && [ $_i -lt $(($3 * 10)) ]; do
		HELD_AT=$(mock_sessions)
		[ "${HELD_AT:-0}" -ge "$1" ] && return 0
		sleep 0.1
		_i=$((_i + 1))
	done
	return 1
}
HZ=$(getconf CLK_TCK)

# ---- 1. capacity, connect rate, ebload's own cost ---------------------------
HELD=0; PEAK=0; CR_MEAN=0; CR_PEAK=0; RSS_PC=0; CPU_PC=0; USR_PC=0; SYS_PC=0
MISSED1=0; CAP_RC=0; NM=0; MOCK_PC=0; MOCK_SYS_PC=0; CAP_LOAD0=0; CAP_LOAD1=0
if bench_step 1; then
NM=$(( (CONNS + PER_MOCK - 1) / PER_MOCK ))
start_mocks "$NM" ev
# one address pair per ebmock port: PER_MOCK stays below the ports connect()
# searches first (docs/LOADGEN.md, Scale), so no --source binding is needed
echo "bench-load: $CONNS connections over $NM ebmock processes (libev)" >&2
# shellcheck disable=SC2086
CAP_LOAD0=$(bench_load1)
c0=$(mock_cpu_ticks); s0=$(mock_sys_ticks)
timeout $((SECS + 600)) $GEN "$BIN/ebload" $URLS --connections "$CONNS" \
	--connect-rate "$RATE" --connect-timeout 30 --max-pending 300 --stores 100 \
	--push-rate 10 --duration "$SECS" --drain 2 \
	--jwt-secret "$SECRET" \
	--json "$OUT/bench-load-capacity.json" > "$T/capacity.log" 2> "$T/capacity.err" &
LPID=$!
# ebmock's CPU per connection over the ramp: open, upgrade, auth, subscribe
wait_held "$CONNS" "$LPID" $((CONNS / 2000 + 120))
c1=$(mock_cpu_ticks); s1=$(mock_sys_ticks)
CAP_LOAD1=$(bench_load1)
MOCK_PC=$(awk -v t=$((c1 - c0)) -v n="${HELD_AT:-0}" -v hz="$HZ" \
	'BEGIN { printf "%.1f", (n > 0 ? t * 1e6 / hz / n : 0) }')
MOCK_SYS_PC=$(awk -v t=$((s1 - s0)) -v n="${HELD_AT:-0}" -v hz="$HZ" \
	'BEGIN { printf "%.1f", (n > 0 ? t * 1e6 / hz / n : 0) }')
wait "$LPID"
CAP_RC=$?
stop_mocks
tail -n 4 "$T/capacity.err" >&2
HELD=$(bench_jnum "$OUT/bench-load-capacity.json" connections openAtHoldEnd)
PEAK=$(bench_jnum "$OUT/bench-load-capacity.json" connections peakOpen)
CR_MEAN=$(bench_jnum "$OUT/bench-load-capacity.json" rates connectPerSecondMean)
CR_PEAK=$(bench_jnum "$OUT/bench-load-capacity.json" rates connectPerSecondPeak)
RSS_PC=$(bench_jnum "$OUT/bench-load-capacity.json" resources rssPerConnectionBytes)
CPU_PC=$(bench_jnum "$OUT/bench-load-capacity.json" resources cpuPerConnectionMs)
USR_PC=$(bench_jnum "$OUT/bench-load-capacity.json" resources userPerConnectionUs)
SYS_PC=$(bench_jnum "$OUT/bench-load-capacity.json" resources sysPerConnectionUs)
MISSED1=$(bench_jnum "$OUT/bench-load-capacity.json" notifications missed)
echo "bench-load: held $HELD (peak $PEAK), connect rate mean $CR_MEAN/s peak $CR_PEAK/s (load average $CAP_LOAD0 -> $CAP_LOAD1), ebload $RSS_PC bytes and $CPU_PC ms CPU per connection, user $USR_PC us system $SYS_PC us in its workers; ebmock $MOCK_PC us CPU per connection over the ramp ($MOCK_SYS_PC us of it system; $HELD_AT held then) (exit $CAP_RC)" >&2
fi


# notify_run SERVERS PUSHES_PER_S NAME [SECONDS [THREADS]]: SUBS subscribers
# of one store per ebmock (poll loop: it writes notifications faster than
# libev), report in $OUT/bench-load-NAME.json, exit status in RUN_RC, the
# ebmock processes' CPU from the moment every subscriber is in (the hold,
# without the ramp) to the end in MOCK_TICKS and MOCK_SYS (clock ticks), the
# load average then and at the end in RUN_LOAD.
notify_run() {
	start_mocks "$1" poll
	t0=$(mock_cpu_ticks); s0=$(mock_sys_ticks); l0=$(bench_load1)
	# shellcheck disable=SC2086
	timeout $((${4:-$SECS} + 120)) $GEN "$BIN/ebload" $URLS --connections "$SUBS" \
		--connect-rate 5000 --stores 1 --push-rate "$2" --duration "${4:-$SECS}" --drain 3 \
		--threads "${5:-1}" --jwt-secret "$SECRET" --json "$OUT/bench-load-$3.json" \
		> "$T/$3.log" 2> "$T/$3.err" &
	_lpid=$!
	if wait_held "$SUBS" "$_lpid" $((SUBS / 1000 + 60)); then
		t0=$(mock_cpu_ticks); s0=$(mock_sys_ticks); l0=$(bench_load1)
	fi
	wait "$_lpid"
	RUN_RC=$?
	MOCK_TICKS=$(($(mock_cpu_ticks) - t0))
	MOCK_SYS=$(($(mock_sys_ticks) - s0))
	RUN_LOAD="$l0, $(bench_load1)"
	stop_mocks
}

# ---- 2. fan-out latency: one push to SUBS subscribers of one store -------
# At FAN_PUSH pushes/s the offered notifications stay below what one ebmock
# process delivers, so the percentiles are the fan-out itself, not a queue;
# FAN_SECS makes it 100 pushes or more. FAN_THREADS receiving threads split
# the subscribers; the generator's receive time per push is its CPU per
# notification times the subscribers of one thread (genMsPerPush): when
# that is far below the fan-out figure, the figure is ebmock's.
FAN_RC=0; FAN_PUSHES=0; FAN_RECV=0; FAN_GEN_US=0; FAN_MOCK_US=0; FAN_MOCK_SYS_US=0
FAN_MOCK_PUSH_MS=0; FAN_GEN_MS=0; F50=0; F99=0; N50=0; N99=0; MISSED2=0; FAN_LOAD="0, 0"
if bench_step 2; then
notify_run 1 "$FAN_PUSH" fanout "$FAN_SECS" "$FAN_THREADS"
FAN_RC=$RUN_RC
FAN_LOAD=$RUN_LOAD
FAN_PUSHES=$(bench_jnum "$OUT/bench-load-fanout.json" pushes ok)
FAN_RECV=$(bench_jnum "$OUT/bench-load-fanout.json" notifications received)
FAN_GEN_US=$(bench_jnum "$OUT/bench-load-fanout.json" resources cpuPerNotificationUs)
# ebmock's CPU per notification and per push over the hold: a push cannot
# reach its last subscriber before one ebmock process has spent it
FAN_MOCK_US=$(awk -v t="$MOCK_TICKS" -v n="${FAN_RECV:-0}" -v hz="$HZ" \
	'BEGIN { printf "%.2f", (n > 0 ? t * 1e6 / hz / n : 0) }')
FAN_MOCK_SYS_US=$(awk -v t="$MOCK_SYS" -v n="${FAN_RECV:-0}" -v hz="$HZ" \
	'BEGIN { printf "%.2f", (n > 0 ? t * 1e6 / hz / n : 0) }')
FAN_MOCK_PUSH_MS=$(awk -v t="$MOCK_TICKS" -v n="${FAN_PUSHES:-0}" -v hz="$HZ" \
	'BEGIN { printf "%.1f", (n > 0 ? t * 1e3 / hz / n : 0) }')
FAN_GEN_MS=$(awk -v c="${FAN_GEN_US:-0}" -v s="$SUBS" -v w="$FAN_THREADS" \
	'BEGIN { printf "%.1f", c * s / w / 1000 }')
F50=$(bench_jlat "$OUT/bench-load-fanout.json" fanout p50Ms)
F99=$(bench_jlat "$OUT/bench-load-fanout.json" fanout p99Ms)
N50=$(bench_jlat "$OUT/bench-load-fanout.json" notification p50Ms)
N99=$(bench_jlat "$OUT/bench-load-fanout.json" notification p99Ms)
MISSED2=$(bench_jnum "$OUT/bench-load-fanout.json" notifications missed)
echo "bench-load: one push to $SUBS subscribers, $FAN_PUSH pushes/s, $FAN_PUSHES pushes: fan-out p50 $F50 ms p99 $F99 ms, notification p50 $N50 ms p99 $N99 ms, missed $MISSED2 (load average $FAN_LOAD); ebmock $FAN_MOCK_US us CPU per notification over the hold ($FAN_MOCK_SYS_US us of it system), $FAN_MOCK_PUSH_MS ms per push; generator $FAN_GEN_MS ms receive time per push per thread ($FAN_THREADS threads, $GEN_SCHED scheduling) (exit $FAN_RC)" >&2
fi

# ---- 3. notifications per second, both cores ------------------------------
# THR_MOCKS ebmock processes (one per core), SUBS subscribers in all, one
# store each, pushes offered beyond what they deliver: the delivered rate
# is the figure, and ebload's CPU per notification shows how much of the
# machine the generator itself took.
THR_RC=0; NR_MEAN=0; NR_PEAK=0; CPU_PN=0; USR_PN=0; SYS_PN=0; PUSHOK=0; MISSED3=0
if bench_step 3; then
notify_run "$THR_MOCKS" "$PUSH" throughput
THR_RC=$RUN_RC
NR_MEAN=$(bench_jnum "$OUT/bench-load-throughput.json" rates notificationsPerSecondMean)
NR_PEAK=$(bench_jnum "$OUT/bench-load-throughput.json" rates notificationsPerSecondPeak)
CPU_PN=$(bench_jnum "$OUT/bench-load-throughput.json" resources cpuPerNotificationUs)
USR_PN=$(bench_jnum "$OUT/bench-load-throughput.json" resources userPerNotificationUs)
SYS_PN=$(bench_jnum "$OUT/bench-load-throughput.json" resources sysPerNotificationUs)
PUSHOK=$(bench_jnum "$OUT/bench-load-throughput.json" pushes ok)
MISSED3=$(bench_jnum "$OUT/bench-load-throughput.json" notifications missed)
echo "bench-load: $SUBS subscribers on $THR_MOCKS servers, $PUSH pushes/s offered: $NR_MEAN notifications/s mean ($NR_PEAK peak), ebload $CPU_PN us CPU per notification, user $USR_PN us system $SYS_PN us in its workers (load average $RUN_LOAD; exit $THR_RC)" >&2
fi

LOAD_END=$(cut -d' ' -f1 /proc/loadavg)
cat > "$OUT/bench-load.json" <<JSON
{
  "schema": "ebload-bench-load/1",
  "machine": { "cores": $NPROC, "loadAverageStart": $LOAD, "loadAverageEnd": $LOAD_END,
               "note": "shared machine; ebmock processes and ebload ran on the same 2 cores as other work" },
  "capacity": { "target": $CONNS, "servers": $NM, "heldAtHoldEnd": ${HELD:-0}, "peakOpen": ${PEAK:-0},
                "goal": 100000, "missed": ${MISSED1:-0}, "exit": $CAP_RC,
                "report": "bench-load-capacity.json" },
  "connectRate": { "meanPerSecond": ${CR_MEAN:-0}, "peakPerSecond": ${CR_PEAK:-0}, "goal": 17000, "goalAuthSubscribe": 8500,
                   "requested": $RATE, "loadAverage": [ $CAP_LOAD0, $CAP_LOAD1 ],
                   "ebmockCpuUsPerConnection": ${MOCK_PC:-0}, "ebmockSysUsPerConnection": ${MOCK_SYS_PC:-0} },
  "ebloadCost": { "rssBytesPerConnection": ${RSS_PC:-0}, "cpuMsPerConnection": ${CPU_PC:-0},
                  "cpuUsPerNotification": ${CPU_PN:-0},
                  "userUsPerConnection": ${USR_PC:-0}, "sysUsPerConnection": ${SYS_PC:-0},
                  "userUsPerNotification": ${USR_PN:-0}, "sysUsPerNotification": ${SYS_PN:-0},
                  "goals": { "userUsPerConnection": 25, "userUsPerNotification": 2 } },
  "fanout": { "subscribers": $SUBS, "servers": 1, "pushesPerSecond": $FAN_PUSH,
              "pushes": ${FAN_PUSHES:-0}, "seconds": $FAN_SECS, "generatorThreads": $FAN_THREADS,
              "ebmockCpuUsPerNotification": ${FAN_MOCK_US:-0},
              "ebmockSysUsPerNotification": ${FAN_MOCK_SYS_US:-0},
              "ebmockCpuMsPerPush": ${FAN_MOCK_PUSH_MS:-0}, "loadAverage": [ $FAN_LOAD ],
              "generatorScheduling": "$GEN_SCHED",
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
	if bench_step 2; then
		"$BIN/ebplot" percentiles "$OUT/bench-load-fanout-percentiles.svg" \
			"fan-out=$OUT/bench-load-fanout.json"
	fi
	if bench_step 1; then
		"$BIN/ebplot" ramp "$OUT/bench-load-capacity-ramp.svg" "$OUT/bench-load-capacity.json"
	fi
	echo "bench-load: plots in $OUT/bench-load-*.svg" >&2
fi
cat "$OUT/bench-load.json"
# 4. the cluster curve: 1, 2 and 4 ebmock nodes on one PostgreSQL
# (tools/bench-cluster.sh, bench-cluster.json; skipped without PostgreSQL)
if bench_step 4; then
	sh "$(dirname "$0")/bench-cluster.sh" "$B" || echo "bench-load: the cluster curve failed" >&2
fi
