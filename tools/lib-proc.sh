# Start, wait for and stop a server that takes `--port 0 --port-file F`
# (ebmock), for the test and benchmark scripts. POSIX sh; source it:
#   tests/scripts/*.sh:  . "$(dirname "$0")/../../tools/lib-proc.sh"
#   tools/*.sh:          . "$(dirname "$0")/lib-proc.sh"
# Names it uses: proc_* (functions), PROC_ERR, _proc_* (scratch).
#
#   proc_start MOCK_PID "$T/mock.log" "$T/port" "$BIN/ebmock" --quiet ...
#   proc_wait_port PORT "$MOCK_PID" "$T/port" 10 || fail "ebmock $PROC_ERR"
#   (or both at once: proc_serve MOCK_PID PORT 10 "$T/mock.log" "$T/port" ...)
#   ...
#   proc_stop "$MOCK_PID"; MOCK_PID=""
#
# proc_start and proc_wait_port set a variable rather than print, so that
# they run in the calling shell: $! and `wait` only work there, and a server
# that died stays a zombie (alive to `kill -0`) until the shell that started
# it reaps it, which a $(...) subshell never does (dash).

# proc_start VAR LOGFILE PORTFILE CMD [ARGS...]: runs CMD ARGS --port 0
# --port-file PORTFILE in the background, stdout and stderr to LOGFILE, after
# removing a stale PORTFILE; sets VAR to its pid.
proc_start() {
	_proc_var=$1 _proc_log=$2 _proc_pf=$3
	shift 3
	rm -f "$_proc_pf"
	"$@" --port 0 --port-file "$_proc_pf" > "$_proc_log" 2>&1 &
	eval "$_proc_var=\$!"
}

# proc_wait_port VAR PID PORTFILE SECONDS: waits until PORTFILE is non-empty
# and sets VAR to the port in it (0). Fails early when PID exits (1) and after
# SECONDS at the most (2), VAR empty and PROC_ERR saying why ("exited early
# (status N)", "wrote no port file within SECONDS s"). PID keeps running on a
# timeout: stopping it stays with the caller.
# shellcheck disable=SC2034 # PROC_ERR is for the caller
proc_wait_port() {
	eval "$1="
	PROC_ERR=""
	_proc_i=0
	while [ ! -s "$3" ]; do
		if ! kill -0 "$2" 2>/dev/null; then
			wait "$2" 2>/dev/null
			PROC_ERR="exited early (status $?)"
			return 1
		fi
		if [ "$_proc_i" -ge $(($4 * 10)) ]; then
			PROC_ERR="wrote no port file within $4 s"
			return 2
		fi
		_proc_i=$((_proc_i + 1))
		sleep 0.1
	done
	_proc_port=$(cat "$3")
	eval "$1=\$_proc_port"
	return 0
}

# proc_serve PIDVAR PORTVAR SECONDS LOGFILE PORTFILE CMD [ARGS...]:
# proc_start then proc_wait_port, the one step most scripts take: the
# server's pid in PIDVAR, its port in PORTVAR; proc_wait_port's status and
# PROC_ERR when it does not come up.
proc_serve() {
	_proc_pv=$1 _proc_portv=$2 _proc_s=$3 _proc_pf2=$5
	shift 3
	proc_start "$_proc_pv" "$@"
	_proc_pid=""
	eval "_proc_pid=\$$_proc_pv"
	proc_wait_port "$_proc_portv" "$_proc_pid" "$_proc_pf2" "$_proc_s"
}

# proc_stop PIDS [GRACE_TENTHS]: SIGTERM to each pid of the blank-separated
# list PIDS (empty: nothing), up to GRACE_TENTHS tenths of a second (default
# 30) for all of them to exit, then SIGKILL to those left, and reaps each.
# Always 0; pids already gone or not children of this shell are fine.
proc_stop() {
	_proc_grace=${2:-30}
	for _proc_p in $1; do
		kill -TERM "$_proc_p" 2>/dev/null
	done
	_proc_i=0
	while [ "$_proc_i" -lt "$_proc_grace" ]; do
		_proc_alive=""
		for _proc_p in $1; do
			kill -0 "$_proc_p" 2>/dev/null && _proc_alive=1
		done
		[ -n "$_proc_alive" ] || break
		sleep 0.1
		_proc_i=$((_proc_i + 1))
	done
	for _proc_p in $1; do
		kill -KILL "$_proc_p" 2>/dev/null
		wait "$_proc_p" 2>/dev/null
	done
	return 0
}

# proc_fail MSG FILE...: a "FAIL: MSG" line, the last 40 lines of each log
# FILE (proc_logs), then exit 1: a test's verdict when a step failed.
proc_fail() {
	echo "FAIL: $1"
	shift
	proc_logs 40 "$@"
	exit 1
}

# proc_logs LINES FILE...: the last LINES lines of each FILE that exists, each
# under a "---- FILE" line: the server and client logs of a failed test.
proc_logs() {
	_proc_n=$1
	shift
	for _proc_f in "$@"; do
		[ -f "$_proc_f" ] || continue
		echo "---- $_proc_f"
		tail -n "$_proc_n" "$_proc_f"
	done
}
