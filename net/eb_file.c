/*
 * eb_file.c — whole-file reads with a size cap (see eb_file.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "eb_file.h"

eb_rc eb_file_read(const char *path, size_t max, char **out, size_t *len, eb_err *err)
{
	FILE *f = NULL;
	char *buf = NULL;
	size_t n = 0, cap = 0;
	eb_rc rc = EB_OK;

	*out = NULL;
	if (len)
		*len = 0;
	f = fopen(path, "rb");
	if (!f)
		return eb_err_set(err, EB_ERR_IO, NULL, NULL, NULL, -1, "cannot read %s: %s",
				  path, strerror(errno));
	for (;;) {
		size_t got;

		if (n + 4096 + 1 > cap) {
			size_t ncap = cap ? cap * 2 : 8192;
			/* never past the cap (and a read beyond it): an endless
			 * file (/dev/zero) costs max bytes, not twice that */
			if (ncap > max + 4096 + 1)
				ncap = max + 4096 + 1;
			char *p = realloc(buf, ncap);

			if (!p) {
				rc = eb_err_set(err, EB_ERR_NOMEM, NULL, NULL, NULL, -1, "out of memory");
				goto out;
			}
			buf = p;
			cap = ncap;
		}
		got = fread(buf + n, 1, 4096, f);
		n += got;
		if (n > max) {
			rc = eb_err_set(err, EB_ERR_LIMIT, NULL, NULL, NULL, -1,
					"%s is larger than %zu bytes", path, max);
			goto out;
		}
		if (got < 4096) {
			if (ferror(f)) {
				rc = eb_err_set(err, EB_ERR_IO, NULL, NULL, NULL, -1,
						"cannot read %s: %s", path, strerror(errno));
				goto out;
			}
			break;
		}
	}
	buf[n] = '\0';
out:
	fclose(f);
	if (rc != EB_OK) {
		free(buf);
		return rc;
	}
	*out = buf;
	if (len)
		*len = n;
	return EB_OK;
}

eb_rc eb_file_mkdirs(const char *dir, eb_err *err)
{
	char p[4096];
	size_t i, n = strlen(dir);
	struct stat st;

	if (n == 0 || n >= sizeof(p))
		return eb_err_set(err, EB_ERR_ARG, NULL, NULL, NULL, -1, "bad folder name");
	memcpy(p, dir, n + 1);
	for (i = 1; i <= n; i++) {
		if (p[i] == '/' || p[i] == '\0') {
			char keep = p[i];

			p[i] = '\0';
			if (mkdir(p, 0755) != 0 && errno != EEXIST)
				return eb_err_set(err, EB_ERR_IO, NULL, NULL, NULL, -1,
						  "cannot create %s: %s", p, strerror(errno));
			p[i] = keep;
		}
	}
	/* EEXIST also means a file of that name */
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
		return eb_err_set(err, EB_ERR_IO, NULL, NULL, NULL, -1,
				  "cannot create %s: a file of that name exists", dir);
	return EB_OK;
}
