#!/bin/sh
# Benchmarks of ebmock (the reference server), results as JSON in
# <build>/../bench/bench.json (build/bench/bench.json for build/release):
#   1. idle authenticated, subscribed WebSocket connections held by ONE ebmock
#      process and its resident memory per connection (VmRSS before / while
#      held; goal <= 4 KiB per connection; 18000 fit the 20000 fd limit),
#      sampled every half second as [sessions, RSS KiB] pairs;
#   2. small sync requests per second, keep-alive, ebmock pinned to one core
#      (wrk with a Lua POST script, wrk pinned to another core);
#   3. time for one push to reach all 10000 subscribers of one store, p50/p99
#      over at least 100 pushes (measured by ebload from the intended push
#      time), with ebmock's CPU per notification over the hold (user and
#      system), its CPU per push, the generator's receive time per push per
#      thread, and the kernel's own floor on this machine: the CPU of a bare
#      send() and recv() of one such message on loopback (tools/bench-floor.c,
#      no server logic), so a reader can tell the code from the machine.
# ebload runs SCHED_BATCH (chrt -b 0; BENCH_GEN_SCHED=normal turns it off):
# a woken generator thread then does not preempt ebmock on the core they
# share after every message it reads (docs/BENCHMARKS.md, "Fan-out").
# With tools' ebplot built (make), SVG plots of 1 and 3 land beside the JSON.
# Every step is bounded in time; traffic stays on loopback.
# Usage: sh tools/bench.sh build/<config>
# Env: BENCH_CONNS (18000), BENCH_FANOUT_SUBS (10000), BENCH_SECONDS (10),
#      BENCH_FANOUT_PUSH (2 pushes/s), BENCH_FANOUT_SECONDS (55),
#      BENCH_FANOUT_THREADS (2 receiving threads in ebload),
#      BENCH_GEN_SCHED (batch | normal), BENCH_STEPS ("1 2 3": the steps to run).
set -u
B=${1:?usage: bench.sh build/<config>}
BIN=$B/bin
OUT=$(dirname "$B")/bench
mkdir -p "$OUT"
T=$(mktemp -d "${TMPDIR:-/tmp}/ebbench.XXXXXX")
CONNS=${BENCH_CONNS:-18000}
FANOUT=${BENCH_FANOUT_SUBS:-10000}
SECS=${BENCH_SECONDS:-10}
FAN_PUSH=${BENCH_FANOUT_PUSH:-2}
FAN_SECS=${BENCH_FANOUT_SECONDS:-55}
FAN_THREADS=${BENCH_FANOUT_THREADS:-2}
STEPS=${BENCH_STEPS:-1 2 3}
GEN_SCHED=${BENCH_GEN_SCHED:-batch}
SECRET=bench-secret
MOCK_PID=""

# shellcheck source=tools/lib-proc.sh
. "$(dirname "$0")/lib-proc.sh"
# shellcheck source=tools/lib-bench.sh
. "$(dirname "$0")/lib-bench.sh"

stop_mock() { proc_stop "$MOCK_PID" 50; MOCK_PID=""; }
trap 'stop_mock; rm -rf "$T"' EXIT
trap 'exit 2' INT TERM

die() { echo "bench: $*" >&2; exit 2; }

for p in ebmock ebload; do
	[ -x "$BIN/$p" ] || die "$BIN/$p missing (make first)"
done
if ! command -v wrk >/dev/null 2>&1; then
	echo "bench: wrk missing, installing the Debian package" >&2
	if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
	$SUDO apt-get install -y -qq wrk >/dev/null 2>&1 || echo "bench: could not install wrk" >&2
fi

# start_mock NAME CMD...: ebmock (CMD) on a free port; sets PORT and MOCK_PID.
start_mock() {
	name=$1; shift
	proc_start MOCK_PID "$T/$name.log" "$T/$name.port" "$@" --quiet
	proc_wait_port PORT "$MOCK_PID" "$T/$name.port" 10 && return 0
	cat "$T/$name.log" >&2
	die "ebmock $PROC_ERR"
}

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
# sessions PORT: ebmock's open WebSocket sessions (its /metrics), empty
# without curl
sessions() {
	command -v curl >/dev/null 2>&1 || return 0
	curl -s --max-time 2 "http://127.0.0.1:$1/metrics" | awk '$1 == "ebmock_ws_sessions" {print $2}'
}
bench_gen

NPROC=$(nproc)
LOAD=$(cut -d' ' -f1 /proc/loadavg)
echo "bench: $NPROC cores, load average $LOAD at start (shared machine: figures are lower bounds)" >&2

# ---- 1. connections held by one ebmock, memory per connection ----------------
HELD=0; RSS0=0; RSSMAX=0; PER_CONN=0; SAMPLES="[0, 0]"
if bench_step 1; then
start_mock idle "$BIN/ebmock" --jwt-secret "$SECRET" --ping-interval-s 0
sleep 0.3
RSS0=$(rss_kib "$MOCK_PID")
timeout $((SECS + 120)) $GEN "$BIN/ebload" --url "http://127.0.0.1:$PORT" \
	--connections "$CONNS" --connect-rate 5000 --stores 100 --push-rate 0 \
	--duration "$SECS" --drain 0 --jwt-secret "$SECRET" --quiet \
	--json "$OUT/bench-idle-ebload.json" > "$T/idle-ebload.log" 2>&1 &
LPID=$!
RSSMAX=$RSS0
SAMPLES="[0, $RSS0]"
while kill -0 "$LPID" 2>/dev/null; do
	r=$(rss_kib "$MOCK_PID")
	[ "${r:-0}" -gt "$RSSMAX" ] && RSSMAX=$r
	s=$(sessions "$PORT")
	[ -n "$s" ] && SAMPLES="$SAMPLES, [$s, ${r:-0}]"
	sleep 0.5
done
wait "$LPID"
stop_mock
HELD=$(bench_jnum "$OUT/bench-idle-ebload.json" connections openAtHoldEnd)
HELD=${HELD:-0}
if [ "$HELD" -gt 0 ]; then
	PER_CONN=$(( (RSSMAX - RSS0) * 1024 / HELD ))
else
	PER_CONN=0
fi
echo "bench: ebmock held $HELD subscribed connections; RSS $RSS0 -> $RSSMAX KiB, $PER_CONN bytes per connection (goal <= 4096; load average $(bench_load1))" >&2
fi

# ---- 2. small sync requests per second on one core ---------------------------
RPS=0; WRK_P50=0; WRK_P99=0
if bench_step 2 && command -v wrk >/dev/null 2>&1; then
	start_mock sync taskset -c 0 "$BIN/ebmock" --no-auth
	cat > "$T/post.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"lastKnownVersion":0}'
wrk.headers["Content-Type"] = "application/json"
done = function(summary, latency, requests)
	io.write(string.format("WRKRESULT %d %.3f %d %d %d\n",
		summary.requests, summary.duration / 1e6,
		latency:percentile(50), latency:percentile(99),
		summary.errors.status + summary.errors.connect + summary.errors.read +
		summary.errors.write + summary.errors.timeout))
end
LUA
	timeout $((SECS + 30)) taskset -c 1 wrk -t1 -c32 -d"${SECS}s" --timeout 5s \
		-s "$T/post.lua" "http://127.0.0.1:$PORT/api/stores/bench-sync/sync" \
		> "$T/wrk.log" 2>&1
	stop_mock
	line=$(grep '^WRKRESULT' "$T/wrk.log")
	if [ -n "$line" ]; then
		set -- $line
		REQS=$2; DUR=$3; WRK_P50=$4; WRK_P99=$5; WRK_ERR=$6
		RPS=$(awk -v r="$REQS" -v d="$DUR" 'BEGIN { printf "%.0f", (d > 0 ? r / d : 0) }')
		echo "bench: sync requests: $RPS/s on one core (p50 ${WRK_P50}us p99 ${WRK_P99}us, $WRK_ERR errors; load average $(bench_load1))" >&2
	else
		cat "$T/wrk.log" >&2
	fi
fi

# ---- 3. one push to all 10000 subscribers of one store -----------------------
# FAN_THREADS receiving threads split the subscribers: the generator's
# receive time per push is its CPU per notification times the subscribers
# of one thread (genMsPerPush); far below the fan-out figure, the figure is
# ebmock's. ebmock's CPU is sampled from the moment all subscribers are in
# (its /metrics) to the end: the hold, without the ramp. Its CPU per push is
# a lower bound of the fan-out on one process: a push cannot reach the last
# subscriber before ebmock has spent it, whatever the other core does.
F50=0; F99=0; FMISS=0; FSUB=0; FPUSH=0; FRECV=0; FGEN_US=0; FGEN_MS=0
FMOCK_US=0; FMOCK_SYS_US=0; FMOCK_PUSH_MS=0; FL_SEND=0; FL_RECV=0; FL_PASS=0
FLOAD0=0; FLOAD1=0
if bench_step 3; then
# the kernel's floor: a bare send() per socket, read back on epoll by a
# reader process scheduled like ebload (tools/bench-floor.c)
FLOOR_N=$FANOUT
FD_MAX=$(awk '/^Max open files/ {print $4}' /proc/self/limits 2>/dev/null)
FD_MAX=${FD_MAX:-1024}
if [ "$FD_MAX" != unlimited ] && [ $(((FD_MAX - 32) / 2)) -lt "$FLOOR_N" ]; then
	FLOOR_N=$(((FD_MAX - 32) / 2))
fi
FLOOR_BATCH=""
[ -n "$GEN" ] && FLOOR_BATCH=--batch
if ${CC:-cc} -std=c11 -O2 -pthread -o "$T/bench-floor" "$(dirname "$0")/bench-floor.c" \
	2> "$T/floor-cc.log" &&
	timeout 300 "$T/bench-floor" --sockets "$FLOOR_N" --passes 20 $FLOOR_BATCH \
		> "$OUT/bench-floor.json" 2> "$T/floor.err"; then
	FL_SEND=$(sed -n 's/.*"sendCpuUs": \([0-9.]*\).*/\1/p' "$OUT/bench-floor.json")
	FL_RECV=$(sed -n 's/.*"recvCpuUs": \([0-9.]*\).*/\1/p' "$OUT/bench-floor.json")
	FL_PASS=$(awk -v c="${FL_SEND:-0}" -v s="$FANOUT" 'BEGIN { printf "%.1f", c * s / 1000 }')
	echo "bench: kernel floor: a bare loopback send() costs ${FL_SEND} us of CPU here, a recv() on epoll ${FL_RECV} us: $FL_PASS ms of one core for $FANOUT sends (load average $(bench_load1))" >&2
else
	cat "$T/floor-cc.log" "$T/floor.err" >&2
	echo "bench: the kernel floor could not be measured" >&2
fi
start_mock fanout "$BIN/ebmock" --jwt-secret "$SECRET" --ping-interval-s 0
MT0=$(bench_cpu_ticks "$MOCK_PID"); ST0=$(bench_sys_ticks "$MOCK_PID")
FLOAD0=$(bench_load1)
timeout $((FAN_SECS + 120)) $GEN "$BIN/ebload" --url "http://127.0.0.1:$PORT" \
	--connections "$FANOUT" --connect-rate 5000 --stores 1 --push-rate "$FAN_PUSH" \
	--duration "$FAN_SECS" --drain 3 --threads "$FAN_THREADS" --jwt-secret "$SECRET" --quiet \
	--json "$OUT/bench-fanout-ebload.json" > "$T/fanout-ebload.log" 2>&1 &
LPID=$!
# the hold starts when every subscriber is in (at most the ramp plus 60 s)
i=0
while kill -0 "$LPID" 2>/dev/null && [ $i -lt $((FANOUT / 50 + 600)) ]; do
	s=$(sessions "$PORT")
	if [ "${s:-0}" -ge "$FANOUT" ]; then
		MT0=$(bench_cpu_ticks "$MOCK_PID"); ST0=$(bench_sys_ticks "$MOCK_PID")
		FLOAD0=$(bench_load1)
		break
	fi
	sleep 0.1
	i=$((i + 1))
done
wait "$LPID"
MT=$(($(bench_cpu_ticks "$MOCK_PID") - MT0)); MST=$(($(bench_sys_ticks "$MOCK_PID") - ST0))
FLOAD1=$(bench_load1)
stop_mock
F50=$(bench_jlat "$OUT/bench-fanout-ebload.json" fanout p50Ms)
F99=$(bench_jlat "$OUT/bench-fanout-ebload.json" fanout p99Ms)
FMISS=$(bench_jnum "$OUT/bench-fanout-ebload.json" notifications missed)
FSUB=$(bench_jnum "$OUT/bench-fanout-ebload.json" connections openAtHoldEnd)
FPUSH=$(bench_jnum "$OUT/bench-fanout-ebload.json" pushes ok)
FRECV=$(bench_jnum "$OUT/bench-fanout-ebload.json" notifications received)
FGEN_US=$(bench_jnum "$OUT/bench-fanout-ebload.json" resources cpuPerNotificationUs)
HZ=$(getconf CLK_TCK)
FMOCK_US=$(awk -v t="$MT" -v n="${FRECV:-0}" -v hz="$HZ" \
	'BEGIN { printf "%.2f", (n > 0 ? t * 1e6 / hz / n : 0) }')
FMOCK_SYS_US=$(awk -v t="$MST" -v n="${FRECV:-0}" -v hz="$HZ" \
	'BEGIN { printf "%.2f", (n > 0 ? t * 1e6 / hz / n : 0) }')
FMOCK_PUSH_MS=$(awk -v t="$MT" -v n="${FPUSH:-0}" -v hz="$HZ" \
	'BEGIN { printf "%.1f", (n > 0 ? t * 1e3 / hz / n : 0) }')
FGEN_MS=$(awk -v c="${FGEN_US:-0}" -v s="$FANOUT" -v w="$FAN_THREADS" \
	'BEGIN { printf "%.1f", c * s / w / 1000 }')
echo "bench: one push to all $FSUB subscribers, $FPUSH pushes: p50 ${F50} ms, p99 ${F99} ms (missed ${FMISS}; load average $FLOAD0 -> $FLOAD1); ebmock $FMOCK_US us CPU per notification over the hold ($FMOCK_SYS_US us of it system), $FMOCK_PUSH_MS ms of CPU per push; generator $FGEN_MS ms receive time per push per thread ($FAN_THREADS threads, ${GEN:-normal scheduling})" >&2
fi

LOAD_END=$(cut -d' ' -f1 /proc/loadavg)
cat > "$OUT/bench.json" <<JSON
{
  "schema": "ebload-bench/1",
  "machine": { "cores": $NPROC, "loadAverageStart": $LOAD, "loadAverageEnd": $LOAD_END,
               "note": "shared machine; other work ran at the same time" },
  "idleConnections": { "held": $HELD, "rssBeforeKiB": $RSS0, "rssHeldKiB": $RSSMAX,
                       "bytesPerConnection": $PER_CONN, "goalBytesPerConnection": 4096,
                       "ebloadReport": "bench-idle-ebload.json",
                       "samples": [ $SAMPLES ] },
  "syncRequests": { "perSecondOneCore": $RPS, "p50Us": ${WRK_P50:-0}, "p99Us": ${WRK_P99:-0},
                    "body": "{\"lastKnownVersion\":0}", "connections": 32 },
  "fanout": { "subscribers": ${FSUB:-0}, "p50Ms": ${F50:-0}, "p99Ms": ${F99:-0},
              "pushes": ${FPUSH:-0}, "pushesPerSecond": $FAN_PUSH, "generatorThreads": $FAN_THREADS,
              "ebmockCpuUsPerNotification": ${FMOCK_US:-0}, "ebmockSysUsPerNotification": ${FMOCK_SYS_US:-0},
              "ebmockCpuMsPerPush": ${FMOCK_PUSH_MS:-0}, "loadAverage": [ $FLOAD0, $FLOAD1 ],
              "generatorScheduling": "${GEN_SCHED}",
              "kernelFloor": { "sendCpuUs": ${FL_SEND:-0}, "recvCpuUs": ${FL_RECV:-0},
                               "sendMsPerPass": ${FL_PASS:-0}, "report": "bench-floor.json" },
              "generatorCpuUsPerNotification": ${FGEN_US:-0},
              "generatorMsPerPushPerThread": ${FGEN_MS:-0},
              "missed": ${FMISS:-0}, "ebloadReport": "bench-fanout-ebload.json" }
}
JSON
echo "bench: results in $OUT/bench.json" >&2
if [ -x "$BIN/ebplot" ]; then
	if bench_step 3; then
		"$BIN/ebplot" percentiles "$OUT/bench-fanout-percentiles.svg" \
			"fan-out=$OUT/bench-fanout-ebload.json"
	fi
	if bench_step 1; then
		"$BIN/ebplot" memory "$OUT/bench-memory.svg" "$OUT/bench.json" &&
		"$BIN/ebplot" ramp "$OUT/bench-idle-ramp.svg" "$OUT/bench-idle-ebload.json"
	fi
	echo "bench: plots in $OUT/bench-*.svg" >&2
fi
cat "$OUT/bench.json"
