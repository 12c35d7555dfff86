#!/bin/sh
# ebfuzz against a clean ebmock: a bounded, seeded run must report zero
# findings (exit 0) and write its reports; plus the exit codes of the CLI:
# --help 0, usage errors and a refused token 2, an unreachable target 3.
# Usage: sh tests/scripts/ebfuzz_clean.sh build/<config>   (EB_BIN_DIR wins)
set -u
B=${1:?usage: ebfuzz_clean.sh build/<config>}
BIN=${EB_BIN_DIR:-$B/bin}
T=$(mktemp -d "${TMPDIR:-/tmp}/ebfuzz_clean.XXXXXX")
MOCK_PID=""
SECRET=ebfuzz-clean-secret
SEED=20240501
RUNS=${EBFUZZ_CLEAN_RUNS:-3000}

# shellcheck source=tools/lib-proc.sh
. "$(dirname "$0")/../../tools/lib-proc.sh"

stop_mock() { proc_stop "$MOCK_PID"; MOCK_PID=""; }
trap 'stop_mock; rm -rf "$T"' EXIT
trap 'exit 2' INT TERM

fail() {
	echo "FAIL: $*"
	proc_logs 60 "$T"/*.log "$T"/*.out
	exit 1
}

start_mock() {
	proc_start MOCK_PID "$T/mock.log" "$T/port" "$BIN/ebmock" --jwt-secret "$SECRET" \
		--quiet
	proc_wait_port PORT "$MOCK_PID" "$T/port" 10 || fail "ebmock $PROC_ERR"
}

[ -x "$BIN/ebfuzz" ] || fail "no $BIN/ebfuzz"
[ -x "$BIN/ebmock" ] || fail "no $BIN/ebmock"

# --help documents every flag
"$BIN/ebfuzz" --help > "$T/help.out" 2>&1 || fail "--help did not exit 0"
for flag in --url --jwt-secret --jwt-private-key --jwt-issuer --jwt-audience --seed \
	--runs --duration --timeout-ms --batch --findings-dir --max-saved --json \
	--junit --html --verbose --replay --help; do
	grep -q -- "$flag" "$T/help.out" || fail "--help does not mention $flag"
done

# usage errors exit 2
"$BIN/ebfuzz" > "$T/usage.out" 2>&1; rc=$?
[ $rc -eq 2 ] || fail "no arguments: exit $rc, expected 2"
"$BIN/ebfuzz" --url http://127.0.0.1:1 --jwt-secret s --runs x > "$T/usage.out" 2>&1; rc=$?
[ $rc -eq 2 ] || fail "--runs x: exit $rc, expected 2"
"$BIN/ebfuzz" --url http://127.0.0.1:1 > "$T/usage.out" 2>&1; rc=$?
[ $rc -eq 2 ] || fail "no token flag: exit $rc, expected 2"

# an unreachable target exits 3: a port that was just free
start_mock
DEAD=$PORT
stop_mock
"$BIN/ebfuzz" --url "http://127.0.0.1:$DEAD" --jwt-secret "$SECRET" --runs 5 \
	--timeout-ms 1000 > "$T/unreachable.out" 2>&1; rc=$?
[ $rc -eq 3 ] || fail "unreachable target: exit $rc, expected 3"

# the bounded clean run
start_mock

# a token the server refuses is a setup error (exit 2), not 401 findings
"$BIN/ebfuzz" --url "http://127.0.0.1:$PORT" --jwt-secret not-the-secret --runs 5 \
	--findings-dir "$T/refused" > "$T/refused.out" 2>&1; rc=$?
[ $rc -eq 2 ] || fail "refused token: exit $rc, expected 2"
grep -q "refuses ebfuzz's token" "$T/refused.out" || fail "refused token: no explanation"

start=$(date +%s)
"$BIN/ebfuzz" --url "http://127.0.0.1:$PORT" --jwt-secret "$SECRET" --seed "$SEED" \
	--runs "$RUNS" --timeout-ms 2000 --findings-dir "$T/findings" \
	--json "$T/report.json" --junit "$T/report.xml" --html "$T/report.html" \
	> "$T/clean.out" 2> "$T/clean.log"; rc=$?
took=$(( $(date +%s) - start ))
[ $rc -eq 0 ] || fail "clean ebmock: ebfuzz exit $rc, expected 0 (findings above)"
grep -q "$RUNS cases, 0 findings" "$T/clean.out" || fail "summary line missing"
for f in report.json report.xml report.html; do
	[ -s "$T/$f" ] || fail "no $f written"
done
grep -q '"earlybird-report/1"' "$T/report.json" || fail "report.json lacks its schema"
[ ! -d "$T/findings" ] || [ -z "$(ls "$T/findings")" ] || fail "finding files on a clean run"
kill -0 "$MOCK_PID" 2>/dev/null || fail "ebmock died during the run"
echo "ebfuzz: $RUNS cases against clean ebmock in ${took}s, no findings"
exit 0
