#!/bin/sh
# ebload's shards on several "hosts" with one synchronized start, the hosts
# simulated as Linux network namespaces on this machine (docs/LOADGEN.md,
# "Synchronized start"):
#  1. --start-at on the command line: a time in the past, too far ahead or
#     not a time is exit 2 with the reason (always run);
#  2. three namespaces, each its own address (10.203.K.2/24) and a veth pair
#     to the host (10.203.K.1); ebmock listens on the host end of the first
#     pair, the others reach it through the host (traffic never leaves the
#     machine); one `ebload --shard I/3 --start-at T` inside each namespace,
#     launched 1 s apart so that only the shared instant can line their
#     ramp-ups up; `ebload merge` of the three reports: every shard's
#     connections subscribed, no notification missed, each veth carried its
#     shard's traffic, and the latest ramp-up began within 250 ms of T
#     (launched 1 s apart, an unsynchronized start is 1-2 s off); the
#     reports follow docs/schemas/ebload-report-1.schema.json.
# The namespaces and veths are deleted in a trap, on failure too. Part 2 is
# skipped, saying why, where namespaces cannot be made (not root, no `ip`
# from iproute2, no CAP_NET_ADMIN).
# Usage: sh tests/scripts/shards_netns.sh build/<config>   (EB_BIN_DIR wins)
set -u
B=${1:?usage: shards_netns.sh build/<config>}
BIN=${EB_BIN_DIR:-$B/bin}
ROOT=${EB_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
T=$(mktemp -d "${TMPDIR:-/tmp}/eb-shards.XXXXXX")
SECRET=shards-netns-secret
N=3
CONNS=600
SKEW_MS=250
MOCK_PID=""
LOAD_PIDS=""
NSS=""
VETHS=""

# shellcheck source=tools/lib-proc.sh
. "$ROOT/tools/lib-proc.sh"

cleanup() {
	for p in $LOAD_PIDS; do
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	proc_stop "$MOCK_PID" 20
	# deleting a namespace deletes the veth end in it and so its peer;
	# the host ends are deleted too for a namespace that was never made
	for ns in $NSS; do
		ip netns del "$ns" 2>/dev/null
	done
	for v in $VETHS; do
		ip link del "$v" 2>/dev/null
	done
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 2' INT TERM

fail() {
	echo "shards_netns: FAIL: $*"
	proc_logs 30 "$T"/*.log
	exit 1
}

# json_num FILE SECTION KEY: an integer member of a section of the report.
json_num() {
	tr -d ' \n\t' < "$1" | sed -n "s/.*\"$2\":{[^}]*\"$3\":\([0-9][0-9]*\).*/\1/p"
}

# ---- 1. the command line -----------------------------------------------------
for bad in 5 +7200 "$(( $(date +%s) + 7200 ))000" "$(( $(date +%s) - 1 ))" tomorrow; do
	"$BIN/ebload" --url http://127.0.0.1:1 --no-auth --start-at "$bad" >"$T/cli.out" 2>&1
	rc=$?
	[ "$rc" -eq 2 ] || fail "--start-at $bad: exit $rc, want 2"
	grep -q -e "in the past" -e "ahead" -e "want +S" "$T/cli.out" ||
		fail "--start-at $bad: no reason given: $(cat "$T/cli.out")"
done
"$BIN/ebload" --help | grep -q -- "--start-at T" || fail "--help does not document --start-at"
echo "shards_netns: 1. --start-at in the past, too far ahead or not a time: exit 2 with the reason"

# ---- 2. shards in namespaces --------------------------------------------------
skip() {
	echo "shards_netns: SKIP (part 2): $*"
	exit 0
}
[ "$(id -u)" -eq 0 ] || skip "network namespaces need root (CAP_NET_ADMIN); running as uid $(id -u)"
command -v ip >/dev/null 2>&1 || skip "no 'ip' command (Debian package iproute2; make deps installs it)"

# a free 10.203.K.0/24 block of N subnets (another run may hold one)
K=""
base=$(( ($$ % 80) * 3 + 1 ))
for try in 0 1 2 3 4 5 6 7; do
	k=$(( (base + try * 3 - 1) % 240 + 1 ))
	busy=""
	i=0
	while [ $i -lt $N ]; do
		[ -n "$(ip -4 addr show to "10.203.$((k + i)).0/24" 2>/dev/null)" ] && busy=1
		i=$((i + 1))
	done
	[ -z "$busy" ] && { K=$k; break; }
done
[ -n "$K" ] || fail "no free 10.203.K.0/24 subnets for $N namespaces"

i=0
while [ $i -lt $N ]; do
	ns=ebsh$$-$i
	vh=ebh$$$i
	vn=ebn$$$i
	sub=10.203.$((K + i))
	if ! ip netns add "$ns" 2>"$T/ns.err"; then
		[ $i -eq 0 ] && skip "cannot create a network namespace: $(cat "$T/ns.err")"
		fail "ip netns add $ns: $(cat "$T/ns.err")"
	fi
	NSS="$NSS $ns"
	VETHS="$VETHS $vh"
	{ ip link add "$vh" type veth peer name "$vn" &&
	  ip link set "$vn" netns "$ns" &&
	  ip addr add "$sub.1/24" dev "$vh" &&
	  ip link set "$vh" up &&
	  ip netns exec "$ns" ip link set lo up &&
	  ip netns exec "$ns" ip addr add "$sub.2/24" dev "$vn" &&
	  ip netns exec "$ns" ip link set "$vn" up &&
	  ip netns exec "$ns" ip route add default via "$sub.1"; } 2>"$T/ns.err" ||
		fail "setting up namespace $ns: $(cat "$T/ns.err")"
	i=$((i + 1))
done
HOST=10.203.$K.1
proc_start MOCK_PID "$T/mock.log" "$T/mock.port" "$BIN/ebmock" --quiet \
	--jwt-secret "$SECRET" --host "$HOST"
proc_wait_port PORT "$MOCK_PID" "$T/mock.port" 20 || fail "ebmock $PROC_ERR"
# shellcheck disable=SC2154 # PORT is set by proc_wait_port (eval)
URL=http://$HOST:$PORT

# every namespace reaches ebmock through the host (polled: a veth takes a
# moment to come up)
i=0
while [ $i -lt $N ]; do
	j=0
	until ip netns exec "ebsh$$-$i" curl -s -m 2 -o /dev/null "$URL/healthz"; do
		j=$((j + 1))
		[ $j -lt 50 ] || fail "namespace $i does not reach $URL"
		sleep 0.1
	done
	i=$((i + 1))
done

rx_of() { cat "/sys/class/net/$1/statistics/rx_bytes"; }
i=0
while [ $i -lt $N ]; do
	eval "RX0_$i=\$(rx_of ebh$$$i)"
	i=$((i + 1))
done

# T: after the last launch (N-1 s of stagger) and every setup, sanitized too
AT=$(( $(date +%s%3N) + (N - 1) * 1000 + 6000 ))
i=0
while [ $i -lt $N ]; do
	[ $i -gt 0 ] && sleep 1   # the stagger the shared instant must undo
	EB_JWT_SECRET=$SECRET timeout 90 ip netns exec "ebsh$$-$i" "$BIN/ebload" --url "$URL" \
		--shard "$i/$N" --start-at "$AT" --connections $CONNS --connect-rate 600 \
		--stores 6 --push-rate 6 --duration 3 --drain 2 --quiet \
		--json "$T/shard$i.json" >"$T/shard$i.log" 2>&1 &
	LOAD_PIDS="$LOAD_PIDS $!"
	i=$((i + 1))
done
i=0
for p in $LOAD_PIDS; do
	wait "$p"
	rc=$?
	[ "$rc" -eq 0 ] || fail "shard $i exited $rc"
	i=$((i + 1))
done
LOAD_PIDS=""

i=0
while [ $i -lt $N ]; do
	f=$T/shard$i.json
	sub=$(json_num "$f" connections subscribed)
	want=$(( CONNS / N ))
	[ "$sub" = "$want" ] || fail "shard $i: $sub connections subscribed, want $want"
	planned=$(json_num "$f" start plannedAtMs)
	[ "$planned" = "$AT" ] || fail "shard $i: planned start ${planned:-none}, want $AT"
	eval "rx0=\$RX0_$i"
	# shellcheck disable=SC2154 # rx0 is set by eval
	rx=$(( $(rx_of "ebh$$$i") - rx0 ))
	# 200 upgrades, auths and subscribes are more than 200 x 300 bytes
	[ "$rx" -gt $(( want * 300 )) ] || fail "veth $i carried $rx bytes to the host, too few for its shard"
	echo "shards_netns: shard $i in its namespace (10.203.$((K + i)).2): $sub subscribed, $rx bytes over its veth, started $(json_num "$f" start skewUs) us after T"
	i=$((i + 1))
done

"$BIN/ebload" merge "$T/shard0.json" "$T/shard1.json" "$T/shard2.json" --json "$T/all.json" \
	--expect "subscribed>=$CONNS" --expect 'missed==0' --expect "start_skew<${SKEW_MS}ms" \
	>"$T/merge.log" 2>&1
rc=$?
grep -E "start |expect|VERDICT" "$T/merge.log" | sed 's/^/  /'
[ "$rc" -eq 0 ] || fail "merge of the shards exited $rc"
[ "$(sed -n 's/.*"runs":[[:space:]]*\([0-9]*\).*/\1/p' "$T/all.json" | head -n 1)" = "$N" ] ||
	fail "merged report: runs is not $N"
# the shards' and the merged report, start section included, against the
# report's JSON Schema (docs/schemas; the validators of make test)
if sh "$ROOT/tools/validators/install.sh" >"$T/validators.log" 2>&1; then
	EB_ROOT=$ROOT node "$ROOT/tools/validators/ebvalidate.mjs" report ebload-report-1.schema.json \
		"$T/shard0.json" "$T/all.json" >"$T/schema.log" 2>&1 ||
		fail "the reports do not follow docs/schemas/ebload-report-1.schema.json: $(cat "$T/schema.log")"
	echo "shards_netns: a shard's and the merged report follow ebload-report-1.schema.json (start included)"
else
	echo "shards_netns: note: the validators of tools/validators are not installed; reports not checked against the schema"
fi
spread=$(json_num "$T/all.json" start spreadUs)
skew=$(json_num "$T/all.json" start skewUs)
[ -n "$spread" ] || fail "the merged report has no start.spreadUs"
[ "$spread" -lt $(( SKEW_MS * 1000 )) ] ||
	fail "the shards' ramp-ups are ${spread:-?} us apart (launched 1 s apart), want < $SKEW_MS ms"
echo "shards_netns: 2. $N shards in $N namespaces, launched 1 s apart, ramped up within $spread us of each other (latest $skew us after T); merged: $CONNS subscribed, none missed"
