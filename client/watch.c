/*
 * watch.c — ebclient's commands for people: `watch STORE...` follows stores
 * live and prints every transition and state, `set`/`delete` push one
 * change. Tokens are minted from the shared target flags (eb_target).
 */
#include "ebcl_prog.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "eb_json.h"
#include "eb_time.h"

#define WATCH_TOKEN_TTL_S 3600
#define WATCH_SUBJECT "ebclient"

typedef struct watch {
	const ebcl_opts *o;
	ebcl_client *client;
	bool print_states;      /* watch: print each changed store */
	unsigned rejected;
	bool dirty[64];         /* stores (by operand index) to print */
} watch;

/* "12:34:56.789" in UTC. */
static void watch_time(char *buf, size_t len)
{
	uint64_t ms = eb_time_now_ms();
	time_t s = (time_t)(ms / 1000u);
	struct tm tm;
	gmtime_r(&s, &tm);
	snprintf(buf, len, "%02d:%02d:%02d.%03u", tm.tm_hour, tm.tm_min,
		 tm.tm_sec, (unsigned)(ms % 1000u));
}

static char *watch_cb_token(void *ud)
{
	watch *w = ud;
	char *tok = NULL;
	eb_err err;
	if (eb_target_mint(&w->o->target, WATCH_SUBJECT, WATCH_TOKEN_TTL_S, true,
			   &tok, &err) != EB_OK) {
		fprintf(stderr, "ebclient: cannot mint a token: %s\n", err.msg);
		return NULL;
	}
	return tok;
}

static void watch_cb_state(void *ud, ebcl_conn s)
{
	(void)ud;
	char t[32];
	watch_time(t, sizeof t);
	printf("%s  %s\n", t, ebcl_conn_name(s));
	fflush(stdout);
}

static void watch_cb_rejected(void *ud, const char *store, const char *id,
			      int status, const char *code)
{
	watch *w = ud;
	char t[32];
	watch_time(t, sizeof t);
	printf("%s  %s: change %s rejected: %d %s\n", t, store, id, status, code);
	fflush(stdout);
	w->rejected++;
}

static void watch_cb_changed(void *ud, const char *store)
{
	watch *w = ud;
	for (int i = 0; i < w->o->n_args && i < 64; i++)
		if (strcmp(w->o->args[i], store) == 0)
			w->dirty[i] = true;
}

static void watch_cb_log(void *ud, const char *line)
{
	watch *w = ud;
	if (!w->o->verbose)
		return;
	char t[32];
	watch_time(t, sizeof t);
	fprintf(stderr, "%s  %s\n", t, line);
}

/* Prints the stores marked dirty. */
static void watch_print(watch *w)
{
	for (int i = 0; i < w->o->n_args && i < 64; i++) {
		if (!w->dirty[i])
			continue;
		w->dirty[i] = false;
		const char *store = w->o->args[i];
		cJSON *st = ebcl_client_state(w->client, store);
		char *text = NULL;
		if (st != NULL && eb_json_canonical(st, &text, NULL) == EB_OK) {
			char t[32];
			watch_time(t, sizeof t);
			printf("%s  %s v%llu pending %zu %s\n", t, store,
			       (unsigned long long)ebcl_client_version(w->client, store),
			       ebcl_client_pending(w->client, store), text);
			fflush(stdout);
		}
		free(text);
		cJSON_Delete(st);
	}
}

/* Creates and starts the client and opens the first n_open operands. */
static int watch_start(watch *w, int n_open)
{
	char err[256];
	ebcl_config cfg = {
		.url = w->o->target.url.http, .clock_scale = w->o->clock_scale,
		.activity = w->o->activity, .data_file = w->o->data_file,
		.tls = w->o->target.tls_opts,
		.max_response = (size_t)w->o->target.max_response_mib << 20,
		/* set/delete print their result only (transitions with -v). */
		.cb = { .token = watch_cb_token,
			.state = strcmp(w->o->cmd, "watch") == 0 || w->o->verbose
				? watch_cb_state : NULL,
			.rejected = watch_cb_rejected, .changed = watch_cb_changed,
			.log = watch_cb_log, .ud = w },
	};
	w->client = ebcl_client_new(&cfg, err, sizeof err);
	if (w->client == NULL) {
		fprintf(stderr, "ebclient: %s\n", err);
		return EB_EXIT_USAGE;
	}
	for (int i = 0; i < EBCL_DEFECT_COUNT; i++)
		if (w->o->defects[i])
			ebcl_client_defect(w->client, (ebcl_defect)i);
	for (int i = 0; i < n_open; i++)
		if (ebcl_client_open(w->client, w->o->args[i], err, sizeof err) != 0) {
			fprintf(stderr, "ebclient: store %s: %s\n", w->o->args[i], err);
			return EB_EXIT_USAGE;
		}
	if (ebcl_client_start(w->client, err, sizeof err) != 0) {
		fprintf(stderr, "ebclient: %s\n", err);
		return EB_EXIT_USAGE;
	}
	return 0;
}

int ebcl_watch_run(const ebcl_opts *o, volatile sig_atomic_t *stop_flag)
{
	watch w;
	memset(&w, 0, sizeof w);
	w.o = o;
	if (o->n_args < 1 || o->n_args > 64) {
		fprintf(stderr, "ebclient: watch takes 1 to 64 stores (see --help)\n");
		return EB_EXIT_USAGE;
	}
	int rc = watch_start(&w, o->n_args);
	if (rc != 0)
		goto out;
	for (int i = 0; i < o->n_args; i++)
		w.dirty[i] = true;
	while (!*stop_flag) {
		if (ebcl_client_step(w.client, NULL, 0, 200) < 0 && errno != EINTR) {
			fprintf(stderr, "ebclient: poll failed\n");
			rc = EB_EXIT_UNREACHABLE;
			break;
		}
		watch_print(&w);
	}
out:
	ebcl_client_free(w.client);
	return rc;
}

int ebcl_token_run(const ebcl_opts *o)
{
	if (o->n_args > 1) {
		fprintf(stderr, "ebclient: usage: token [SUBJECT] (see --help)\n");
		return EB_EXIT_USAGE;
	}
	char *tok = NULL;
	eb_err err;
	if (eb_target_mint(&o->target, o->n_args ? o->args[0] : WATCH_SUBJECT,
			   WATCH_TOKEN_TTL_S, true, &tok, &err) != EB_OK) {
		fprintf(stderr, "ebclient: cannot mint a token: %s\n", err.msg);
		return EB_EXIT_USAGE;
	}
	printf("%s\n", tok);
	free(tok);
	return EB_EXIT_OK;
}

/* "a/b/c" or ["a","b","c"] into segments (pointers into storage). */
static int set_path(const char *text, char *storage, size_t slen,
		    const char **segs, size_t *n, cJSON **owned)
{
	*n = 0;
	*owned = NULL;
	if (text[0] == '[') {
		if (eb_json_parse(text, strlen(text), 4, owned, NULL) != EB_OK ||
		    !cJSON_IsArray(*owned))
			return -1;
		const cJSON *s;
		cJSON_ArrayForEach(s, *owned) {
			if (!cJSON_IsString(s) || *n >= 32)
				return -1;
			segs[(*n)++] = s->valuestring;
		}
		return *n > 0 ? 0 : -1;
	}
	size_t l = strlen(text);
	if (l + 1 > slen)
		return -1;
	memcpy(storage, text, l + 1);
	char *p = storage;
	while (*p != '\0') {
		if (*n >= 32)
			return -1;
		segs[(*n)++] = p;
		char *e = strchr(p, '/');
		if (e == NULL)
			break;
		*e = '\0';
		p = e + 1;
		if (*p == '\0')
			return -1;
	}
	return *n > 0 ? 0 : -1;
}

int ebcl_set_run(const ebcl_opts *o, volatile sig_atomic_t *stop_flag)
{
	watch w;
	memset(&w, 0, sizeof w);
	w.o = o;
	bool del = strcmp(o->cmd, "delete") == 0;
	if (o->n_args != (del ? 2 : 3)) {
		fprintf(stderr, "ebclient: usage: %s STORE PATH%s (see --help)\n",
			o->cmd, del ? "" : " JSON");
		return EB_EXIT_USAGE;
	}
	char storage[8192];
	const char *segs[32];
	size_t n = 0;
	cJSON *owned = NULL, *value = NULL;
	int rc = EB_EXIT_USAGE;
	if (set_path(o->args[1], storage, sizeof storage, segs, &n, &owned) != 0) {
		fprintf(stderr, "ebclient: PATH is a/b/c or a JSON array of strings\n");
		goto out;
	}
	if (!del && eb_json_parse(o->args[2], strlen(o->args[2]), EB_JSON_MAX_DEPTH,
				  &value, NULL) != EB_OK) {
		fprintf(stderr, "ebclient: VALUE is not JSON: %s\n", o->args[2]);
		goto out;
	}
	rc = watch_start(&w, 1);
	if (rc != 0)
		goto out;
	char id[64], err[256];
	uint64_t ts = 0;
	if (ebcl_client_change(w.client, o->args[0], segs, n, value, id, &ts, err,
			       sizeof err) != 0) {
		fprintf(stderr, "ebclient: %s\n", err);
		rc = EB_EXIT_USAGE;
		goto out;
	}
	uint64_t deadline = eb_time_mono_ns() / 1000000u + (uint64_t)o->target.timeout_ms;
	rc = EB_EXIT_UNREACHABLE;
	while (!*stop_flag && eb_time_mono_ns() / 1000000u < deadline) {
		(void)ebcl_client_step(w.client, NULL, 0, 50);
		if (ebcl_client_pending(w.client, NULL) == 0 &&
		    ebcl_client_quiet(w.client)) {
			rc = w.rejected ? EB_EXIT_FAIL : EB_EXIT_OK;
			break;
		}
	}
	if (rc == EB_EXIT_OK)
		printf("%s %s at %llu: store %s now at version %llu\n", id,
		       del ? "deleted" : "set", (unsigned long long)ts, o->args[0],
		       (unsigned long long)ebcl_client_version(w.client, o->args[0]));
	else if (rc == EB_EXIT_UNREACHABLE)
		fprintf(stderr, "ebclient: change %s not acknowledged within %ld ms%s\n",
			id, o->target.timeout_ms,
			o->data_file ? " (kept in the queue file)" : "");
out:
	cJSON_Delete(owned);
	cJSON_Delete(value);
	ebcl_client_free(w.client);
	return rc;
}
