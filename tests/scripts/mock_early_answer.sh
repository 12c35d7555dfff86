#!/bin/sh
# ebmock answers a request before reading its body (413 for a Content-Length
# over --max-body-bytes, LIMIT-1) and closes: the client must still get the
# answer. A server that closes with the body unread resets the connection,
# which can fail the client's next write before it reads the 413 (curl lost
# 13 of 1000 that way before ebmock read and dropped the rest of the body).
# Usage: sh tests/scripts/mock_early_answer.sh build/<config>   (EB_BIN_DIR wins)
set -u
B=${1:?usage: mock_early_answer.sh build/<config>}
BIN=${EB_BIN_DIR:-$B/bin}
T=$(mktemp -d "${TMPDIR:-/tmp}/mock_early_answer.XXXXXX")
MOCK_PID=""
TRIES=${MOCK_EARLY_TRIES:-500}

# shellcheck source=tools/lib-proc.sh
. "$(dirname "$0")/../../tools/lib-proc.sh"

trap 'proc_stop "$MOCK_PID"; rm -rf "$T"' EXIT
trap 'exit 2' INT TERM

fail() {
	echo "FAIL: $*"
	proc_logs 40 "$T/mock.log"
	exit 1
}

command -v curl > /dev/null || fail "curl is not installed (tools/deps.sh installs it)"
proc_start MOCK_PID "$T/mock.log" "$T/port" "$BIN/ebmock" --no-auth --quiet \
	--max-body-bytes 1024
proc_wait_port PORT "$MOCK_PID" "$T/port" 10 || fail "ebmock $PROC_ERR"
URL="http://127.0.0.1:$PORT/api/stores/early/sync"

# 1 MiB of JSON, sent without waiting for an early answer (no Expect)
printf '{"lastKnownVersion":0,"pad":"' > "$T/body.json"
head -c 1048576 /dev/zero | tr '\0' 'x' >> "$T/body.json"
printf '"}' >> "$T/body.json"

lost=0
i=0
while [ $i -lt "$TRIES" ]; do
	code=$(curl -s -m 5 -o /dev/null -w '%{http_code}' -H 'Expect:' \
		-H 'Content-Type: application/json' --data-binary @"$T/body.json" "$URL")
	[ "$code" = "413" ] || { lost=$((lost + 1)); last=$code; }
	i=$((i + 1))
done
[ $lost -eq 0 ] || fail "$lost of $TRIES early 413 answers lost (last: ${last:-?})"
code=$(curl -s -m 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/api/limits")
[ "$code" = "200" ] || fail "the server does not answer afterwards ($code)"
echo "early answers: $TRIES of $TRIES over-limit bodies got their 413"
exit 0
