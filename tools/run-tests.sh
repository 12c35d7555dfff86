#!/bin/sh
# Runs every built test of one build folder and prints one closing line
# "N passed, N failed". Usage: tools/run-tests.sh build/<config>
#
# Check binaries and corpus replays are quick and run one after another; the
# scripted tests (the suites proving themselves, smoke tests) are independent
# and run EB_TEST_JOBS at a time (default 2, one per core), the longest
# first, so the slowest ones overlap instead of queueing. Every test writes
# its own log under <build>/test-logs; a failing test's log tail is printed.
set -u

# One test: "run-tests.sh __one BUILD NAME CMD..." — runs it, prints its
# PASS/FAIL line (and log tail), leaves NAME.status with 0 or 1.
if [ "${1:-}" = "__one" ]; then
	B=$2; name=$3; shift 3
	start=$(date +%s)
	: > "$B/test-logs/$name.running"
	if "$@" > "$B/test-logs/$name.log" 2>&1; then
		echo 0 > "$B/test-logs/$name.status"
		printf '  PASS  %-40s %4ss\n' "$name" "$(( $(date +%s) - start ))"
	else
		echo 1 > "$B/test-logs/$name.status"
		# One printf so parallel tests do not interleave a failure's lines.
		printf '  FAIL  %-40s %4ss\n%s\n' "$name" "$(( $(date +%s) - start ))" \
			"$(sed 's/^/        | /' "$B/test-logs/$name.log" | tail -n 80)"
	fi
	rm -f "$B/test-logs/$name.running"
	exit 0
fi

B=${1:?usage: run-tests.sh build/<config>}
EB_BIN_DIR=$(cd "$B/bin" 2>/dev/null && pwd || echo "$B/bin")
export EB_BIN_DIR
EB_ROOT=$(pwd)
export EB_ROOT
export EB_BUILD_DIR="$B"
case "$B" in *sanitize*)
	export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:halt_on_error=1"
	export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
esac
JOBS=${EB_TEST_JOBS:-2}
SELF="$EB_ROOT/tools/run-tests.sh"

mkdir -p "$B/test-logs"
rm -f "$B"/test-logs/*.status "$B"/test-logs/*.running "$B"/test-logs/headline*.txt
t0=$(date +%s)

for t in "$B"/tests/check_*; do
	[ -x "$t" ] || continue
	sh "$SELF" __one "$B" "$(basename "$t")" "$t"
done

# Fuzz targets as plain programs over their committed corpora.
for f in "$B"/fuzz/fuzz_*; do
	[ -x "$f" ] || continue
	n=$(basename "$f")
	sh "$SELF" __one "$B" "$n-corpus" "$f" "fuzz/corpus/${n#fuzz_}"
done

# A progress line every 30 s while the scripts run (the proofs take minutes).
(
	while sleep 30; do
		[ -f "$B/test-logs/.scripts-done" ] && exit 0
		r=$(cd "$B/test-logs" && ls -- *.running 2>/dev/null | sed 's/\.running$//' | tr '\n' ' ')
		[ -n "$r" ] && printf '  ...   %ss: running %s\n' "$(( $(date +%s) - t0 ))" "$r"
	done
) &
ticker=$!
rm -f "$B/test-logs/.scripts-done"

# Scripted end-to-end tests, the known long ones first.
{
	for s in conformance_selfproof client_selfproof conformance_variations; do
		[ -f "tests/scripts/$s.sh" ] && echo "$s"
	done
	for s in tests/scripts/*.sh; do
		[ -f "$s" ] || continue
		n=$(basename "$s" .sh)
		case "$n" in conformance_selfproof|client_selfproof|conformance_variations) ;; *) echo "$n" ;; esac
	done
} | xargs -P "$JOBS" -I{} sh "$SELF" __one "$B" {} sh "tests/scripts/{}.sh" "$B"
: > "$B/test-logs/.scripts-done"
kill "$ticker" 2>/dev/null
wait "$ticker" 2>/dev/null

passed=0
failed=0
failed_names=""
for st in "$B"/test-logs/*.status; do
	[ -f "$st" ] || continue
	if [ "$(cat "$st")" = 0 ]; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		failed_names="$failed_names $(basename "$st" .status)"
	fi
done

# Unit checks run: the sum of Check's "Checks: N" lines.
checks=$(cat "$B"/test-logs/check_*.log 2>/dev/null |
	awk '/Checks: [0-9]+/ { sub(/.*Checks: /, ""); sub(/,.*/, ""); n += $0 } END { print n + 0 }')

echo
echo "unit and integration checks: $checks run"
# Headlines the proofs leave behind (what a user came for), then the count.
for h in "$B"/test-logs/headline*.txt; do
	[ -f "$h" ] && cat "$h"
done
echo "tests took $(( $(date +%s) - t0 )) s (scripts $JOBS at a time)"
if [ "$failed" -ne 0 ]; then
	echo "failed:$failed_names"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
