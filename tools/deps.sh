#!/bin/sh
# Installs the Debian packages the kit needs, only when something is missing,
# and only the packages behind what is missing: a machine that already has a
# tool from elsewhere (Node.js and npm from another repository, say) keeps it,
# since asking apt for the Debian copy can conflict with it.
# Run by `make` and `make test` on a fresh machine; `make deps` runs it by hand.
set -eu

# what is checked, and the package that brings it
need=""
add() { need="$need $1"; }

# build-essential and pkg-config come first: the checks below use pkg-config
command -v gcc >/dev/null 2>&1 || add build-essential
command -v pkg-config >/dev/null 2>&1 || add pkg-config
for pair in libwebsockets:libwebsockets-dev libcjson:libcjson-dev check:check \
	check:libsubunit-dev libcurl:libcurl4-openssl-dev libjwt:libjwt-dev \
	sqlite3:libsqlite3-dev libpq:libpq-dev openssl:libssl-dev; do
	pc=${pair%%:*}
	if ! pkg-config --exists "$pc" 2>/dev/null; then
		add "${pair#*:}"
	fi
done
# ip (iproute2): the network namespaces of tests/scripts/shards_netns.sh;
# xmllint: JUnit checks; help2man and dpkg-shlibdeps: make deb (tools/deb.sh);
# node and npm: the validators of tools/validators (schemas.sh)
for pair in clang:clang clang:libclang-rt-dev valgrind:valgrind curl:curl openssl:openssl \
	wrk:wrk xmllint:libxml2-utils shellcheck:shellcheck cppcheck:cppcheck ip:iproute2 \
	help2man:help2man dpkg-shlibdeps:dpkg-dev node:nodejs npm:npm; do
	cmd=${pair%%:*}
	if ! command -v "$cmd" >/dev/null 2>&1; then
		add "${pair#*:}"
	fi
done
# GNU time: peak RSS of the harness programs (tests/scripts/hostile_servers.sh)
[ -x /usr/bin/time ] || add time
# the PostgreSQL server for the cluster tests (tools/pg-tmp.sh): not on PATH
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || add postgresql
if [ -z "$need" ]; then
	exit 0
fi

echo "deps: missing:$need — installing Debian packages" >&2
if [ "$(id -u)" -ne 0 ]; then
	SUDO=sudo
else
	SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $need >/dev/null
echo "deps: installed" >&2
