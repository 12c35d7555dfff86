#!/bin/sh
# The machine descriptions of the kit kept true:
#  1. docs/openapi.yaml passes Redocly's lint (recommended-strict, every
#     finding an error), docs/asyncapi.yaml the AsyncAPI parser, and every
#     JSON Schema of docs/schemas/ compiles under Ajv (2020-12, strict);
#  2. every message the protocol library encodes in its unit tests (and in
#     ebmock's handler tests) validates against its schema: those tests,
#     linked with a tap on every encoder (build/<config>/schema-tap/), dump
#     what they encode;
#  3. ebmock's live answers validate against the documents: every HTTP
#     answer and server WebSocket message of an ebconform run (its wire
#     logs), and a curl sample of a rate-limited ebmock (/api/limits with
#     rateLimit, 429 with Retry-After);
#  4. every report the programs write validates against its schema:
#     ebconform (server suite, and a client-suite case with its timeline),
#     ebfuzz and ebload (--expect verdict included);
#  5. the schemas catch drift: a report or message with one member renamed,
#     as a code change without the schema would write it, fails.
# Usage: sh tests/scripts/schemas.sh build/<config>   (EB_BIN_DIR, EB_ROOT win)
set -u
B=${1:?usage: schemas.sh build/<config>}
BIN=${EB_BIN_DIR:-$B/bin}
ROOT=${EB_ROOT:-$(pwd)}
V="$ROOT/tools/validators"
T=$(mktemp -d "${TMPDIR:-/tmp}/schemas.XXXXXX")
MOCK_PID=""
SECRET=schemas-secret
# A slower build (sanitizers) stretches the suite's waits.
SCALE=1
case "$B" in *sanitize*) SCALE=3 ;; esac

# shellcheck source=tools/lib-proc.sh
. "$(dirname "$0")/../../tools/lib-proc.sh"

cleanup() { proc_stop "$MOCK_PID" 20; MOCK_PID=""; }
trap 'cleanup; rm -rf "$T"' EXIT
trap 'exit 2' INT TERM

fail() {
	echo "FAIL: $*"
	proc_logs 40 "$T"/*.log
	exit 1
}

validate() { node "$V/ebvalidate.mjs" "$@"; }
# ok CMD ARG...: a check that must pass; bad WHAT CMD ARG...: one that must
# fail. They are run together at the end (one node process, ebvalidate batch).
ok() { (IFS="$(printf '\t')"; echo "ok	$*") >> "$T/batch"; }
bad() { (IFS="$(printf '\t')"; echo "bad	$*") >> "$T/batch"; }

# start_mock NAME [ebmock flags...]: ebmock on a free port, sets PORT.
start_mock() {
	name=$1; shift
	proc_start MOCK_PID "$T/$name-mock.log" "$T/$name.port" "$BIN/ebmock" \
		--jwt-secret "$SECRET" --quiet "$@"
	proc_wait_port PORT "$MOCK_PID" "$T/$name.port" 10 || fail "ebmock ($name) $PROC_ERR"
}

sh "$V/install.sh" || fail "the validators of tools/validators could not be installed"
export EB_ROOT="$ROOT"

# ---- 1. the documents -------------------------------------------------------
# Redocly: no update check, no telemetry (the test runs offline).
REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true NO_COLOR=1 \
	"$V/node_modules/.bin/redocly" lint --config "$V/redocly.yaml" \
	"$ROOT/docs/openapi.yaml" > "$T/redocly.log" 2>&1 ||
	fail "redocly lint docs/openapi.yaml: $(grep -v '[║╔╚]' "$T/redocly.log" | tail -30)"
grep -q "Your API description is valid" "$T/redocly.log" ||
	fail "redocly lint gave no verdict: $(tail -20 "$T/redocly.log")"
echo "openapi.yaml: redocly lint (recommended-strict): valid"
validate asyncapi || fail "docs/asyncapi.yaml"
ok schemas

# ---- 2. what the library encodes in its unit tests -------------------------
mkdir -p "$T/msgs"
n_tap=0
for t in "$B"/schema-tap/check_*; do
	[ -x "$t" ] || continue
	n_tap=$((n_tap + 1))
	EB_BIN_DIR="$BIN" EB_SCHEMA_DUMP_DIR="$T/msgs" CK_VERBOSITY=silent "$t" > "$T/tap-$(basename "$t").log" 2>&1 ||
		fail "$(basename "$t") (encoder tap) failed: $(tail -5 "$T/tap-$(basename "$t").log")"
done
[ "$n_tap" -ge 2 ] || fail "no encoder-tap test binaries in $B/schema-tap (make test builds them)"
ok messages "$T/msgs" --need sync-request sync-response limits error-400 error-409 \
	ws-auth ws-subscribe ws-unsubscribe ws-ping ws-auth_ok ws-subscribed ws-unsubscribed \
	ws-pong ws-store_changed ws-error

# ---- 3. ebmock's live answers ----------------------------------------------
# The server suite without its three slow waits (auth timeout, token expiry):
# every other case, so every error status the suite provokes is sampled.
start_mock live
timeout 180 "$BIN/ebconform" --url "http://127.0.0.1:$PORT" --jwt-secret "$SECRET" \
	--exclude ws/auth-timeout --exclude ws/reauth-new-expiry --exclude ws/token-expiry-closes \
	--time-scale "$SCALE" --json "$T/conform.json" > "$T/conform.log" 2>&1
rc=$?
cleanup
[ $rc -eq 0 ] || fail "ebconform against a clean ebmock exited $rc: $(tail -5 "$T/conform.log")"
# Every status and server message type the suite provokes from a correct
# server must be among them.
ok wire "$T/conform.json" --min-http 500 --min-ws 100 \
	--need-status 101,200,400,401,403,404,405,409,413,415,422 \
	--need-ws auth_ok,subscribed,unsubscribed,pong,store_changed,error

# A rate-limited ebmock: its limits document carries rateLimit, and a burst
# past the bucket (3 requests, one more every 10 s) gets 429 with
# Retry-After. curl keeps each answer's head and body; one node run turns
# them into JSON lines (status, headers, body) for the openapi check.
start_mock rate --rate-http 0.1 --rate-http-burst 3
# An HS256 token that may read every store (section 9), minted with node.
TOKEN=$(node -e '
	const c = require("crypto");
	const b = (o) => Buffer.from(JSON.stringify(o)).toString("base64url");
	const h = b({ alg: "HS256", typ: "JWT" }) + "." +
		b({ sub: "schemas", exp: Math.floor(Date.now() / 1000) + 600, eb_read: ["*"] });
	process.stdout.write(h + "." + c.createHmac("sha256", process.argv[1]).update(h).digest("base64url"));
' "$SECRET") || fail "minting a token with node"
mkdir -p "$T/http"
n_http=0
# sample METHOD PATH [curl args...]: one answer kept as http/N.{head,body,req}.
sample() {
	n_http=$((n_http + 1))
	printf '%s %s\n' "$1" "$2" > "$T/http/$n_http.req"
	m=$1; p=$2; shift 2
	curl -s -o "$T/http/$n_http.body" -D "$T/http/$n_http.head" -X "$m" "$@" \
		"http://127.0.0.1:$PORT$p" || fail "curl $m $p"
}
sample GET /api/limits
i=0
while [ $i -lt 8 ]; do
	sample GET '/api/stores/s/changes?since=0' -H "Authorization: Bearer $TOKEN"
	i=$((i + 1))
done
sample POST /api/limits -H 'Content-Type: application/json' -d '{}'
sample GET '/api/stores/s/changes?since=0'
cleanup
# shellcheck disable=SC2016 # node's template strings, not the shell's
node -e '
	const fs = require("fs");
	const [dir, n] = process.argv.slice(1);
	for (let i = 1; i <= Number(n); i++) {
		const [m, p] = fs.readFileSync(`${dir}/${i}.req`, "utf8").trim().split(" ");
		const lines = fs.readFileSync(`${dir}/${i}.head`, "utf8").split("\r\n");
		const headers = {};
		for (const l of lines.slice(1)) { const k = l.indexOf(":"); if (k > 0) headers[l.slice(0, k).trim()] = l.slice(k + 1).trim(); }
		const body = fs.readFileSync(`${dir}/${i}.body`, "utf8");
		process.stdout.write(JSON.stringify({ method: m, path: p, status: Number(lines[0].split(" ")[1]), headers, body }) + "\n");
	}
' "$T/http" "$n_http" > "$T/samples.jsonl" || fail "reading curl's answers"
grep -q 'rateLimit' "$T/samples.jsonl" || fail "ebmock --rate-http: /api/limits has no rateLimit: $(head -c 300 "$T/samples.jsonl")"
grep -q '"status":429' "$T/samples.jsonl" || fail "no 429 in a burst of 8 past a bucket of 3: $(cut -c1-200 "$T/samples.jsonl")"
ok http "$T/samples.jsonl"

# ---- 4. the reports --------------------------------------------------------
ok report ebconform-report.schema.json "$T/conform.json"

# One client-suite case: its report carries a timeline.
CASE=$("$BIN/ebconform" --driver "$BIN/ebclient --driver" --list 2>/dev/null | awk 'NR == 1 { print $1 }')
[ -n "$CASE" ] || fail "ebconform --driver --list printed no case"
timeout 120 "$BIN/ebconform" --driver "$BIN/ebclient --driver" --cases "$CASE" \
	--json "$T/client.json" > "$T/client.log" 2>&1
rc=$?
[ $rc -eq 0 ] || fail "client suite case $CASE exited $rc: $(tail -5 "$T/client.log")"
grep -q '"timeline"' "$T/client.json" || fail "the client case's report has no timeline"
ok report ebconform-report.schema.json "$T/client.json"

start_mock fuzz
timeout 120 "$BIN/ebfuzz" --url "http://127.0.0.1:$PORT" --jwt-secret "$SECRET" --seed 14 \
	--runs 100 --json "$T/fuzz.json" --findings-dir "$T/findings" > "$T/fuzz.log" 2>&1
rc=$?
[ $rc -eq 0 ] || fail "ebfuzz against a clean ebmock exited $rc: $(tail -5 "$T/fuzz.log")"
ok report ebfuzz-report.schema.json "$T/fuzz.json"

timeout 60 "$BIN/ebload" --url "http://127.0.0.1:$PORT" --jwt-secret "$SECRET" --quiet \
	--connections 40 --connect-rate 400 --stores 4 --push-rate 10 --duration 1 --drain 1 \
	--expect 'missed==0' --json "$T/load.json" > "$T/load.log" 2>&1
rc=$?
cleanup
[ $rc -eq 0 ] || fail "ebload against a clean ebmock exited $rc: $(tail -5 "$T/load.log")"
grep -q '"verdict"' "$T/load.json" || fail "ebload --expect wrote no verdict"
ok report ebload-report-1.schema.json "$T/load.json"

# Runs cut short by their total deadline: INCOMPLETE reports, cases and
# phases not run named.
start_mock short
timeout 60 "$BIN/ebload" --url "http://127.0.0.1:$PORT" --jwt-secret "$SECRET" --quiet \
	--connections 20 --connect-rate 200 --stores 2 --push-rate 5 --duration 20 --deadline 1 \
	--json "$T/load-short.json" > "$T/load-short.log" 2>&1
grep -q '"incomplete"' "$T/load-short.json" || fail "ebload --deadline 1 wrote no incomplete verdict: $(tail -3 "$T/load-short.log")"
ok report ebload-report-1.schema.json "$T/load-short.json"
timeout 60 "$BIN/ebconform" --url "http://127.0.0.1:$PORT" --jwt-secret "$SECRET" \
	--cases ws/auth-timeout --cases 'sync/*' --deadline 1 --json "$T/conform-short.json" > "$T/conform-short.log" 2>&1
cleanup
grep -q '"INCOMPLETE"' "$T/conform-short.json" || fail "ebconform --deadline 1 wrote no INCOMPLETE verdict: $(tail -3 "$T/conform-short.log")"
ok report ebconform-report.schema.json "$T/conform-short.json"

# ---- 5. drift: one member renamed fails -------------------------------------
# rename FILE OLD NEW OUT: OUT is FILE with the member name OLD written NEW.
rename() { sed "s/\"$2\":/\"$3\":/" "$1" > "$4"; }
rename "$T/conform.json" wireDropped wireDrop "$T/d1.json"
bad "ebconform report with wireDropped renamed" report ebconform-report.schema.json "$T/d1.json"
rename "$T/conform.json" nonStrict nonstrict "$T/d2.json"
bad "ebconform report with summary.nonStrict renamed" report ebconform-report.schema.json "$T/d2.json"
rename "$T/load.json" receivedInHold receivedDuringHold "$T/d3.json"
bad "ebload report with notifications.receivedInHold renamed" report ebload-report-1.schema.json "$T/d3.json"
rename "$T/fuzz.json" tool program "$T/d4.json"
bad "ebfuzz report with tool renamed" report ebfuzz-report.schema.json "$T/d4.json"
mkdir -p "$T/drift1" "$T/drift2"
set -- "$T/msgs"/sync-response-*.json
rename "$1" toVersion to_version "$T/drift1/sync-response-AAAAAA.json"
bad "sync response with toVersion renamed" messages "$T/drift1"
set -- "$T/msgs"/ws-store_changed-*.json
rename "$1" storeId store "$T/drift2/ws-store_changed-AAAAAA.json"
bad "store_changed with storeId renamed" messages "$T/drift2"
sed 's/"[Rr]etry-[Aa]fter":/"X-Retry":/' "$T/samples.jsonl" > "$T/d5.jsonl"
bad "a 429 without Retry-After (ERR-6)" http "$T/d5.jsonl"

# ---- every check above, in one process ---------------------------------------
validate batch "$T/batch" || fail "a check failed (lines above; the checks: $T/batch)"
echo "drift: six renamed members and a 429 without Retry-After each fail their schema"
echo "schemas: documents valid; encoded messages, live answers and reports match them"
