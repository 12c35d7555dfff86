#!/bin/sh
# Static checks beyond the compiler's -Werror: shellcheck on every shell
# script of the kit, and cppcheck (warning and portability classes) on every
# C source. A finding fails the test; a false positive is silenced where it
# happens with a "cppcheck-suppress <id>" or "shellcheck disable=SCnnnn"
# comment that says why, reviewed like code. `make lint` runs this alone.
# Usage: sh tests/scripts/lint.sh [build/<config>]   (the build is unused)
set -u
cd "${EB_ROOT:-.}" || exit 2
status=0

if ! command -v shellcheck >/dev/null 2>&1 || ! command -v cppcheck >/dev/null 2>&1; then
	echo "lint: shellcheck and cppcheck are needed (tools/deps.sh installs them)"
	exit 1
fi

scripts=$(find tools tests examples .ci -type f \( -name '*.sh' -o -path .ci/run \) \
	-not -path '*/node_modules/*' 2>/dev/null | sort)
# POSIX sh everywhere; dash (Debian's /bin/sh) has test's -nt, which POSIX
# leaves undefined (SC3013).
# shellcheck disable=SC2086
if ! shellcheck -s sh -S warning -e SC3013 -x $scripts; then
	echo "lint: shellcheck found the problems above"
	status=1
fi

srcs=$(find protocol net reports mockserver conformance fuzz loadgen client tests \
	-name '*.c' -not -path '*/corpus/*' 2>/dev/null | sort)
incs=$(find protocol net reports mockserver conformance fuzz loadgen client tests \
	-name '*.h' -exec dirname {} \; 2>/dev/null | sort -u | sed 's/^/-I/')
out=$(mktemp "${TMPDIR:-/tmp}/lint.XXXXXX")
trap 'rm -f "$out"' EXIT
# shellcheck disable=SC2086
cppcheck -q -j2 --enable=warning,portability --inline-suppr --std=c11 \
	-D__GNUC__ -D_GNU_SOURCE --suppress=missingIncludeSystem \
	--template='{file}:{line}: {severity} [{id}] {message}' $incs $srcs 2> "$out"
if [ -s "$out" ]; then
	cat "$out"
	echo "lint: cppcheck found $(wc -l < "$out" | tr -d ' ') problem line(s) above"
	status=1
fi
n_sh=$(echo "$scripts" | wc -w)
n_c=$(echo "$srcs" | wc -w)
[ $status -eq 0 ] && echo "lint: $n_sh shell scripts and $n_c C files clean (shellcheck, cppcheck)"
exit $status
