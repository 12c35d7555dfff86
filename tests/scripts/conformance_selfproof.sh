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

# "id<TAB>failedRule" of every FAIL case of a JSON report (the writer puts
# each case member on its own line, three tabs deep).
failed_cases() {
	awk '
	/^\t\t\t"id":\t"/ { id = $0; sub(/^[^:]*:\t"/, "", id); sub(/",?$/, "", id); out = ""; next }
	/^\t\t\t"outcome":\t"/ { out = $0; sub(/^[^:]*:\t"/, "", out); sub(/",?$/, "", out); next }
	/^\t\t\t"failedRule":\t"/ {
		if (out == "FAIL") { r = $0; sub(/^[^:]*:\t"/, "", r); sub(/",?$/, "", r); print id "\t" r }
	}' "$1"
}

count_outcome() {
	grep -c -P "^\t\t\t\"outcome\":\t\"$2\"" "$1"
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
	ids=$(failed_cases "$SP_TMP/d-$NAME.json" 2>/dev/null | awk -F '\t' -v r="$RULE" '$2 == r { printf "%s%s", sep, $1; sep = " " }')
	if [ "$rc" -eq 1 ] && [ -n "$ids" ]; then
		printf 'OK\t%s\t%s\t%s\n' "$NAME" "$RULE" "$ids" >"$res"
	else
		other=$(failed_cases "$SP_TMP/d-$NAME.json" 2>/dev/null | awk -F '\t' '{ printf "%s%s(%s)", sep, $1, $2; sep = " " }')
		printf 'MISS\t%s\t%s\texit %s; failing cases: %s\n' "$NAME" "$RULE" "$rc" "${other:-none}" >"$res"
	fi
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

for b in "$MOCK" "$CONF"; do
	if [ ! -x "$b" ]; then
		echo "selfproof: $b not built" >&2
		exit 1
	fi
done
if ! command -v openssl >/dev/null 2>&1; then
	echo "selfproof: the openssl command is needed to make an RSA key pair" >&2
	exit 1
fi
openssl genrsa -out "$SP_TMP/key.pem" 2048 2>/dev/null &&
	openssl rsa -in "$SP_TMP/key.pem" -pubout -out "$SP_TMP/pub.pem" 2>/dev/null || {
	echo "selfproof: RSA key generation failed" >&2
	exit 1
}
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
np=$(count_outcome "$J" PASS)
nf=$(count_outcome "$J" FAIL)
nn=$(count_outcome "$J" NON-STRICT)
ns=$(count_outcome "$J" SKIP)
ne=$(count_outcome "$J" ERROR)
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
miss=0
echo
printf '%-28s %-11s %s\n' "defect" "rule" "failing cases citing the rule"
while IFS="$(printf '\t')" read -r name rule _; do
	r=$SP_TMP/res/$name
	if [ ! -f "$r" ]; then
		printf '%-28s %-11s MISSED: no result\n' "$name" "$rule"
		miss=$((miss + 1))
		continue
	fi
	st=$(cut -f1 "$r")
	what=$(cut -f4- "$r")
	if [ "$st" = OK ]; then
		printf '%-28s %-11s %s\n' "$name" "$rule" "$what"
	else
		printf '%-28s %-11s MISSED: %s\n' "$name" "$rule" "$what"
		miss=$((miss + 1))
	fi
done <"$SP_TMP/defects.txt"
echo
echo "defects caught: $((nd - miss)) of $nd; total $(($(date +%s) - t0)) s"
printf 'defects caught: %s of %s planted ebmock defects, each FAILs a case citing its rule\n' \
	"$((nd - miss))" "$nd" >>"$HEADLINE"
if [ "$miss" -ne 0 ]; then
	echo "selfproof: $miss defect(s) not caught for their rule"
	exit 1
fi
exit 0
