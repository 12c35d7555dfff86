#!/bin/sh
# Requirement coverage of the conformance suite: every server-side MUST rule
# of docs/PROTOCOL.md must be cited by at least one case of `ebconform --list`.
# The client suite (`ebconform --list --driver CMD`) must cite every CLIENT
# MUST rule the same way. Left out: SHOULD/MAY rules, and the few
# server rules listed below with the reason a black-box suite cannot check
# them; each exclusion is printed so it stays visible.
# Usage: sh tests/scripts/conformance_coverage.sh build/<config>
set -u
B=${1:?usage: conformance_coverage.sh build/<config>}
BIN=${EB_BIN_DIR:-$B/bin}
ROOT=${EB_ROOT:-.}
SPEC=$ROOT/docs/PROTOCOL.md
CONF=$BIN/ebconform

if [ ! -x "$CONF" ] || [ ! -f "$SPEC" ]; then
	echo "coverage: need $CONF and $SPEC" >&2
	exit 1
fi

# id<TAB>reason of the server rules no black-box case can check.
EXCLUDED='GEN-3	a client rule (clients ignore unknown members)
GEN-7	a client rule (clients ignore unknown message types)
MERGE-1	the merge is computed by clients; the server stores every change (MERGE-6 is covered)
MERGE-2	client-side merge rule (the suite uses it as its oracle)
MERGE-3	client-side merge rule (the suite uses it as its oracle)
MERGE-4	client-side merge rule (the suite uses it as its oracle)
MERGE-5	client-side merge rule (the suite uses it as its oracle)
VER-8	needs a store at version 2^53-1: not reachable from outside
WS-CLOSE-1	needs the server to shut down during the run
CLUSTER-7	needs a node restarted during the run (tests/scripts/cluster_suite.sh restarts one and checks)
WS-CLOSE-3	a bound on internal memory, not observable on the wire'

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ebc-coverage.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

if ! "$CONF" --list >"$tmp/list.txt"; then
	echo "coverage: ebconform --list failed" >&2
	exit 1
fi
ncases=$(grep -c . "$tmp/list.txt")
cut -f3 "$tmp/list.txt" | tr ',' '\n' | grep . | sort -u >"$tmp/cited.txt"

# Rule lines "- **ID** text"; level as tools/gen_rules.awk computes it.
awk '/^- \*\*[A-Z][A-Z0-9-]*-[0-9]+\*\* / {
	id = $0; sub(/^- \*\*/, "", id); sub(/\*\*.*/, "", id)
	lvl = "MUST"
	if ($0 ~ /MUST|REQUIRED|SHALL/) lvl = "MUST"
	else if ($0 ~ /SHOULD|RECOMMENDED/) lvl = "SHOULD"
	else if ($0 ~ /MAY|OPTIONAL/) lvl = "MAY"
	print id "\t" lvl
}' "$SPEC" >"$tmp/rules.txt"
nrules=$(grep -c . "$tmp/rules.txt")
printf '%s\n' "$EXCLUDED" | cut -f1 | sort >"$tmp/excluded.txt"
awk -F '\t' '$2 == "MUST" && $1 !~ /^CLIENT-/ { print $1 }' "$tmp/rules.txt" | sort >"$tmp/must.txt"
comm -23 "$tmp/must.txt" "$tmp/excluded.txt" >"$tmp/required.txt"
comm -23 "$tmp/required.txt" "$tmp/cited.txt" >"$tmp/uncovered.txt"
comm -12 "$tmp/excluded.txt" "$tmp/cited.txt" >"$tmp/excluded_but_cited.txt"

nreq=$(grep -c . "$tmp/required.txt")
nunc=$(grep -c . "$tmp/uncovered.txt")
ncited_all=$(comm -12 "$tmp/cited.txt" "$tmp/must.txt" | grep -c .)
nshould=$(awk -F '\t' '$2 != "MUST" && $1 !~ /^CLIENT-/' "$tmp/rules.txt" | cut -f1 | sort | comm -12 - "$tmp/cited.txt" | grep -c .)
echo "rules in PROTOCOL.md: $nrules; server MUST rules: $(grep -c . "$tmp/must.txt"); cases: $ncases"
echo "required (server MUST minus exclusions): $nreq, cited: $((nreq - nunc)); server MUST cited in all: $ncited_all; SHOULD/MAY cited: $nshould"
# The headline tools/run-tests.sh prints at the end of make test.
mkdir -p "$B/test-logs"
printf 'rules covered: %s of %s checkable server MUST rules cited by the %s server cases (%s rules in PROTOCOL.md)\n' \
	"$((nreq - nunc))" "$nreq" "$ncases" "$nrules" >"$B/test-logs/headline-coverage.txt"
echo "excluded (not checkable black-box):"
printf '%s\n' "$EXCLUDED" | sed 's/^/  /; s/\t/  /'
if [ -s "$tmp/excluded_but_cited.txt" ]; then
	echo "note: excluded yet cited (drop them from the exclusions): $(tr '\n' ' ' <"$tmp/excluded_but_cited.txt")"
fi
# a cited id that is not a rule of the spec is a typo in a case
bad=$(cut -f1 "$tmp/rules.txt" | sort | comm -13 - "$tmp/cited.txt" | tr '\n' ' ')
if [ -n "$bad" ]; then
	echo "coverage: cases cite ids that are not rules of PROTOCOL.md: $bad"
	exit 1
fi
# the catalogue of docs/CONFORMANCE.md lists every case
DOC=$ROOT/docs/CONFORMANCE.md
if [ -f "$DOC" ]; then
	missing=$(cut -f1 "$tmp/list.txt" | while read -r id; do
		grep -qF "\`$id\`" "$DOC" || printf '%s ' "$id"
	done)
	if [ -n "$missing" ]; then
		echo "coverage: cases missing from the catalogue of docs/CONFORMANCE.md: $missing"
		exit 1
	fi
	echo "catalogue: all $ncases cases are listed in docs/CONFORMANCE.md"
fi
# ---- the client suite (ebconform --driver): every CLIENT MUST rule cited
if ! "$CONF" --list --driver true >"$tmp/clist.txt"; then
	echo "coverage: ebconform --list --driver failed" >&2
	exit 1
fi
nccases=$(grep -c . "$tmp/clist.txt")
cut -f3 "$tmp/clist.txt" | tr ',' '\n' | grep . | sort -u >"$tmp/ccited.txt"
awk -F '\t' '$2 == "MUST" && $1 ~ /^CLIENT-/ { print $1 }' "$tmp/rules.txt" | sort >"$tmp/cmust.txt"
comm -23 "$tmp/cmust.txt" "$tmp/ccited.txt" >"$tmp/cuncovered.txt"
ncmust=$(grep -c . "$tmp/cmust.txt")
ncunc=$(grep -c . "$tmp/cuncovered.txt")
echo "client cases: $nccases; CLIENT MUST rules: $ncmust, cited: $((ncmust - ncunc))"
printf 'client rules covered: %s of %s CLIENT MUST rules cited by the %s client cases\n' \
	"$((ncmust - ncunc))" "$ncmust" "$nccases" >>"$B/test-logs/headline-coverage.txt"
bad=$(cut -f1 "$tmp/rules.txt" | sort | comm -13 - "$tmp/ccited.txt" | tr '\n' ' ')
if [ -n "$bad" ]; then
	echo "coverage: client cases cite ids that are not rules of PROTOCOL.md: $bad"
	exit 1
fi
if [ -f "$DOC" ]; then
	missing=$(cut -f1 "$tmp/clist.txt" | while read -r id; do
		grep -qF "\`$id\`" "$DOC" || printf '%s ' "$id"
	done)
	if [ -n "$missing" ]; then
		echo "coverage: client cases missing from the catalogue of docs/CONFORMANCE.md: $missing"
		exit 1
	fi
fi
if [ "$ncunc" -ne 0 ]; then
	echo "coverage: CLIENT MUST rules no client case cites:"
	sed 's/^/  /' "$tmp/cuncovered.txt"
	exit 1
fi
echo "coverage: every CLIENT MUST rule is cited by a client case"
if [ "$nunc" -ne 0 ]; then
	echo "coverage: server MUST rules no case cites:"
	sed 's/^/  /' "$tmp/uncovered.txt"
	exit 1
fi
echo "coverage: every server-side MUST rule is cited by a case"
exit 0
