/*
 * eb_utf8.h — UTF-8 helpers shared by the parsers, the error records and the
 * report writers, so all of them agree on what valid UTF-8 is (RFC 3629: no
 * overlongs, no surrogates, nothing above U+10FFFF).
 */
#ifndef EB_UTF8_H
#define EB_UTF8_H

#include <stddef.h>

/* Length of the well-formed UTF-8 sequence at p, of which avail bytes are
 * readable (avail >= 1): 1 for ASCII, 2 to 4 for a valid multi-byte
 * sequence, 0 for an invalid or incomplete one. */
size_t eb_utf8_seq_len(const unsigned char *p, size_t avail);

/* Length of the longest prefix of s[0..n) that does not end inside a UTF-8
 * sequence, so a string truncated to it stays valid UTF-8 if s was. */
size_t eb_utf8_cut(const char *s, size_t n);

#endif
