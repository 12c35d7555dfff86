/*
 * fuzz_common.h — what every in-process fuzz target shares: the libFuzzer
 * entry points' prototypes, the invariant check that aborts (so libFuzzer
 * and the replay driver both report it), and a reader that turns the fuzz
 * input into choices for the property targets.
 */
#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* An invariant of the library broke: say which and abort, so libFuzzer saves
 * the input and the replay driver fails the corpus test. */
#define FZ_CHECK(cond, what)                                               \
	do {                                                               \
		if (!(cond)) {                                             \
			fprintf(stderr, "%s:%d: invariant broken: %s (%s)\n", \
				__FILE__, __LINE__, (what), #cond);        \
			abort();                                           \
		}                                                          \
	} while (0)

/* Input consumed as a stream of choices; reading past the end yields zeros,
 * so every input, however short, maps to one well-defined case. */
typedef struct fz_in {
	const uint8_t *p;
	size_t n, pos;
} fz_in;

static inline void fz_init(fz_in *in, const uint8_t *data, size_t size)
{
	in->p = data;
	in->n = size;
	in->pos = 0;
}

static inline uint8_t fz_u8(fz_in *in)
{
	return in->pos < in->n ? in->p[in->pos++] : 0;
}

static inline uint32_t fz_u32(fz_in *in)
{
	uint32_t v = 0;
	int i;

	for (i = 0; i < 4; i++)
		v = (v << 8) | fz_u8(in);
	return v;
}

static inline uint64_t fz_u64(fz_in *in)
{
	/* Two statements: the order of the reads must not depend on the
	 * compiler, or gcc replays would differ from clang fuzzing. */
	uint64_t hi = fz_u32(in);

	return (hi << 32) | fz_u32(in);
}

/* A value in [0, n) (n > 0). */
static inline uint32_t fz_below(fz_in *in, uint32_t n)
{
	return n <= 256 ? fz_u8(in) % n : fz_u32(in) % n;
}

/* Up to max bytes copied into buf (NUL-terminated, buf has max+1 bytes);
 * bytes are taken as they come, so any byte value, NUL included, may occur
 * (the string then ends early). Returns the length. */
static inline size_t fz_str(fz_in *in, char *buf, size_t max)
{
	size_t len = fz_below(in, (uint32_t)max + 1), i;

	for (i = 0; i < len; i++)
		buf[i] = (char)fz_u8(in);
	buf[len] = '\0';
	return strlen(buf);
}

/* Like fz_str but from an alphabet, so the result is always valid text. */
static inline size_t fz_word(fz_in *in, char *buf, size_t min, size_t max,
			     const char *alphabet)
{
	size_t alen = strlen(alphabet), len, i;

	len = min + fz_below(in, (uint32_t)(max - min + 1));
	for (i = 0; i < len; i++)
		buf[i] = alphabet[fz_u8(in) % alen];
	buf[len] = '\0';
	return len;
}

static inline size_t fz_remaining(const fz_in *in)
{
	return in->pos < in->n ? in->n - in->pos : 0;
}

#endif
