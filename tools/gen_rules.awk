# Turns the requirement lines of docs/PROTOCOL.md ("- **ID** text") into the
# C table of protocol/eb_rules.h, so reports quote the spec itself.
function cstr(s) {
	gsub(/\\/, "\\\\", s); gsub(/"/, "\\\"", s)
	return "\"" s "\""
}
function level(s) {
	if (s ~ /MUST|REQUIRED|SHALL/) return "MUST"
	if (s ~ /SHOULD|RECOMMENDED/) return "SHOULD"
	if (s ~ /MAY|OPTIONAL/) return "MAY"
	return "MUST"
}
BEGIN {
	print "/* Generated from docs/PROTOCOL.md by tools/gen_rules.awk. Do not edit. */"
	print "#include <string.h>"
	print "#include \"eb_rules.h\""
	print "const eb_rule eb_rules[] = {"
	n = 0; section = ""
}
/^#+ / { section = $0; sub(/^#+ /, "", section); next }
/^- \*\*[A-Z][A-Z0-9-]*-[0-9]+\*\* / {
	line = $0
	id = line; sub(/^- \*\*/, "", id); sub(/\*\*.*/, "", id)
	text = line; sub(/^- \*\*[^*]*\*\* /, "", text)
	gsub(/`/, "", text); gsub(/\*\*/, "", text)
	printf "\t{ %s, %s, %s, %s },\n", cstr(id), cstr(level(text)), cstr(section), cstr(text)
	n++
}
END {
	print "};"
	printf "const size_t eb_rules_count = %d;\n", n
	print "const eb_rule *eb_rule_find(const char *id)"
	print "{"
	print "\tsize_t i;"
	print "\tif (!id)"
	print "\t\treturn NULL;"
	print "\tfor (i = 0; i < eb_rules_count; i++)"
	print "\t\tif (strcmp(eb_rules[i].id, id) == 0)"
	print "\t\t\treturn &eb_rules[i];"
	print "\treturn NULL;"
	print "}"
}
