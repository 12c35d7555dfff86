#!/bin/sh
# The client suite proves itself against the reference SDK (ebclient):
#  1. `ebconform --driver 'ebclient --driver'` must exit 0 with no FAIL and no
#     ERROR over every client case;
#  2. for every line of `ebclient --defect list` (NAME<TAB>RULE<TAB>text),
#     `ebconform --driver 'ebclient --driver --defect NAME' --cases <each case
#     citing RULE>` must exit 1 with at least one FAIL case whose failedRule
#     is RULE. The defect runs go 3 at a time.
# Usage: sh tests/scripts/client_selfproof.sh build/<config>
# (EB_BIN_DIR, when set, names the bin folder.)
set -u

if [ "${1:-}" = "__defect" ]; then
	MODE=defect
	shift
	NAME=$1
	RULE=$2
else
	MODE=main
	B=${1:?usage: client_selfproof.sh build/<config>}
	EB_BIN_DIR=${EB_BIN_DIR:-$B/bin}
	EB_BIN_DIR=$(cd "$EB_BIN_DIR" && pwd)
	export EB_BIN_DIR
	CS_TMP=$(mktemp -d "${TMPDIR:-/tmp}/ebc-clientproof.XXXXXX")
	export CS_TMP
	# Sanitizers slow every process down: the SDK's timers run at half
	# the default speed (--clock-scale 0.02), so the fixed 100 ms of slack
	# is smaller beside them. Stretching the suite's slack instead (its
	# time scale) would let a late catch-up look "at once" and hide
	# no-catch-up.
	case "$B" in *sanitize*) CS_CLOCK=0.02 ;; *) CS_CLOCK=0.01 ;; esac
	export CS_CLOCK
fi

CONF=$EB_BIN_DIR/ebconform
CLIENT=$EB_BIN_DIR/ebclient

# shellcheck source=tools/lib-suite.sh
. "$(dirname "$0")/../../tools/lib-suite.sh"

if [ "$MODE" = defect ]; then
	res=$CS_TMP/res/$NAME
	# --cases for every client case citing RULE (third column of --list).
	set --
	for id in $(awk -F '\t' -v r="$RULE" '{ n = split($3, a, ","); for (i = 1; i <= n; i++) if (a[i] == r) print $1 }' "$CS_TMP/list.txt"); do
		set -- "$@" --cases "$id"
	done
	if [ "$#" -eq 0 ]; then
		printf 'MISS\t%s\t%s\tno client case cites %s\n' "$NAME" "$RULE" "$RULE" >"$res"
		exit 0
	fi
	"$CONF" --driver "$CLIENT --driver --defect $NAME" --clock-scale "$CS_CLOCK" "$@" \
		--json "$CS_TMP/d-$NAME.json" >"$CS_TMP/d-$NAME.out" 2>"$CS_TMP/d-$NAME.err"
	rc=$?
	suite_defect_result "$res" "$NAME" "$RULE" "$rc" "$CS_TMP/d-$NAME.json"
	exit 0
fi

# ---- main -----------------------------------------------------------------------

trap 'rm -rf "$CS_TMP"' EXIT
trap 'exit 2' INT TERM

suite_need_bins client_selfproof "$CONF" "$CLIENT" "$EB_BIN_DIR/ebmock" || exit 1
mkdir -p "$CS_TMP/res"
t0=$(date +%s)
if ! "$CONF" --list --driver "$CLIENT --driver" >"$CS_TMP/list.txt"; then
	echo "client_selfproof: ebconform --list --driver failed" >&2
	exit 1
fi

# 1. the reference SDK passes every client case
"$CONF" --driver "$CLIENT --driver" --clock-scale "$CS_CLOCK" --json "$CS_TMP/clean.json" \
	>"$CS_TMP/clean.out" 2>"$CS_TMP/clean.err"
rc=$?
J=$CS_TMP/clean.json
if [ ! -s "$J" ]; then
	echo "client_selfproof: no report from the clean run (exit $rc)"
	cat "$CS_TMP/clean.err" "$CS_TMP/clean.out"
	exit 1
fi
np=$(suite_count_outcome "$J" PASS)
nf=$(suite_count_outcome "$J" FAIL)
nn=$(suite_count_outcome "$J" NON-STRICT)
ne=$(suite_count_outcome "$J" ERROR)
echo "clean ebclient: exit $rc — $np PASS, $nf FAIL, $nn NON-STRICT, $ne ERROR ($(($(date +%s) - t0)) s)"
# The headline tools/run-tests.sh prints at the end of make test.
HEADLINE=$B/test-logs/headline-client.txt
mkdir -p "$B/test-logs"
printf 'client suite: %s of %s cases passed with the reference SDK at clock scale %s (%s FAIL, %s ERROR, %s NON-STRICT)\n' \
	"$np" "$((np + nf + nn + ne))" "$CS_CLOCK" "$nf" "$ne" "$nn" >"$HEADLINE"
if [ "$rc" -ne 0 ] || [ "$nf" -ne 0 ] || [ "$ne" -ne 0 ] || [ "$nn" -ne 0 ]; then
	echo "client_selfproof: the reference SDK must pass every client case"
	cat "$CS_TMP/clean.out"
	exit 1
fi

# 2. every client defect is caught by a case citing its rule
"$CLIENT" --defect list >"$CS_TMP/defects.txt" || {
	echo "client_selfproof: ebclient --defect list failed"
	exit 1
}
nd=$(grep -c . "$CS_TMP/defects.txt")
t1=$(date +%s)
echo "defect runs: $nd defects, 3 at a time"
awk -F '\t' 'NF >= 2 { print $1 " " $2 }' "$CS_TMP/defects.txt" |
	xargs -P 3 -n 2 sh "$0" __defect
echo
suite_defect_table "$CS_TMP/res" "$CS_TMP/defects.txt" 19
miss=$SUITE_MISS
echo
echo "client defects caught: $((nd - miss)) of $nd; defect runs $(($(date +%s) - t1)) s, total $(($(date +%s) - t0)) s"
printf 'client defects caught: %s of %s planted ebclient defects, each FAILs a case citing its rule\n' \
	"$((nd - miss))" "$nd" >>"$HEADLINE"
if [ "$miss" -ne 0 ]; then
	echo "client_selfproof: $miss client defect(s) not caught for their rule"
	exit 1
fi
exit 0
