#!/bin/sh
# Secrets are never written: ebconform, ebfuzz and ebload run against an
# ebmock with a known HS256 secret (given as --jwt-secret S, as
# --jwt-secret=S and through $EB_JWT_SECRET), write every report format they
# have (JSON, JUnit, HTML, CSV, finding files), and every output, report and
# console line is searched for the secret: one hit fails. Rerun commands
# must name "$EB_JWT_SECRET", the reports must say to export it, and a rerun
# command pasted into a shell with it exported must work.
# Usage: sh tests/scripts/secrets_grep.sh build/<config>   (EB_BIN_DIR wins)
set -u
B=${1:?usage: secrets_grep.sh build/<config>}
BIN=${EB_BIN_DIR:-$B/bin}
T=$(mktemp -d "${TMPDIR:-/tmp}/secrets_grep.XXXXXX")
SECRET="sg-$$-Kx9q7-not-to-be-written"
MOCK_PID=""
DEF_PID=""
FAILED=0

# shellcheck source=tools/lib-proc.sh
. "$(dirname "$0")/../../tools/lib-proc.sh"

cleanup() { proc_stop "$MOCK_PID $DEF_PID"; rm -rf "$T"; }
trap cleanup EXIT
trap 'exit 2' INT TERM

fail() {
	echo "FAIL: $*"
	FAILED=1
}

start() {
	_var=$1 _pv=$2 _tag=$3
	shift 3
	proc_start "$_var" "$T/$_tag.mock.log" "$T/$_tag.port" "$BIN/ebmock" --quiet \
		--jwt-secret "$SECRET" "$@"
	eval "_pid=\$$_var"
	# shellcheck disable=SC2154 # _pid is set by the eval
	if ! proc_wait_port "$_pv" "$_pid" "$T/$_tag.port" 10; then
		echo "FAIL: ebmock ($_tag) $PROC_ERR"
		cat "$T/$_tag.mock.log"
		exit 1
	fi
}

for p in ebmock ebconform ebfuzz ebload; do
	[ -x "$BIN/$p" ] || { echo "FAIL: no $BIN/$p"; exit 1; }
done
start MOCK_PID PORT clean
# a defect gives ebfuzz findings (finding files, rerun commands)
start DEF_PID DPORT defect --defect delete-value-accepted
URL="http://127.0.0.1:$PORT"
O="$T/out"
mkdir -p "$O"

# ebconform: every format, the secret as a flag value and after '='
"$BIN/ebconform" --url "$URL" --jwt-secret "$SECRET" --cases 'versioning/*' \
	--report-dir "$O/conform-dir" --json "$O/conform.json" --junit "$O/conform.xml" \
	--html "$O/conform.html" -vv > "$O/conform.stdout" 2> "$O/conform.stderr"
rc=$?
[ $rc -eq 0 ] || fail "ebconform: exit $rc, expected 0"
"$BIN/ebconform" --url "$URL" "--jwt-secret=$SECRET" --cases 'feed/*' \
	--json "$O/conform-eq.json" > "$O/conform-eq.stdout" 2> "$O/conform-eq.stderr"
rc=$?
[ $rc -eq 0 ] || fail "ebconform --jwt-secret=S: exit $rc, expected 0"
# through the environment
EB_JWT_SECRET=$SECRET "$BIN/ebconform" --url "$URL" --cases 'versioning/*' \
	--json "$O/conform-env.json" > "$O/conform-env.stdout" 2> "$O/conform-env.stderr"
rc=$?
[ $rc -eq 0 ] || fail "ebconform with \$EB_JWT_SECRET: exit $rc, expected 0"

# ebfuzz: findings, so rerun commands and finding files exist
"$BIN/ebfuzz" --url "http://127.0.0.1:$DPORT" --jwt-secret "$SECRET" --seed 7 --runs 300 \
	--findings-dir "$O/findings" --json "$O/fuzz.json" --junit "$O/fuzz.xml" \
	--html "$O/fuzz.html" -v > "$O/fuzz.stdout" 2> "$O/fuzz.stderr"
rc=$?
[ $rc -eq 1 ] || fail "ebfuzz against a defect: exit $rc, expected 1 (findings)"
ls "$O/findings"/finding-* > /dev/null 2>&1 || fail "ebfuzz wrote no finding file"
f=$(ls "$O/findings"/finding-*.sh 2>/dev/null | head -1)
if [ -n "$f" ]; then
	"$BIN/ebfuzz" --replay "$f" --url "http://127.0.0.1:$DPORT" "--jwt-secret=$SECRET" \
		> "$O/replay.stdout" 2> "$O/replay.stderr"
fi

# ebload: every format
"$BIN/ebload" --url "$URL" --jwt-secret "$SECRET" --connections 10 --duration 0.5 \
	--drain 0.2 --expect 'missed==0' --json "$O/load.json" --csv "$O/load.csv" \
	--html "$O/load.html" > "$O/load.stdout" 2> "$O/load.stderr"
rc=$?
[ $rc -eq 0 ] || fail "ebload: exit $rc, expected 0"

# one hit anywhere fails
n=$(find "$O" -type f | wc -l)
[ "$n" -ge 20 ] || fail "only $n output files: a run wrote less than expected"
if grep -rlF -- "$SECRET" "$O" > "$T/hits"; then
	fail "the secret is written in:"
	sed 's/^/    /' "$T/hits"
	grep -rnoF -- "$SECRET" "$O" | head -5 | sed 's/^/    /'
fi

# rerun commands name the variable; the reports say to export it
for j in conform.json fuzz.json; do
	grep -q 'jwt-secret \\"\$EB_JWT_SECRET\\"' "$O/$j" ||
		fail "$j: no rerun command naming \"\$EB_JWT_SECRET\""
	grep -q 'export EB_JWT_SECRET' "$O/$j" || fail "$j: does not say to export EB_JWT_SECRET"
done
grep -q 'export EB_JWT_SECRET' "$O/conform.html" || fail "conform.html: does not say to export"
grep -q 'jwt-secret=\\"\$EB_JWT_SECRET\\"' "$O/conform-eq.json" ||
	fail "conform-eq.json: the command line does not name \"\$EB_JWT_SECRET\""
grep -q '"command":.*jwt-secret \\"\$EB_JWT_SECRET\\"' "$O/load.json" ||
	fail "load.json: the command does not name \"\$EB_JWT_SECRET\""

# a rerun command works when pasted, with the variable exported
cmd=$(sed -n 's/^[[:space:]]*"rerun":[[:space:]]*"\(.*\)",*$/\1/p' "$O/conform.json" | head -1 |
	sed 's/\\"/"/g')
case $cmd in
ebconform\ *)
	EB_JWT_SECRET=$SECRET
	export EB_JWT_SECRET
	cmd="\"$BIN/ebconform\"${cmd#ebconform}"
	# a subshell: under set -u an unset variable ends it, not this script
	(eval "$cmd") > "$O/rerun.out" 2>&1
	rc=$?
	unset EB_JWT_SECRET
	[ $rc -eq 0 ] || { fail "pasted rerun command: exit $rc: $cmd"; tail -5 "$O/rerun.out"; }
	;;
*) fail "no rerun command in conform.json" ;;
esac

echo "secrets: $n files of ebconform, ebfuzz and ebload searched: $([ $FAILED = 0 ] && echo clean || echo FAILED)"
exit $FAILED
