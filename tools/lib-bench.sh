# Helpers of the benchmark scripts (tools/bench.sh, tools/bench-load.sh).
# POSIX sh; source it after setting STEPS and GEN_SCHED:
#   . "$(dirname "$0")/lib-bench.sh"
# Names it uses: bench_* (functions), GEN and GEN_SCHED (see bench_gen).

# bench_step N: true when step N is among the blank-separated STEPS.
bench_step() { case " $STEPS " in *" $1 "*) return 0 ;; esac; return 1; }
# bench_load1: the 1-minute load average now.
bench_load1() { cut -d' ' -f1 /proc/loadavg; }
# bench_cpu_ticks PID: user+system clock ticks of PID so far (0 when gone).
bench_cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
# bench_sys_ticks PID: the system part of it.
bench_sys_ticks() { awk '{print $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }

# bench_gen: sets GEN, the generator's command prefix. SCHED_BATCH: a woken
# ebload thread does not preempt ebmock (wakeup preemption), it waits for
# the tick or a free core; without it each message read could cost ebmock a
# context switch. With GEN_SCHED other than batch, or without chrt, GEN is
# empty and GEN_SCHED becomes normal.
# shellcheck disable=SC2034 # GEN is for the caller
bench_gen() {
	GEN=""
	if [ "$GEN_SCHED" = batch ] && command -v chrt >/dev/null 2>&1; then
		GEN="chrt -b 0"
	else
		GEN_SCHED=normal
	fi
}

# bench_jnum FILE SECTION KEY: a number from a section of an ebload report
bench_jnum() {
	tr -d ' \n\t' < "$1" | sed -n "s/.*\"$2\":{[^}]*\"$3\":\([0-9.e+-]*\)[,}].*/\1/p" | head -n 1
}
# bench_jlat FILE HIST KEY: a figure of latency.HIST
bench_jlat() {
	tr -d ' \n\t' < "$1" | sed -n "s/.*\"latency\":{.*\"$2\":{\"count\":[0-9]*,[^}]*\"$3\":\([0-9.e+-]*\)[,}].*/\1/p" | head -n 1
}
