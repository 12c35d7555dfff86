#!/bin/sh
# ebmock's cluster mode on one throwaway PostgreSQL (tools/pg-tmp.sh;
# docs/EBMOCK.md "Cluster mode"):
#  1. the whole server suite against 3 nodes, every case's requests and
#     sockets spread over them, the cluster cases (conformance/cases/
#     cluster.c) included: exit 0; the rate cases among them, against
#     ebmock's per-node buckets (CLUSTER-8), ran and passed;
#  2. each cluster-* defect (docs/DEFECTS.md) on 3 fresh nodes: the cluster
#     cases FAIL citing its rule;
#  3. CLUSTER-7: a node stopped (SIGTERM) and started again has every
#     acknowledged change, also those committed while it was down, and its
#     feed serves them from any version on;
#  4. a fault: the database killed under a node gives 503 with Retry-After
#     within the 4 s deadline (never a hang); after it is back the node
#     serves again, and no acknowledged change is missing;
#  5. a fault: one of two nodes killed (SIGKILL) under ebload: ebload reports
#     the dropped sockets and failed pushes (its per-second series has the
#     time), the other node keeps serving, and every push ebload saw
#     acknowledged is in the database.
# Skipped, saying why, only where PostgreSQL cannot be run.
# Usage: sh tests/scripts/cluster_suite.sh build/<config>
# (EB_BIN_DIR, when set, names the bin folder.)
set -u

B=${1:?usage: cluster_suite.sh build/<config>}
EB_BIN_DIR=${EB_BIN_DIR:-$B/bin}
ROOT=${EB_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
MOCK=$EB_BIN_DIR/ebmock
CONF=$EB_BIN_DIR/ebconform
SECRET=cluster-hs256-secret
ISS=ebc-cluster-issuer
AUD=ebc-cluster-audience
case "$B" in *sanitize*) SCALE=3 ;; *) SCALE=1 ;; esac

# shellcheck source=tools/lib-proc.sh
. "$ROOT/tools/lib-proc.sh"

T=$(mktemp -d "${TMPDIR:-/tmp}/eb-cluster.XXXXXX")
PIDS=""
cleanup() {
	proc_stop "$PIDS"
	sh "$ROOT/tools/pg-tmp.sh" stop "$T/pg" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 2' INT TERM

fail() {
	echo "cluster_suite: FAIL: $*"
	proc_logs 40 "$T"/node*.log "$T"/suite.err "$T/pg/server.log"
	exit 1
}

t0=$(date +%s)
URL=$(sh "$ROOT/tools/pg-tmp.sh" start "$T/pg" 2>"$T/pg.err")
rc=$?
if [ "$rc" -eq 77 ]; then
	echo "cluster_suite: SKIP: $(cat "$T/pg.err")"
	exit 0
fi
[ "$rc" -eq 0 ] || { cat "$T/pg.err"; fail "throwaway PostgreSQL did not start"; }

# start_node N [FLAGS]: one ebmock on the shared database; sets PORT_N
# and PID_N.
SEQ=0
start_node() {
	n=$1
	shift
	SEQ=$((SEQ + 1))
	proc_start pid "$T/node$n.$SEQ.log" "$T/node$n.port" "$MOCK" --quiet \
		--jwt-secret "$SECRET" --jwt-issuer "$ISS" --jwt-audience "$AUD" \
		--rate-http 200 --rate-http-burst 50 --rate-ws 100 --rate-ws-burst 50 \
		--coalesce-ms 20 --backend "$URL" "$@"
	# shellcheck disable=SC2154 # pid and port are set by proc_start/proc_wait_port (eval)
	PIDS="$PIDS $pid"
	eval "PID_$n=\$pid"
	proc_wait_port port "$pid" "$T/node$n.port" 20 || fail "node $n did not start ($PROC_ERR)"
	eval "PORT_$n=\$port"
}
# the command line: --data and --backend exclude each other; a database
# that cannot be reached is a setup error (exit 2), its URL never printed
"$MOCK" --no-auth --port 0 --backend "$URL" --data "$T/x.db" >"$T/cli.out" 2>&1
[ $? -eq 2 ] || fail "--data with --backend: want exit 2"
"$MOCK" --no-auth --port 0 --backend "postgresql://u:sekrit@/nodb?host=$T/none" >"$T/cli.out" 2>&1
[ $? -eq 2 ] || fail "an unreachable --backend: want exit 2"
! grep -q sekrit "$T/cli.out" || fail "the --backend password was printed"
start_node 1
start_node 2
start_node 3
# shellcheck disable=SC2154 # PORT_N are set by start_node through eval
A=http://127.0.0.1:$PORT_1 Bn=http://127.0.0.1:$PORT_2 C=http://127.0.0.1:$PORT_3

"$CONF" --url "$A" --url "$Bn" --url "$C" --jwt-secret "$SECRET" --jwt-issuer "$ISS" --jwt-audience "$AUD" \
	--time-scale "$SCALE" --json "$T/suite.json" >"$T/suite.out" 2>"$T/suite.err"
rc=$?
tail -n 16 "$T/suite.out"
[ "$rc" -eq 0 ] || fail "the server suite against 3 nodes exited $rc"
grep -q "^VERDICT: PASS" "$T/suite.out" || fail "no PASS verdict"
echo "cluster_suite: 1. the server suite against 3 nodes passed ($(( $(date +%s) - t0 )) s)"
# CLUSTER-8: ebmock's buckets are per node, and the rate cases (each on the
# first node) ran and passed rather than SKIP: rate limiting is on above
rate=$(awk '
/^\t\t\t"id":\t"/ { id = $0; sub(/^[^:]*:\t"/, "", id); sub(/",?$/, "", id) }
/^\t\t\t"outcome":\t"/ {
	out = $0; sub(/^[^:]*:\t"/, "", out); sub(/",?$/, "", out)
	if (id ~ /^rate\//) { n++; if (out == "PASS") p++ }
}
END { printf "%d %d", p, n }' "$T/suite.json")
[ "${rate#* }" -ge 4 ] || fail "CLUSTER-8: only ${rate#* } rate cases in the run, want at least 4"
[ "${rate% *}" = "${rate#* }" ] ||
	fail "CLUSTER-8: the rate cases against per-node buckets: $rate (passed, run), want all of at least 4 passed"
echo "cluster_suite: 1. CLUSTER-8: ${rate% *} rate cases passed against per-node buckets (each case on one node)"
proc_stop "$PIDS"
PIDS=""

# ---- 2. every cluster defect caught, citing its rule ------------------------
"$MOCK" --defect list | grep '^cluster-' >"$T/defects.txt"
[ -s "$T/defects.txt" ] || fail "ebmock --defect list has no cluster-* defect"
while IFS="$(printf '\t')" read -r name rule _; do
	start_node 1 --defect "$name"
	start_node 2 --defect "$name"
	start_node 3 --defect "$name"
	"$CONF" --url "http://127.0.0.1:$PORT_1" --url "http://127.0.0.1:$PORT_2" \
		--url "http://127.0.0.1:$PORT_3" --cases 'cluster/*' --jwt-secret "$SECRET" \
		--jwt-issuer "$ISS" --jwt-audience "$AUD" --time-scale "$SCALE" \
		--json "$T/d-$name.json" >"$T/d-$name.out" 2>&1
	rc=$?
	proc_stop "$PIDS"
	PIDS=""
	ids=$(awk '
	/^\t\t\t"id":\t"/ { id = $0; sub(/^[^:]*:\t"/, "", id); sub(/",?$/, "", id); out = "" }
	/^\t\t\t"outcome":\t"/ { out = $0; sub(/^[^:]*:\t"/, "", out); sub(/",?$/, "", out) }
	/^\t\t\t"failedRule":\t"/ {
		r = $0; sub(/^[^:]*:\t"/, "", r); sub(/",?$/, "", r)
		if (out == "FAIL" && r == want) printf "%s ", id
	}' want="$rule" "$T/d-$name.json" 2>/dev/null)
	if [ "$rc" -ne 1 ] || [ -z "$ids" ]; then
		cat "$T/d-$name.out"
		fail "defect $name not caught for $rule (exit $rc)"
	fi
	printf 'cluster_suite: 2. %-30s %-10s caught by %s\n' "$name" "$rule" "$ids"
done <"$T/defects.txt"

# ---- 3. CLUSTER-7: a node restarted loses nothing --------------------------
# Two nodes without auth on the same database, driven with curl.
start_anon() {
	n=$1
	SEQ=$((SEQ + 1))
	proc_start pid "$T/node$n.$SEQ.log" "$T/node$n.port" "$MOCK" --quiet --no-auth \
		--admin-token cluster-admin --backend "$URL"
	# shellcheck disable=SC2154 # pid and port are set by proc_start/proc_wait_port (eval)
	PIDS="$PIDS $pid"
	eval "PID_$n=\$pid"
	proc_wait_port port "$pid" "$T/node$n.port" 20 || fail "node $n did not start ($PROC_ERR)"
	eval "PORT_$n=\$port"
}
# push PORT ID: one change; prints the HTTP status and the body
push() {
	curl -s -m 10 -o "$T/push.body" -w '%{http_code}' -H 'Content-Type: application/json' \
		-d "{\"lastKnownVersion\":0,\"changes\":[{\"id\":\"$2\",\"timestamp\":1000,\"operation\":\"set\",\"path\":[\"k\",\"$2\"],\"value\":1}]}" \
		"http://127.0.0.1:$1/api/stores/restart-store/sync"
}
# ids_from PORT SINCE: the change ids of the feed, one a line, in order
ids_from() {
	curl -s -m 10 "http://127.0.0.1:$1/api/stores/restart-store/changes?since=$2" |
		grep -o '"id":"[^"]*","timestamp"' | sed 's/"id":"//; s/",.*//'
}
start_anon 4
start_anon 5
for i in 1 2 3; do
	[ "$(push "$PORT_4" "r$i")" = 200 ] || fail "push r$i through node 4: $(cat "$T/push.body")"
done
proc_stop "$PID_5"
[ "$(push "$PORT_4" r4)" = 200 ] || fail "push r4 while node 5 was down"
start_anon 5
got=$(ids_from "$PORT_5" 0 | tr '\n' ' ')
[ "$got" = "r1 r2 r3 r4 " ] || fail "CLUSTER-7: node 5 after its restart serves '$got', want 'r1 r2 r3 r4 '"
got=$(ids_from "$PORT_5" 2 | tr '\n' ' ')
[ "$got" = "r3 r4 " ] || fail "CLUSTER-7: node 5's feed since 2 is '$got', want 'r3 r4 '"
echo "cluster_suite: 3. CLUSTER-7: a node restarted (SIGTERM, start) serves every acknowledged change, those of its downtime too"
# the test hooks that rewrite a store's history are refused in cluster mode
# (docs/EBMOCK.md: every node's copy would have to change at once), with
# 400 and the reason, and change nothing
for body in '{"dropStore":"restart-store"}' '{"storeVersion":{"store":"fresh-store","version":5}}'; do
	st=$(curl -s -m 10 -o "$T/admin.body" -w '%{http_code}' -H 'Authorization: Bearer cluster-admin' \
		-d "$body" "http://127.0.0.1:$PORT_4/admin/faults")
	[ "$st" = 400 ] && grep -q "not in cluster mode" "$T/admin.body" ||
		fail "admin $body in cluster mode: $st $(cat "$T/admin.body"), want 400 not in cluster mode"
done
got=$(ids_from "$PORT_4" 0 | tr '\n' ' ')
[ "$got" = "r1 r2 r3 r4 " ] || fail "a refused dropStore changed the store: '$got'"
echo "cluster_suite: 3. dropStore and storeVersion refused in cluster mode (400), the store unchanged"

# ---- 4. the database killed under the nodes: 503, then served again -------
sh "$ROOT/tools/pg-tmp.sh" kill "$T/pg"
t1=$(date +%s)
st=$(push "$PORT_4" r5)
t2=$(date +%s)
[ "$st" = 503 ] || fail "with the database down a push got $st, want 503: $(cat "$T/push.body")"
[ $((t2 - t1)) -le 8 ] || fail "with the database down the 503 took $((t2 - t1)) s"
grep -q '"code":"UNAVAILABLE"' "$T/push.body" || fail "503 without code UNAVAILABLE: $(cat "$T/push.body")"
sh "$ROOT/tools/pg-tmp.sh" restart "$T/pg" || fail "PostgreSQL did not start again"
ok=""
i=0
while [ $i -lt 100 ]; do
	if [ "$(push "$PORT_4" r5)" = 200 ]; then
		ok=1
		break
	fi
	i=$((i + 1))
	sleep 0.1
done
[ -n "$ok" ] || fail "node 4 did not serve again within 10 s of the database's return"
got=$(ids_from "$PORT_5" 0 | tr '\n' ' ')
[ "$got" = "r1 r2 r3 r4 r5 " ] || fail "after the database's return node 5 serves '$got', want 'r1 r2 r3 r4 r5 '"
echo "cluster_suite: 4. database killed: 503 UNAVAILABLE in $((t2 - t1)) s, served again after its return, nothing lost"
# ---- 5. a node killed under load -------------------------------------------
if [ -x "$EB_BIN_DIR/ebload" ]; then
	start_node 6
	start_node 7
	(sleep 3 && kill -KILL "$PID_7") &
	killer=$!
	"$EB_BIN_DIR/ebload" --url "http://127.0.0.1:$PORT_6" --url "http://127.0.0.1:$PORT_7" \
		--shared-backend --connections 100 --stores 4 --push-rate 20 --duration 4 \
		--jwt-secret "$SECRET" --jwt-issuer "$ISS" --jwt-audience "$AUD" --quiet \
		--store-prefix "killrun" --json "$T/kill.json" --csv "$T/kill.csv" >"$T/kill.out" 2>&1
	wait "$killer"
	J=$T/kill.json
	jn() { tr -d ' \n\t' <"$J" | sed -n "s/.*\"$1\":{[^}]*\"$2\":\([0-9]*\).*/\1/p" | head -n 1; }
	drops=$(jn connections drops)
	perr=$(jn pushes transportErrors)
	pok=$(jn pushes ok)
	[ "${drops:-0}" -ge 1 ] || { cat "$T/kill.out"; fail "ebload saw no dropped socket when node 7 was killed"; }
	[ "${pok:-0}" -ge 1 ] || { cat "$T/kill.out"; fail "no push acknowledged during the node kill run"; }
	errsec=$(awk -F, 'NR > 1 && $6 > 0 { print $1; exit }' "$T/kill.csv")
	[ -n "$errsec" ] || fail "ebload's per-second series shows no errors for the killed node"
	# read through the surviving no-auth node 4 (every node serves every store)
	stored=$(for s in 0 1 2 3; do
		curl -s -m 10 "http://127.0.0.1:$PORT_4/api/stores/killrun-$s/changes?since=0&limit=1000" |
			grep -o '"version":' | wc -l
	done | awk '{ n += $1 } END { print n + 0 }')
	[ "$stored" -ge "$pok" ] || fail "$pok pushes acknowledged during the node kill, $stored changes stored"
	echo "cluster_suite: 5. node killed under ebload: $drops sockets dropped, $perr pushes failed (errors from second $errsec), $pok acknowledged, $stored stored"
else
	echo "cluster_suite: 5. skipped: ebload not built"
fi

proc_stop "$PIDS"
PIDS=""
# every node's log: sanitizer reports (leaks at exit included) fail the test
bad=$(grep -l -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$T"/node*.log 2>/dev/null)
[ -z "$bad" ] || { cat $bad; fail "sanitizer findings in $bad"; }
echo "cluster_suite: PASS in $(( $(date +%s) - t0 )) s"
