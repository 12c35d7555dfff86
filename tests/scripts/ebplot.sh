#!/bin/sh
# ebplot (tools/ebplot.c) turns the benches' JSON into standalone SVG files:
# usage errors exit 2 with a hint, each kind writes an <svg> document with
# one polyline per series from a small ebload report and bench.json, and an
# input without the data asked for is exit 2, not an empty picture.
# Usage: sh tests/scripts/ebplot.sh build/<config>
set -u
B=${1:?usage: ebplot.sh build/<config>}
P=$B/bin/ebplot
[ -x "$P" ] || { echo "FAIL: $P missing (make first)"; exit 1; }
T=$(mktemp -d "${TMPDIR:-/tmp}/ebplot.XXXXXX")
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$P" --help > "$T/help" 2>&1 || fail "--help exit $?"
grep -q percentiles "$T/help" || fail "--help does not name the kinds"
"$P" > /dev/null 2> "$T/err"; rc=$?
[ $rc -eq 2 ] || fail "no arguments: exit $rc, want 2"
grep -q "usage" "$T/err" || fail "no arguments: no usage hint"
"$P" pie "$T/x.svg" "$T/none.json" 2> /dev/null; rc=$?
[ $rc -eq 2 ] || fail "unknown kind: exit $rc, want 2"
"$P" ramp "$T/x.svg" "$T/none.json" 2> /dev/null; rc=$?
[ $rc -eq 2 ] || fail "missing input: exit $rc, want 2"

# Histogram values in ns below 256 sit in buckets of their own index.
cat > "$T/r.json" <<'JSON'
{ "schema": "ebload-report/1",
  "latency": { "fanout": { "count": 3, "p50Ms": 0.00002,
    "histogram": { "subBucketBits": 8, "count": 3, "min": 10, "max": 200, "sum": 230,
                   "buckets": [10, 1, 20, 1, 200, 1] } } },
  "timeseries": [ { "t": 1, "open": 100, "p50Ms": 1.5, "p99Ms": 4, "maxMs": 5 },
                  { "t": 2, "open": 250, "p50Ms": 1.2, "p99Ms": 3, "maxMs": 6 } ] }
JSON
cat > "$T/bench.json" <<'JSON'
{ "idleConnections": { "held": 2, "samples": [ [0, 10240], [1000, 14336], [2000, 18432] ] } }
JSON

svg_ok() { # file series
	head -n 1 "$1" | grep -q '^<?xml' || fail "$1: no XML declaration"
	grep -q '<svg class="chart" xmlns="http://www.w3.org/2000/svg"' "$1" || fail "$1: no svg element"
	tail -n 1 "$1" | grep -q '</svg>$' || fail "$1: does not end with </svg>"
	grep -q '<figure' "$1" && fail "$1: HTML around the svg"
	n=$(grep -o '<polyline' "$1" | wc -l)
	[ "$n" -eq "$2" ] || fail "$1: $n polylines, want $2"
}
"$P" percentiles "$T/p.svg" "a=$T/r.json" "b=$T/r.json" || fail "percentiles exit $?"
svg_ok "$T/p.svg" 2
grep -q '>a<' "$T/p.svg" || fail "percentiles: label a not in the legend"
"$P" over-time "$T/t.svg" "$T/r.json" || fail "over-time exit $?"
svg_ok "$T/t.svg" 3
"$P" ramp "$T/ramp.svg" "$T/r.json" || fail "ramp exit $?"
svg_ok "$T/ramp.svg" 1
"$P" memory "$T/m.svg" "$T/bench.json" || fail "memory exit $?"
svg_ok "$T/m.svg" 1

"$P" percentiles "$T/x.svg" --hist push "$T/r.json" 2> "$T/err"; rc=$?
[ $rc -eq 2 ] || fail "a report without latency.push: exit $rc, want 2"
grep -q "latency.push" "$T/err" || fail "the missing histogram is not named"
"$P" memory "$T/x.svg" "$T/r.json" 2> /dev/null; rc=$?
[ $rc -eq 2 ] || fail "memory of a file without samples: exit $rc, want 2"
echo "ebplot: usage, four kinds of plot and missing data checked"
exit 0
