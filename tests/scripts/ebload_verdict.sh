#!/bin/sh
# ebload never reports a silent zero: against ebmock,
#  1. --threads 2 on the default event loop (libev; once a worker abort) and
#     on poll subscribes every connection and passes, verdict in the JSON;
#  2. upgrades refused (--fault refuse-ws): nothing subscribed, exit 1;
#  3. every /api request answered 503 (--fault http-503=60): every push
#     failed, exit 1;
#  4. a worker process killed mid-run: exit 1, the death in the verdict;
#  5. an --expect not met: exit 1, its threshold and measured value in the
#     JSON verdict and the HTML.
# Usage: sh tests/scripts/ebload_verdict.sh build/<config>   (EB_BIN_DIR wins)
set -u
B=${1:?usage: ebload_verdict.sh build/<config>}
BIN=${EB_BIN_DIR:-$B/bin}
T=$(mktemp -d "${TMPDIR:-/tmp}/ebload_verdict.XXXXXX")
SECRET=ebload-verdict-secret
MOCK_PID=""
LOAD_PID=""
FAILED=0

# shellcheck source=tools/lib-proc.sh
. "$(dirname "$0")/../../tools/lib-proc.sh"

cleanup() { proc_stop "$LOAD_PID $MOCK_PID"; rm -rf "$T"; }
trap cleanup EXIT
trap 'exit 2' INT TERM

fail() {
	echo "FAIL: $*"
	FAILED=1
}

start_mock() {
	proc_stop "$MOCK_PID"
	proc_start MOCK_PID "$T/mock.log" "$T/port" "$BIN/ebmock" --quiet --jwt-secret "$SECRET" "$@"
	if ! proc_wait_port PORT "$MOCK_PID" "$T/port" 10; then
		echo "FAIL: ebmock $PROC_ERR"
		cat "$T/mock.log"
		exit 1
	fi
}

# load NAME ARGS...: a short ebload run; exit code in $rc, output in $T/NAME.*
load() {
	name=$1
	shift
	"$BIN/ebload" --url "http://127.0.0.1:$PORT" --jwt-secret "$SECRET" --connections 20 \
		--duration 1 --drain 0.3 --push-rate 20 --connect-timeout 3 --quiet \
		--json "$T/$name.json" --html "$T/$name.html" "$@" > "$T/$name.out" 2>&1
	rc=$?
}

# verdict NAME RESULT: the JSON's verdict.result
verdict() {
	grep -q "\"result\":[[:space:]]*\"$2\"" "$T/$1.json" ||
		fail "$1: verdict is not $2: $(grep -A3 '"verdict"' "$T/$1.json" | tr -d '\n\t')"
}

show() { sed 's/^/    /' "$T/$1.out" | tail -n 15; }

[ -x "$BIN/ebload" ] && [ -x "$BIN/ebmock" ] || { echo "FAIL: ebload/ebmock not built"; exit 1; }

start_mock
for loop in ev poll; do
	load "threads-$loop" --threads 2 --event-loop "$loop"
	if [ $rc -ne 0 ]; then
		fail "--threads 2 --event-loop $loop: exit $rc, expected 0"
		show "threads-$loop"
	elif ! grep -q "subscribed 20 " "$T/threads-$loop.out"; then
		fail "--threads 2 --event-loop $loop: not every connection subscribed"
		show "threads-$loop"
	else
		verdict "threads-$loop" pass
		echo "  --threads 2 --event-loop $loop: 20 subscribed, exit 0"
	fi
done

load expect --expect 'p99<0.000001ms' --expect 'missed==0'
[ $rc -eq 1 ] || { fail "an --expect not met: exit $rc, expected 1"; show expect; }
verdict expect fail
grep -q '"expr":[[:space:]]*"p99<0.000001ms"' "$T/expect.json" || fail "expect: no expr in the JSON"
grep -q '"met":[[:space:]]*false' "$T/expect.json" || fail "expect: no met:false in the JSON"
grep -q '"threshold":' "$T/expect.json" && grep -q '"measured":' "$T/expect.json" ||
	fail "expect: no threshold/measured in the JSON"
grep -q 'NOT MET' "$T/expect.html" || fail "expect: the HTML shows no NOT MET"
grep -q 'Verdict: FAIL' "$T/expect.html" || fail "expect: the HTML shows no verdict"
echo "  an --expect not met: exit $rc, threshold and measured value in JSON and HTML"

# a worker killed mid-run
"$BIN/ebload" --url "http://127.0.0.1:$PORT" --jwt-secret "$SECRET" --connections 20 \
	--procs 2 --duration 4 --drain 0.3 --quiet --json "$T/death.json" > "$T/death.out" 2>&1 &
LOAD_PID=$!
i=0
kid=""
while [ -z "$kid" ] && [ $i -lt 50 ]; do
	kid=$(pgrep -P "$LOAD_PID" ebload | head -n 1)
	i=$((i + 1))
	sleep 0.1
done
sleep 1
[ -n "$kid" ] && kill -9 "$kid"
wait "$LOAD_PID"
rc=$?
LOAD_PID=""
if [ -z "$kid" ]; then
	fail "worker death: no worker process found"
elif [ $rc -ne 1 ]; then
	fail "worker killed: exit $rc, expected 1"
	show death
else
	verdict death fail
	grep -q 'worker process [0-9]* died (signal 9' "$T/death.json" ||
		fail "worker killed: the death is not in the verdict"
	echo "  a worker killed with SIGKILL: exit 1, the death in the verdict"
fi

start_mock --fault refuse-ws
load refused
[ $rc -eq 1 ] || { fail "upgrades refused: exit $rc, expected 1"; show refused; }
verdict refused fail
grep -q 'nothing subscribed' "$T/refused.json" || fail "upgrades refused: no 'nothing subscribed'"
echo "  every upgrade refused: exit $rc, 'nothing subscribed'"

start_mock --fault http-503=60
load pushes
[ $rc -eq 1 ] || { fail "503 for every request: exit $rc, expected 1"; show pushes; }
verdict pushes fail
grep -q 'every push failed' "$T/pushes.json" || fail "503 for every request: no 'every push failed'"
echo "  every push answered 503: exit $rc, 'every push failed'"

echo "ebload verdict: $([ $FAILED = 0 ] && echo ok || echo FAILED)"
exit $FAILED
