#!/bin/sh
# The harness against hostile servers: ebconform, ebfuzz, ebload
# (and ebclient, the client SDK's program: `set` with its --timeout)
# are run against each mode of tests/hostile/ebhostile (never answers,
# garbage, endless body, huge headers, 1 byte/s, close mid-response, a
# WebSocket flood of valid messages, endless 1-byte fragments), each HTTP
# mode also behind a correct GET /api/limits and first feed read so that the
# preflight passes and the run proper meets the misbehaviour. Each run must
#   - exit with the documented code: 3 (target unreachable) when the
#     preflight already fails, 1 (verdict failed or INCOMPLETE) after it,
#   - end within its total deadline (--deadline, short here; 2 s more for
#     process start and scheduling on a loaded machine, 8 s sanitized),
#   - keep its peak RSS (GNU time's maximum resident set, worker processes
#     included) at or under 256 MiB.
# It also checks that each program states its default total deadline (at
# most 4 minutes) in --help, and that a body over the harness's 64 MiB cap
# is reported as an ERROR naming the cap and --max-response-mib, not a FAIL. The runs go in parallel; a table of every run
# (mode, program, exit, wall s, peak MiB) is printed.
# Then SIGINT mid-run: each program, once its run proper has begun against
# a silent server and against a WebSocket flood (each behind a correct
# preflight, with a 10 s --timeout so that no wait of its own ends first),
# gets SIGINT 0.5 s later and must exit within 1 s of it (sanitized too)
# with exit 1 and a report that says INCOMPLETE, one run at a time so that
# the time measured is the program's (ebconform and ebfuzz also during
# their preflight against a silent server); ebclient `watch` of 40 stores too
# (exit 0, its normal end) against endless bodies and WebSocket floods,
# with its peak RSS.
# Usage: sh tests/scripts/hostile_servers.sh build/<config>   (EB_BIN_DIR wins)
set -u
B=${1:?usage: hostile_servers.sh build/<config>}
BIN=${EB_BIN_DIR:-$B/bin}
HOSTILE=${EB_HOSTILE:-$B/tests/ebhostile}
T=$(mktemp -d "${TMPDIR:-/tmp}/hostile.XXXXXX")
SECRET=hostile-secret-91c3
PIDS=""
RUNS=""
FAILED=0
RSS_MAX_KIB=$((256 * 1024))
# Sanitized builds run slower and ASan's shadow memory counts as resident:
# the deadlines stretch, the RSS bound does not (ASan's quarantine is made
# small instead, so what is measured is what the program holds).
SLACK_MS=2000
case "$B" in *sanitize*)
	SLOW=2
	SLACK_MS=8000
	export ASAN_OPTIONS="${ASAN_OPTIONS:-}:quarantine_size_mb=16:malloc_context_size=5"
	;;
*) SLOW=1 ;;
esac

# shellcheck source=tools/lib-proc.sh
. "$(dirname "$0")/../../tools/lib-proc.sh"

cleanup() { proc_stop "$PIDS"; rm -rf "$T"; }
trap cleanup EXIT
trap 'exit 2' INT TERM

fail() {
	echo "FAIL: $*"
	FAILED=1
}

for p in ebconform ebfuzz ebload ebclient; do
	[ -x "$BIN/$p" ] || { echo "FAIL: no $BIN/$p"; exit 1; }
done
[ -x "$HOSTILE" ] || { echo "FAIL: no $HOSTILE (make builds it with the tests)"; exit 1; }
[ -x /usr/bin/time ] || { echo "FAIL: no /usr/bin/time (GNU time; tools/deps.sh)"; exit 1; }

# Each program states its default total deadline, at most 4 minutes.
for p in ebconform ebfuzz ebload; do
	"$BIN/$p" --help > "$T/$p.help" 2>&1
	grep -q -- '--deadline' "$T/$p.help" || fail "$p --help does not document --deadline"
done
grep -q '180 s with default flags' "$T/ebconform.help" || fail "ebconform --help: no default deadline"
grep -q '180 s with default flags' "$T/ebfuzz.help" || fail "ebfuzz --help: no default deadline"
grep -q '83 s with default flags' "$T/ebload.help" || fail "ebload --help: no default deadline"

# One server per configuration: NAME MODE [--preflight-ok].
start_server() {
	name=$1
	shift
	proc_start pid "$T/srv-$name.log" "$T/srv-$name.port" "$HOSTILE" --lifetime 300 "$@"
	# shellcheck disable=SC2154 # pid and port are set by proc_start/proc_wait_port (eval)
	PIDS="$PIDS $pid"
	if ! proc_wait_port port "$pid" "$T/srv-$name.port" 10; then
		echo "FAIL: ebhostile $* $PROC_ERR"
		cat "$T/srv-$name.log"
		exit 1
	fi
	# shellcheck disable=SC2154 # set by proc_wait_port (eval)
	eval "PORT_$(echo "$name" | tr -- '-' '_')=$port"
}

# run_one NAME PROG DEADLINE WANT_EXIT ARGS...: PROG against server NAME in
# the background; results in $T/NAME.PROG.{out,time,rc,wall}.
run_one() {
	name=$1 prog=$2 dl=$3 want=$4
	shift 4
	eval "port=\$PORT_$(echo "$name" | tr -- '-' '_')"
	echo "$dl $want" > "$T/$name.$prog.want"
	case $prog in
	ebload) set -- --connect-timeout 1 --push-timeout 1 "$@" ;;
	*) set -- --timeout 1000 "$@" ;;
	esac
	(
		t0=$(date +%s%N)
		EB_JWT_SECRET=$SECRET /usr/bin/time -f '%M' -o "$T/$name.$prog.time" \
			"$BIN/$prog" --url "http://127.0.0.1:$port" --deadline "$dl" \
			"$@" > "$T/$name.$prog.out" 2>&1
		echo $? > "$T/$name.$prog.rc"
		echo $(( ($(date +%s%N) - t0) / 1000000 )) > "$T/$name.$prog.wall"
	) &
	RUNS="$RUNS $!"
}

# run_client NAME DEADLINE_S: ebclient (the client SDK's program) pushes one
# change with `set` against server NAME; its stated deadline is --timeout,
# after which it gives up with exit 3. Results as run_one's.
run_client() {
	name=$1 dl=$2
	eval "port=\$PORT_$(echo "$name" | tr -- '-' '_')"
	echo "$dl 3" > "$T/$name.ebclient.want"
	(
		t0=$(date +%s%N)
		EB_JWT_SECRET=$SECRET /usr/bin/time -f '%M' -o "$T/$name.ebclient.time" \
			"$BIN/ebclient" --url "http://127.0.0.1:$port" --timeout $((dl * 1000)) \
			set st a/b '{"x":1}' > "$T/$name.ebclient.out" 2>&1
		echo $? > "$T/$name.ebclient.rc"
		echo $(( ($(date +%s%N) - t0) / 1000000 )) > "$T/$name.ebclient.wall"
	) &
	RUNS="$RUNS $!"
}

# the programs' arguments: short runs, reports where the test can see them
args_for() {
	case $1 in
	ebconform) echo "--jobs 4 --json $T/$2.ebconform.json" ;;
	ebfuzz) echo "--runs 200 --findings-dir $T/findings-$2 --json $T/$2.ebfuzz.json" ;;
	ebload) echo "--connections 20 --duration 2 --drain 0.5 --quiet --procs 1 --json $T/$2.ebload.json" ;;
	esac
}

HTTP_MODES="silent garbage endless-body huge-headers slow close-mid"
WS_MODES="ws-flood ws-fragments"
# The servers that answer the preflight do so once (its first feed read):
# one of them per program.
for m in $HTTP_MODES; do
	start_server "$m" --mode "$m"
	for prog in ebconform ebfuzz ebload; do
		start_server "$m-pf-$prog" --mode "$m" --preflight-ok
	done
done
for m in $WS_MODES; do
	start_server "$m" --mode "$m"
	start_server "$m-cl" --mode "$m"
done
# endless bodies against a cap of 1 MiB: every read meets the cap at once
start_server cap-pf --mode endless-body --preflight-ok

# Deadlines (s): short, so that the whole test stays within a minute; the
# programs' own defaults are stated above. ebfuzz's --deadline is at least 10.
DL_CONF=$((6 + 2 * (SLOW - 1)))
DL_FUZZ=$((10 + 2 * (SLOW - 1)))
DL_LOAD=$((8 + 2 * (SLOW - 1)))
dl_of() {
	case $1 in
	ebconform) echo "$DL_CONF" ;;
	ebfuzz) echo "$DL_FUZZ" ;;
	ebload) echo "$DL_LOAD" ;;
	esac
}
# The preflight fails: the target is unreachable (exit 3). These runs end
# at their first request: all 18 at once.
for prog in ebconform ebfuzz ebload; do
	for m in $HTTP_MODES; do
		# shellcheck disable=SC2046
		run_one "$m" "$prog" "$(dl_of "$prog")" 3 $(args_for "$prog" "$m")
	done
done
# ebclient has no preflight: against every mode it retries until its
# deadline, then exit 3
for m in $HTTP_MODES; do
	run_client "$m" 4
done
for m in $WS_MODES; do
	run_client "$m-cl" 4
done
run_one cap-pf ebconform "$DL_CONF" 1 --cases 'feed/*' --jobs 1 --max-response-mib 1 \
	--json "$T/cap-pf.ebconform.json"
# shellcheck disable=SC2086
wait $RUNS
RUNS=""
# The preflight passes, the run meets the misbehaviour: verdict failed or
# INCOMPLETE (exit 1). One program at a time, its 8 runs in parallel (the
# servers are children too: wait for the runs only).
for prog in ebconform ebfuzz ebload; do
	dl=$(dl_of "$prog")
	for m in $HTTP_MODES; do
		# shellcheck disable=SC2046
		run_one "$m-pf-$prog" "$prog" "$dl" 1 $(args_for "$prog" "$m-pf")
	done
	for m in $WS_MODES; do
		# shellcheck disable=SC2046
		run_one "$m" "$prog" "$dl" 1 $(args_for "$prog" "$m")
	done
	# shellcheck disable=SC2086
	wait $RUNS
	RUNS=""
done

printf '%-20s %-10s %5s %5s %8s %8s\n' mode program exit want 'wall s' 'peak MiB'
for f in "$T"/*.want; do
	base=$(basename "$f" .want)
	name=${base%.*}
	prog=${base##*.}
	read -r dl want < "$f"
	rc=$(cat "$T/$base.rc" 2>/dev/null || echo '?')
	wall=$(cat "$T/$base.wall" 2>/dev/null || echo 0)
	kib=$(tail -n 1 "$T/$base.time" 2>/dev/null | tr -dc '0-9')
	[ -n "$kib" ] || kib=0
	printf '%-20s %-10s %5s %5s %8s %8s\n' "$name" "$prog" "$rc" "$want" \
		"$(awk "BEGIN { printf \"%.1f\", $wall / 1000 }")" "$((kib / 1024))"
	bad=""
	[ "$rc" = "$want" ] || bad="exit $rc, want $want"
	# the stated deadline, and 2 s for starting and scheduling the process
	# on a loaded machine (the programs keep their own reserve for the
	# reports inside the deadline); sanitized 8 s, for ASan's start and
	# LeakSanitizer's scan at exit, outside the program's clock
	[ "$wall" -le $(( dl * 1000 + SLACK_MS )) ] || bad="$bad; took ${wall} ms, deadline ${dl} s"
	[ "$kib" -gt 0 ] && [ "$kib" -le "$RSS_MAX_KIB" ] || bad="$bad; peak RSS ${kib} KiB (bound $RSS_MAX_KIB)"
	if [ -n "$bad" ]; then
		fail "$prog against $name: $bad"
		tail -n 15 "$T/$base.out" | sed 's/^/    | /'
	fi
done

# Reports after the preflight say so: an INCOMPLETE or failed verdict, never PASS.
for m in silent-pf ws-flood; do
	[ -s "$T/$m.ebconform.json" ] || fail "ebconform against $m wrote no report"
	if grep -q '"verdict":[[:space:]]*"PASS"' "$T/$m.ebconform.json" 2>/dev/null; then
		fail "ebconform against $m reported PASS"
	fi
done
grep -q '"verdict":[[:space:]]*"INCOMPLETE"' "$T/silent-pf.ebconform.json" 2>/dev/null ||
	fail "ebconform against a silent server: the report is not INCOMPLETE"
# A body over the harness's cap is an ERROR that names the cap and its flag,
# never a FAIL: no rule bounds a response's size (a page of 1000 changes of
# 64 KiB values is over 64 MiB; JSON allows any whitespace).
j="$T/cap-pf.ebconform.json"
grep -q "harness's cap of 1 MiB (--max-response-mib raises it" "$j" 2>/dev/null ||
	fail "ebconform against endless bodies: no ERROR naming the cap and --max-response-mib"
if awk '/"outcome":/ { o = $0 } /harness.s cap of/ && o ~ /"FAIL"/ { bad = 1 } END { exit !bad }' \
	"$j" 2>/dev/null; then
	fail "ebconform against endless bodies: a FAIL blames the server for the harness's cap"
fi
# each report states the run's total deadline
grep -q "\"deadline\":[[:space:]]*\"$DL_CONF s\"" "$T/silent-pf.ebconform.json" 2>/dev/null ||
	fail "ebconform's report does not state its deadline"
grep -q "\"deadline\":[[:space:]]*\"$DL_FUZZ s\"" "$T/silent-pf.ebfuzz.json" 2>/dev/null ||
	fail "ebfuzz's report does not state its deadline"
grep -q "\"deadlineS\":[[:space:]]*$DL_LOAD" "$T/silent-pf.ebload.json" 2>/dev/null ||
	fail "ebload's report does not state its deadline"

# ---- SIGINT mid-run: INCOMPLETE reports within 1 s
ms_now() { echo $(( $(date +%s%N) / 1000000 )); }
# 1 s in sanitized builds too (measured there at 80-400 ms; ebclient's
# steps take in at most 4 MiB of bodies, EBCL_STEP_BYTES: with 64 MiB in
# one step its exit took 390-875 ms under ASan)
SIG_BOUND_MS=1000
# sigint_run NAME PROG STARTED_RE WANT_RC REPORT_RE ARGS...: PROG --url (of
# server NAME, started here) ARGS, under GNU time; SIGINT 0.5 s after its
# output matches STARTED_RE (its run proper began), then the time from the
# signal to its exit (wait, not polling), its exit code, peak RSS and, when
# REPORT_RE is not empty, its JSON report ($T/sig-NAME.json).
sigint_run() {
	name=$1 prog=$2 started=$3 want=$4 report=$5
	shift 5
	eval "port=\$PORT_$(echo "$name" | tr -- '-' '_')"
	# the program itself gets the signal (GNU time ignores SIGINT): sh
	# writes its pid and execs it
	EB_JWT_SECRET=$SECRET /usr/bin/time -f '%M' -o "$T/sig-$name.time" \
		sh -c 'echo $$ > "$0"; exec "$@"' "$T/sig-$name.pid" \
		"$BIN/$prog" --url "http://127.0.0.1:$port" "$@" > "$T/sig-$name.out" 2>&1 &
	tpid=$!
	t0=$(ms_now)
	# STARTED_RE "-": as soon as the program runs (its preflight)
	while { [ "$started" = - ] && [ ! -s "$T/sig-$name.pid" ]; } ||
		{ [ "$started" != - ] && ! grep -q -- "$started" "$T/sig-$name.out"; }; do
		kill -0 "$tpid" 2>/dev/null || break
		[ $(( $(ms_now) - t0 )) -lt 60000 ] || break
		sleep 0.02
	done
	spid=$(cat "$T/sig-$name.pid" 2>/dev/null)
	t0=$(ms_now)
	while [ $(( $(ms_now) - t0 )) -lt 500 ]; do sleep 0.02; done
	ts=$(ms_now)
	kill -INT "$spid" 2>/dev/null
	# a watchdog: 30 s, then SIGKILL (the wait below then ends)
	( trap 'kill "$wp" 2>/dev/null; exit 0' TERM
	  sleep 30 & wp=$!
	  wait "$wp"
	  kill -KILL "$spid" 2>/dev/null ) &
	wd=$!
	wait "$tpid"
	src=$?
	took=$(( $(ms_now) - ts ))
	kill "$wd" 2>/dev/null
	wait "$wd" 2>/dev/null
	kib=$(tail -n 1 "$T/sig-$name.time" 2>/dev/null | tr -dc '0-9')
	[ -n "$kib" ] || kib=0
	echo "SIGINT: $prog against $name ended $took ms after it (bound $SIG_BOUND_MS ms), exit $src, peak $((kib / 1024)) MiB"
	bad=""
	[ "$src" = "$want" ] || bad="exit $src, want $want"
	[ "$took" -le "$SIG_BOUND_MS" ] || bad="$bad; took $took ms after SIGINT"
	[ "$kib" -gt 0 ] && [ "$kib" -le "$RSS_MAX_KIB" ] || bad="$bad; peak RSS ${kib} KiB"
	if [ -n "$report" ]; then
		grep -q -- "$report" "$T/sig-$name.json" 2>/dev/null ||
			bad="$bad; the report does not say $report"
	fi
	if [ -n "$bad" ]; then
		fail "SIGINT: $prog against $name: $bad"
		tail -n 10 "$T/sig-$name.out" | sed 's/^/    | /'
	fi
}
for prog in ebconform ebfuzz ebload; do
	start_server "sig-silent-$prog" --mode silent --preflight-ok
	start_server "sig-flood-$prog" --mode ws-flood
done
# SIGINT during the preflight (a silent server: its first request waits)
for prog in ebconform ebfuzz ebload; do
	start_server "sig-pre-$prog" --mode silent
done
sigint_run sig-pre-ebconform ebconform - 1 '"verdict":[[:space:]]*"INCOMPLETE"' \
	--timeout 10000 --json "$T/sig-sig-pre-ebconform.json"
sigint_run sig-pre-ebfuzz ebfuzz - 1 '"verdict":[[:space:]]*"INCOMPLETE"' \
	--timeout 10000 --findings-dir "$T/sig-findings-pre" --json "$T/sig-sig-pre-ebfuzz.json"
sigint_run sig-pre-ebload ebload - 1 '"result":[[:space:]]*"incomplete"' \
	--connect-timeout 10 --connections 20 --duration 30 --procs 1 \
	--json "$T/sig-sig-pre-ebload.json"
INC='"verdict":[[:space:]]*"INCOMPLETE"'
for srv in silent flood; do
	sigint_run "sig-$srv-ebconform" ebconform 'cases against' 1 "$INC" \
		--timeout 10000 --jobs 4 --json "$T/sig-sig-$srv-ebconform.json"
	sigint_run "sig-$srv-ebfuzz" ebfuzz ', seed ' 1 "$INC" \
		--timeout 10000 --runs 100000 --findings-dir "$T/sig-findings-$srv" \
		--json "$T/sig-sig-$srv-ebfuzz.json"
	sigint_run "sig-$srv-ebload" ebload 'connections to' 1 '"result":[[:space:]]*"incomplete"' \
		--connect-timeout 10 --push-timeout 10 --connections 20 --duration 30 \
		--procs 1 --json "$T/sig-sig-$srv-ebload.json"
done
# ebclient watch (no report; a signal is its normal end, exit 0), 40 stores
# so that 40 reads run at once against the endless bodies
for m in endless-body ws-flood ws-fragments; do
	start_server "sig-$m-ebclient" --mode "$m"
	# shellcheck disable=SC2046 # 40 store names
	sigint_run "sig-$m-ebclient" ebclient 'connecting' 0 "" \
		watch $(seq -f 'st%g' 1 40)
done

if [ "$FAILED" -ne 0 ]; then
	for f in "$T"/srv-*.log; do
		echo "--- $f"
		tail -n 5 "$f"
	done
	exit 1
fi
echo "hostile_servers: all runs within their deadline, 256 MiB and their exit code"
exit 0
