#!/bin/sh
# The coverage matrix blames the rule a case broke, not every rule it cites
# against ebmock --defect echo-own-changes, which breaks SYNC-5
# only, the failing cases cite other rules too (SYNC-1, VER-1, FALLBACK-...),
# but the only rule whose status is FAIL in report.json's "rules" (the
# matrix of the HTML) is SYNC-5. Before, 7 rules showed FAIL.
# Usage: sh tests/scripts/conformance_matrix.sh build/<config>   (EB_BIN_DIR wins)
set -u
B=${1:?usage: conformance_matrix.sh build/<config>}
BIN=${EB_BIN_DIR:-$B/bin}
T=$(mktemp -d "${TMPDIR:-/tmp}/matrix.XXXXXX")
SECRET=matrix-secret-30fe
MOCK_PID=""

# shellcheck source=tools/lib-proc.sh
. "$(dirname "$0")/../../tools/lib-proc.sh"

cleanup() { proc_stop "$MOCK_PID"; rm -rf "$T"; }
trap cleanup EXIT
trap 'exit 2' INT TERM

for p in ebmock ebconform; do
	[ -x "$BIN/$p" ] || { echo "FAIL: no $BIN/$p"; exit 1; }
done
proc_start MOCK_PID "$T/mock.log" "$T/port" "$BIN/ebmock" --quiet --jwt-secret "$SECRET" \
	--defect echo-own-changes
if ! proc_wait_port PORT "$MOCK_PID" "$T/port" 10; then
	echo "FAIL: ebmock $PROC_ERR"
	cat "$T/mock.log"
	exit 1
fi
# the categories of the cases that catch this defect, and their neighbours
EB_JWT_SECRET=$SECRET "$BIN/ebconform" --url "http://127.0.0.1:$PORT" --cases 'sync/*' \
	--cases 'versioning/*' --cases 'fallback/*' --cases 'feed/*' --json "$T/r.json" \
	> "$T/out" 2>&1
rc=$?
if [ "$rc" != 1 ]; then
	echo "FAIL: ebconform exit $rc against the defect, want 1"
	tail -n 30 "$T/out"
	exit 1
fi
# rule ids whose matrix status is FAIL, and the rules the failing cases cite
failing=$(awk '/"rules":/ { r = 1 } r && /"id":/ { id = $0; sub(/.*"id":[[:space:]]*"/, "", id); sub(/".*/, "", id) }
	r && /"status":[[:space:]]*"FAIL"/ { print id }' "$T/r.json" | sort -u | tr '\n' ' ')
# the rules the failing cases cite (one "rules": [...] line each)
cited=$(awk '/"rules":[[:space:]]*\[/ { rules = $0 } /"outcome":[[:space:]]*"FAIL"/ { print rules }' \
	"$T/r.json" | tr -c 'A-Z0-9-\n' ' ' | tr ' ' '\n' | grep -E '^[A-Z]+(-[A-Z]+)*-[0-9]+$' |
	sort -u | tr '\n' ' ')
echo "rules FAIL in the matrix: $failing(the failing cases cite: $cited)"
# the test means something only when the failing cases cite other rules too
[ "$cited" != "SYNC-5 " ] || { echo "FAIL: the failing cases cite SYNC-5 only"; exit 1; }
if [ "$failing" != "SYNC-5 " ]; then
	echo "FAIL: the matrix should show SYNC-5 alone failing, shows: $failing"
	grep -n '"failedRule"' "$T/r.json" | head
	exit 1
fi
echo "conformance_matrix: echo-own-changes fails SYNC-5 alone in the matrix"
exit 0
