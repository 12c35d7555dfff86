#!/bin/sh
# ebload's own WebSocket client (loadgen/ebl_ws.c) against ebmock, the paths
# the smoke test does not take:
#  1. two epoll threads in one process with churn and server pings: every
#     churned connection is closed by ebload (close handshake) and opened
#     again, nothing dropped or missed, every push matched once per holder;
#  2. --source: the connections come from the bound addresses (IP_BIND_
#     ADDRESS_NO_PORT), seen in /proc/net/tcp during the hold;
#  3. per-store subscribe errors (two stores per connection, ebmock
#     --max-subscriptions 1 answers LIMIT_EXCEEDED for the second): every
#     attempt counts as subscribeRejected and the run fails (nothing
#     subscribed);
#  4. wss:// through net/eb_tls with --cacert (tools/tls-ca.sh), when
#     openssl is there: every connection subscribed, nothing missed;
#  5. the report's worker CPU split is filled in: user + system CPU per
#     connection and per notification present and positive.
# Usage: sh tests/scripts/ebload_client.sh build/<config>   (EB_BIN_DIR wins)
set -u
B=${1:?usage: ebload_client.sh build/<config>}
BIN=${EB_BIN_DIR:-$B/bin}
T=$(mktemp -d "${TMPDIR:-/tmp}/ebload_client.XXXXXX")
MOCK_PID=""
LOAD_PID=""
SECRET=client-secret

# shellcheck source=tools/lib-proc.sh
. "$(dirname "$0")/../../tools/lib-proc.sh"

cleanup() {
	[ -n "$LOAD_PID" ] && kill "$LOAD_PID" 2>/dev/null
	LOAD_PID=""
	proc_stop "$MOCK_PID" 20
	MOCK_PID=""
}
trap 'cleanup; rm -rf "$T"' EXIT
trap 'exit 2' INT TERM

fail() { proc_fail "$*" "$T"/*.log; }

# start_mock NAME [ebmock flags...]: ebmock on a free port, PORT set.
start_mock() {
	name=$1; shift
	proc_serve MOCK_PID PORT 10 "$T/$name-mock.log" "$T/$name.port" "$BIN/ebmock" \
		--jwt-secret "$SECRET" --quiet "$@" || fail "ebmock ($name) $PROC_ERR"
}

# json_num FILE SECTION KEY: a number member of a section of the report.
json_num() {
	tr -d ' \n\t' < "$1" | sed -n "s/.*\"$2\":{[^}]*\"$3\":\([0-9.e+-]*\)[,}].*/\1/p" | head -n 1
}

# from_addr HEXADDR PORT: established TCP connections from the address
# (as /proc/net/tcp writes it: 127.0.0.2 is 0200007F) to 127.0.0.1:PORT.
from_addr() {
	awk -v src="$1" -v dst="$(printf '0100007F:%04X' "$2")" \
		'$4 == "01" && $3 == dst && substr($2, 1, 8) == src { n++ } END { print n + 0 }' \
		/proc/net/tcp
}

# 1. threads, churn, pings
N=400
start_mock churn --ping-interval-s 1
timeout 60 "$BIN/ebload" --url "http://127.0.0.1:$PORT" --procs 1 --threads 2 \
	--connections $N --connect-rate 2000 --stores 4 --push-rate 10 --duration 3 \
	--churn-rate 100 --drain 1 --jwt-secret "$SECRET" --quiet --json "$T/churn.json" \
	> "$T/churn-ebload.log" 2>&1
rc=$?
cleanup
[ $rc -eq 0 ] || fail "churn run: ebload exited $rc, expected 0"
churned=$(json_num "$T/churn.json" connections churned)
drops=$(json_num "$T/churn.json" connections drops)
missed=$(json_num "$T/churn.json" notifications missed)
sub=$(json_num "$T/churn.json" connections subscribed)
[ "${churned:-0}" -gt 100 ] || fail "churn run: churned=${churned:-none}, want > 100"
[ "$drops" = "0" ] || fail "churn run: drops=$drops (pings unanswered or closes miscounted)"
[ "$missed" = "0" ] || fail "churn run: missed=$missed"
# every churned connection came back: subscribed = first attempts + reopens
[ "$sub" -ge "$((N + churned - 10))" ] || fail "churn run: subscribed $sub for $N + $churned churned"
echo "churn: 2 threads, $churned churned and reopened, $sub subscriptions, 0 drops, 0 missed"

# 5. (same report) the CPU split: user + system is exact (the kernel's run
# time), the split between them is sampled by the kernel's tick, so a short
# phase may read all of it as one of the two
upc=$(json_num "$T/churn.json" resources userPerConnectionUs)
spc=$(json_num "$T/churn.json" resources sysPerConnectionUs)
upn=$(json_num "$T/churn.json" resources userPerNotificationUs)
spn=$(json_num "$T/churn.json" resources sysPerNotificationUs)
awk -v a="${upc:-0}" -v b="${spc:-0}" -v c="${upn:-0}" -v d="${spn:-0}" \
	'BEGIN { exit !(a + b > 0 && c + d > 0) }' ||
	fail "report: user/sys per connection ${upc:-none}/${spc:-none}, per notification ${upn:-none}/${spn:-none}: want both sums > 0"
echo "report: workers' user/system CPU ${upc}/${spc} us per connection, ${upn}/${spn} us per notification"

# 2. --source binding
start_mock source
timeout 60 "$BIN/ebload" --url "http://127.0.0.1:$PORT" --source 127.0.0.2,127.0.0.3 \
	--connections 200 --connect-rate 2000 --stores 2 --push-rate 0 --duration 4 --drain 0 \
	--jwt-secret "$SECRET" --json "$T/source.json" > "$T/source-ebload.out" \
	2> "$T/source-ebload.log" &
LOAD_PID=$!
i=0
seen=""
while [ $i -lt 150 ] && kill -0 "$LOAD_PID" 2>/dev/null; do
	n2=$(from_addr 0200007F "$PORT")
	n3=$(from_addr 0300007F "$PORT")
	if [ "$n2" -eq 100 ] && [ "$n3" -eq 100 ]; then
		seen=yes
		break
	fi
	i=$((i + 1))
	sleep 0.1
done
wait "$LOAD_PID"
rc=$?
LOAD_PID=""
cleanup
[ $rc -eq 0 ] || fail "source run: ebload exited $rc, expected 0"
[ -n "$seen" ] || fail "source run: 100 connections from each of 127.0.0.2 and 127.0.0.3 never seen (last $n2 and $n3)"
echo "source: 100 connections from each bound address"

# 3. subscribe refused per store
start_mock nosubs --max-subscriptions 1
timeout 60 "$BIN/ebload" --url "http://127.0.0.1:$PORT" --connections 50 --connect-rate 500 \
	--stores 2 --subs-per-conn 2 --push-rate 0 --duration 0.5 --drain 0 --jwt-secret "$SECRET" --quiet \
	--json "$T/nosubs.json" > "$T/nosubs-ebload.log" 2>&1
rc=$?
cleanup
[ $rc -eq 1 ] || fail "nosubs run: ebload exited $rc, expected 1 (nothing subscribed)"
rej=$(json_num "$T/nosubs.json" connectFailures subscribeRejected)
[ "$rej" = "50" ] || fail "nosubs run: subscribeRejected=${rej:-none}, want 50"
echo "subscribe refused: 50 of 50 counted as subscribeRejected (exit 1 as expected)"

# 4. wss
if command -v openssl > /dev/null 2>&1; then
	sh "$(dirname "$0")/../../tools/tls-ca.sh" "$T/ca" || fail "tls-ca.sh failed"
	start_mock tls --tls-cert "$T/ca/server.pem" --tls-key "$T/ca/server.key"
	timeout 60 "$BIN/ebload" --url "wss://localhost:$PORT" --cacert "$T/ca/ca.pem" \
		--connections 100 --connect-rate 500 --stores 2 --push-rate 10 --duration 2 \
		--drain 1 --jwt-secret "$SECRET" --quiet --json "$T/tls.json" \
		--expect 'missed==0' --expect 'subscribed>=100' > "$T/tls-ebload.log" 2>&1
	rc=$?
	cleanup
	[ $rc -eq 0 ] || fail "wss run: ebload exited $rc, expected 0"
	m=$(json_num "$T/tls.json" notifications matched)
	[ "${m:-0}" -gt 0 ] || fail "wss run: no notification matched"
	echo "wss: 100 subscribed over TLS, $m notifications matched, 0 missed"
else
	echo "wss: skipped (no openssl command for tools/tls-ca.sh)"
fi
exit 0
