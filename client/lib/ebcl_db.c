/*
 * ebcl_db.c — the offline queue in SQLite (see ebcl_db.h). One row per
 * queued change; the row id keeps the order.
 */
#include "ebcl_db.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eb_buf.h"
#include "eb_json.h"

struct ebcl_db {
	sqlite3 *db;
};

static const char ebcl_db_schema[] =
	"PRAGMA journal_mode=WAL;"
	"CREATE TABLE IF NOT EXISTS queue ("
	" seq INTEGER PRIMARY KEY AUTOINCREMENT,"
	" store TEXT NOT NULL, id TEXT NOT NULL, change TEXT NOT NULL);"
	"CREATE INDEX IF NOT EXISTS queue_store ON queue(store, seq);";

ebcl_db *ebcl_db_open(const char *path, char *err, size_t errlen)
{
	ebcl_db *d = calloc(1, sizeof *d);
	if (d == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (sqlite3_open_v2(path, &d->db, SQLITE_OPEN_READWRITE |
			    SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "cannot open %s: %s", path,
			 d->db ? sqlite3_errmsg(d->db) : "out of memory");
		goto fail;
	}
	sqlite3_busy_timeout(d->db, 2000);
	char *msg = NULL;
	if (sqlite3_exec(d->db, ebcl_db_schema, NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path, msg ? msg : "schema failed");
		sqlite3_free(msg);
		goto fail;
	}
	return d;
fail:
	sqlite3_close(d->db);
	free(d);
	return NULL;
}

void ebcl_db_close(ebcl_db *db)
{
	if (db == NULL)
		return;
	sqlite3_close(db->db);
	free(db);
}

/* Runs one statement with text parameters; 0 or -1. */
static int db_exec(ebcl_db *db, const char *sql, const char *const *params,
		   int n)
{
	sqlite3_stmt *st = NULL;
	int rc = -1;
	if (sqlite3_prepare_v2(db->db, sql, -1, &st, NULL) != SQLITE_OK)
		goto out;
	for (int i = 0; i < n; i++)
		sqlite3_bind_text(st, i + 1, params[i], -1, SQLITE_STATIC);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
out:
	sqlite3_finalize(st);
	return rc;
}

int ebcl_db_add(ebcl_db *db, const char *store, const eb_change *c)
{
	cJSON *j = eb_change_to_json(c);
	if (j == NULL)
		return -1;
	char *text = NULL;
	size_t len = 0;
	int rc = -1;
	/* A version member lets ebcl_db_load read it back as a response change. */
	cJSON_AddNumberToObject(j, "version", 0);
	if (eb_json_print(j, &text, &len) != EB_OK)
		goto out;
	const char *p[3] = { store, c->id, text };
	rc = db_exec(db, "INSERT INTO queue(store, id, change) VALUES (?, ?, ?)",
		     p, 3);
out:
	free(text);
	cJSON_Delete(j);
	return rc;
}

int ebcl_db_remove(ebcl_db *db, const char *store, const char *id)
{
	const char *p[2] = { store, id };
	return db_exec(db, "DELETE FROM queue WHERE store = ? AND id = ?", p, 2);
}

int ebcl_db_rename(ebcl_db *db, const char *store, const char *old_id,
		   const char *new_id)
{
	/* The stored JSON keeps the old id inside; rewrite it from the row. */
	sqlite3_stmt *st = NULL;
	int rc = -1;
	cJSON *j = NULL;
	char *text = NULL;
	size_t len = 0;
	if (sqlite3_prepare_v2(db->db, "SELECT change FROM queue WHERE store = ?"
			       " AND id = ?", -1, &st, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_text(st, 1, store, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, old_id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW)
		goto out;
	const char *old = (const char *)sqlite3_column_text(st, 0);
	int ol = sqlite3_column_bytes(st, 0);
	if (old == NULL || eb_json_parse(old, (size_t)ol, EB_JSON_MAX_DEPTH, &j,
					 NULL) != EB_OK)
		goto out;
	cJSON_ReplaceItemInObjectCaseSensitive(j, "id", cJSON_CreateString(new_id));
	if (eb_json_print(j, &text, &len) != EB_OK)
		goto out;
	const char *p[4] = { new_id, text, store, old_id };
	rc = db_exec(db, "UPDATE queue SET id = ?, change = ? WHERE store = ? "
		     "AND id = ?", p, 4);
out:
	free(text);
	cJSON_Delete(j);
	sqlite3_finalize(st);
	return rc;
}

/* Parses one stored change (eb_change_to_json with "version": 0) into *c,
 * through the response parser so that it is checked as any change read. */
static int db_parse_change(const char *text, size_t len, eb_change *c)
{
	eb_buf b = { 0 };
	eb_sync_response *r = NULL;
	int rc = -1;
	eb_buf_str(&b, "{\"currentVersion\":0,\"toVersion\":0,\"hasMore\":false,"
		   "\"changes\":[");
	eb_buf_put(&b, text, len);
	eb_buf_str(&b, "]}");
	if (b.oom)
		goto out;
	if (eb_sync_response_parse(b.p, b.len, &r, NULL) != EB_OK || r->n != 1)
		goto out;
	*c = r->changes[0];
	memset(&r->changes[0], 0, sizeof r->changes[0]);
	c->has_version = false;
	c->version = 0;
	rc = 0;
out:
	eb_sync_response_free(r);
	eb_buf_clear(&b);
	return rc;
}

int ebcl_db_load(ebcl_db *db, const char *store, size_t max, eb_change **out,
		 size_t *n)
{
	sqlite3_stmt *st = NULL;
	eb_change *arr = NULL;
	size_t cnt = 0, cap = 0;
	int rc = -1;
	*out = NULL;
	*n = 0;
	if (sqlite3_prepare_v2(db->db, "SELECT change FROM queue WHERE store = ?"
			       " ORDER BY seq", -1, &st, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_text(st, 1, store, -1, SQLITE_STATIC);
	int s;
	while ((s = sqlite3_step(st)) == SQLITE_ROW && cnt < max) {
		const char *t = (const char *)sqlite3_column_text(st, 0);
		int tl = sqlite3_column_bytes(st, 0);
		if (t == NULL)
			continue;
		if (cnt == cap) {
			size_t nc = cap ? cap * 2 : 16;
			eb_change *na = realloc(arr, nc * sizeof *na);
			if (na == NULL)
				goto out;
			arr = na;
			cap = nc;
		}
		if (db_parse_change(t, (size_t)tl, &arr[cnt]) == 0)
			cnt++;
	}
	if (s != SQLITE_ROW && s != SQLITE_DONE)
		goto out;
	*out = arr;
	*n = cnt;
	arr = NULL;
	rc = 0;
out:
	if (arr != NULL) {
		for (size_t i = 0; i < cnt; i++)
			eb_change_clear(&arr[i]);
		free(arr);
	}
	sqlite3_finalize(st);
	return rc;
}
