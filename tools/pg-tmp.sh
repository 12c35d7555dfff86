#!/bin/sh
# A throwaway PostgreSQL for the cluster tests: a fresh cluster in DIR,
# reachable only through a Unix socket in DIR (listen_addresses=''), trust
# authentication (nobody else can reach the socket: DIR/sock is private to
# the server's user), fsync off (it is thrown away).
#
#   tools/pg-tmp.sh start DIR   prints the libpq URL on stdout; exit 0
#   tools/pg-tmp.sh stop DIR    stops it (immediate) and removes DIR
#   tools/pg-tmp.sh kill DIR    stops it at once, keeps DIR (a fault test)
#   tools/pg-tmp.sh restart DIR starts a stopped one again
#
# The cluster itself lives in a fresh mktemp folder (traversable by the
# postgres user, which the caller's DIR may not be); DIR/root names it.
#
# Exit 77 with a one-line reason on stderr when PostgreSQL cannot be run
# here (binaries missing, running as root without a postgres user): the
# caller skips. initdb refuses to run as root, so as root the cluster
# belongs to the postgres user (runuser), DIR stays root's.
set -eu

cmd=${1:-}
dir=${2:-}
if [ -z "$cmd" ] || [ -z "$dir" ]; then
	echo "usage: tools/pg-tmp.sh start|stop|kill|restart DIR" >&2
	exit 2
fi

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ] || [ ! -x "$bindir/pg_ctl" ]; then
	echo "pg-tmp: PostgreSQL server binaries not found (/usr/lib/postgresql/*/bin; tools/deps.sh installs them)" >&2
	exit 77
fi

as_pg() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

pg_user() {
	if [ "$(id -u)" -eq 0 ]; then echo postgres; else id -un; fi
}

case "$cmd" in
start)
	if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
		echo "pg-tmp: running as root and there is no postgres user to run initdb as" >&2
		exit 77
	fi
	mkdir -p "$dir"
	root=$(mktemp -d "${TMPDIR:-/tmp}/ebpg.XXXXXX")
	echo "$root" >"$dir/root"
	chmod 755 "$root"
	mkdir -p "$root/data" "$root/sock"
	if [ "$(id -u)" -eq 0 ]; then
		chown postgres "$root/data" "$root/sock"
	fi
	chmod 700 "$root/data" "$root/sock"
	dir=$root
	if ! as_pg "$bindir/initdb" -D "$dir/data" -U "$(pg_user)" --auth=trust \
		--no-sync -E UTF8 >"$dir/initdb.log" 2>&1; then
		echo "pg-tmp: initdb failed:" >&2
		cat "$dir/initdb.log" >&2
		exit 1
	fi
	cat >>"$dir/data/postgresql.conf" <<EOF
listen_addresses = ''
unix_socket_directories = '$dir/sock'
fsync = off
full_page_writes = off
max_connections = 60
EOF
	touch "$dir/server.log"
	[ "$(id -u)" -eq 0 ] && chown postgres "$dir/server.log"
	if ! as_pg "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null 2>&1; then
		echo "pg-tmp: the server did not start:" >&2
		tail -20 "$dir/server.log" >&2
		exit 1
	fi
	echo "postgresql://$(pg_user)@/postgres?host=$dir/sock"
	;;
restart)
	dir=$(cat "$dir/root")
	as_pg "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null
	;;
kill)
	dir=$(cat "$dir/root")
	as_pg "$bindir/pg_ctl" -D "$dir/data" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
	;;
stop)
	if [ -f "$dir/root" ]; then
		root=$(cat "$dir/root")
		if [ -f "$root/data/postmaster.pid" ]; then
			as_pg "$bindir/pg_ctl" -D "$root/data" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
		fi
		case "$root" in
		*/ebpg.*) rm -rf "$root" ;;
		esac
	fi
	rm -rf "$dir"
	;;
*)
	echo "usage: tools/pg-tmp.sh start|stop|kill|restart DIR" >&2
	exit 2
	;;
esac
