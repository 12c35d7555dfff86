#!/bin/sh
# TLS end to end: a throwaway CA and a server certificate for
# localhost/127.0.0.1 (tools/tls-ca.sh), ebmock serving HTTP and the socket
# over TLS on one port (--tls-cert/--tls-key), and every client program over
# https:// and wss:// with --cacert:
#   - the server suite passes with as many PASS as against a plain ebmock
#     started the same way (the whole suite in the plain build; a subset of
#     categories under sanitizers, the same subset for both runs),
#   - a short ebfuzz run (its raw TCP cases over TLS too) finds nothing,
#   - an ebload smoke over wss:// subscribes and receives notifications,
#   - ebclient pushes one change over https and follows it on wss://,
# and the negatives: without --cacert (a certificate the client does not
# trust) and with a --cacert of another CA, ebconform, ebfuzz and ebload
# exit 2 with a hint naming --cacert and --insecure, running nothing;
# --insecure runs without verification.
# Usage: sh tests/scripts/tls_suite.sh build/<config>   (EB_BIN_DIR wins)
set -u
B=${1:?usage: tls_suite.sh build/<config>}
BIN=${EB_BIN_DIR:-$B/bin}
ROOT=${EB_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
T=$(mktemp -d "${TMPDIR:-/tmp}/tls_suite.XXXXXX")
SECRET=tls-suite-secret-7c41
MOCK_PID=""
PLAIN_PID=""
FAILED=0

# shellcheck source=tools/lib-proc.sh
. "$(dirname "$0")/../../tools/lib-proc.sh"

cleanup() { proc_stop "$MOCK_PID $PLAIN_PID"; rm -rf "$T"; }
trap cleanup EXIT
trap 'exit 2' INT TERM

fail() {
	echo "FAIL: $*"
	FAILED=1
}

# show FILE: a failed step's output, indented.
show() { sed 's/^/    /' "$1" | tail -n 30; }

for p in ebmock ebconform ebfuzz ebload ebclient; do
	[ -x "$BIN/$p" ] || { echo "FAIL: no $BIN/$p"; exit 1; }
done
command -v openssl >/dev/null || { echo "FAIL: no openssl (tools/deps.sh installs it)"; exit 1; }
if ! sh "$ROOT/tools/tls-ca.sh" "$T/ca" > "$T/ca.log" 2>&1; then
	echo "FAIL: tools/tls-ca.sh"
	cat "$T/ca.log"
	exit 1
fi
CA="$T/ca/ca.pem"

# The suite's timing cases are judged against the server's 10 s auth
# timeout; under sanitizers the whole suite twice would cost minutes.
case "$B" in
*sanitize*)
	SCALE=3
	set -- --cases 'ws/*' --cases 'auth/*' --cases 'feed/*' --cases 'limits/*'
	;;
*)
	SCALE=1
	set --
	;;
esac

proc_start MOCK_PID "$T/mock.log" "$T/port" "$BIN/ebmock" --quiet --jwt-secret "$SECRET" \
	--tls-cert "$T/ca/server.pem" --tls-key "$T/ca/server.key"
proc_start PLAIN_PID "$T/plain.log" "$T/plain.port" "$BIN/ebmock" --quiet --jwt-secret "$SECRET"
if ! proc_wait_port PORT "$MOCK_PID" "$T/port" 20; then
	echo "FAIL: ebmock --tls-cert $PROC_ERR"
	cat "$T/mock.log"
	exit 1
fi
if ! proc_wait_port PPORT "$PLAIN_PID" "$T/plain.port" 20; then
	echo "FAIL: plain ebmock $PROC_ERR"
	cat "$T/plain.log"
	exit 1
fi
HTTPS="https://127.0.0.1:$PORT"
export EB_JWT_SECRET="$SECRET"

# summary_pass FILE: the PASS count of an ebconform JSON report.
summary_pass() {
	tr -d ' \n\t' < "$1" | sed -n 's/.*"summary":{[^}]*"pass":\([0-9][0-9]*\).*/\1/p'
}

# 1. the server suite over TLS, and the same selection in plain
"$BIN/ebconform" --url "$HTTPS" --cacert "$CA" --time-scale "$SCALE" "$@" \
	--report-dir "$T/suite-tls" > "$T/suite-tls.out" 2>&1
rc=$?
[ "$rc" = 0 ] || { fail "ebconform over TLS: exit $rc"; show "$T/suite-tls.out"; }
"$BIN/ebconform" --url "http://127.0.0.1:$PPORT" --time-scale "$SCALE" "$@" \
	--report-dir "$T/suite-plain" > "$T/suite-plain.out" 2>&1
rc=$?
[ "$rc" = 0 ] || { fail "ebconform in plain: exit $rc"; show "$T/suite-plain.out"; }
tls_pass=$(summary_pass "$T/suite-tls/report.json" 2>/dev/null)
plain_pass=$(summary_pass "$T/suite-plain/report.json" 2>/dev/null)
if [ -z "$tls_pass" ] || [ "$tls_pass" = 0 ] || [ "$tls_pass" != "$plain_pass" ]; then
	fail "server suite: ${tls_pass:-no} PASS over TLS, ${plain_pass:-no} in plain"
else
	echo "server suite over TLS: $tls_pass PASS, as in plain"
fi

# 2. a short fuzz run over TLS (HTTP, raw TCP and sockets)
"$BIN/ebfuzz" --url "$HTTPS" --cacert "$CA" --duration 3 --seed 7 \
	--report-dir "$T/fuzz" > "$T/fuzz.out" 2>&1
rc=$?
if [ "$rc" != 0 ]; then
	fail "ebfuzz over TLS: exit $rc"
	show "$T/fuzz.out"
elif ! grep -q '"fuzz/tcp"' "$T/fuzz/report.json"; then
	fail "ebfuzz over TLS: no raw TCP cases ran"
else
	echo "ebfuzz over TLS: $(grep -E '^ebfuzz: [0-9]+ cases' "$T/fuzz.out")"
fi

# 3. an ebload smoke over wss:// (pushes over https://)
json_num() {
	tr -d ' \n\t' < "$1" | sed -n "s/.*\"$2\":{[^}]*\"$3\":\([0-9][0-9]*\).*/\1/p"
}
timeout 60 "$BIN/ebload" --url "wss://127.0.0.1:$PORT" --cacert "$CA" --connections 40 \
	--connect-rate 400 --stores 4 --push-rate 10 --duration 2 --drain 1 --quiet \
	--json "$T/load.json" --expect 'missed==0' > "$T/load.out" 2>&1
rc=$?
sub=$(json_num "$T/load.json" connections subscribed 2>/dev/null)
matched=$(json_num "$T/load.json" notifications matched 2>/dev/null)
if [ "$rc" != 0 ] || [ "${sub:-0}" -lt 1 ] || [ "${matched:-0}" -lt 1 ]; then
	fail "ebload over wss: exit $rc, subscribed ${sub:-?}, notifications ${matched:-?}"
	show "$T/load.out"
else
	echo "ebload over wss: $sub subscribed, $matched notifications"
fi

# 4. ebclient: one change over https, then followed on wss://
if ! timeout 30 "$BIN/ebclient" --url "$HTTPS" --cacert "$CA" set tls-client a '"over tls"' \
	> "$T/client-set.out" 2>&1; then
	fail "ebclient set over https"
	show "$T/client-set.out"
fi
timeout 30 "$BIN/ebclient" --url "$HTTPS" --cacert "$CA" --timeout 3000 -v watch tls-client \
	> "$T/client-watch.out" 2>&1 &
WATCH_PID=$!
i=0
until grep -q '"over tls"' "$T/client-watch.out" 2>/dev/null && grep -q 'live' "$T/client-watch.out"; do
	i=$((i + 1))
	if [ "$i" -gt 200 ] || ! kill -0 "$WATCH_PID" 2>/dev/null; then
		fail "ebclient watch over wss: not live with the change within 20 s"
		show "$T/client-watch.out"
		break
	fi
	sleep 0.1
done
proc_stop "$WATCH_PID"

# 5. certificates the client does not trust: exit 2 naming --cacert
# expect2 NAME PROG ARGS...: exit 2, a hint naming --cacert and --insecure,
# nothing run.
expect2() {
	name=$1 prog=$2
	shift 2
	case $prog in
	ebconform) set -- "$@" --cases 'versioning/*' --report-dir "$T/r-$name" ;;
	ebfuzz) set -- "$@" --runs 20 --report-dir "$T/r-$name" ;;
	ebload) set -- "$@" --connections 5 --duration 0.5 --drain 0.2 --quiet ;;
	esac
	timeout 60 "$BIN/$prog" "$@" > "$T/$name.out" 2>&1
	rc=$?
	if [ "$rc" != 2 ]; then
		fail "$prog $name: exit $rc, expected 2"
		show "$T/$name.out"
	elif ! grep -q -- '--cacert' "$T/$name.out" || ! grep -q -- '--insecure' "$T/$name.out" ||
	     ! grep -q 'Nothing was run' "$T/$name.out"; then
		fail "$prog $name: no hint naming --cacert and --insecure"
		show "$T/$name.out"
	fi
}
for prog in ebconform ebfuzz ebload; do
	expect2 "$prog-no-cacert" "$prog" --url "$HTTPS"
done
expect2 ebconform-other-ca ebconform --url "$HTTPS" --cacert "$T/ca/other.pem"
expect2 ebload-other-ca ebload --url "wss://127.0.0.1:$PORT" --cacert "$T/ca/other.pem"
# a --cacert that holds no certificate is a usage error naming the flag
"$BIN/ebconform" --url "$HTTPS" --cacert "$T/ca/server.key" > "$T/badca.out" 2>&1
rc=$?
if [ "$rc" != 2 ] || ! grep -q -- '--cacert' "$T/badca.out"; then
	fail "ebconform --cacert KEYFILE: exit $rc (want 2 naming --cacert)"
	show "$T/badca.out"
fi
# --insecure: no verification, the run goes on
"$BIN/ebconform" --url "$HTTPS" --insecure --cases 'versioning/*' --report-dir "$T/insecure" \
	> "$T/insecure.out" 2>&1
rc=$?
[ "$rc" = 0 ] || { fail "ebconform --insecure: exit $rc"; show "$T/insecure.out"; }
# plain http:// to the TLS port is not a verdict either
"$BIN/ebconform" --url "http://127.0.0.1:$PORT" --cases 'versioning/*' \
	--report-dir "$T/plain-to-tls" > "$T/plain-to-tls.out" 2>&1
rc=$?
[ "$rc" = 2 ] || [ "$rc" = 3 ] || { fail "ebconform http:// to a TLS port: exit $rc (want 2 or 3)"; show "$T/plain-to-tls.out"; }

if [ "$FAILED" != 0 ]; then
	proc_logs 20 "$T/mock.log" "$T/plain.log"
	exit 1
fi
echo "tls_suite: OK"
