/*
 * replay_main.c — runs libFuzzer targets as plain programs, so `make test`
 * replays every committed corpus (and any saved crash) under gcc, valgrind or
 * the sanitizers without clang.
 *
 * Usage: fuzz_<name> PATH...   (a PATH is a file or a directory of files)
 * Exit 0 when every input ran; 2 on a usage or I/O error. A target that finds
 * a violation aborts, as it does under libFuzzer.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* Optional in a target; weak so targets without it still link. */
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static int rp_run_file(const char *path, size_t *count)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long len;
	int rc = -1;

	if (!f) {
		fprintf(stderr, "replay: cannot open %s\n", path);
		return -1;
	}
	if (fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0) {
		fprintf(stderr, "replay: cannot size %s\n", path);
		goto out;
	}
	/* An exact-size heap copy lets ASan see reads past the input's end. */
	buf = malloc(len > 0 ? (size_t)len : 1);
	if (!buf)
		goto out;
	if (len > 0 && fread(buf, 1, (size_t)len, f) != (size_t)len) {
		fprintf(stderr, "replay: cannot read %s\n", path);
		goto out;
	}
	LLVMFuzzerTestOneInput(buf, (size_t)len);
	(*count)++;
	rc = 0;
out:
	free(buf);
	fclose(f);
	return rc;
}

static int rp_name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Runs every regular file of dir in name order (deterministic replays). */
static int rp_run_dir(const char *dir, size_t *count)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL, **grown;
	size_t n = 0, cap = 0, i;
	int rc = 0;

	if (!d) {
		fprintf(stderr, "replay: cannot open directory %s\n", dir);
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			grown = realloc(names, cap * sizeof(*names));
			if (!grown) {
				rc = -1;
				goto out;
			}
			names = grown;
		}
		names[n] = strdup(e->d_name);
		if (!names[n]) {
			rc = -1;
			goto out;
		}
		n++;
	}
	qsort(names, n, sizeof(*names), rp_name_cmp);
	for (i = 0; i < n && rc == 0; i++) {
		char path[4096];
		struct stat st;

		if (snprintf(path, sizeof(path), "%s/%s", dir, names[i]) >=
		    (int)sizeof(path)) {
			rc = -1;
			break;
		}
		if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
			continue;
		rc = rp_run_file(path, count);
	}
out:
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(d);
	return rc;
}

int main(int argc, char **argv)
{
	size_t count = 0;
	int i;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		fprintf(stderr,
			"usage: %s PATH...\n"
			"Runs each file (or each file of each directory) once "
			"through the fuzz target.\n", argv[0]);
		return 2;
	}
	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	for (i = 1; i < argc; i++) {
		struct stat st;

		if (stat(argv[i], &st) != 0) {
			fprintf(stderr, "replay: no such file %s\n", argv[i]);
			return 2;
		}
		if ((S_ISDIR(st.st_mode) ? rp_run_dir(argv[i], &count)
					 : rp_run_file(argv[i], &count)) != 0)
			return 2;
	}
	fprintf(stderr, "replay: %zu inputs ran\n", count);
	return 0;
}
