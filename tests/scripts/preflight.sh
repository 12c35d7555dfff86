#!/bin/sh
# The preflight of every client program tells a wrong command from a broken
# server: against an ebmock with auth (secret, issuer, audience), each of
# ebconform, ebfuzz and ebload must exit 2 with a one-paragraph hint naming
# the likely flag and quoting the server's error for
#   - a wrong --jwt-secret,
#   - a wrong --jwt-issuer,
#   - --no-auth against a server that needs a token,
#   - a URL that is not an Early Bird server (a wrong base path on ebmock,
#     and a plain HTTP server when python3 is there),
# exit 3 for a port nobody listens on, and with the right flags run (exit 0).
# Usage: sh tests/scripts/preflight.sh build/<config>   (EB_BIN_DIR wins)
set -u
B=${1:?usage: preflight.sh build/<config>}
BIN=${EB_BIN_DIR:-$B/bin}
T=$(mktemp -d "${TMPDIR:-/tmp}/preflight.XXXXXX")
SECRET=preflight-secret-4b1d
ISS=preflight-issuer
AUD=preflight-audience
MOCK_PID=""
HTTP_PID=""
FAILED=0

# shellcheck source=tools/lib-proc.sh
. "$(dirname "$0")/../../tools/lib-proc.sh"

cleanup() { proc_stop "$MOCK_PID $HTTP_PID"; rm -rf "$T"; }
trap cleanup EXIT
trap 'exit 2' INT TERM

fail() {
	echo "FAIL: $*"
	FAILED=1
}

for p in ebmock ebconform ebfuzz ebload; do
	[ -x "$BIN/$p" ] || { echo "FAIL: no $BIN/$p"; exit 1; }
done
proc_start MOCK_PID "$T/mock.log" "$T/port" "$BIN/ebmock" --quiet --jwt-secret "$SECRET" \
	--jwt-issuer "$ISS" --jwt-audience "$AUD"
if ! proc_wait_port PORT "$MOCK_PID" "$T/port" 10; then
	echo "FAIL: ebmock $PROC_ERR"
	cat "$T/mock.log"
	exit 1
fi
URL="http://127.0.0.1:$PORT"

# run NAME PROG ARGS...: runs PROG with a short load; output in $T/NAME.out.
run() {
	name=$1 prog=$2
	shift 2
	case $prog in
	ebconform) set -- "$@" --cases 'versioning/*' ;;
	ebfuzz) set -- "$@" --runs 20 --findings-dir "$T/findings-$name" ;;
	ebload) set -- "$@" --connections 5 --duration 0.5 --drain 0.2 --quiet ;;
	esac
	"$BIN/$prog" "$@" > "$T/$name.out" 2>&1
	echo $?
}

# expect NAME PROG CODE PATTERN ARGS...: exit CODE and PATTERN (grep -E) in
# the output; a setup error also says that nothing was run.
expect() {
	name=$1 prog=$2 code=$3 pat=$4
	shift 4
	rc=$(run "$name" "$prog" "$@")
	if [ "$rc" != "$code" ]; then
		fail "$prog $name: exit $rc, expected $code"
		sed 's/^/    /' "$T/$name.out" | head -20
		return
	fi
	if ! grep -Eq -- "$pat" "$T/$name.out"; then
		fail "$prog $name: no hint matching /$pat/"
		sed 's/^/    /' "$T/$name.out" | head -20
		return
	fi
	if [ "$code" = 2 ] && ! grep -q "Nothing was run" "$T/$name.out"; then
		fail "$prog $name: the hint does not say that nothing was run"
	fi
	if [ "$code" = 2 ] && [ "$(grep -c . "$T/$name.out")" -gt 3 ]; then
		fail "$prog $name: more than a short hint:"
		sed 's/^/    /' "$T/$name.out" | head -20
	fi
	echo "  $prog $name: exit $rc"
}

GOOD="--jwt-secret $SECRET --jwt-issuer $ISS --jwt-audience $AUD"
DEAD=$(( PORT == 65535 ? PORT - 1 : PORT + 1 ))
for prog in ebconform ebfuzz ebload; do
	# shellcheck disable=SC2086 # GOOD is a list of words
	expect good "$prog" 0 "." --url "$URL" $GOOD
	expect wrong-secret "$prog" 2 "signature does not verify.*check --jwt-secret" \
		--url "$URL" --jwt-secret not-the-secret --jwt-issuer "$ISS" --jwt-audience "$AUD"
	expect wrong-issuer "$prog" 2 "iss is not the configured issuer.*check --jwt-issuer/--jwt-audience" \
		--url "$URL" --jwt-secret "$SECRET" --jwt-issuer not-the-issuer --jwt-audience "$AUD"
	expect no-auth "$prog" 2 "missing bearer token.*check --no-auth" --url "$URL" --no-auth
	# shellcheck disable=SC2086
	expect base-path "$prog" 2 "does not look like an Early Bird server.*answered 404" \
		--url "$URL/not/here" $GOOD
	# shellcheck disable=SC2086
	expect unreachable "$prog" 3 "unreachable" --url "http://127.0.0.1:$DEAD" $GOOD
done

# A plain HTTP server (no Early Bird routes at all), when python3 is there.
if command -v python3 > /dev/null 2>&1; then
	mkdir -p "$T/www"
	python3 -m http.server 0 --bind 127.0.0.1 --directory "$T/www" > "$T/http.log" 2>&1 &
	HTTP_PID=$!
	i=0
	while ! grep -q "port [0-9]" "$T/http.log" && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	HPORT=$(sed -n 's/.* port \([0-9]*\).*/\1/p' "$T/http.log" | head -1)
	if [ -n "$HPORT" ]; then
		for prog in ebconform ebfuzz ebload; do
			# shellcheck disable=SC2086
			expect plain-http "$prog" 2 "does not look like an Early Bird server.*text/html" \
				--url "http://127.0.0.1:$HPORT" $GOOD
		done
	else
		fail "python3 -m http.server did not start"
		cat "$T/http.log"
	fi
else
	echo "  (python3 not found: the plain-HTTP-server case is covered by the base-path one)"
fi

echo "preflight: $([ $FAILED = 0 ] && echo ok || echo FAILED)"
exit $FAILED
