#!/bin/sh
# A misbehaving driver never hangs the client suite and never gives a FAIL:
# a driver that crashes, hangs (ignoring SIGTERM), prints non-JSON or never
# answers makes its case ERROR, with the driver's standard-error tail in the
# report, within the case timeout; no driver process outlives ebconform.
# The four run in parallel.
# Usage: sh tests/scripts/client_bad_driver.sh build/<config>
set -u
B=${1:?usage: client_bad_driver.sh build/<config>}
BIN=${EB_BIN_DIR:-$B/bin}
CONF=$BIN/ebconform
CASE=client/live/sync-on-store-changed
# Driver deadline 5 s, stop grace 2 s + SIGTERM grace 2 s, ebmock start:
# a case must end well inside this.
LIMIT=25

if [ ! -x "$CONF" ] || [ ! -x "$BIN/ebmock" ]; then
	echo "client_bad_driver: need $CONF and $BIN/ebmock" >&2
	exit 1
fi
T=$(mktemp -d "${TMPDIR:-/tmp}/ebc-baddriver.XXXXXX")
trap 'rm -rf "$T"' EXIT

# Each driver writes a marker on stderr first: the report must show it.
cat >"$T/crash.sh" <<'EOF'
echo "crash-marker: the SDK dumped core" >&2
exit 3
EOF
cat >"$T/hang.sh" <<'EOF'
trap '' TERM
echo "hang-marker: stuck in the SDK" >&2
read -r line
printf '{"id":"1","ok":true,"name":"hang","version":"0","clockScale":true}\n'
while :; do sleep 1; done
EOF
cat >"$T/nonjson.sh" <<'EOF'
echo "nonjson-marker: printing junk" >&2
read -r line
echo "Hello from a driver that forgot it speaks JSON"
while read -r line; do :; done
EOF
cat >"$T/silent.sh" <<'EOF'
echo "silent-marker: reading, never answering" >&2
while read -r line; do :; done
EOF

run_one() {
	name=$1
	t0=$(date +%s)
	"$CONF" --driver "sh $T/$name.sh" --cases "$CASE" --json "$T/$name.json" \
		>"$T/$name.out" 2>"$T/$name.err"
	echo "$? $(($(date +%s) - t0))" >"$T/$name.rc"
}

for d in crash hang nonjson silent; do
	run_one "$d" &
done
wait

fail=0
for d in crash hang nonjson silent; do
	read -r rc secs < "$T/$d.rc"
	j=$T/$d.json
	outcome=$(grep -o -P '^\t\t\t"outcome":\t"[A-Z-]+"' "$j" 2>/dev/null | grep -o '[A-Z-]*"$' | tr -d '"')
	if [ "$rc" -ne 1 ] || [ "$outcome" != ERROR ]; then
		echo "client_bad_driver: $d: exit $rc, outcome '${outcome:-none}' (want exit 1, ERROR)"
		cat "$T/$d.out" "$T/$d.err"
		fail=1
		continue
	fi
	if ! grep -P '^\t\t\t"reason"' "$j" | grep -q "$d-marker"; then
		echo "client_bad_driver: $d: the report lacks the driver's stderr tail ($d-marker)"
		grep -P '^\t\t\t"reason"' "$j"
		fail=1
		continue
	fi
	if [ "$secs" -gt "$LIMIT" ]; then
		echo "client_bad_driver: $d: took $secs s (limit $LIMIT s)"
		fail=1
		continue
	fi
	left=$(pgrep -f "$T/$d.sh" 2>/dev/null)
	if [ -n "$left" ]; then
		echo "client_bad_driver: $d: driver process(es) $left outlived ebconform"
		for p in $left; do kill -KILL "$p" 2>/dev/null; done
		fail=1
		continue
	fi
	reason=$(grep -P '^\t\t\t"reason"' "$j" | head -n 1 | cut -c1-150)
	echo "$d: ERROR in $secs s;$reason"
done
[ "$fail" -eq 0 ] && echo "client_bad_driver: every bad driver gave ERROR with its stderr tail, in time"
exit "$fail"
