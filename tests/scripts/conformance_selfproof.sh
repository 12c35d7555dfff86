#!/bin/sh
# The conformance suite proves itself against ebmock:
#  1. a clean ebmock (HS256 + RS256, issuer, audience, rate limits on) must
#     get exit 0 with no FAIL and no ERROR;
#  2. for every line of `ebmock --defect list` (NAME<TAB>RULE<TAB>text), an
#     ebmock with that defect must get exit 1 and at least one FAIL case whose
#     failedRule is RULE. The defect runs go 4 at a time.
# Usage: sh tests/scripts/conformance_selfproof.sh build/<config>
# (EB_BIN_DIR, when set, names the bin folder.)
set -u

if [ "${1:-}" = "__defect" ]; then
	MODE=defect
	shift
	NAME=$1
	RULE=$2
else
	MODE=main
	B=${1:?usage: conformance_selfproof.sh build/<config>}
	EB_BIN_DIR=${EB_BIN_DIR:-$B/bin}
	export EB_BIN_DIR
	SP_TMP=$(mktemp -d "${TMPDIR:-/tmp}/ebc-selfproof.XXXXXX")
	export SP_TMP
	case "$B" in *sanitize*) SP_SCALE=3 ;; *) SP_SCALE=1 ;; esac
	export SP_SCALE
fi

MOCK=$EB_BIN_DIR/ebmock
CONF=$EB_BIN_DIR/ebconform
SECRET=selfproof-hs256-secret
ISS=ebc-selfproof-issuer
AUD=ebc-selfproof-audience

# shellcheck source=tools/lib-proc.sh
. "$(dirname "$0")/../../tools/lib-proc.sh"
# shellcheck source=tools/lib-suite.sh
. "$(dirname "$0")/../../tools/lib-suite.sh"

# Starts ebmock with the common flags plus "$@"; sets MOCK_PID and PORT.
start_mock() {
	tag=$1
	shift
	proc_start MOCK_PID "$SP_TMP/$tag.log" "$SP_TMP/$tag.port" "$MOCK" --quiet \
		--jwt-secret "$SECRET" --jwt-public-key "$SP_TMP/pub.pem" \
		--jwt-issuer "$ISS" --jwt-audience "$AUD" \
		--rate-http 200 --rate-http-burst 50 --rate-ws 100 --rate-ws-burst 50 \
		--coalesce-ms 20 "$@"
	echo "$MOCK_PID" >>"$SP_TMP/pids"
	if ! proc_wait_port PORT "$MOCK_PID" "$SP_TMP/$tag.port" 10; then
		echo "selfproof: ebmock ($tag) did not start ($PROC_ERR); its log:" >&2
		cat "$SP_TMP/$tag.log" >&2
		return 1
	fi
	return 0
}

run_suite() {
	tag=$1
	"$CONF" --url "http://127.0.0.1:$PORT" --jwt-secret "$SECRET" \
		--jwt-private-key "$SP_TMP/key.pem" --jwt-issuer "$ISS" --jwt-audience "$AUD" \
		--time-scale "$SP_SCALE" --json "$SP_TMP/$tag.json" >"$SP_TMP/$tag.out" 2>"$SP_TMP/$tag.err"
}

if [ "$MODE" = defect ]; then
	trap 'proc_stop "${MOCK_PID:-}"' EXIT INT TERM
	res=$SP_TMP/res/$NAME
	if ! start_mock "d-$NAME" --defect "$NAME"; then
		printf 'MISS\t%s\t%s\tebmock did not start\n' "$NAME" "$RULE" >"$res"
		exit 0
	fi
	run_suite "d-$NAME"
	rc=$?
	proc_stop "$MOCK_PID"
	suite_defect_result "$res" "$NAME" "$RULE" "$rc" "$SP_TMP/d-$NAME.json"
	exit 0
fi

# ---- main -----------------------------------------------------------------------

cleanup() {
	if [ -f "$SP_TMP/pids" ]; then
		proc_stop "$(cat "$SP_TMP/pids")"
	fi
	rm -rf "$SP_TMP"
}
trap cleanup EXIT
trap 'exit 2' INT TERM

suite_need_bins selfproof "$MOCK" "$CONF" || exit 1
suite_rsa_keys selfproof "$SP_TMP" || exit 1
mkdir -p "$SP_TMP/res"
t0=$(date +%s)

# 1. clean server: every required case passes
start_mock clean || exit 1
CLEAN_PID=$MOCK_PID
run_suite clean
rc=$?
proc_stop "$CLEAN_PID"
J=$SP_TMP/clean.json
if [ ! -s "$J" ]; then
	echo "selfproof: no report from the clean run (exit $rc)"
	cat "$SP_TMP/clean.err" "$SP_TMP/clean.out"
	exit 1
fi
np=$(suite_count_outcome "$J" PASS)
nf=$(suite_count_outcome "$J" FAIL)
nn=$(suite_count_outcome "$J" NON-STRICT)
ns=$(suite_count_outcome "$J" SKIP)
ne=$(suite_count_outcome "$J" ERROR)
echo "clean ebmock: exit $rc — $np PASS, $nf FAIL, $nn NON-STRICT, $ns SKIP, $ne ERROR ($(($(date +%s) - t0)) s)"
# The headline tools/run-tests.sh prints at the end of make test.
HEADLINE=$B/test-logs/headline-conformance.txt
mkdir -p "$B/test-logs"
printf 'server suite: %s of %s cases passed against a clean ebmock (%s FAIL, %s ERROR, %s SKIP, %s NON-STRICT)\n' \
	"$np" "$((np + nf + nn + ns + ne))" "$nf" "$ne" "$ns" "$nn" >"$HEADLINE"
if [ "$rc" -ne 0 ] || [ "$nf" -ne 0 ] || [ "$ne" -ne 0 ]; then
	echo "selfproof: the clean ebmock must pass every case"
	cat "$SP_TMP/clean.out"
	echo "--- ebmock log"
	tail -n 50 "$SP_TMP/clean.log"
	exit 1
fi
if [ "$ns" -ne 0 ] || [ "$nn" -ne 0 ]; then
	grep -E '^  (SKIP|NON-STRICT) ' -A 3 "$SP_TMP/clean.out" | sed 's/^/  /'
fi

# 2. every defect is caught for its rule
# (the cluster-* defects need nodes on one database: cluster_suite.sh)
"$MOCK" --defect list | grep -v '^cluster-' >"$SP_TMP/defects.txt" || {
	echo "selfproof: ebmock --defect list failed"
	exit 1
}
nd=$(grep -c . "$SP_TMP/defects.txt")
echo "defect runs: $nd defects, 4 at a time"
awk -F '\t' 'NF >= 2 { print $1 " " $2 }' "$SP_TMP/defects.txt" |
	xargs -P 4 -n 2 sh "$0" __defect
echo
suite_defect_table "$SP_TMP/res" "$SP_TMP/defects.txt" 11
miss=$SUITE_MISS
echo
echo "defects caught: $((nd - miss)) of $nd; total $(($(date +%s) - t0)) s"
printf 'defects caught: %s of %s planted ebmock defects, each FAILs a case citing its rule\n' \
	"$((nd - miss))" "$nd" >>"$HEADLINE"
if [ "$miss" -ne 0 ]; then
	echo "selfproof: $miss defect(s) not caught for their rule"
	exit 1
fi
exit 0
