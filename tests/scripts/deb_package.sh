#!/bin/sh
# The Debian package (make deb, tools/deb.sh) installs and runs:
#  1. it builds earlybird-kit_<EB_KIT_VERSION>_<arch>.deb from this build,
#     and its control file names the version of net/eb_target.h;
#  2. it holds every program, a man page per program generated from its
#     --help (ebconform's page documents --cases), the docs (PROTOCOL.md,
#     openapi.yaml, asyncapi.yaml, the report schemas) and the CI recipes;
#  3. every package of its Depends resolves on this machine: installed at a
#     version that satisfies it (dpkg-query), or else a candidate apt knows
#     (apt-cache policy);
#  4. unpacked with dpkg-deb -x into a scratch folder, its programs run from
#     there: ebconform --version, and a short suite (--cases) against the
#     package's own ebmock passes.
# Usage: sh tests/scripts/deb_package.sh build/<config>   (EB_ROOT wins)
set -u
B=${1:?usage: deb_package.sh build/<config>}
ROOT=${EB_ROOT:-$(pwd)}
T=$(mktemp -d "${TMPDIR:-/tmp}/deb_package.XXXXXX")
MOCK_PID=""
SECRET=deb-secret

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

# ---- 1. build ----------------------------------------------------------------
DEB=$(cd "$ROOT" && sh tools/deb.sh "$B" "$T/out" 2> "$T/deb.log" | tail -n 1)
[ -f "$DEB" ] || fail "tools/deb.sh built no package: $(tail -n 5 "$T/deb.log")"
VERSION=$(sed -n 's/^#define EB_KIT_VERSION "\([^"]*\)".*/\1/p' "$ROOT/net/eb_target.h")
ARCH=$(dpkg --print-architecture)
[ "$(basename "$DEB")" = "earlybird-kit_${VERSION}_$ARCH.deb" ] || fail "package named $(basename "$DEB")"
[ "$(dpkg-deb -f "$DEB" Version)" = "$VERSION" ] || fail "control Version $(dpkg-deb -f "$DEB" Version), EB_KIT_VERSION $VERSION"
[ "$(dpkg-deb -f "$DEB" Package)" = earlybird-kit ] || fail "control Package $(dpkg-deb -f "$DEB" Package)"

# ---- 2. contents -------------------------------------------------------------
dpkg-deb -c "$DEB" | awk '{ print $NF }' > "$T/contents"
for f in usr/bin/ebmock usr/bin/ebconform usr/bin/ebfuzz usr/bin/ebload usr/bin/ebclient \
	usr/share/man/man1/ebconform.1.gz usr/share/man/man1/ebmock.1.gz \
	usr/share/man/man1/ebfuzz.1.gz usr/share/man/man1/ebload.1.gz usr/share/man/man1/ebclient.1.gz \
	usr/share/doc/earlybird-kit/PROTOCOL.md usr/share/doc/earlybird-kit/openapi.yaml \
	usr/share/doc/earlybird-kit/asyncapi.yaml usr/share/doc/earlybird-kit/REPORT-SCHEMA.md \
	usr/share/doc/earlybird-kit/schemas/ebload-report-1.schema.json \
	usr/share/doc/earlybird-kit/examples/ci/github-actions.yml \
	usr/share/doc/earlybird-kit/examples/ci/gitlab-ci.yml; do
	grep -qx "\./$f" "$T/contents" || fail "the package lacks $f"
done

# ---- 3. Depends resolve --------------------------------------------------------
DEPENDS=$(dpkg-deb -f "$DEB" Depends)
[ -n "$DEPENDS" ] || fail "the package declares no Depends"
echo "$DEPENDS" | grep -q 'libwebsockets' || fail "Depends lacks libwebsockets: $DEPENDS"
n=0
# One group per comma; a group resolves when one of its alternatives does.
echo "$DEPENDS" | tr ',' '\n' > "$T/groups"
while IFS= read -r group; do
	ok=""
	for alt in $(echo "$group" | tr '|' '\n' | sed 's/ //g'); do
		pkg=${alt%%(*}
		rel=$(echo "$alt" | sed -n 's/^[^(]*(\([<>=]*\)\(.*\))$/\1/p')
		want=$(echo "$alt" | sed -n 's/^[^(]*([<>=]*\(.*\))$/\1/p')
		have=$(dpkg-query -W -f='${Status} ${Version}\n' "$pkg" 2>/dev/null |
			awk '$3 == "installed" { print $4 }' | head -n 1)
		if [ -n "$have" ]; then
			if [ -z "$rel" ]; then ok=1; break; fi
			case "$rel" in ">=") op=ge ;; "<=") op=le ;; ">>") op=gt ;; "<<") op=lt ;; *) op=eq ;; esac
			dpkg --compare-versions "$have" "$op" "$want" && { ok=1; break; }
		elif apt-cache policy "$pkg" 2>/dev/null | grep -q 'Candidate: [0-9]'; then
			ok=1; break
		fi
	done
	[ -n "$ok" ] || fail "Depends group '$group' does not resolve on this machine"
	n=$((n + 1))
done < "$T/groups"
echo "deb: $(basename "$DEB"), $(wc -l < "$T/contents") paths, $n dependencies resolve"

# ---- 4. unpacked, it runs -------------------------------------------------------
R="$T/root"
dpkg-deb -x "$DEB" "$R" || fail "dpkg-deb -x"
"$R/usr/bin/ebconform" --version > "$T/version.log" 2>&1 || fail "ebconform --version exited non-zero"
grep -q "$VERSION" "$T/version.log" || fail "ebconform --version says $(cat "$T/version.log"), not $VERSION"
for p in ebmock ebfuzz ebload ebclient; do
	"$R/usr/bin/$p" --version > /dev/null 2>&1 || fail "$p --version from the package"
done
gzip -dc "$R/usr/share/man/man1/ebconform.1.gz" > "$T/ebconform.1"
grep -q '^\.TH EBCONFORM' "$T/ebconform.1" || fail "ebconform.1 is no man page"
grep -q 'cases' "$T/ebconform.1" || fail "ebconform.1 does not document --cases (not made from --help?)"

proc_start MOCK_PID "$T/mock.log" "$T/mock.port" "$R/usr/bin/ebmock" --port 0 \
	--port-file "$T/mock.port" --jwt-secret "$SECRET" --quiet
proc_wait_port PORT "$MOCK_PID" "$T/mock.port" 10 || fail "the package's ebmock: $PROC_ERR"
timeout 120 "$R/usr/bin/ebconform" --url "http://127.0.0.1:$PORT" --jwt-secret "$SECRET" \
	--cases 'sync/*' --cases 'versioning/*' --json "$T/suite.json" > "$T/suite.log" 2>&1
rc=$?
cleanup
[ $rc -eq 0 ] || fail "the package's ebconform against its ebmock exited $rc"
grep -q '"verdict":[[:space:]]*"PASS"' "$T/suite.json" || fail "the short suite's verdict is not PASS"
cases=$(grep -c '"outcome"' "$T/suite.json")
[ "$cases" -ge 10 ] || fail "the short suite ran $cases cases"
echo "deb: unpacked programs run; ebconform $VERSION passed $cases cases against the package's ebmock"
