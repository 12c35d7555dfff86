/*
 * eb_rules.h — the requirement table of docs/PROTOCOL.md, generated at build
 * time from its "- **ID** text" lines (tools/gen_rules.awk), so reports quote
 * the spec's own sentences and the coverage matrix lists every rule.
 */
#ifndef EB_RULES_H
#define EB_RULES_H

#include <stddef.h>

typedef struct eb_rule {
	const char *id;      /* "SYNC-5" */
	const char *level;   /* "MUST", "SHOULD" or "MAY": the strongest keyword in text */
	const char *section; /* heading it sits under, e.g. "3. Sync — ..." */
	const char *text;    /* the sentence, markdown removed */
} eb_rule;

extern const eb_rule eb_rules[];
extern const size_t eb_rules_count;

/* The rule with this id, or NULL. Pointers are static. */
const eb_rule *eb_rule_find(const char *id);

#endif
