#!/bin/sh
# Runs every built test of one build folder and prints one closing line
# "N passed, N failed". Usage: tools/run-tests.sh build/<config>
set -u
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

passed=0
failed=0
failed_names=""

run() {
	name=$1; shift
	start=$(date +%s)
	if "$@" > "$B/test-logs/$name.log" 2>&1; then
		passed=$((passed + 1))
		printf '  PASS  %-40s %4ss\n' "$name" "$(( $(date +%s) - start ))"
	else
		failed=$((failed + 1))
		failed_names="$failed_names $name"
		printf '  FAIL  %-40s %4ss\n' "$name" "$(( $(date +%s) - start ))"
		sed 's/^/        | /' "$B/test-logs/$name.log" | tail -n 80
	fi
}

mkdir -p "$B/test-logs"
for t in "$B"/tests/check_*; do
	[ -x "$t" ] || continue
	run "$(basename "$t")" "$t"
done

# Fuzz targets as plain programs over their committed corpora.
for f in "$B"/fuzz/fuzz_*; do
	[ -x "$f" ] || continue
	n=$(basename "$f")
	run "$n-corpus" "$f" "fuzz/corpus/${n#fuzz_}"
done

# Scripted end-to-end tests (the suite proving itself, load smoke, ...).
for s in tests/scripts/*.sh; do
	[ -f "$s" ] || continue
	run "$(basename "$s" .sh)" sh "$s" "$B"
done

echo
if [ "$failed" -ne 0 ]; then
	echo "failed:$failed_names"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
