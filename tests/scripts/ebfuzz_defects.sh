#!/bin/sh
# ebfuzz against ebmock with each injectable defect (docs/DEFECTS.md) that
# makes the server accept invalid input or answer it wrongly: every run must
# fail (exit 1) with a finding that cites the defect's rule, and one saved
# finding must reproduce with --replay (exit 1) while the clean server does
# not reproduce it (exit 0); the first finding of a category is shrunk to
# the one change that matters. Then the robustness findings: 5xx answers
# (--fault http-503) and a server killed mid-run (server-death, run stopped,
# the batch's cases saved).
# Usage: sh tests/scripts/ebfuzz_defects.sh build/<config>   (EB_BIN_DIR wins)
set -u
B=${1:?usage: ebfuzz_defects.sh build/<config>}
BIN=${EB_BIN_DIR:-$B/bin}
T=$(mktemp -d "${TMPDIR:-/tmp}/ebfuzz_defects.XXXXXX")
MOCK_PID=""
SECRET=ebfuzz-defects-secret
SEED=7

# defect:rule ebfuzz must cite:cases to run (enough for the generator to hit
# the defect several times with this seed; slow defects get fewer cases)
DEFECTS="delete-value-accepted:CHG-6:300 dup-key-accepted:GEN-6:300
body-limit-ignored:LIMIT-1:1200 future-timestamp-accepted:TS-2:300
limit-clamped:LIMIT-7:300 error-without-code:ERR-1:200
ws-frame-limit-ignored:LIMIT-6:400 malformed-keeps-open:WS-2:300
check-order-wrong:ERR-3:400 alg-none-accepted:AUTH-3:300 exp-ignored:AUTH-4:300
readonly-can-push:AUTH-11:400 no-resync:SYNC-8:300
internal-conflict-accepted:IDEM-4:400 no-pong:WS-5:150"

# shellcheck source=tools/lib-proc.sh
. "$(dirname "$0")/../../tools/lib-proc.sh"

stop_mock() { proc_stop "$MOCK_PID"; MOCK_PID=""; }
trap 'stop_mock; rm -rf "$T"' EXIT
trap 'exit 2' INT TERM

fail() {
	echo "FAIL: $*"
	proc_logs 40 "$T"/*.log "$T"/*.out
	exit 1
}

start_mock() {
	proc_start MOCK_PID "$T/mock.log" "$T/port" "$BIN/ebmock" --jwt-secret "$SECRET" \
		--quiet "$@"
	proc_wait_port PORT "$MOCK_PID" "$T/port" 10 || fail "ebmock $* $PROC_ERR"
}

[ -x "$BIN/ebfuzz" ] || fail "no $BIN/ebfuzz"
"$BIN/ebmock" --defect list > "$T/list.out" 2>&1 || fail "ebmock --defect list failed"

missed=""
replay_file=""
replay_rule=""
for pair in $DEFECTS; do
	defect=${pair%%:*}
	rest=${pair#*:}
	rule=${rest%%:*}
	runs=${rest#*:}
	grep -q "^$defect	" "$T/list.out" || fail "ebmock does not know --defect $defect"
	start_mock --defect "$defect"
	rm -rf "$T/f-$defect"
	"$BIN/ebfuzz" --url "http://127.0.0.1:$PORT" --jwt-secret "$SECRET" --seed "$SEED" \
		--runs "$runs" --timeout-ms 700 --findings-dir "$T/f-$defect" \
		> "$T/$defect.out" 2> "$T/$defect.err"; rc=$?
	stop_mock
	if [ $rc -ne 1 ]; then
		missed="$missed $defect(exit $rc)"
		continue
	fi
	# the category ends in the rule, or names it as the input's rule
	if ! grep -Eq "finding [^ ]*/$rule( |/|\$|:)" "$T/$defect.err"; then
		missed="$missed $defect(no $rule finding)"
		continue
	fi
	echo "  $defect: found, citing $rule"
	if [ -z "$replay_file" ]; then
		f=
		for g in "$T/f-$defect"/*"$rule"*; do
			case $g in *.body) ;; *) [ -e "$g" ] && { f=$g; break; } ;; esac
		done
		if [ -n "$f" ]; then
			replay_file=$f
			replay_rule=$rule
			replay_defect=$defect
		fi
	fi
done
[ -z "$missed" ] || fail "defects ebfuzz did not report:$missed"

# the first finding of a category is shrunk: the delete-with-value push keeps
# only the change that breaks CHG-6 (the generator's pushes carry up to 40)
shrunk=$(ls "$T"/f-delete-value-accepted/finding-0001-*.sh 2>/dev/null | head -n 1)
[ -n "$shrunk" ] || fail "delete-value-accepted: no first finding file"
grep -q '^# note:     shrunk from [0-9]* to [0-9]* bytes' "$shrunk" ||
	fail "$shrunk: not shrunk ($(grep '^# note' "$shrunk"))"
n=$(grep -o '"operation"' "$shrunk.body" | wc -l)
[ "$n" -eq 1 ] || fail "$shrunk.body: $n changes after shrinking, expected 1"
grep -q '"value"' "$shrunk.body" || fail "$shrunk.body: shrinking dropped the value that breaks CHG-6"
echo "  shrinking: $(grep '^# note' "$shrunk" | cut -c 13-)"

# one finding replays: reproduces against the defect, not against a clean server
[ -n "$replay_file" ] || fail "no finding file was saved"
start_mock --defect "$replay_defect"
"$BIN/ebfuzz" --replay "$replay_file" --url "http://127.0.0.1:$PORT" \
	--jwt-secret "$SECRET" --timeout-ms 1000 > "$T/replay.out" 2>&1; rc=$?
stop_mock
[ $rc -eq 1 ] || fail "--replay $replay_file against $replay_defect: exit $rc, expected 1"
grep -q "reproduces: .*$replay_rule" "$T/replay.out" || fail "replay does not cite $replay_rule"
start_mock
"$BIN/ebfuzz" --replay "$replay_file" --url "http://127.0.0.1:$PORT" \
	--jwt-secret "$SECRET" --timeout-ms 1000 > "$T/replay-clean.out" 2>&1; rc=$?
stop_mock
[ $rc -eq 0 ] || fail "--replay $replay_file against a clean server: exit $rc, expected 0"
# faults of the robustness kind: 5xx answers, and a server that dies mid-run
start_mock --fault http-503=60
"$BIN/ebfuzz" --url "http://127.0.0.1:$PORT" --jwt-secret "$SECRET" --seed "$SEED" \
	--runs 30 --batch 10 --timeout-ms 700 --findings-dir "$T/f-503" \
	> "$T/503.out" 2> "$T/503.err"; rc=$?
stop_mock
[ $rc -eq 1 ] || fail "--fault http-503: exit $rc, expected 1"
grep -q "finding server-error" "$T/503.err" || fail "--fault http-503: no server-error finding"

start_mock
( sleep 1; kill -9 "$MOCK_PID" 2>/dev/null ) &
killer=$!
"$BIN/ebfuzz" --url "http://127.0.0.1:$PORT" --jwt-secret "$SECRET" --seed "$SEED" \
	--runs 1000000 --batch 20 --timeout-ms 700 --findings-dir "$T/f-death" \
	> "$T/death.out" 2> "$T/death.err"; rc=$?
wait "$killer" 2>/dev/null
wait "$MOCK_PID" 2>/dev/null
MOCK_PID=""
[ $rc -eq 1 ] || fail "server killed mid-run: exit $rc, expected 1"
grep -q "finding server-death" "$T/death.err" || fail "server killed mid-run: no server-death"
grep -q "stopped answering; stopping" "$T/death.err" || fail "server killed mid-run: the run went on"
ls "$T/f-death"/death-1/finding-* > /dev/null 2>&1 || fail "server-death: the batch was not saved"
echo "ebfuzz: every defect reported with its rule; $replay_file replays; 5xx and death found"
exit 0
