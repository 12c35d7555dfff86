#!/bin/sh
# ebclient smoke test against one ebmock:
#  1. the command line: --help (0), an unknown flag (2), --defect list (at
#     least 22 NAME<TAB>RULE<TAB>text lines, each rule a CLIENT rule);
#  2. the driver (docs/CLIENT-DRIVER.md): hello, token, start, open, set;
#     flush answers ok, state shows the change with pending 0 and version 1;
#     a change pushed by another client reaches the state through the
#     socket; stop answers and the driver exits within 2 s;
#  3. the persistent queue: a driver whose server is unreachable queues a
#     change in EB_DRIVER_DATA_DIR and is stopped; a new driver on the same
#     directory pushes it with its original id once the server is back;
#  4. watch mode for 2 s: prints "live" and the state holding a value that
#     `ebclient set` pushed meanwhile; SIGTERM ends it with 0.
# Usage: sh tests/scripts/ebclient_smoke.sh build/<config>   (EB_BIN_DIR wins)
set -u
B=${1:?usage: ebclient_smoke.sh build/<config>}
BIN=${EB_BIN_DIR:-$B/bin}
T=$(mktemp -d "${TMPDIR:-/tmp}/ebclient_smoke.XXXXXX")
MOCK_PID="" DRV_PID="" WATCH_PID=""
EB_JWT_SECRET=smoke-secret
export EB_JWT_SECRET

# shellcheck source=tools/lib-proc.sh
. "$(dirname "$0")/../../tools/lib-proc.sh"

cleanup() {
	exec 3>&- 2>/dev/null
	proc_stop "$DRV_PID $WATCH_PID $MOCK_PID" 20
	DRV_PID="" WATCH_PID="" MOCK_PID=""
}
trap 'cleanup; rm -rf "$T"' EXIT
trap 'exit 2' INT TERM

fail() {
	echo "FAIL: $*"
	proc_logs 40 "$T"/*.log "$T"/*.out
	exit 1
}

# wait_for FILE PATTERN SECONDS: polls until a line of FILE matches (grep -E).
wait_for() {
	_i=0
	while ! grep -Eq "$2" "$1" 2>/dev/null; do
		[ "$_i" -ge $(($3 * 20)) ] && return 1
		_i=$((_i + 1))
		sleep 0.05
	done
	return 0
}

# start_mock NAME [flags]: ebmock on a free port, sets PORT.
start_mock() {
	name=$1; shift
	proc_start MOCK_PID "$T/$name-mock.log" "$T/$name.port" "$BIN/ebmock" \
		--jwt-secret "$EB_JWT_SECRET" --quiet "$@"
	proc_wait_port PORT "$MOCK_PID" "$T/$name.port" 10 || fail "ebmock ($name) $PROC_ERR"
}

# start_driver NAME URL DATADIR: the driver reading the fifo NAME.in (fd 3).
start_driver() {
	rm -f "$T/$1.in"
	mkfifo "$T/$1.in"
	EB_DRIVER_URL=$2 EB_DRIVER_CLOCK_SCALE=0.01 EB_DRIVER_CLIENT=a \
	EB_DRIVER_CASE=smoke EB_DRIVER_DATA_DIR=$3 \
		"$BIN/ebclient" --driver < "$T/$1.in" > "$T/$1.out" 2> "$T/$1.log" &
	DRV_PID=$!
	exec 3> "$T/$1.in"
}

# send NAME ID JSON-WITHOUT-BRACES: one command, waits for its answer.
send() {
	printf '{"id":"%s",%s}\n' "$2" "$3" >&3
	wait_for "$T/$1.out" "\"id\":\"$2\"" 10 || fail "no answer to $3"
}

# answer NAME ID: the answer line of command ID.
answer() { grep "\"id\":\"$2\"" "$T/$1.out"; }

# stop_driver NAME: stop, then the driver must exit within 2 s.
stop_driver() {
	send "$1" stop '"cmd":"stop"'
	exec 3>&-
	_i=0
	while kill -0 "$DRV_PID" 2>/dev/null; do
		[ "$_i" -ge 40 ] && fail "$1: driver still running 2 s after stop"
		_i=$((_i + 1))
		sleep 0.05
	done
	wait "$DRV_PID" || fail "$1: driver exit status $?"
	DRV_PID=""
}

# ---- 1. command line ----------------------------------------------------------------
"$BIN/ebclient" --help > "$T/help.out" || fail "--help exit $?"
grep -q -- '--clock-scale' "$T/help.out" || fail "--help does not document --clock-scale"
"$BIN/ebclient" --no-such-flag > /dev/null 2>&1
[ $? -eq 2 ] || fail "an unknown flag is not exit 2"
"$BIN/ebclient" --defect list > "$T/defects.out" || fail "--defect list exit $?"
n=$(grep -Ec '^[a-z0-9-]+	CLIENT-[A-Z]+-[0-9]+	.+' "$T/defects.out")
[ "$n" -ge 22 ] || fail "--defect list: $n well-formed lines, want >= 22"
[ "$n" -eq "$(wc -l < "$T/defects.out")" ] || fail "--defect list has malformed lines"

# ---- 2. the driver ----------------------------------------------------------------------
start_mock main
URL=http://127.0.0.1:$PORT
TOKEN=$("$BIN/ebclient" token smoke-a) || fail "ebclient token exit $?"
mkdir -p "$T/data-a"
start_driver a "$URL" "$T/data-a"
send a 1 '"cmd":"hello"'
answer a 1 | grep -q '"clockScale":true' || fail "hello: $(answer a 1)"
send a 2 "\"cmd\":\"token\",\"token\":\"$TOKEN\""
send a 3 '"cmd":"start","activity":"active"'
send a 4 '"cmd":"open","store":"smoke"'
wait_for "$T/a.out" '"state":"live"' 5 || fail "the driver never went live"
send a 5 '"cmd":"set","store":"smoke","path":["doc","title"],"value":"hello"'
answer a 5 | grep -q '"changeId":"' || fail "set: $(answer a 5)"
send a 6 '"cmd":"flush","timeoutMs":3000'
answer a 6 | grep -q '"ok":true' || fail "flush: $(answer a 6)"
send a 7 '"cmd":"state","store":"smoke"'
answer a 7 | grep -q '"state":{"doc":{"title":"hello"}}' || fail "state: $(answer a 7)"
answer a 7 | grep -q '"version":1' || fail "state version: $(answer a 7)"
answer a 7 | grep -q '"pending":0' || fail "state pending: $(answer a 7)"
# Another client's change arrives through the notification and a sync.
"$BIN/ebclient" --url "$URL" --timeout 5000 set smoke doc/body '"world"' \
	> "$T/set1.out" 2> "$T/set1.log" || fail "ebclient set exit $?"
i=0
while :; do
	i=$((i + 1))
	send a "s$i" '"cmd":"state","store":"smoke"'
	answer a "s$i" | grep -q '"body":"world"' && break
	[ "$i" -ge 40 ] && fail "the other client's change never reached the state: $(answer a "s$i")"
	sleep 0.05
done
stop_driver a

# ---- 3. the persistent queue across a restart ----------------------------------------------
proc_stop "$MOCK_PID"; MOCK_PID=""
mkdir -p "$T/data-q"
start_driver q "$URL" "$T/data-q"          # nobody listens on $URL now
send q 1 '"cmd":"hello"'
send q 2 "\"cmd\":\"token\",\"token\":\"$TOKEN\""
send q 3 '"cmd":"start","activity":"active"'
send q 4 '"cmd":"open","store":"queued"'
send q 5 '"cmd":"set","store":"queued","path":["k"],"value":42'
QID=$(answer q 5 | sed -n 's/.*"changeId":"\([^"]*\)".*/\1/p')
[ -n "$QID" ] || fail "set while offline: $(answer q 5)"
send q 6 '"cmd":"state","store":"queued"'
answer q 6 | grep -q '"pending":1' || fail "offline state: $(answer q 6)"
stop_driver q
start_mock back --event-log "$T/back-events.out"
start_driver q2 "http://127.0.0.1:$PORT" "$T/data-q"
send q2 1 '"cmd":"hello"'
send q2 2 "\"cmd\":\"token\",\"token\":\"$TOKEN\""
send q2 3 '"cmd":"start","activity":"active"'
send q2 4 '"cmd":"open","store":"queued"'
send q2 5 '"cmd":"flush","timeoutMs":5000'
answer q2 5 | grep -q '"ok":true' || fail "flush after restart: $(answer q2 5)"
wait_for "$T/back-events.out" "\"changeIds\":\\[\"$QID\"\\]" 5 ||
	fail "the queued change was not pushed with its original id $QID"
stop_driver q2

# ---- 4. watch mode ----------------------------------------------------------------------------
URL=http://127.0.0.1:$PORT
"$BIN/ebclient" --url "$URL" watch w1 > "$T/watch.out" 2> "$T/watch.log" &
WATCH_PID=$!
wait_for "$T/watch.out" ' live$' 5 || fail "watch never went live"
"$BIN/ebclient" --url "$URL" set w1 a/b 7 > "$T/set2.out" 2> "$T/set2.log" ||
	fail "ebclient set exit $?"
wait_for "$T/watch.out" 'w1 v1 pending 0 \{"a":\{"b":7\}\}' 2 ||
	fail "watch did not print the new state"
sleep 1   # watch keeps running on its own for its 2 s
kill -0 "$WATCH_PID" 2>/dev/null || fail "watch exited on its own"
kill -TERM "$WATCH_PID"
wait "$WATCH_PID"
rc=$?
WATCH_PID=""
[ "$rc" -eq 0 ] || fail "watch exit $rc after SIGTERM"
echo "ebclient smoke: OK"
