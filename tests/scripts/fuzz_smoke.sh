#!/bin/sh
# make fuzz stays runnable: tools/fuzz.sh builds the json and ids targets with
# clang + libFuzzer into a folder of this build, runs each for 2 s over its
# committed seeds (which it must not modify), and writes fuzz-stats.json with
# a clean verdict and nonzero exec counts. Skipped (exit 0, said so) when
# clang cannot build libFuzzer programs.
# Usage: sh tests/scripts/fuzz_smoke.sh build/<config>
set -u
B=${1:?usage: fuzz_smoke.sh build/<config>}
OUT=$B/fuzz-smoke

if ! command -v clang >/dev/null 2>&1; then
	echo "SKIP: no clang"
	exit 0
fi
T=$(mktemp -d "${TMPDIR:-/tmp}/fuzz_smoke.XXXXXX")
trap 'rm -rf "$T"' EXIT
printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n);\nint LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { (void)d; (void)n; return 0; }\n' > "$T/t.c"
if ! clang -fsanitize=fuzzer "$T/t.c" -o "$T/t" > /dev/null 2>&1; then
	echo "SKIP: clang cannot link -fsanitize=fuzzer"
	exit 0
fi

before=$(ls -l fuzz/corpus/json fuzz/corpus/ids | cksum)
FUZZ_OUT=$OUT sh tools/fuzz.sh 2 json ids > "$T/fuzz.log" 2>&1; rc=$?
cat "$T/fuzz.log" | grep -v '^  CC\|^  LINK'
[ $rc -eq 0 ] || { echo "FAIL: tools/fuzz.sh exit $rc"; tail -n 40 "$OUT"/logs/*.log; exit 1; }
after=$(ls -l fuzz/corpus/json fuzz/corpus/ids | cksum)
[ "$before" = "$after" ] || { echo "FAIL: the committed seeds changed"; exit 1; }
[ -s "$OUT/fuzz-stats.json" ] || { echo "FAIL: no fuzz-stats.json"; exit 1; }
for t in fuzz_json fuzz_ids; do
	grep -q "\"target\":\"$t\",.*\"verdict\":\"clean\"" "$OUT/fuzz-stats.json" ||
		{ echo "FAIL: $t not clean in fuzz-stats.json"; exit 1; }
	grep "\"target\":\"$t\"" "$OUT/fuzz-stats.json" | grep -q '"execs":[1-9]' ||
		{ echo "FAIL: $t ran no inputs"; exit 1; }
done
echo "fuzz smoke: json and ids built with libFuzzer and ran clean"
exit 0
