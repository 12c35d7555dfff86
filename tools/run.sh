#!/bin/sh
# The kit's main job: start the reference server (ebmock) on a free port with
# a generated secret, run the whole conformance suite against it, write the
# reports to build/report (report.json, junit.xml, report.html), print the
# summary, stop the server; then run the client suite against the reference
# SDK (ebconform --driver 'ebclient --driver', reports in build/report/client)
# and exit with the worse of the two ebconform codes
# (0 pass, 1 a case failed, 2 usage/setup error, 3 server unreachable).
# Usage: sh tools/run.sh build/<config> [extra ebconform flags...]
set -u
B=${1:?usage: tools/run.sh build/<config> [ebconform flags]}
shift
BIN=${EB_BIN_DIR:-$B/bin}
MOCK=$BIN/ebmock
CONF=$BIN/ebconform
REPORT_DIR=${EB_REPORT_DIR:-build/report}

for b in "$MOCK" "$CONF"; do
	if [ ! -x "$b" ]; then
		echo "run: $b is not built (run make first)" >&2
		exit 2
	fi
done

# shellcheck source=tools/lib-proc.sh
. "$(dirname "$0")/lib-proc.sh"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/eb-run.XXXXXX")
pid=
trap 'proc_stop "$pid"; rm -rf "$tmp"' EXIT
trap 'exit 2' INT TERM

# a fresh secret per run: nothing to configure, nothing to leak
secret=$(od -An -N24 -tx1 /dev/urandom 2>/dev/null | tr -d ' \n')
[ -n "$secret" ] || secret="eb-run-$$-$(date +%s)"
issuer=eb-run-issuer
audience=eb-run-audience
if command -v openssl >/dev/null 2>&1 &&
	openssl genrsa -out "$tmp/key.pem" 2048 2>/dev/null &&
	openssl rsa -in "$tmp/key.pem" -pubout -out "$tmp/pub.pem" 2>/dev/null; then
	rsa_mock="--jwt-public-key $tmp/pub.pem"
	rsa_conf="--jwt-private-key $tmp/key.pem"
else
	echo "run: no openssl command; RS256 cases will SKIP" >&2
	rsa_mock=
	rsa_conf=
fi

# shellcheck disable=SC2086
proc_start pid "$tmp/ebmock.log" "$tmp/port" "$MOCK" --quiet --jwt-secret "$secret" \
	$rsa_mock --jwt-issuer "$issuer" --jwt-audience "$audience" \
	--rate-http 200 --rate-http-burst 50 --rate-ws 100 --rate-ws-burst 50 \
	--coalesce-ms 20
if ! proc_wait_port port "$pid" "$tmp/port" 10; then
	echo "run: ebmock did not start ($PROC_ERR); its log:" >&2
	cat "$tmp/ebmock.log" >&2
	exit 2
fi
# shellcheck disable=SC2154 # port is set by proc_wait_port (tools/lib-proc.sh)
url="http://127.0.0.1:$port"
echo "run: ebmock at $url (HS256 + RS256, issuer, audience, rate limits on)"
mkdir -p "$REPORT_DIR"

# shellcheck disable=SC2086
"$CONF" --url "$url" --jwt-secret "$secret" $rsa_conf --jwt-issuer "$issuer" \
	--jwt-audience "$audience" --report-dir "$REPORT_DIR" "$@"
rc=$?
proc_stop "$pid"
pid=
if [ $rc -le 1 ]; then
	echo "run: reports: $REPORT_DIR/report.html  $REPORT_DIR/junit.xml  $REPORT_DIR/report.json"
fi
if [ $rc -ne 0 ] && [ -s "$tmp/ebmock.log" ]; then
	echo "run: last lines of the ebmock log:"
	tail -n 20 "$tmp/ebmock.log"
fi
echo "run: ebconform exit code $rc"

# The client half: the suite plays the server (an ebmock per case) and the
# kit's reference SDK is the client under test.
if [ -x "$BIN/ebclient" ]; then
	echo
	echo "run: client suite against the reference SDK (ebclient --driver)"
	"$CONF" --driver "$BIN/ebclient --driver" --ebmock "$MOCK" \
		--report-dir "$REPORT_DIR/client"
	crc=$?
	if [ $crc -le 1 ]; then
		echo "run: reports: $REPORT_DIR/client/report.html  $REPORT_DIR/client/junit.xml  $REPORT_DIR/client/report.json"
	fi
	echo "run: client suite exit code $crc"
	[ $crc -gt $rc ] && rc=$crc
fi
exit $rc
