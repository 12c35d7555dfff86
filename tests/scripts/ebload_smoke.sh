#!/bin/sh
# ebload smoke test: a few thousand connections against ebmock.
#  1. clean ebmock: every push reaches every subscriber, --expect missed==0
#     passes (exit 0) and the JSON report says so;
#  2. ebmock --fault no-notify: ebload must report missed notifications,
#     --expect missed==0 fails (exit 1) and the JSON shows missed > 0;
#  3. merge of the two reports adds up exactly;
#  4. a server that stops answering mid-ramp (ebmock's stall fault, set
#     through its admin API once connections are open): the attempts after
#     it count as connect timeouts and --expect connect_failures==0 fails.
# Usage: sh tests/scripts/ebload_smoke.sh build/<config>   (EB_BIN_DIR wins)
set -u
B=${1:?usage: ebload_smoke.sh build/<config>}
BIN=${EB_BIN_DIR:-$B/bin}
T=$(mktemp -d "${TMPDIR:-/tmp}/ebload_smoke.XXXXXX")
MOCK_PID=""
SECRET=smoke-secret

# shellcheck source=tools/lib-proc.sh
. "$(dirname "$0")/../../tools/lib-proc.sh"

cleanup() { proc_stop "$MOCK_PID" 20; MOCK_PID=""; }
trap 'cleanup; rm -rf "$T"' EXIT
trap 'exit 2' INT TERM

fail() { proc_fail "$*" "$T"/*.log; }

# start_mock NAME [ebmock flags...]: ebmock on a free port, PORT set.
start_mock() {
	name=$1; shift
	proc_serve MOCK_PID PORT 10 "$T/$name-mock.log" "$T/$name.port" "$BIN/ebmock" \
		--jwt-secret "$SECRET" --quiet "$@" || fail "ebmock ($name) $PROC_ERR"
}

# json_num FILE SECTION KEY: an integer member of a section of the report.
json_num() {
	tr -d ' \n\t' < "$1" | sed -n "s/.*\"$2\":{[^}]*\"$3\":\([0-9][0-9]*\).*/\1/p"
}

N=2000
LOAD="--connections $N --connect-rate 4000 --stores 20 --push-rate 20 --duration 3 --drain 3 --jwt-secret $SECRET --quiet"

# 1. clean server
start_mock clean
timeout 40 "$BIN/ebload" --url "http://127.0.0.1:$PORT" $LOAD \
	--json "$T/clean.json" --expect 'missed==0' --expect "subscribed>=$N" \
	> "$T/clean-ebload.log" 2>&1
rc=$?
cleanup
[ $rc -eq 0 ] || fail "clean run: ebload exited $rc, expected 0"
[ -s "$T/clean.json" ] || fail "clean run: no JSON report"
sub=$(json_num "$T/clean.json" connections subscribed)
missed=$(json_num "$T/clean.json" notifications missed)
matched=$(json_num "$T/clean.json" notifications matched)
pushes=$(json_num "$T/clean.json" pushes ok)
[ "$sub" = "$N" ] || fail "clean run: $sub of $N connections subscribed"
[ "$missed" = "0" ] || fail "clean run: missed=$missed"
[ "${pushes:-0}" -gt 0 ] || fail "clean run: no push succeeded"
# every push reaches the N/20 subscribers of its store
want=$((pushes * N / 20))
[ "$matched" = "$want" ] || fail "clean run: matched=$matched, want pushes*subscribers=$want"
echo "clean: $sub connections, $pushes pushes, $matched notifications matched, 0 missed"

# 2. server that stops notifying
start_mock nonotify --fault no-notify
timeout 40 "$BIN/ebload" --url "http://127.0.0.1:$PORT" $LOAD \
	--json "$T/nonotify.json" --expect 'missed==0' \
	> "$T/nonotify-ebload.log" 2>&1
rc=$?
cleanup
[ $rc -eq 1 ] || fail "no-notify run: ebload exited $rc, expected 1 (expectation not met)"
missed2=$(json_num "$T/nonotify.json" notifications missed)
pushes2=$(json_num "$T/nonotify.json" pushes ok)
[ "${missed2:-0}" -gt 0 ] || fail "no-notify run: JSON shows missed=${missed2:-none}"
[ "$missed2" = "$((pushes2 * N / 20))" ] || \
	fail "no-notify run: missed=$missed2, want pushes*subscribers=$((pushes2 * N / 20))"
echo "no-notify: $pushes2 pushes, $missed2 notifications missed (exit 1 as expected)"

# 3. exact merge
"$BIN/ebload" merge "$T/clean.json" "$T/nonotify.json" --json "$T/merged.json" \
	> "$T/merge.log" 2>&1 || fail "merge exited $?"
m_missed=$(json_num "$T/merged.json" notifications missed)
m_matched=$(json_num "$T/merged.json" notifications matched)
m_sub=$(json_num "$T/merged.json" connections subscribed)
[ "$m_missed" = "$missed2" ] || fail "merge: missed=$m_missed, want $missed2"
[ "$m_matched" = "$matched" ] || fail "merge: matched=$m_matched, want $matched"
[ "$m_sub" = "$((2 * N))" ] || fail "merge: subscribed=$m_sub, want $((2 * N))"
echo "merge: counts add up"

# 4. a server that stops answering during the ramp-up
start_mock stall --admin-token smoke-admin
timeout 60 "$BIN/ebload" --url "http://127.0.0.1:$PORT" --connections 200 \
	--connect-rate 50 --connect-timeout 2 --push-rate 0 --duration 1 --drain 0 \
	--jwt-secret "$SECRET" --json "$T/stall.json" --expect 'connect_failures==0' \
	> "$T/stall-ebload.out" 2> "$T/stall-ebload.log" &
LOAD_PID=$!
# stall once the first progress line shows open connections (ramp: 4 s)
i=0
until grep -q 'open [1-9]' "$T/stall-ebload.log" 2>/dev/null; do
	i=$((i + 1))
	[ $i -lt 200 ] || { kill "$LOAD_PID"; fail "stall run: no connection open within 20 s"; }
	sleep 0.1
done
curl -s -m 5 -o /dev/null -w '%{http_code}' -X POST -H 'Authorization: Bearer smoke-admin' \
	-d '{"stall":true}' "http://127.0.0.1:$PORT/admin/faults" > "$T/stall-admin.log" 2>&1
grep -q 200 "$T/stall-admin.log" || { kill "$LOAD_PID"; fail "stall run: admin API did not set the fault"; }
wait "$LOAD_PID"
rc=$?
cleanup
[ $rc -eq 1 ] || fail "stall run: ebload exited $rc, expected 1 (connect failures)"
sub4=$(json_num "$T/stall.json" connections subscribed)
to4=$(json_num "$T/stall.json" connectFailures timeout)
[ "${to4:-0}" -gt 0 ] || fail "stall run: no connect timeout counted"
[ "${sub4:-0}" -gt 0 ] || fail "stall run: nothing subscribed before the stall"
[ $((sub4 + to4)) -eq 200 ] || fail "stall run: subscribed $sub4 + timeouts $to4 != 200 attempts"
echo "stall: $sub4 subscribed before it, $to4 connect timeouts after (exit 1 as expected)"
exit 0
