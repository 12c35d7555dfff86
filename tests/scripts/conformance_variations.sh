#!/bin/sh
# The variation matrix: the whole conformance suite against ebmock in every
# configuration the spec allows (larger advertised limits, 250 ms coalescing,
# slow answers, tight buckets, leeway 0 and 60 s, a small skew allowance, no
# GET /api/limits, the two no-auth socket behaviours, RS256 only, no
# issuer/audience, SQLite, auth on the socket charged to the address).
# Every configuration must give exit 0 with no FAIL
# and no ERROR: the server is correct in all of them, so a FAIL there is a bug
# of the suite. Configurations run 4 at a time; the slow cases (10 s auth
# timeout, token expiry) run in the "default" configuration only.
# Usage: sh tests/scripts/conformance_variations.sh build/<config> [NAME...]
# (EB_BIN_DIR, when set, names the bin folder; NAMEs pick configurations;
# CV_SHOW=1 also lists the SKIP and NON-STRICT cases of passing ones.)
set -u

if [ "${1:-}" = "__one" ]; then
	MODE=one
	NAME=$2
else
	MODE=main
	B=${1:?usage: conformance_variations.sh build/<config> [NAME...]}
	shift
	EB_BIN_DIR=${EB_BIN_DIR:-$B/bin}
	export EB_BIN_DIR
	CV_TMP=$(mktemp -d "${TMPDIR:-/tmp}/ebc-variations.XXXXXX")
	export CV_TMP
	case "$B" in *sanitize*) CV_SCALE=3 ;; *) CV_SCALE=1 ;; esac
	export CV_SCALE
	CV_ONLY="$*"
	export CV_ONLY
fi

MOCK=$EB_BIN_DIR/ebmock
CONF=$EB_BIN_DIR/ebconform
SECRET=variations-hs256-secret
ISS=ebc-variations-issuer
AUD=ebc-variations-audience
# the waits of these cases are fixed by the spec (10 s, leeway + 2 s): one
# configuration runs them, the others leave them out to stay in budget
SLOW="--exclude ws/auth-timeout --exclude ws/token-expiry-closes --exclude ws/reauth-new-expiry"

# shellcheck source=tools/lib-proc.sh
. "$(dirname "$0")/../../tools/lib-proc.sh"
# shellcheck source=tools/lib-suite.sh
. "$(dirname "$0")/../../tools/lib-suite.sh"

# The configurations: NAME|ebmock flags|ebconform flags. The auth flags are
# spelt out per line; K and P stand for the key files; X2 doubles the time
# scale of that run (the --strict latency SHOULD, where the scheduling noise
# of a loaded CI machine, not the server, would decide the p90: a suite that
# did not count from the end of the 250 ms window still fails it, 250 ms
# being above 2 x 100 ms).
configs() {
	A_HS="--jwt-secret $SECRET"
	A_ISS="--jwt-issuer $ISS --jwt-audience $AUD"
	M_AUTH="$A_HS --jwt-public-key P $A_ISS"
	C_AUTH="$A_HS --jwt-private-key K $A_ISS"
	R="--rate-http 200 --rate-http-burst 50 --rate-ws 100 --rate-ws-burst 50"
	cat <<EOF
default|$M_AUTH $R --coalesce-ms 20|$C_AUTH
big-limits|$M_AUTH $R --max-segment-bytes 512 --max-changes 1000 --max-value-bytes 131072 --max-change-id-bytes 256 --max-path-segments 64 --max-value-depth 48 --max-body-bytes 2097152 --max-frame-bytes 131072 --max-subscriptions 200|$C_AUTH $SLOW
big-page|$M_AUTH $R --max-page-limit 2000|$C_AUTH $SLOW
coalesce-250|$M_AUTH $R --coalesce-ms 250|$C_AUTH $SLOW
coalesce-250-strict|$M_AUTH $R --coalesce-ms 250|$C_AUTH --strict X2 $SLOW
slow-200ms|$M_AUTH $R --fault delay-ms=200|$C_AUTH $SLOW
tight-ws|$M_AUTH --rate-http 200 --rate-http-burst 50 --rate-ws 2 --rate-ws-burst 5|$C_AUTH $SLOW
tight-http|$M_AUTH --rate-http 10 --rate-http-burst 20 --rate-ws 100 --rate-ws-burst 50|$C_AUTH $SLOW
preauth-addr|$M_AUTH --rate-http 200 --rate-http-burst 50 --rate-ws 10 --rate-ws-burst 10 --rate-ws-preauth-addr|$C_AUTH $SLOW
leeway-0|$M_AUTH $R --jwt-leeway 0|$C_AUTH --jwt-leeway 0 $SLOW
leeway-60|$M_AUTH $R --jwt-leeway 60|$C_AUTH --jwt-leeway 60 $SLOW
skew-2s|$M_AUTH $R --timestamp-skew-ms 2000|$C_AUTH $SLOW
no-limits-endpoint|$M_AUTH $R --no-limits-endpoint|$C_AUTH $SLOW
no-auth-ignore|--no-auth --no-auth-ws ignore|--no-auth-server $SLOW
no-auth-answer|--no-auth --no-auth-ws answer $R|--no-auth-server $SLOW
rs256-only|--jwt-public-key P $A_ISS $R|--jwt-private-key K $A_ISS $SLOW
no-iss-aud|$A_HS $R|$A_HS $SLOW
sqlite|$M_AUTH $R --data D|$C_AUTH $SLOW
EOF
}

# "id<TAB>outcome<TAB>reason" of every case of a JSON report whose outcome is
# one of $2 (blank-separated), FAIL and ERROR by default (the writer puts
# each case member on its own line, three tabs deep).
bad_cases() {
	awk -v want=" ${2:-FAIL ERROR} " '
	/^\t\t\t"id":\t"/ { id = $0; sub(/^[^:]*:\t"/, "", id); sub(/",?$/, "", id); out = ""; next }
	/^\t\t\t"outcome":\t"/ { out = $0; sub(/^[^:]*:\t"/, "", out); sub(/",?$/, "", out); next }
	/^\t\t\t"reason":\t"/ {
		if (index(want, " " out " ")) { r = $0; sub(/^[^:]*:\t"/, "", r); sub(/",?$/, "", r); print id "\t" out "\t" r }
	}' "$1"
}

# Replaces the placeholders K, P and D of a flag list by the files.
subst_files() {
	for w in $1; do
		case "$w" in
		K) printf '%s ' "$CV_TMP/key.pem" ;;
		P) printf '%s ' "$CV_TMP/pub.pem" ;;
		D) printf '%s ' "$CV_TMP/$NAME.db" ;;
		X2) ;;
		*) printf '%s ' "$w" ;;
		esac
	done
}

if [ "$MODE" = one ]; then
	trap 'proc_stop "${MOCK_PID:-}"' EXIT INT TERM
	line=$(configs | grep "^$NAME|")
	mflags=$(subst_files "$(echo "$line" | cut -d'|' -f2)")
	cflags=$(subst_files "$(echo "$line" | cut -d'|' -f3)")
	scale=$CV_SCALE
	case " $(echo "$line" | cut -d'|' -f3) " in *" X2 "*) scale=$((CV_SCALE * 2)) ;; esac
	res=$CV_TMP/res/$NAME
	t0=$(date +%s)
	# shellcheck disable=SC2086 # word splitting of the flag lists is wanted
	proc_start MOCK_PID "$CV_TMP/$NAME.log" "$CV_TMP/$NAME.port" "$MOCK" $mflags
	if ! proc_wait_port PORT "$MOCK_PID" "$CV_TMP/$NAME.port" 10; then
		printf 'BAD\t%s\tebmock did not start (%s)\n' "$NAME" "$PROC_ERR" >"$res"
		exit 0
	fi
	# shellcheck disable=SC2086
	"$CONF" --url "http://127.0.0.1:$PORT" $cflags --time-scale "$scale" \
		--json "$CV_TMP/$NAME.json" >"$CV_TMP/$NAME.out" 2>"$CV_TMP/$NAME.err"
	rc=$?
	proc_stop "$MOCK_PID"
	MOCK_PID=""
	dt=$(($(date +%s) - t0))
	J=$CV_TMP/$NAME.json
	if [ ! -s "$J" ]; then
		printf 'BAD\t%s\texit %s, no report (%s s)\n' "$NAME" "$rc" "$dt" >"$res"
		exit 0
	fi
	nf=$(suite_count_outcome "$J" FAIL)
	ne=$(suite_count_outcome "$J" ERROR)
	summary="exit $rc: $(suite_count_outcome "$J" PASS) PASS, $nf FAIL, $(suite_count_outcome "$J" NON-STRICT) NON-STRICT, $(suite_count_outcome "$J" SKIP) SKIP, $ne ERROR ($dt s)"
	if [ "$rc" -eq 0 ] && [ "$nf" -eq 0 ] && [ "$ne" -eq 0 ]; then
		printf 'OK\t%s\t%s\n' "$NAME" "$summary" >"$res"
	else
		printf 'BAD\t%s\t%s\n' "$NAME" "$summary" >"$res"
	fi
	exit 0
fi

# ---- main -----------------------------------------------------------------------

cleanup() {
	rm -rf "$CV_TMP"
}
trap cleanup EXIT
trap 'exit 2' INT TERM

suite_need_bins variations "$MOCK" "$CONF" || exit 1
suite_rsa_keys variations "$CV_TMP" || exit 1
mkdir -p "$CV_TMP/res"
t0=$(date +%s)
names=$(configs | cut -d'|' -f1)
if [ -n "$CV_ONLY" ]; then
	for n in $CV_ONLY; do
		echo "$names" | grep -qx "$n" || {
			echo "variations: no configuration '$n' (have: $(echo $names))" >&2
			exit 2
		}
	done
	names=$CV_ONLY
fi
n=$(echo "$names" | wc -w)
echo "variation matrix: $n configurations, 4 at a time"
# the configuration with the slow cases first, so its waits overlap the rest
echo "$names" | tr ' ' '\n' | xargs -P 4 -I '{}' sh "$0" __one '{}'
bad=0
for name in $names; do
	r=$CV_TMP/res/$name
	if [ ! -f "$r" ]; then
		printf '%-20s NO RESULT\n' "$name"
		bad=$((bad + 1))
		continue
	fi
	printf '%-20s %s %s\n' "$name" "$(cut -f1 "$r")" "$(cut -f3- "$r")"
	if [ "${CV_SHOW:-0}" = 1 ] && [ -s "$CV_TMP/$name.json" ]; then
		bad_cases "$CV_TMP/$name.json" "SKIP NON-STRICT" | sed 's/^/  /'
	fi
	if [ "$(cut -f1 "$r")" != OK ]; then
		bad=$((bad + 1))
		line=$(configs | grep "^$name|")
		echo "  ebmock flags:    $(echo "$line" | cut -d'|' -f2)"
		echo "  ebconform flags: $(echo "$line" | cut -d'|' -f3)"
		if [ -s "$CV_TMP/$name.json" ]; then
			bad_cases "$CV_TMP/$name.json" | sed 's/^/  /'
		fi
		# a sanitizer report, or the end of ebconform's output
		if grep -q 'Sanitizer\|runtime error' "$CV_TMP/$name.err" 2>/dev/null; then
			echo "  --- ebconform's sanitizer report"
			grep -A 25 'ERROR: .*Sanitizer\|runtime error' "$CV_TMP/$name.err" | head -n 40 | sed 's/^/  /'
		elif [ ! -s "$CV_TMP/$name.json" ]; then
			sed 's/^/  /' "$CV_TMP/$name.err" "$CV_TMP/$name.out" 2>/dev/null | tail -n 20
		fi
		echo "  --- ebmock log (last 30 lines)"
		tail -n 30 "$CV_TMP/$name.log" 2>/dev/null | sed 's/^/  /'
	fi
done
echo "configurations passed: $(($(echo "$names" | wc -w) - bad)) of $(echo "$names" | wc -w); total $(($(date +%s) - t0)) s"
[ "$bad" -eq 0 ]
