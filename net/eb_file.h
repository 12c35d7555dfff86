/*
 * eb_file.h — the kit's one reader of whole files (keys, secrets, finding
 * files, reports read back): bounded, NUL-terminated, errors as text.
 */
#ifndef EB_FILE_H
#define EB_FILE_H

#include <stddef.h>
#include "eb_error.h"

/* Reads the file at path whole into *out (malloc'd, NUL-terminated; the
 * caller frees) and its length into *len (len may be NULL). A file larger
 * than max bytes is refused (EB_ERR_LIMIT), an unreadable one is EB_ERR_IO
 * with the path and strerror in err->msg, EB_ERR_NOMEM on allocation
 * failure. *out is NULL on every error. */
eb_rc eb_file_read(const char *path, size_t max, char **out, size_t *len, eb_err *err);

/* Creates dir and its missing parents (mode 0755), like mkdir -p. EB_OK
 * when it exists afterwards, else EB_ERR_IO with the path and strerror in
 * err->msg (EB_ERR_ARG for a path of 4096 bytes or more). */
eb_rc eb_file_mkdirs(const char *dir, eb_err *err);

#endif
