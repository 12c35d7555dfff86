/*
 * perf_main.c — CPU time per input of a fuzz target over a fixed set of
 * inputs, for before/after comparisons of the target and the library.
 *
 * libFuzzer's execs/s compares runs that fuzzed different inputs: a faster
 * build explores further in the same time, finds larger inputs, and can
 * show fewer execs/s for less work per input. This driver runs the same
 * files, in memory, ROUNDS times each, and prints the CPU microseconds
 * (user + system) per input. Linked with libFuzzer's runtime without its
 * main, the build keeps the instrumentation of `make fuzz` (coverage
 * counters, comparison callbacks, ASan, UBSan); libFuzzer's own per-exec
 * work (mutation, feature collection) is not in the figure.
 *
 * Build (docs/BENCHMARKS.md, "Fuzz targets"), after `sh tools/fuzz.sh 0`:
 *   clang -O1 -c fuzz/perf_main.c -o perf_main.o
 *   clang++ -fsanitize=address,undefined -o perf_fuzz_json \
 *       build/fuzz/obj/fuzz/fuzz_json.o perf_main.o build/fuzz/lib/libebmock.a \
 *       build/fuzz/lib/libeb.a $(clang -print-resource-dir)/lib/linux/libclang_rt.fuzzer_no_main-x86_64.a \
 *       $(pkg-config --libs libcjson openssl) -lpthread -lm
 * Usage: perf_fuzz_json ROUNDS FILE...
 * Exit status: 0, or 2 on a usage error or an unreadable file.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

/* Inputs larger than this are not what the figure is about (and libFuzzer
 * would not make them under its default -max_len of 4096). */
#define PM_MAX_INPUT (1 << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static double pm_cpu_us(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

/* The whole file into *buf (malloc'd) and *len; 0, or -1 with a message. */
static int pm_read(const char *path, uint8_t **buf, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *b = NULL;
	size_t n = 0;
	long size;
	int rc = -1;

	if (!f) {
		fprintf(stderr, "perf_main: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 ||
	    size > PM_MAX_INPUT || fseek(f, 0, SEEK_SET) != 0) {
		fprintf(stderr, "perf_main: %s: not a regular file of at most 1 MiB\n", path);
		goto out;
	}
	b = malloc((size_t)size + 1);
	if (!b) {
		fprintf(stderr, "perf_main: out of memory\n");
		goto out;
	}
	n = fread(b, 1, (size_t)size, f);
	if (ferror(f)) {
		fprintf(stderr, "perf_main: %s: read error\n", path);
		goto out;
	}
	*buf = b;
	*len = n;
	b = NULL;
	rc = 0;
out:
	free(b);
	fclose(f);
	return rc;
}

int main(int argc, char **argv)
{
	uint8_t **in = NULL;
	size_t *len = NULL;
	long rounds;
	char *end = NULL;
	int n, i, r, rc = 2;
	double t0, t1;

	if (argc < 3) {
		fprintf(stderr, "usage: %s ROUNDS FILE...\n", argv[0]);
		return 2;
	}
	rounds = strtol(argv[1], &end, 10);
	if (!end || *end || rounds < 1 || rounds > 1000000) {
		fprintf(stderr, "perf_main: ROUNDS must be 1..1000000, got '%s'\n", argv[1]);
		return 2;
	}
	n = argc - 2;
	in = calloc((size_t)n, sizeof(*in));
	len = calloc((size_t)n, sizeof(*len));
	if (!in || !len)
		goto out;
	for (i = 0; i < n; i++)
		if (pm_read(argv[i + 2], &in[i], &len[i]) != 0)
			goto out;
	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	t0 = pm_cpu_us();
	for (r = 0; r < rounds; r++)
		for (i = 0; i < n; i++) {
			/* a copy of exactly len bytes, as libFuzzer passes it,
			 * so ASan sees a read past the input */
			uint8_t *c = malloc(len[i] ? len[i] : 1);

			if (!c)
				goto out;
			if (len[i])
				memcpy(c, in[i], len[i]);
			LLVMFuzzerTestOneInput(c, len[i]);
			free(c);
		}
	t1 = pm_cpu_us();
	printf("%.2f us/input over %d inputs x %ld rounds (%.2f s of CPU)\n",
	       (t1 - t0) / ((double)n * (double)rounds), n, rounds, (t1 - t0) / 1e6);
	rc = 0;
out:
	if (in)
		for (i = 0; i < n; i++)
			free(in[i]);
	free(in);
	free(len);
	return rc;
}
