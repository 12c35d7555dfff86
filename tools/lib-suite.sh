# Helpers for the scripts that run ebconform and read its JSON report
# (the self-proofs and the variation matrix). POSIX sh; source it:
#   tests/scripts/*.sh:  . "$(dirname "$0")/../../tools/lib-suite.sh"
# Names it uses: suite_* (functions), SUITE_MISS, _suite_* (scratch).
# The report readers rely on the writer putting each case member on its own
# line, three tabs deep.

# suite_failed_cases REPORT: "id<TAB>failedRule" of every FAIL case.
suite_failed_cases() {
	awk '
	/^\t\t\t"id":\t"/ { id = $0; sub(/^[^:]*:\t"/, "", id); sub(/",?$/, "", id); out = ""; next }
	/^\t\t\t"outcome":\t"/ { out = $0; sub(/^[^:]*:\t"/, "", out); sub(/",?$/, "", out); next }
	/^\t\t\t"failedRule":\t"/ {
		if (out == "FAIL") { r = $0; sub(/^[^:]*:\t"/, "", r); sub(/",?$/, "", r); print id "\t" r }
	}' "$1"
}

# suite_count_outcome REPORT OUTCOME: how many cases have OUTCOME.
suite_count_outcome() {
	grep -c -P "^\t\t\t\"outcome\":\t\"$2\"" "$1"
}

# suite_need_bins TAG BIN...: 0 when every BIN is executable; else says
# "TAG: BIN not built" on stderr and returns 1.
suite_need_bins() {
	_suite_tag=$1
	shift
	for _suite_b in "$@"; do
		if [ ! -x "$_suite_b" ]; then
			echo "$_suite_tag: $_suite_b not built" >&2
			return 1
		fi
	done
	return 0
}

# suite_rsa_keys TAG DIR: a fresh RSA key pair DIR/key.pem (private) and
# DIR/pub.pem (public); 1 with a "TAG: ..." line on stderr when openssl is
# missing or fails.
suite_rsa_keys() {
	if ! command -v openssl >/dev/null 2>&1; then
		echo "$1: the openssl command is needed to make an RSA key pair" >&2
		return 1
	fi
	openssl genrsa -out "$2/key.pem" 2048 2>/dev/null &&
		openssl rsa -in "$2/key.pem" -pubout -out "$2/pub.pem" 2>/dev/null || {
		echo "$1: RSA key generation failed" >&2
		return 1
	}
	return 0
}

# suite_defect_result RES NAME RULE STATUS REPORT: writes to RES the result
# of the run against the target planted with defect NAME: "OK<TAB>NAME<TAB>
# RULE<TAB>ids" when the suite exited 1 (STATUS) with FAIL cases citing RULE,
# else "MISS<TAB>NAME<TAB>RULE<TAB>exit STATUS; failing cases: id(rule)...".
suite_defect_result() {
	_suite_ids=$(suite_failed_cases "$5" 2>/dev/null |
		awk -F '\t' -v r="$3" '$2 == r { printf "%s%s", sep, $1; sep = " " }')
	if [ "$4" -eq 1 ] && [ -n "$_suite_ids" ]; then
		printf 'OK\t%s\t%s\t%s\n' "$2" "$3" "$_suite_ids" >"$1"
	else
		_suite_other=$(suite_failed_cases "$5" 2>/dev/null |
			awk -F '\t' '{ printf "%s%s(%s)", sep, $1, $2; sep = " " }')
		printf 'MISS\t%s\t%s\texit %s; failing cases: %s\n' "$2" "$3" "$4" \
			"${_suite_other:-none}" >"$1"
	fi
}

# suite_defect_table RESDIR DEFECTS WIDTH: prints the table of the defect
# runs, one row per line "NAME<TAB>RULE<TAB>..." of DEFECTS, from the result
# files RESDIR/NAME (suite_defect_result), the rule column WIDTH wide; sets
# SUITE_MISS to the number of defects not caught (or without a result).
suite_defect_table() {
	SUITE_MISS=0
	_suite_fmt="%-28s %-$3s %s\n"
	# shellcheck disable=SC2059 # the format only carries the column width
	printf "$_suite_fmt" "defect" "rule" "failing cases citing the rule"
	while IFS="$(printf '\t')" read -r _suite_name _suite_rule _; do
		_suite_r=$1/$_suite_name
		if [ ! -f "$_suite_r" ]; then
			# shellcheck disable=SC2059
			printf "$_suite_fmt" "$_suite_name" "$_suite_rule" "MISSED: no result"
			SUITE_MISS=$((SUITE_MISS + 1))
			continue
		fi
		_suite_what=$(cut -f4- "$_suite_r")
		if [ "$(cut -f1 "$_suite_r")" = OK ]; then
			# shellcheck disable=SC2059
			printf "$_suite_fmt" "$_suite_name" "$_suite_rule" "$_suite_what"
		else
			# shellcheck disable=SC2059
			printf "$_suite_fmt" "$_suite_name" "$_suite_rule" "MISSED: $_suite_what"
			SUITE_MISS=$((SUITE_MISS + 1))
		fi
	done <"$2"
}
