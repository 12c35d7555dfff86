#!/bin/sh
# ThreadSanitizer runs of the threaded programs (make SANITIZE=thread tsan):
#   - ebconform, 4 jobs plus its slow-case threads, the runner thread and the
#     watchdog of the main thread, over the WebSocket, race and sync cases
#     of an ebmock (its cases share the report, the run's bucket and the
#     body budget), then once more stopped by SIGINT mid-run (the stop
#     path: grace, INCOMPLETE report beside running case threads);
#   - ebload with 4 pusher threads and 2 worker threads, stopped by SIGINT
#     in the hold (the push rings are shared memory between the pushers'
#     process and the workers': ThreadSanitizer sees each process's threads,
#     not the rings' cross-process seqlock, whose orderings are argued in
#     loadgen/ebl_push.c).
# Any ThreadSanitizer report fails the run (halt_on_error, exit code 66).
# Usage: sh tests/tsan/run.sh build/thread   (about a minute on 2 cores)
set -u
B=${1:?usage: run.sh build/thread}
BIN=${EB_BIN_DIR:-$B/bin}
T=$(mktemp -d "${TMPDIR:-/tmp}/tsan.XXXXXX")
SECRET=tsan-secret-5e21
MOCK_PID=""
FAILED=0
# second_deadlock_stack: full reports; the uninstrumented libraries
# (libcurl, libwebsockets, OpenSSL) are not ours to judge
export TSAN_OPTIONS="halt_on_error=1:exitcode=66:second_deadlock_stack=1:report_signal_unsafe=0"

# shellcheck source=tools/lib-proc.sh
. "$(dirname "$0")/../../tools/lib-proc.sh"

cleanup() { proc_stop "$MOCK_PID"; rm -rf "$T"; }
trap cleanup EXIT
trap 'exit 2' INT TERM

fail() {
	echo "FAIL: $*"
	FAILED=1
}

for p in ebmock ebconform ebload; do
	[ -x "$BIN/$p" ] || { echo "FAIL: no $BIN/$p"; exit 1; }
done
proc_start MOCK_PID "$T/mock.log" "$T/port" "$BIN/ebmock" --quiet --jwt-secret "$SECRET"
if ! proc_wait_port PORT "$MOCK_PID" "$T/port" 20; then
	echo "FAIL: ebmock $PROC_ERR"
	cat "$T/mock.log"
	exit 1
fi
URL="http://127.0.0.1:$PORT"
export EB_JWT_SECRET="$SECRET"

t0=$(date +%s)
"$BIN/ebconform" --url "$URL" --jobs 4 --time-scale 3 --cases 'ws/*' --cases 'races/*' \
	--cases 'sync/*' --exclude 'ws/auth-timeout' --exclude 'ws/token-expiry*' \
	--json "$T/conform.json" > "$T/conform.out" 2>&1
rc=$?
echo "ebconform (ws, races, sync): exit $rc in $(( $(date +%s) - t0 )) s"
grep -q 'WARNING: ThreadSanitizer' "$T/conform.out" && fail "ebconform: ThreadSanitizer reports"
[ "$rc" = 0 ] || fail "ebconform: exit $rc (66: a ThreadSanitizer report)"

# the stop path: SIGINT while cases run on their threads
"$BIN/ebconform" --url "$URL" --jobs 4 --json "$T/stop.json" > "$T/stop.out" 2>&1 &
pid=$!
sleep 1
kill -INT "$pid" 2>/dev/null
wait "$pid"
rc=$?
echo "ebconform stopped by SIGINT: exit $rc"
grep -q 'WARNING: ThreadSanitizer' "$T/stop.out" && fail "ebconform stop: ThreadSanitizer reports"
[ "$rc" = 1 ] || fail "ebconform stop: exit $rc, want 1 (66: a ThreadSanitizer report)"
grep -q '"verdict":[[:space:]]*"INCOMPLETE"' "$T/stop.json" 2>/dev/null ||
	fail "ebconform stop: the report is not INCOMPLETE"

# ebload: pushers and the worker over the push rings
"$BIN/ebload" --url "$URL" --connections 40 --stores 4 --pushers 4 --push-rate 200 --threads 2 \
	--duration 4 --procs 1 --quiet --json "$T/load.json" > "$T/load.out" 2>&1 &
pid=$!
sleep 3
kill -INT "$pid" 2>/dev/null
wait "$pid"
rc=$?
echo "ebload (4 pushers, stopped by SIGINT): exit $rc"
grep -q 'WARNING: ThreadSanitizer' "$T/load.out" && fail "ebload: ThreadSanitizer reports"
[ "$rc" = 1 ] || fail "ebload: exit $rc, want 1 (incomplete; 66: a ThreadSanitizer report)"

if [ "$FAILED" -ne 0 ]; then
	for f in "$T"/*.out; do
		echo "--- $f"
		grep -A40 'WARNING: ThreadSanitizer' "$f" | head -60
		tail -n 5 "$f"
	done
	exit 1
fi
echo "tsan: no ThreadSanitizer report in ebconform or ebload ($(( $(date +%s) - t0 )) s)"
exit 0
