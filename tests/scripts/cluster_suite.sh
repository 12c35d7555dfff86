#!/bin/sh
# The server suite against a 3-node ebmock cluster on one throwaway
# PostgreSQL (tools/pg-tmp.sh; docs/EBMOCK.md "Cluster mode"): every
# ordinary case must pass with its requests and sockets spread over the
# three nodes, and the cluster cases (conformance/cases/cluster.c) with
# them. Skipped, saying why, only where PostgreSQL cannot be run.
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

# start_node N: one ebmock on the shared database; sets PORT_N.
start_node() {
	proc_start pid "$T/node$1.log" "$T/node$1.port" "$MOCK" --quiet \
		--jwt-secret "$SECRET" --jwt-issuer "$ISS" --jwt-audience "$AUD" \
		--rate-http 200 --rate-http-burst 50 --rate-ws 100 --rate-ws-burst 50 \
		--coalesce-ms 20 --backend "$URL"
	PIDS="$PIDS $pid"
	eval "PID_$1=\$pid"
	proc_wait_port port "$pid" "$T/node$1.port" 20 || fail "node $1 did not start ($PROC_ERR)"
	eval "PORT_$1=\$port"
}
start_node 1
start_node 2
start_node 3
# shellcheck disable=SC2154 # PORT_N are set by start_node through eval
A=http://127.0.0.1:$PORT_1 Bn=http://127.0.0.1:$PORT_2 C=http://127.0.0.1:$PORT_3

"$CONF" --url "$Bn" --jwt-secret "$SECRET" --jwt-issuer "$ISS" --jwt-audience "$AUD" \
	--time-scale "$SCALE" --json "$T/suite.json" >"$T/suite.out" 2>"$T/suite.err"
rc=$?
tail -n 16 "$T/suite.out"
[ "$rc" -eq 0 ] || fail "the server suite against node 2 of 3 exited $rc"
grep -q "^VERDICT: PASS" "$T/suite.out" || fail "no PASS verdict"
echo "cluster_suite: PASS — the server suite against a 3-node PostgreSQL cluster ($A $Bn $C) in $(( $(date +%s) - t0 )) s"
