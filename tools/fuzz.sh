#!/bin/sh
# tools/fuzz.sh — build every fuzz target with clang + libFuzzer (ASan, UBSan)
# and run each for a fixed time. This is what `make fuzz` and CI run.
#
# Usage: sh tools/fuzz.sh [SECONDS] [TARGET...]
#   SECONDS   run time per target (default 30); 0 builds the targets only
#   TARGET    names like fuzz_json or json (default: every fuzz/targets/fuzz_*.c)
# Environment:
#   FUZZ_OUT      output folder (default build/fuzz)
#   FUZZ_CC       compiler (default clang)
#   FUZZ_FLAGS    extra libFuzzer flags for every run (e.g. "-jobs=2")
# Per-target flags: fuzz/targets/fuzz_<name>.options (one line, # comments).
#
# Output, under FUZZ_OUT:
#   bin/fuzz_*              the instrumented targets
#   corpus-new/<name>/      inputs libFuzzer found (the committed seeds in
#                           fuzz/corpus/<name>/ are read, never written)
#   crashes/<name>-*        crashing, leaking or slow inputs
#   logs/<name>.log         each run's libFuzzer output
#   fuzz-stats.json         execs/s, coverage, corpus size and verdict per target;
#                           also execs per CPU second (the run's user+sys time,
#                           steady on a loaded machine where execs/s is not) and
#                           the load average when each run ended
# Exit status: 0 every target ran clean, 1 a target crashed (the reproduce
# command is printed), 2 build or usage error.
set -u

SECONDS_PER=${1:-30}
[ $# -gt 0 ] && shift
case "$SECONDS_PER" in
''|*[!0-9]*) echo "fuzz.sh: SECONDS must be a whole number, got '$SECONDS_PER'" >&2; exit 2 ;;
esac
OUT=${FUZZ_OUT:-build/fuzz}
CC=${FUZZ_CC:-clang}
EXTRA=${FUZZ_FLAGS:-}

if ! command -v "$CC" >/dev/null 2>&1; then
	echo "fuzz.sh: $CC not found (install clang; make deps)" >&2
	exit 2
fi

PKGS="libcjson libjwt openssl sqlite3 libpq"
PKG_CFLAGS=$(pkg-config --cflags $PKGS 2>/dev/null)
PKG_LIBS="$(pkg-config --libs $PKGS 2>/dev/null) -lpthread -lm"
WARN="-std=c11 -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 -Wwrite-strings"
SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
CFLAGS="$WARN -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer $SAN \
	-Iprotocol -Ireports -Inet -Imockserver/core -I$OUT/gen $PKG_CFLAGS"

mkdir -p "$OUT/obj" "$OUT/lib" "$OUT/bin" "$OUT/gen" "$OUT/corpus-new" \
	"$OUT/crashes" "$OUT/logs" || exit 2

# ---- build ------------------------------------------------------------------
# Rebuild an object when its source or any header it can see is newer.
newest_header=$(ls -t protocol/*.h mockserver/core/*.h fuzz/*.h 2>/dev/null | head -n 1)
compile() { # src obj [extra flags]
	src=$1; obj=$2; shift 2
	if [ -f "$obj" ] && [ ! "$src" -nt "$obj" ] &&
	   { [ -z "$newest_header" ] || [ ! "$newest_header" -nt "$obj" ]; } &&
	   [ ! tools/fuzz.sh -nt "$obj" ]; then
		return 0
	fi
	mkdir -p "$(dirname "$obj")"
	echo "  CC      $src"
	# shellcheck disable=SC2086
	$CC $CFLAGS "$@" -c "$src" -o "$obj" || exit 2
}

if [ ! -f "$OUT/gen/eb_rules.c" ] || [ docs/PROTOCOL.md -nt "$OUT/gen/eb_rules.c" ]; then
	awk -f tools/gen_rules.awk docs/PROTOCOL.md > "$OUT/gen/eb_rules.c.tmp" &&
		mv "$OUT/gen/eb_rules.c.tmp" "$OUT/gen/eb_rules.c" || exit 2
fi

# The libraries are instrumented for coverage but carry no fuzzer main.
LIBCOV="-fsanitize=fuzzer-no-link"
lib() { # archive src...
	a=$1; shift
	objs=""
	for s in "$@"; do
		[ -f "$s" ] || continue
		o="$OUT/obj/${s%.c}.o"
		compile "$s" "$o" $LIBCOV
		objs="$objs $o"
	done
	rm -f "$a"
	# shellcheck disable=SC2086
	[ -z "$objs" ] || ar rcs "$a" $objs || exit 2
}
lib "$OUT/lib/libeb.a" protocol/*.c "$OUT/gen/eb_rules.c"
lib "$OUT/lib/libebmock.a" mockserver/core/*.c
MOCKLIB=""
[ -f "$OUT/lib/libebmock.a" ] && MOCKLIB="$OUT/lib/libebmock.a"

if [ $# -gt 0 ]; then
	TARGETS=""
	for t in "$@"; do
		t=fuzz_${t#fuzz_}
		[ -f "fuzz/targets/$t.c" ] || { echo "fuzz.sh: no target fuzz/targets/$t.c" >&2; exit 2; }
		TARGETS="$TARGETS $t"
	done
else
	TARGETS=$(for f in fuzz/targets/fuzz_*.c; do [ -f "$f" ] && basename "$f" .c; done)
fi
[ -n "$TARGETS" ] || { echo "fuzz.sh: no targets in fuzz/targets/" >&2; exit 2; }

for t in $TARGETS; do
	compile "fuzz/targets/$t.c" "$OUT/obj/fuzz/$t.o" $LIBCOV
	echo "  LINK    $OUT/bin/$t"
	# shellcheck disable=SC2086
	$CC $SAN -fsanitize=fuzzer -o "$OUT/bin/$t" "$OUT/obj/fuzz/$t.o" \
		$MOCKLIB "$OUT/lib/libeb.a" $PKG_LIBS || exit 2
done

if [ "$SECONDS_PER" -eq 0 ]; then
	# libFuzzer reads -max_total_time=0 as "no limit": 0 means build only.
	echo "built:$(for t in $TARGETS; do printf ' %s' "$OUT/bin/$t"; done)"
	exit 0
fi

# ---- run --------------------------------------------------------------------
# libFuzzer's final lines: "#N DONE cov: C ft: F corp: ..." and
# "stat::average_exec_per_sec: E"; the cov line is the last progress line.
field() { # log key  -> value of "key: value" on the last progress line
	grep -E '^#[0-9]+' "$1" | tail -n 1 | tr ' ' '\n' | grep -A1 -x "$2:" | tail -n 1
}
stat() { # log name
	grep "^stat::$2:" "$1" | tail -n 1 | awk '{print $2}'
}
# CPU seconds (user + sys) of this shell's finished children so far, from
# the second line of the times builtin ("0m1.820000s 0m0.360000s").
child_cpu() {
	# read from a file: in a command substitution the builtin would see
	# the subshell, which has no children
	sed -n 2p "$OUT/logs/.times" | awk '{
		t = 0
		for (i = 1; i <= 2; i++) { split($i, a, "m"); sub("s", "", a[2]); t += a[1] * 60 + a[2] }
		printf "%.2f", t }'
}

crashed=0
json_rows=""
printf '%-26s %10s %10s %10s %7s %7s %7s  %s\n' target execs execs/s execs/cpu-s cov ft corpus verdict
for t in $TARGETS; do
	n=${t#fuzz_}
	seeds="fuzz/corpus/$n"
	new="$OUT/corpus-new/$n"
	log="$OUT/logs/$n.log"
	mkdir -p "$new"
	dict=""
	[ -f "fuzz/dict/$n.dict" ] && dict="-dict=fuzz/dict/$n.dict"
	dirs="$new"
	[ -d "$seeds" ] && dirs="$new $seeds"
	# Per-target libFuzzer flags (e.g. -max_len for targets whose inputs
	# are short by nature), one line in fuzz/targets/fuzz_<name>.options.
	topts=""
	[ -f "fuzz/targets/$t.options" ] && topts=$(grep -v '^#' "fuzz/targets/$t.options" | tr '\n' ' ')
	times > "$OUT/logs/.times"
	cpu0=$(child_cpu)
	# New inputs go to the first directory only, so seeds stay as committed.
	# shellcheck disable=SC2086
	# quarantine_size_mb=16: freed memory waits in 16 MiB, not 256, before
	# reuse (a use after free within an input, whose allocations are KiBs,
	# is still caught); the default cycled every allocation through fresh
	# pages, and their page faults were a fifth of fuzz_jwt's time
	ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:allocator_may_return_null=1:quarantine_size_mb=16" \
	UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
	"$OUT/bin/$t" -max_total_time="$SECONDS_PER" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$OUT/crashes/$n-" $dict $topts $EXTRA \
		$dirs > "$log" 2>&1
	rc=$?
	times > "$OUT/logs/.times"
	cpu=$(awk -v a="$cpu0" -v b="$(child_cpu)" 'BEGIN { printf "%.2f", b - a }')
	load=$(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo 0)
	execs=$(stat "$log" number_of_executed_units); execs=${execs:-0}
	eps=$(stat "$log" average_exec_per_sec); eps=${eps:-0}
	cov=$(field "$log" cov); cov=${cov:-0}
	ft=$(field "$log" ft); ft=${ft:-0}
	corp=$(field "$log" corp); corp=${corp%%/*}; corp=${corp:-0}
	epc=$(awk -v e="$execs" -v c="$cpu" 'BEGIN { printf "%.0f", (c > 0 ? e / c : 0) }')
	verdict=clean
	artifact=""
	if [ "$rc" -ne 0 ]; then
		crashed=1
		verdict=crash
		artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
	fi
	printf '%-26s %10s %10s %10s %7s %7s %7s  %s\n' "$t" "$execs" "$eps" "$epc" "$cov" "$ft" "$corp" "$verdict"
	if [ "$verdict" = crash ]; then
		echo "    log:        $log"
		grep -E 'ERROR: |invariant broken|SUMMARY' "$log" | head -n 5 | sed 's/^/    /'
		if [ -n "$artifact" ]; then
			echo "    input:      $artifact"
			echo "    reproduce:  $OUT/bin/$t $artifact"
			echo "    or (gcc):   make build/release/fuzz/$t && build/release/fuzz/$t $artifact"
		else
			echo "    (exit $rc, no input saved; see the log)"
		fi
	fi
	row=$(printf '{"target":"%s","seconds":%s,"execs":%s,"execs_per_sec":%s,"cpu_seconds":%s,"execs_per_cpu_sec":%s,"load_average":%s,"cov":%s,"ft":%s,"corpus":%s,"verdict":"%s","exit":%s,"artifact":"%s"}' \
		"$t" "$SECONDS_PER" "$execs" "$eps" "$cpu" "$epc" "$load" "$cov" "$ft" "$corp" "$verdict" "$rc" "$artifact")
	json_rows="${json_rows:+$json_rows,
  }$row"
done

printf '{\n "tool": "fuzz.sh",\n "seconds_per_target": %s,\n "targets": [\n  %s\n ]\n}\n' \
	"$SECONDS_PER" "$json_rows" > "$OUT/fuzz-stats.json"
echo "stats: $OUT/fuzz-stats.json"
if [ "$crashed" -ne 0 ]; then
	echo "fuzz: FAILED (crashes above; inputs under $OUT/crashes/)"
	exit 1
fi
echo "fuzz: clean"
exit 0
