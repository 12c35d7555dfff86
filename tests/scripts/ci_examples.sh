#!/bin/sh
# The CI recipes users copy (examples/ci) run as written: each is parsed
# (YAML, tools/validators/ci-steps.mjs), its shell steps run in order the way
# its CI runs them, with the user's parts supplied by the test: the server
# (ci/start-server.sh starts ebmock), the package install (apt-get is a shim:
# the programs come from the build on PATH) and the secret. Checked:
#  1. GitHub Actions against a clean ebmock: the job passes, the JUnit files
#     its report step uploads exist, so do the fuzz report and the load JSON
#     with its met thresholds;
#  2. GitLab CI against an ebmock that sends no notifications, with the
#     suite narrowed to cases that do not need them: the job fails on the
#     ebload gate alone (missed notifications), and its JUnit and artifact
#     paths exist.
# Usage: sh tests/scripts/ci_examples.sh build/<config>   (EB_BIN_DIR, EB_ROOT win)
set -u
B=${1:?usage: ci_examples.sh build/<config>}
BIN=$(cd "${EB_BIN_DIR:-$B/bin}" && pwd)
ROOT=${EB_ROOT:-$(pwd)}
V="$ROOT/tools/validators"
T=$(mktemp -d "${TMPDIR:-/tmp}/ci_examples.XXXXXX")
SECRET=ci-examples-secret
SERVER_PID=""

# shellcheck source=tools/lib-proc.sh
. "$(dirname "$0")/../../tools/lib-proc.sh"

stop_server() {
	[ -f "$T/server.pid" ] && SERVER_PID=$(cat "$T/server.pid")
	proc_stop "$SERVER_PID" 20
	SERVER_PID=""
	rm -f "$T/server.pid"
}
trap 'stop_server; rm -rf "$T"' EXIT
trap 'exit 2' INT TERM

fail() {
	echo "FAIL: $*"
	for f in "$T"/*.log "$T"/*/server.log; do
		[ -f "$f" ] && { echo "---- $f"; tail -n 40 "$f"; }
	done
	exit 1
}

sh "$V/install.sh" || fail "the validators of tools/validators could not be installed"

# A free port for the recipe's SERVER_URL: ebmock picks one, then lets it go.
proc_start SERVER_PID "$T/probe.log" "$T/probe.port" "$BIN/ebmock" --port 0 \
	--port-file "$T/probe.port" --jwt-secret "$SECRET" --quiet
proc_wait_port PORT "$SERVER_PID" "$T/probe.port" 10 || fail "ebmock: $PROC_ERR"
stop_server

# The user's parts: their server (ebmock here, with $EBMOCK_FLAGS), and
# apt-get, which only records what it was asked.
mkdir -p "$T/shim"
cat > "$T/shim/apt-get" <<EOF
#!/bin/sh
echo "apt-get \$*" >> "$T/apt-get.log"
EOF
chmod +x "$T/shim/apt-get"
write_server() {
	mkdir -p "$1/ci"
	cat > "$1/ci/start-server.sh" <<EOF
#!/bin/sh
echo \$\$ > "$T/server.pid"
exec "$BIN/ebmock" --port $PORT --jwt-secret "\$EB_JWT_SECRET" --quiet \$EBMOCK_FLAGS
EOF
	chmod +x "$1/ci/start-server.sh"
}

# run_recipe KIND FILE JOB DIR: the recipe's steps in DIR; sets RC.
run_recipe() {
	node "$V/ci-steps.mjs" "$1" "$2" "$3" > "$T/$1.sh" || fail "ci-steps $1: cannot read $2"
	write_server "$4"
	(cd "$4" && PATH="$T/shim:$BIN:$PATH" timeout 240 bash "$T/$1.sh") > "$T/$1-run.log" 2>&1
	RC=$?
	stop_server
}

export EB_JWT_SECRET="$SECRET"
export SERVER_URL="http://127.0.0.1:$PORT"
export FUZZ_SECONDS=2 LOAD_CONNECTIONS=50 LOAD_SECONDS=1

# ---- 1. GitHub Actions, clean server: passes -----------------------------
# Everything but the three cases that wait for a clock (6-10 s each).
export EBCONFORM_ARGS="--exclude ws/auth-timeout --exclude ws/reauth-new-expiry --exclude ws/token-expiry-closes"
export EBMOCK_FLAGS=""
G="$T/github"
mkdir -p "$G"
run_recipe github "$ROOT/examples/ci/github-actions.yml" earlybird "$G"
[ "$RC" -eq 0 ] || fail "GitHub Actions recipe against a clean ebmock: job exit $RC: $(tail -n 20 "$T/github-run.log")"
grep -q 'install .*earlybird-kit_.*\.deb' "$T/apt-get.log" || fail "the recipe does not install the kit's package"
grep -q '^# uses: mikepenz/action-junit-report' "$T/github.sh" || fail "no JUnit report step"
junit=$(sed -n 's/^# uses: mikepenz\/action-junit-report@[^ ]* //p' "$T/github.sh" |
	node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).report_paths.split(",").join("\n")))')
for p in $junit; do
	[ -s "$G/$p" ] || fail "GitHub: the JUnit file $p the report step uploads was not written"
	xmllint --noout "$G/$p" || fail "GitHub: $p is not XML"
done
grep -q '^# uses: actions/upload-artifact' "$T/github.sh" || fail "no artifact upload step"
[ -s "$G/reports/fuzz/report.json" ] || fail "GitHub: no fuzz report"
[ -d "$G/reports/fuzz" ] || fail "GitHub: no fuzz folder for the findings"
grep -q '"result":[[:space:]]*"pass"' "$G/reports/load.json" || fail "GitHub: the load gate did not pass: $(head -c 400 "$G/reports/load.json")"
echo "github-actions.yml: job passed against a clean ebmock; JUnit ($(echo "$junit" | wc -w) files), fuzz and load reports written"

# ---- 2. GitLab CI, a server without notifications: the load gate fails ----
export EBCONFORM_ARGS="--cases sync/* --cases feed/*"
export EBMOCK_FLAGS="--fault no-notify"
L="$T/gitlab"
mkdir -p "$L"
run_recipe gitlab "$ROOT/examples/ci/gitlab-ci.yml" earlybird "$L"
[ "$RC" -ne 0 ] || fail "GitLab recipe against an ebmock without notifications: the job passed"
grep -q '"result":[[:space:]]*"fail"' "$L/reports/load.json" || fail "GitLab: the load report does not fail"
grep -q '"verdict":[[:space:]]*"PASS"' "$L/reports/conformance/report.json" ||
	fail "GitLab: the narrowed suite did not pass, so the gate was not ebload's alone"
sed -n 's/^# junit: //p' "$T/gitlab.sh" > "$T/junit.list"
[ -s "$T/junit.list" ] || fail "GitLab: the recipe uploads no JUnit report"
while IFS= read -r p; do
	[ -s "$L/$p" ] || fail "GitLab: the JUnit file $p was not written"
done < "$T/junit.list"
sed -n 's/^# artifact: //p' "$T/gitlab.sh" > "$T/artifact.list"
while IFS= read -r p; do
	[ -e "$L/$p" ] || fail "GitLab: the artifact path $p does not exist"
done < "$T/artifact.list"
echo "gitlab-ci.yml: job failed on the ebload gate (missed notifications) with the suite passing; JUnit and artifacts in place"
