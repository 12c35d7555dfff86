#!/bin/sh
# Bounds of the harness programs that need no hostile server:
#   - SIGINT 0.3 s into an ebconform run against ebmock: the reports come
#     within 1 s (2 s sanitized), the verdict is INCOMPLETE in the JSON, the
#     JUnit and the HTML, with the cases not run listed; the same for SIGTERM;
#   - ebconform --driver (client mode) with --deadline 4 ends within it,
#     INCOMPLETE;
#   - SIGINT 1 s into an ebload run: it ends within 1 s (2 s sanitized),
#     its JSON's result is "incomplete"; ebfuzz too, with an INCOMPLETE
#     report (every wait of a case checks the stop flag; against hostile
#     servers: hostile_servers.sh);
#   - a report that cannot be written (/dev/full, as a path and as stdout)
#     is exit 2 for ebconform, ebfuzz and ebload, and /dev/full stays a
#     device;
#   - file reads are capped: `ebload merge /dev/zero`, `ebload
#     --jwt-private-key /dev/zero`, `ebfuzz --replay /dev/zero`, `ebconform
#     --jwt-private-key /dev/zero` are exit 2 within 10 s and 256 MiB;
#   - `--url http://` (no host) is exit 2, not 3, for all three.
# Usage: sh tests/scripts/harness_bounds.sh build/<config>   (EB_BIN_DIR wins)
set -u
B=${1:?usage: harness_bounds.sh build/<config>}
BIN=${EB_BIN_DIR:-$B/bin}
T=$(mktemp -d "${TMPDIR:-/tmp}/bounds.XXXXXX")
SECRET=bounds-secret-7d2a
MOCK_PID=""
FAILED=0
case "$B" in *sanitize*) SLOW=2 ;; *) SLOW=1 ;; esac
# what a program holds, not ASan's quarantine of freed buffers (256 MiB by
# default: a buffer grown by doubling would count twice)
ASAN_Q="${ASAN_OPTIONS:-}:quarantine_size_mb=16"

# shellcheck source=tools/lib-proc.sh
. "$(dirname "$0")/../../tools/lib-proc.sh"

cleanup() { proc_stop "$MOCK_PID"; rm -rf "$T"; }
trap cleanup EXIT
trap 'exit 2' INT TERM

fail() {
	echo "FAIL: $*"
	FAILED=1
}

ms_now() { echo $(( $(date +%s%N) / 1000000 )); }

for p in ebmock ebconform ebfuzz ebload; do
	[ -x "$BIN/$p" ] || { echo "FAIL: no $BIN/$p"; exit 1; }
done
proc_start MOCK_PID "$T/mock.log" "$T/port" "$BIN/ebmock" --quiet --jwt-secret "$SECRET"
if ! proc_wait_port PORT "$MOCK_PID" "$T/port" 10; then
	echo "FAIL: ebmock $PROC_ERR"
	cat "$T/mock.log"
	exit 1
fi
URL="http://127.0.0.1:$PORT"
export EB_JWT_SECRET="$SECRET"

# signal_run NAME SIGNAL AFTER_MS BOUND_MS PROG ARGS...: starts PROG, sends
# SIGNAL after AFTER_MS, fails unless it ends within BOUND_MS of the signal;
# its exit code goes to $T/NAME.rc. Sanitized, AFTER_MS counts from the
# program's first line on stderr (ASan's start on a loaded machine can take
# longer than 0.3 s, before main installs its handlers).
signal_run() {
	name=$1 sig=$2 after=$3 bound=$4
	shift 4
	"$@" > "$T/$name.out" 2>&1 &
	pid=$!
	if [ "$SLOW" -gt 1 ]; then
		t0=$(ms_now)
		while [ ! -s "$T/$name.out" ] && kill -0 "$pid" 2>/dev/null &&
			[ $(( $(ms_now) - t0 )) -lt 60000 ]; do
			sleep 0.02
		done
	fi
	t0=$(ms_now)
	while [ $(( $(ms_now) - t0 )) -lt "$after" ]; do sleep 0.02; done
	kill "-$sig" "$pid" 2>/dev/null
	ts=$(ms_now)
	while kill -0 "$pid" 2>/dev/null && [ $(( $(ms_now) - ts )) -lt 30000 ]; do sleep 0.01; done
	took=$(( $(ms_now) - ts ))
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid" 2>/dev/null
		fail "$name: still running 30 s after SIG$sig"
	fi
	wait "$pid"
	echo $? > "$T/$name.rc"
	echo "$name: ended $took ms after SIG$sig (bound $bound ms), exit $(cat "$T/$name.rc")"
	[ "$took" -le "$bound" ] || fail "$name: took $took ms after SIG$sig, bound $bound ms"
}

# ---- ebconform: SIGINT / SIGTERM mid-run -> INCOMPLETE reports within 1 s
for sig in INT TERM; do
	rm -rf "$T/r-$sig"
	signal_run "conform-$sig" "$sig" 300 $((1000 * SLOW)) \
		"$BIN/ebconform" --url "$URL" --report-dir "$T/r-$sig"
	[ "$(cat "$T/conform-$sig.rc")" = 1 ] || fail "ebconform SIG$sig: exit $(cat "$T/conform-$sig.rc"), want 1"
	j="$T/r-$sig/report.json"
	grep -q '"verdict":[[:space:]]*"INCOMPLETE"' "$j" 2>/dev/null ||
		fail "ebconform SIG$sig: report.json's verdict is not INCOMPLETE"
	grep -q '"notRun":[[:space:]]*\[' "$j" 2>/dev/null ||
		fail "ebconform SIG$sig: report.json lists no cases not run"
	grep -q 'type="INCOMPLETE"' "$T/r-$sig/junit.xml" 2>/dev/null ||
		fail "ebconform SIG$sig: junit.xml has no INCOMPLETE error"
	grep -q 'VERDICT: INCOMPLETE' "$T/r-$sig/report.html" 2>/dev/null ||
		fail "ebconform SIG$sig: report.html's verdict is not INCOMPLETE"
	grep -q 'VERDICT: INCOMPLETE' "$T/conform-$sig.out" ||
		fail "ebconform SIG$sig: the console verdict is not INCOMPLETE"
	if grep -q '"verdict":[[:space:]]*"PASS"' "$j" 2>/dev/null; then
		fail "ebconform SIG$sig: report.json says PASS"
	fi
done

# ---- ebconform's client mode: --deadline 4 -> INCOMPLETE within it
if [ -x "$BIN/ebclient" ]; then
	t0=$(ms_now)
	"$BIN/ebconform" --driver "$BIN/ebclient --driver" --deadline 4 --json "$T/client.json" \
		> "$T/client.out" 2>&1
	rc=$?
	took=$(( $(ms_now) - t0 ))
	echo "client mode, --deadline 4: exit $rc in $took ms"
	[ "$rc" = 1 ] || fail "ebconform --driver --deadline 4: exit $rc, want 1"
	[ "$took" -le $(( 4000 + 2000 * SLOW )) ] || fail "ebconform --driver --deadline 4 took $took ms"
	grep -q '"verdict":[[:space:]]*"INCOMPLETE"' "$T/client.json" 2>/dev/null ||
		fail "ebconform --driver --deadline 4: the report is not INCOMPLETE"
fi

# ---- ebload: SIGINT in the hold -> incomplete within 1 s
signal_run load-INT INT 1000 $((1000 * SLOW)) "$BIN/ebload" --url "$URL" --connections 10 \
	--duration 30 --json "$T/load.json"
[ "$(cat "$T/load-INT.rc")" = 1 ] || fail "ebload SIGINT: exit $(cat "$T/load-INT.rc"), want 1"
grep -q '"result":[[:space:]]*"incomplete"' "$T/load.json" 2>/dev/null ||
	fail "ebload SIGINT: the JSON's result is not incomplete"

# ---- ebfuzz: SIGINT -> INCOMPLETE within 1 s, the case running cut short
signal_run fuzz-INT INT 1000 $((1000 * SLOW)) "$BIN/ebfuzz" --url "$URL" --runs 100000 \
	--timeout 2000 --findings-dir "$T/findings" --json "$T/fuzz.json"
[ "$(cat "$T/fuzz-INT.rc")" = 1 ] || fail "ebfuzz SIGINT: exit $(cat "$T/fuzz-INT.rc"), want 1"
grep -q '"verdict":[[:space:]]*"INCOMPLETE"' "$T/fuzz.json" 2>/dev/null ||
	fail "ebfuzz SIGINT: the JSON's verdict is not INCOMPLETE"

# ---- report writes are checked
if [ -c /dev/full ]; then
	for o in json junit html; do
		"$BIN/ebconform" --url "$URL" --cases 'versioning/*' "--$o" /dev/full > "$T/full.out" 2>&1
		rc=$?
		[ "$rc" = 2 ] || fail "ebconform --$o /dev/full: exit $rc, want 2"
	done
	"$BIN/ebconform" --url "$URL" --cases 'versioning/*' --json - > /dev/full 2> "$T/full.err"
	rc=$?
	[ "$rc" = 2 ] || fail "ebconform --json - > /dev/full: exit $rc, want 2"
	"$BIN/ebfuzz" --url "$URL" --runs 10 --findings-dir "$T/findings2" --json /dev/full > "$T/full.out" 2>&1
	rc=$?
	[ "$rc" = 2 ] || fail "ebfuzz --json /dev/full: exit $rc, want 2"
	"$BIN/ebload" --url "$URL" --connections 3 --duration 0.3 --drain 0.1 --quiet \
		--json /dev/full > "$T/full.out" 2>&1
	rc=$?
	[ "$rc" = 2 ] || fail "ebload --json /dev/full: exit $rc, want 2"
	[ -c /dev/full ] || fail "/dev/full is no longer a device: a report was renamed over it"
else
	echo "note: no /dev/full here; the report-write checks are skipped"
fi

# ---- file reads are capped
capped() {
	name=$1
	shift
	t0=$(ms_now)
	ASAN_OPTIONS=$ASAN_Q /usr/bin/time -f '%M' -o "$T/$name.time" "$@" > "$T/$name.out" 2>&1
	rc=$?
	took=$(( $(ms_now) - t0 ))
	kib=$(tail -n 1 "$T/$name.time" | tr -dc '0-9')
	echo "$name: exit $rc, $took ms, peak ${kib:-?} KiB"
	[ "$rc" = 2 ] || fail "$name: exit $rc, want 2"
	[ "$took" -le $((10000 * SLOW)) ] || fail "$name: took $took ms"
	[ -n "$kib" ] && [ "$kib" -le $((256 * 1024)) ] || fail "$name: peak RSS ${kib:-?} KiB over 256 MiB"
}
if [ -x /usr/bin/time ] && [ -r /dev/zero ]; then
	capped merge-zero "$BIN/ebload" merge /dev/zero
	capped load-key-zero "$BIN/ebload" --url "$URL" --jwt-private-key /dev/zero
	capped conform-key-zero "$BIN/ebconform" --url "$URL" --jwt-private-key /dev/zero
	capped fuzz-replay-zero "$BIN/ebfuzz" --url "$URL" --replay /dev/zero
else
	fail "no /usr/bin/time or /dev/zero (tools/deps.sh installs GNU time)"
fi

# ---- a URL without a host is a usage error
for p in ebconform ebfuzz ebload; do
	"$BIN/$p" --url http:// > "$T/url.out" 2>&1
	rc=$?
	[ "$rc" = 2 ] || fail "$p --url http://: exit $rc, want 2"
done

if [ "$FAILED" -ne 0 ]; then
	echo "--- ebmock log"
	tail -n 20 "$T/mock.log"
	exit 1
fi
echo "harness_bounds: signals, report writes, file caps and URLs as documented"
exit 0
