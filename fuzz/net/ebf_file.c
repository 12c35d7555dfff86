/*
 * ebf_file.c — finding files: one case per file, replayable by
 * `ebfuzz --replay FILE`. An HTTP finding is also a curl script (its body in
 * FILE.body); WebSocket and raw TCP findings are frame scripts. The "#@"
 * lines are the exact case (bytes in hex) and are what --replay reads.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "eb_file.h"
#include "ebf.h"

static void put_hex(FILE *fp, const char *data, size_t len)
{
	static const char hx[] = "0123456789abcdef";

	if (len == 0) {
		fputc('-', fp);
		return;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)data[i];

		fputc(hx[ch >> 4], fp);
		fputc(hx[ch & 15], fp);
	}
}

/* Human-readable form of bytes for comments: printable ASCII kept. */
static void put_shown(FILE *fp, const char *data, size_t len)
{
	size_t n = len > 300 ? 300 : len;

	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)data[i];

		if (ch >= 0x20 && ch < 0x7f)
			fputc(ch, fp);
		else
			fprintf(fp, "\\x%02X", ch);
	}
	if (len > n)
		fprintf(fp, "... (%zu bytes)", len);
}

static void put_shell_quoted(FILE *fp, const char *s)
{
	fputc('\'', fp);
	for (; *s; s++) {
		if (*s == '\'')
			fputs("'\\''", fp);
		else
			fputc(*s, fp);
	}
	fputc('\'', fp);
}

int ebf_file_save(const ebf_ctx *x, const ebf_case *c, const ebf_finding *f,
		  const char *dir, unsigned long index, char *path, size_t pathlen)
{
	char slug[96];
	FILE *fp;
	size_t i;
	const char *tok = ebf_token(x, c->auth);

	if (eb_file_mkdirs(dir, NULL) != EB_OK)
		return -1;
	snprintf(slug, sizeof(slug), "%s", f->category);
	for (i = 0; slug[i]; i++)
		if (!((slug[i] >= 'a' && slug[i] <= 'z') || (slug[i] >= 'A' && slug[i] <= 'Z') ||
		      (slug[i] >= '0' && slug[i] <= '9') || slug[i] == '-'))
			slug[i] = '_';
	if (snprintf(path, pathlen, "%s/finding-%04lu-%s.%s", dir, index, slug,
		     c->kind == EBF_HTTP ? "sh" : "frames") >= (int)pathlen)
		return -1;
	fp = fopen(path, "w");
	if (!fp)
		return -1;
	fprintf(fp, "#!/bin/sh\n# ebfuzz finding: %s\n", f->category);
	fprintf(fp, "# rule:     %s\n# expected: %s\n# actual:   %s\n# case:     %s\n",
		f->rule[0] ? f->rule : "(none: robustness)", f->expected, f->actual, c->gen);
	if (f->note[0])
		fprintf(fp, "# note:     %s\n", f->note);
	fprintf(fp, "# Replay:   ebfuzz --replay %s --url URL [token flags]\n", path);
	fprintf(fp, "#@ kind %s\n#@ gen %s\n#@ rule %s\n#@ want_status %d\n#@ want_code %s\n",
		c->kind == EBF_HTTP ? "http" : c->kind == EBF_TCP ? "tcp" : "ws", c->gen,
		c->ex.rule[0] ? c->ex.rule : "-", c->ex.want_status,
		c->ex.want_code[0] ? c->ex.want_code : "-");
	fprintf(fp, "#@ valid %d\n#@ want_close %d\n#@ want_open %d\n#@ auth %d\n#@ ws_auth %d\n",
		c->ex.valid, c->ex.want_close, c->ex.want_open, (int)c->auth, c->ws_auth);
	fprintf(fp, "#@ alt_close %d\n#@ raw_only %d\n#@ any_refusal %d\n", c->ex.alt_close,
		c->ex.raw_only, c->ex.any_refusal);
	if (c->kind == EBF_HTTP) {
		fprintf(fp, "#@ method %s\n#@ path ", c->method);
		put_hex(fp, c->path, strlen(c->path));
		fprintf(fp, "\n#@ content_type ");
		put_hex(fp, c->content_type ? c->content_type : "",
			c->content_type ? strlen(c->content_type) : 0);
		fprintf(fp, "\n#@ has_body %d\n#@ body ", c->has_body);
		put_hex(fp, c->body ? c->body : "", c->body_len);
		fputc('\n', fp);
	}
	for (i = 0; i < c->n_steps; i++) {
		const ebf_step *s = &c->steps[i];

		fprintf(fp, "# step %zu: ", i);
		put_shown(fp, s->data, s->len);
		fprintf(fp, "\n#@ step %d %d %d %d %ld ", (int)s->op, s->opcode, s->fin,
			s->unmasked, s->ms);
		put_hex(fp, s->data, s->len);
		fputc('\n', fp);
	}
	if (c->kind == EBF_HTTP) {
		char bodypath[4200];
		const char *base;
		FILE *bf;

		fprintf(fp, "URL=${EBFUZZ_URL:-%s}\n", x->o->url);
		if (tok) {
			fprintf(fp, "TOKEN=${EBFUZZ_TOKEN:-");
			put_shell_quoted(fp, tok);
			fprintf(fp, "}\n");
		}
		fprintf(fp, "curl -sS -i -X %s \"$URL\"", c->method);
		put_shell_quoted(fp, c->path);
		if (tok)
			fprintf(fp, " -H \"Authorization: Bearer $TOKEN\"");
		if (c->has_body) {
			snprintf(bodypath, sizeof(bodypath), "%s.body", path);
			base = strrchr(bodypath, '/');
			base = base ? base + 1 : bodypath;
			char cth[300];

			snprintf(cth, sizeof(cth), "Content-Type: %s",
				 c->content_type ? c->content_type : "application/json");
			fprintf(fp, " -H ");
			put_shell_quoted(fp, cth);
			fprintf(fp, " --data-binary @\"$(dirname \"$0\")/%s\"", base);
			bf = fopen(bodypath, "wb");
			if (bf) {
				fwrite(c->body, 1, c->body_len, bf);
				fclose(bf);
			}
		}
		fprintf(fp, "\n");
	} else {
		fprintf(fp, "echo 'frame script: replay with ebfuzz --replay' \"$0\" >&2\nexit 2\n");
	}
	if (fclose(fp) != 0)
		return -1;
	chmod(path, 0755);
	return 0;
}

static int hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* Decodes hex (or "-" for empty) into a malloc'd NUL-terminated buffer. */
static char *unhex(const char *s, size_t *len)
{
	size_t n = strlen(s), o = 0;
	char *out;

	while (n && (s[n - 1] == '\n' || s[n - 1] == '\r'))
		n--;
	if (n == 1 && s[0] == '-')
		n = 0;
	if (n % 2)
		return NULL;
	out = malloc(n / 2 + 1);
	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i += 2) {
		int hi = hexval(s[i]), lo = hexval(s[i + 1]);

		if (hi < 0 || lo < 0) {
			free(out);
			return NULL;
		}
		out[o++] = (char)(hi << 4 | lo);
	}
	out[o] = '\0';
	*len = o;
	return out;
}

static char *read_line(FILE *fp)
{
	char *line = NULL;
	size_t cap = 0;

	if (getline(&line, &cap, fp) < 0) {
		free(line);
		return NULL;
	}
	return line;
}

static void chomp(char *s)
{
	size_t n = strlen(s);

	while (n && (s[n - 1] == '\n' || s[n - 1] == '\r'))
		s[--n] = '\0';
}

int ebf_file_load(const char *path, ebf_case *c, char *why, size_t whylen)
{
	FILE *fp = NULL;
	char *line, *text = NULL;
	size_t text_len = 0;
	int rc = 0, have_kind = 0;
	eb_err e;

	memset(c, 0, sizeof(*c));
	/* Read whole under a cap first (/dev/zero is a "file" too); the lines
	 * are then read from memory. */
	if (eb_file_read(path, EBF_FILE_MAX, &text, &text_len, &e) != EB_OK) {
		snprintf(why, whylen, "%s", e.msg);
		return -1;
	}
	fp = fmemopen(text, text_len ? text_len : 1, "r");
	if (!fp) {
		snprintf(why, whylen, "cannot read %s: %s", path, strerror(errno));
		free(text);
		return -1;
	}
	while (rc == 0 && (line = read_line(fp)) != NULL) {
		char *k, *v;
		size_t len = 0;

		if (strncmp(line, "#@ ", 3) != 0) {
			free(line);
			continue;
		}
		chomp(line);
		k = line + 3;
		v = strchr(k, ' ');
		if (!v) {
			free(line);
			continue;
		}
		*v++ = '\0';
		if (!strcmp(k, "kind")) {
			c->kind = !strcmp(v, "http") ? EBF_HTTP : !strcmp(v, "tcp") ? EBF_TCP :
				  !strcmp(v, "ws") ? EBF_WS : 0;
			have_kind = c->kind != 0;
		} else if (!strcmp(k, "gen")) {
			snprintf(c->gen, sizeof(c->gen), "%s", v);
		} else if (!strcmp(k, "rule")) {
			snprintf(c->ex.rule, sizeof(c->ex.rule), "%s", strcmp(v, "-") ? v : "");
		} else if (!strcmp(k, "want_status")) {
			c->ex.want_status = (int)strtol(v, NULL, 10);
		} else if (!strcmp(k, "want_code")) {
			snprintf(c->ex.want_code, sizeof(c->ex.want_code), "%s", strcmp(v, "-") ? v : "");
		} else if (!strcmp(k, "valid")) {
			c->ex.valid = strtol(v, NULL, 10) != 0;
		} else if (!strcmp(k, "want_close")) {
			c->ex.want_close = (int)strtol(v, NULL, 10);
		} else if (!strcmp(k, "alt_close")) {
			c->ex.alt_close = (int)strtol(v, NULL, 10);
		} else if (!strcmp(k, "raw_only")) {
			c->ex.raw_only = strtol(v, NULL, 10) != 0;
		} else if (!strcmp(k, "any_refusal")) {
			c->ex.any_refusal = strtol(v, NULL, 10) != 0;
		} else if (!strcmp(k, "want_open")) {
			c->ex.want_open = strtol(v, NULL, 10) != 0;
		} else if (!strcmp(k, "auth")) {
			c->auth = (ebf_auth)strtol(v, NULL, 10);
		} else if (!strcmp(k, "ws_auth")) {
			c->ws_auth = strtol(v, NULL, 10) != 0;
		} else if (!strcmp(k, "method")) {
			snprintf(c->method, sizeof(c->method), "%s", v);
		} else if (!strcmp(k, "path")) {
			c->path = unhex(v, &len);
			rc = c->path ? 0 : -1;
		} else if (!strcmp(k, "content_type")) {
			if (strcmp(v, "-")) {
				c->content_type = unhex(v, &len);
				rc = c->content_type ? 0 : -1;
			}
		} else if (!strcmp(k, "has_body")) {
			c->has_body = strtol(v, NULL, 10) != 0;
		} else if (!strcmp(k, "body")) {
			c->body = unhex(v, &c->body_len);
			rc = c->body ? 0 : -1;
		} else if (!strcmp(k, "step")) {
			long f5[5];
			char *data, *p = v, *end = NULL;
			int field;

			for (field = 0; field < 5; field++) {
				f5[field] = strtol(p, &end, 10);
				if (end == p || *end != ' ')
					break;
				p = end + 1;
			}
			if (field < 5 || !(data = unhex(p, &len))) {
				rc = -1;
			} else {
				rc = ebf_case_step(c, (ebf_step_op)f5[0], (int)f5[1], f5[2] != 0,
						   data, len, f5[4]);
				if (rc == 0)
					c->steps[c->n_steps - 1].unmasked = f5[3] != 0;
				free(data);
			}
		}
		free(line);
	}
	fclose(fp);
	free(text);
	if (rc != 0 || !have_kind || (c->kind == EBF_HTTP && !c->path)) {
		snprintf(why, whylen, "%s is not an ebfuzz finding file", path);
		ebf_case_clear(c);
		return -1;
	}
	return 0;
}
