#!/bin/sh
# House-style rules that a machine can check: banned C functions, JSON parsed
# only with an explicit length and depth limit (eb_json_parse), no
# cJSON_GetErrorPtr, and the library never prints or aborts.
set -u
cd "${EB_ROOT:-.}" || exit 2
status=0
srcs=$(find protocol reports net mockserver conformance fuzz loadgen client tests \
	-name '*.[ch]' 2>/dev/null | sort)

check() {
	what=$1; pattern=$2; shift 2
	# shellcheck disable=SC2086
	hits=$(grep -nE "$pattern" "$@" 2>/dev/null | grep -v 'style-allow:' || true)
	if [ -n "$hits" ]; then
		echo "style: $what:"
		echo "$hits" | sed 's/^/    /'
		status=1
	fi
}

# shellcheck disable=SC2086
check "banned function (use snprintf, memcpy with lengths, strtol/strtoull with end checks)" \
	'(^|[^_[:alnum:]])(sprintf|vsprintf|strcpy|strcat|strtok|gets|atoi|atol|atoll|sscanf)[[:space:]]*\(' $srcs
# shellcheck disable=SC2086
check "JSON must be parsed with eb_json_parse (explicit length, depth limit)" \
	'cJSON_Parse[[:space:]]*\(|cJSON_ParseWithLength[[:space:]]*\(|cJSON_GetErrorPtr' $srcs
# A line may opt out with a "style-allow: <reason>" comment, reviewed like code.
# The one place allowed to call cJSON_ParseWithLengthOpts is eb_json.c.
# shellcheck disable=SC2086,SC2046 # file names of the kit have no spaces
check "cJSON_ParseWithLengthOpts outside protocol/eb_json.c" \
	'cJSON_ParseWithLengthOpts' $(echo "$srcs" | grep -v '^protocol/eb_json\.c$' | grep '\.c$')
lib=$(find protocol -name '*.c' | sort)
# shellcheck disable=SC2086
check "the protocol library never prints or aborts" \
	'(^|[^_[:alnum:]])(printf|fprintf|puts|perror|abort|exit)[[:space:]]*\(' $lib
# shellcheck disable=SC2086
check "the protocol library knows no sockets" \
	'#include <(sys/socket|netinet/|arpa/inet|netdb|libwebsockets|curl/)' $lib

if [ "$status" -eq 0 ]; then
	echo "style: $(echo "$srcs" | wc -l) files clean"
fi
exit $status
