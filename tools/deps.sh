#!/bin/sh
# Installs the Debian packages the kit needs, only when something is missing.
# Run by `make` and `make test` on a fresh machine; `make deps` runs it by hand.
set -eu

PACKAGES="libpq-dev postgresql build-essential pkg-config libwebsockets-dev libcjson-dev check \
libsubunit-dev libcurl4-openssl-dev libjwt-dev libsqlite3-dev libssl-dev \
clang libclang-rt-dev valgrind curl openssl wrk libxml2-utils shellcheck cppcheck time \
help2man dpkg-dev nodejs npm iproute2"

missing=""
for pc in libwebsockets libcjson check libcurl libjwt sqlite3 libpq openssl; do
	if ! pkg-config --exists "$pc" 2>/dev/null; then
		missing="$missing $pc"
	fi
done
# ip (iproute2): the network namespaces of tests/scripts/shards_netns.sh
for cmd in gcc clang pkg-config valgrind curl openssl wrk xmllint shellcheck cppcheck ip; do
	if ! command -v "$cmd" >/dev/null 2>&1; then
		missing="$missing $cmd"
	fi
done
# make deb (tools/deb.sh): man pages from --help, Depends from dpkg-shlibdeps;
# the validators of tools/validators (schemas.sh) run on Node.js with npm
for cmd in help2man dpkg-shlibdeps node npm; do
	if ! command -v "$cmd" >/dev/null 2>&1; then
		missing="$missing $cmd"
	fi
done
# GNU time: peak RSS of the harness programs (tests/scripts/hostile_servers.sh)
if [ ! -x /usr/bin/time ]; then
	missing="$missing time"
fi
# the PostgreSQL server for the cluster tests (tools/pg-tmp.sh): not on PATH
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
	missing="$missing postgresql"
fi
if [ -z "$missing" ]; then
	exit 0
fi

echo "deps: missing:$missing — installing Debian packages" >&2
if [ "$(id -u)" -ne 0 ]; then
	SUDO=sudo
else
	SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $PACKAGES >/dev/null
echo "deps: installed" >&2
