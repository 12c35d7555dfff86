#!/bin/sh
# The shape of the tree, checked rather than hoped for:
#   - include boundaries: a file of a library or program folder compiles
#     with that folder's include path (the Makefile's INC for it) and no
#     other, so a wrong include fails: a protocol/ file that includes a net/
#     or reports/ header, a reports/ file that includes a net/ header, a net/
#     file that includes a program's header, and one program's file that
#     includes another program's header must each fail to compile, while the
#     right include compiles under the same flags (so the failure is the
#     boundary, not a broken compiler line);
#   - no function over 80 lines in the main.c of ebconform, ebload, ebfuzz
#     and ebclient (main reads as a short story; the work lives in named
#     functions).
# Usage: sh tests/scripts/layout.sh [build/<config>]   (the build is unused)
set -u
cd "${EB_ROOT:-.}" || exit 2
T=$(mktemp -d "${TMPDIR:-/tmp}/layout.XXXXXX")
trap 'rm -rf "$T"' EXIT
FAILED=0
CC=${CC:-gcc}
PKG_CFLAGS=$(pkg-config --cflags libwebsockets libcjson libcurl libjwt openssl 2>/dev/null)

fail() {
	echo "FAIL: $*"
	FAILED=1
}

# incs DIR: the include flags the Makefile gives DIR's objects.
incs() {
	MAKEFLAGS='' make -s --no-print-directory BUILD="$T/b" SANITIZE= \
		"$T/b/release/obj/$1/probe.inc" 2>/dev/null
}

# probe DIR HEADER: compile a file that includes HEADER as a file of DIR
# would (DIR searched first for quoted includes, then DIR's include path);
# 0 when it compiles.
probe() {
	dir=$1 hdr=$2
	flags=$(incs "$dir")
	src="$T/probe.c"
	printf '#include "%s"\nint layout_probe(void);\nint layout_probe(void) { return 0; }\n' \
		"$hdr" > "$src"
	# shellcheck disable=SC2086
	$CC -std=c11 -D_GNU_SOURCE -iquote "$dir" $flags $PKG_CFLAGS -fsyntax-only "$src" \
		> "$T/probe.log" 2>&1
}

# must_compile DIR HEADER / must_fail DIR HEADER
must_compile() {
	probe "$1" "$2" || { cat "$T/probe.log"; fail "$1/ cannot include $2 (it should)"; }
}
must_fail() {
	if probe "$1" "$2"; then
		fail "$1/ compiles with #include \"$2\": the include boundary is open"
	elif ! grep -q "$2: No such file" "$T/probe.log"; then
		cat "$T/probe.log"
		fail "$1/ with #include \"$2\" failed for another reason than the boundary"
	fi
}

if [ "$(incs protocol)" != "-Iprotocol" ]; then
	echo "FAIL: the Makefile gives protocol/ the include path '$(incs protocol)', not -Iprotocol"
	exit 1
fi
must_compile protocol eb_json.h
must_fail protocol eb_wsc.h
must_fail protocol eb_report.h
must_compile reports eb_report.h
must_fail reports eb_http.h
must_compile net eb_wsc.h
must_fail net ebc.h
must_fail net ebm_core.h
must_compile conformance ebc.h
must_fail conformance ebl.h
must_fail conformance ebm_core.h
must_compile loadgen ebl.h
must_fail loadgen ebc.h
must_fail loadgen ebf.h
must_compile fuzz/net ebf.h
must_fail fuzz/net ebl.h
must_compile client ebclient.h
must_fail client ebc.h
must_fail tests/support eb_json.h

# No function over 80 lines in a program's main.c: a function body opens
# with "{" and closes with "}" at the start of a line (the house style).
for f in conformance/main.c loadgen/main.c fuzz/net/main.c client/main.c mockserver/main.c; do
	[ -f "$f" ] || continue
	long=$(awk '
		/^\{/ { start = NR; next }
		/^\}/ { if (start && NR - start + 1 > 80) printf "%s:%d: %d lines\n", FILENAME, start, NR - start + 1; start = 0 }
	' "$f")
	if [ -n "$long" ]; then
		echo "$long"
		fail "$f has functions over 80 lines"
	fi
done

[ $FAILED -eq 0 ] || exit 1
echo "layout: include boundaries hold, no main.c function over 80 lines"
