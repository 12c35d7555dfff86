/*
 * ebm_store.c — the stores of ebmock: an append-only log per store in
 * memory, a change-id index per store (IDEM-2/3), and, with --data, SQLite in
 * WAL mode with synchronous=FULL so that a 2xx means the change is on disk.
 * Every request that commits is one transaction; the memory copy is updated
 * only after the transaction committed, so a failed write changes nothing.
 */
#include "ebm_store.h"
#include "ebm_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "eb_json.h"

static uint64_t st_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

ebm_store *ebm_store_find(ebm_server *srv, const char *id)
{
	ebm_store *st = srv->stores[st_hash(id) % srv->stores_cap];
	while (st && strcmp(st->id, id) != 0)
		st = st->hnext;
	return st;
}

static void st_grow_table(ebm_server *srv)
{
	size_t ncap = srv->stores_cap * 2;
	ebm_store **nt = calloc(ncap, sizeof *nt);
	if (!nt)
		return;   /* a longer chain is still correct */
	for (size_t i = 0; i < srv->stores_cap; i++) {
		ebm_store *st = srv->stores[i];
		while (st) {
			ebm_store *nx = st->hnext;
			size_t slot = st_hash(st->id) % ncap;
			st->hnext = nt[slot];
			nt[slot] = st;
			st = nx;
		}
	}
	free(srv->stores);
	srv->stores = nt;
	srv->stores_cap = ncap;
}

ebm_store *ebm_store_get(ebm_server *srv, const char *id)
{
	ebm_store *st = ebm_store_find(srv, id);
	if (st)
		return st;
	if (srv->n_stores >= srv->stores_cap * 2)
		st_grow_table(srv);
	st = calloc(1, sizeof *st);
	if (!st)
		return NULL;
	st->id = strdup(id);
	if (!st->id) {
		free(st);
		return NULL;
	}
	size_t slot = st_hash(id) % srv->stores_cap;
	st->hnext = srv->stores[slot];
	srv->stores[slot] = st;
	srv->n_stores++;
	return st;
}

static void st_free(ebm_store *st)
{
	for (size_t i = 0; i < st->n; i++)
		eb_change_clear(&st->changes[i]);
	free(st->changes);
	free(st->idx);
	free(st->id);
	free(st);
}

/* A store that was only created to hold subscribers goes away with the last
 * one, so that subscribing to random ids cannot grow memory (STORE-3: reading
 * never creates a store). */
void ebm_store_maybe_release(ebm_server *srv, ebm_store *st)
{
	if (!st || st->n_subs || st->n || st->version || st->persisted)
		return;
	ebm_store **pp = &srv->stores[st_hash(st->id) % srv->stores_cap];
	while (*pp && *pp != st)
		pp = &(*pp)->hnext;
	if (*pp) {
		*pp = st->hnext;
		srv->n_stores--;
		st_free(st);
	}
}

long ebm_store_lookup(const ebm_store *st, const char *id)
{
	if (!st->idx_cap)
		return -1;
	size_t mask = st->idx_cap - 1;
	for (size_t i = st_hash(id) & mask;; i = (i + 1) & mask) {
		size_t v = st->idx[i];
		if (!v)
			return -1;
		if (strcmp(st->changes[v - 1].id, id) == 0)
			return (long)(v - 1);
	}
}

static void st_idx_put_raw(size_t *tab, size_t cap, const eb_change *changes,
			   size_t ci)
{
	size_t mask = cap - 1;
	for (size_t i = st_hash(changes[ci].id) & mask;; i = (i + 1) & mask) {
		if (!tab[i]) {
			tab[i] = ci + 1;
			return;
		}
		/* the same id again (defects storing it twice): newest wins */
		if (strcmp(changes[tab[i] - 1].id, changes[ci].id) == 0) {
			tab[i] = ci + 1;
			return;
		}
	}
}

static eb_rc st_idx_reserve(ebm_store *st, size_t more)
{
	if ((st->idx_used + more) * 2 < st->idx_cap)
		return EB_OK;
	size_t ncap = st->idx_cap ? st->idx_cap : 16;
	while ((st->idx_used + more) * 2 >= ncap)
		ncap *= 2;
	size_t *nt = calloc(ncap, sizeof *nt);
	if (!nt)
		return EB_ERR_NOMEM;
	for (size_t i = 0; i < st->idx_cap; i++)
		if (st->idx[i])
			st_idx_put_raw(nt, ncap, st->changes, st->idx[i] - 1);
	free(st->idx);
	st->idx = nt;
	st->idx_cap = ncap;
	return EB_OK;
}

size_t ebm_store_first_after(const ebm_store *st, uint64_t v)
{
	size_t lo = 0, hi = st->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (st->changes[mid].version <= v)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Appends in memory (no database). Moves the members out of batch. */
static eb_rc st_append(ebm_store *st, eb_change *batch, size_t n,
		       uint64_t new_version)
{
	if (st->n + n > st->cap) {
		size_t ncap = st->cap ? st->cap : 16;
		while (ncap < st->n + n)
			ncap *= 2;
		eb_change *nc = realloc(st->changes, ncap * sizeof *nc);
		if (!nc)
			return EB_ERR_NOMEM;
		st->changes = nc;
		st->cap = ncap;
	}
	if (st_idx_reserve(st, n) != EB_OK)
		return EB_ERR_NOMEM;
	for (size_t i = 0; i < n; i++) {
		st->changes[st->n] = batch[i];
		st->changes[st->n].has_version = true;
		memset(&batch[i], 0, sizeof batch[i]);
		long old = ebm_store_lookup(st, st->changes[st->n].id);
		st_idx_put_raw(st->idx, st->idx_cap, st->changes, st->n);
		if (old < 0)
			st->idx_used++;
		st->n++;
	}
	st->version = new_version;
	return EB_OK;
}

static eb_rc st_change_from_json(const cJSON *j, eb_change *c);
static const ebm_backend_ops st_sqlite_ops;

/* ---- SQLite ---------------------------------------------------------------- */

static eb_rc st_db_err(ebm_server *srv, eb_err *err, const char *what)
{
	return eb_err_set(err, EB_ERR_IO, NULL, NULL, EB_CODE_INTERNAL, -1,
			  "%s: %s", what, srv->db ? sqlite3_errmsg(srv->db) : "no database");
}

static eb_rc st_exec(ebm_server *srv, const char *sql, eb_err *err)
{
	char *msg = NULL;
	if (sqlite3_exec(srv->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		eb_rc rc = eb_err_set(err, EB_ERR_IO, NULL, NULL, EB_CODE_INTERNAL, -1,
				      "%s: %s", sql, msg ? msg : "?");
		sqlite3_free(msg);
		return rc;
	}
	return EB_OK;
}

char *ebm_store_change_json(const eb_change *c)
{
	eb_change t = *c;
	eb_buf b = { 0 };

	t.has_version = false;   /* the version is a column of its own */
	eb_change_put(&b, &t);
	return eb_buf_take(&b, NULL);
}

static eb_rc sqlite_commit(ebm_server *srv, ebm_store *st, const eb_change *batch,
			   size_t n, uint64_t new_version, eb_err *err)
{
	eb_rc rc = EB_OK;
	char *json = NULL;
	bool in_tx = false;

	rc = st_exec(srv, "BEGIN IMMEDIATE", err);
	if (rc != EB_OK)
		goto out;
	in_tx = true;
	for (size_t i = 0; i < n; i++) {
		json = ebm_store_change_json(&batch[i]);
		if (!json) {
			rc = eb_err_set(err, EB_ERR_NOMEM, NULL, NULL, EB_CODE_INTERNAL, -1, "out of memory");
			goto out;
		}
		sqlite3_reset(srv->st_insert);
		sqlite3_bind_text(srv->st_insert, 1, st->id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(srv->st_insert, 2, (sqlite3_int64)batch[i].version);
		sqlite3_bind_text(srv->st_insert, 3, json, -1, SQLITE_STATIC);
		if (sqlite3_step(srv->st_insert) != SQLITE_DONE) {
			rc = st_db_err(srv, err, "insert change");
			goto out;
		}
		sqlite3_reset(srv->st_insert);
		free(json);
		json = NULL;
	}
	sqlite3_reset(srv->st_store);
	sqlite3_bind_text(srv->st_store, 1, st->id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(srv->st_store, 2, (sqlite3_int64)new_version);
	if (sqlite3_step(srv->st_store) != SQLITE_DONE) {
		rc = st_db_err(srv, err, "update store");
		goto out;
	}
	sqlite3_reset(srv->st_store);
	rc = st_exec(srv, "COMMIT", err);
	if (rc != EB_OK)
		goto out;
	in_tx = false;
	st->persisted = true;
out:
	free(json);
	if (in_tx)
		st_exec(srv, "ROLLBACK", NULL);
	if (srv->st_insert)
		sqlite3_reset(srv->st_insert);
	return rc;
}

eb_rc ebm_store_commit(ebm_server *srv, ebm_store *st, eb_change *batch,
		       size_t n, uint64_t new_version, eb_err *err)
{
	eb_rc rc = EB_OK;

	if (srv->be->remote)   /* commits through ebm_pg_commit */
		return eb_err_set(err, EB_ERR_ARG, NULL, NULL, EB_CODE_INTERNAL, -1,
				  "commit in place on a shared backend");
	if (srv->be->commit) {
		rc = srv->be->commit(srv, st, batch, n, new_version, err);
		if (rc != EB_OK)
			return rc;
	}
	rc = st_append(st, batch, n, new_version);
	if (rc != EB_OK)
		eb_err_set(err, rc, NULL, NULL, EB_CODE_INTERNAL, -1, "out of memory");
	else
		srv->m.changes_stored_total += n;
	return rc;
}

eb_rc ebm_store_append(ebm_store *st, eb_change *batch, size_t n,
		       uint64_t new_version, bool index)
{
	if (index)
		return st_append(st, batch, n, new_version);
	/* appended without entering the ids: lookups miss them */
	size_t keep = st->idx_cap;
	size_t *kidx = st->idx;
	size_t kused = st->idx_used;
	st->idx = NULL;
	st->idx_cap = st->idx_used = 0;
	eb_rc rc = st_append(st, batch, n, new_version);
	free(st->idx);
	st->idx = kidx;
	st->idx_cap = keep;
	st->idx_used = kused;
	return rc;
}

eb_rc ebm_store_change_from_json(const char *js, size_t len, uint64_t version,
				 eb_change *c)
{
	cJSON *j = NULL;
	memset(c, 0, sizeof *c);
	if (eb_json_parse(js, len, 1000, &j, NULL) != EB_OK)
		return EB_ERR_SHAPE;
	eb_rc rc = st_change_from_json(j, c);
	cJSON_Delete(j);
	if (rc == EB_OK) {
		c->version = version;
		c->has_version = true;
	}
	return rc;
}

/* A stored change back from its JSON. The database holds only what this
 * server accepted, so the shape is trusted but still checked. */
static eb_rc st_change_from_json(const cJSON *j, eb_change *c)
{
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(j, "id");
	const cJSON *ts = cJSON_GetObjectItemCaseSensitive(j, "timestamp");
	const cJSON *op = cJSON_GetObjectItemCaseSensitive(j, "operation");
	const cJSON *path = cJSON_GetObjectItemCaseSensitive(j, "path");
	const cJSON *val = cJSON_GetObjectItemCaseSensitive(j, "value");

	memset(c, 0, sizeof *c);
	if (!cJSON_IsString(id) || !eb_json_get_uint53(ts, &c->timestamp) ||
	    !cJSON_IsString(op) || !cJSON_IsArray(path))
		return EB_ERR_SHAPE;
	c->op = strcmp(op->valuestring, "delete") == 0 ? EB_OP_DELETE : EB_OP_SET;
	c->id = strdup(id->valuestring);
	int np = cJSON_GetArraySize(path);
	c->path = calloc(np ? (size_t)np : 1, sizeof *c->path);
	if (!c->id || !c->path)
		goto nomem;
	for (const cJSON *s = path->child; s; s = s->next) {
		if (!cJSON_IsString(s))
			goto bad;
		c->path[c->path_len] = strdup(s->valuestring);
		if (!c->path[c->path_len])
			goto nomem;
		c->path_len++;
	}
	if (val) {
		c->value = cJSON_Duplicate(val, 1);
		if (!c->value)
			goto nomem;
	}
	return EB_OK;
bad:
	eb_change_clear(c);
	return EB_ERR_SHAPE;
nomem:
	eb_change_clear(c);
	return EB_ERR_NOMEM;
}

static eb_rc st_load(ebm_server *srv, eb_err *err)
{
	eb_rc rc = EB_OK;
	sqlite3_stmt *q = NULL;

	if (sqlite3_prepare_v2(srv->db,
			       "SELECT store, version, json FROM changes ORDER BY store, version",
			       -1, &q, NULL) != SQLITE_OK)
		return st_db_err(srv, err, "load");
	int r;
	while ((r = sqlite3_step(q)) == SQLITE_ROW) {
		const char *sid = (const char *)sqlite3_column_text(q, 0);
		uint64_t ver = (uint64_t)sqlite3_column_int64(q, 1);
		const char *js = (const char *)sqlite3_column_text(q, 2);
		int jl = sqlite3_column_bytes(q, 2);
		cJSON *j = NULL;
		eb_change c;
		if (!sid || !js) {
			rc = st_db_err(srv, err, "corrupt row");
			goto out;
		}
		ebm_store *st = ebm_store_get(srv, sid);
		if (!st) {
			rc = eb_err_set(err, EB_ERR_NOMEM, NULL, NULL, NULL, -1, "out of memory");
			goto out;
		}
		if (eb_json_parse(js, (size_t)jl, 1000, &j, NULL) != EB_OK ||
		    st_change_from_json(j, &c) != EB_OK) {
			cJSON_Delete(j);
			rc = eb_err_set(err, EB_ERR_IO, NULL, NULL, NULL, -1,
					"corrupt change in store %s version %llu", sid,
					(unsigned long long)ver);
			goto out;
		}
		cJSON_Delete(j);
		c.version = ver;
		c.has_version = true;
		st->persisted = true;
		rc = st_append(st, &c, 1, ver > st->version ? ver : st->version);
		eb_change_clear(&c);
		if (rc != EB_OK) {
			eb_err_set(err, rc, NULL, NULL, NULL, -1, "out of memory");
			goto out;
		}
	}
	if (r != SQLITE_DONE) {
		rc = st_db_err(srv, err, "load");
		goto out;
	}
	sqlite3_finalize(q);
	q = NULL;
	/* Versions taken without a change (a defect) are only in this table. */
	if (sqlite3_prepare_v2(srv->db, "SELECT store, version FROM stores", -1, &q,
			       NULL) != SQLITE_OK) {
		rc = st_db_err(srv, err, "load stores");
		goto out;
	}
	while ((r = sqlite3_step(q)) == SQLITE_ROW) {
		const char *sid = (const char *)sqlite3_column_text(q, 0);
		uint64_t ver = (uint64_t)sqlite3_column_int64(q, 1);
		ebm_store *st = sid ? ebm_store_get(srv, sid) : NULL;
		if (!st) {
			rc = eb_err_set(err, EB_ERR_NOMEM, NULL, NULL, NULL, -1, "out of memory");
			goto out;
		}
		st->persisted = true;
		if (ver > st->version)
			st->version = ver;
	}
	if (r != SQLITE_DONE)
		rc = st_db_err(srv, err, "load stores");
out:
	sqlite3_finalize(q);
	return rc;
}

eb_rc ebm_store_open_db(ebm_server *srv, const char *path, eb_err *err)
{
	eb_rc rc;
	if (sqlite3_open_v2(path, &srv->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
			    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		rc = st_db_err(srv, err, path);
		/* a failed open still hands back a handle (for its message) */
		sqlite3_close(srv->db);
		srv->db = NULL;
		return rc;
	}
	srv->be = &st_sqlite_ops;
	sqlite3_busy_timeout(srv->db, 5000);
	rc = st_exec(srv, "PRAGMA journal_mode=WAL", err);
	if (rc == EB_OK)
		rc = st_exec(srv, "PRAGMA synchronous=FULL", err);
	if (rc == EB_OK)
		rc = st_exec(srv,
			     "CREATE TABLE IF NOT EXISTS changes ("
			     " store TEXT NOT NULL, version INTEGER NOT NULL,"
			     " json TEXT NOT NULL, PRIMARY KEY (store, version))"
			     " WITHOUT ROWID", err);
	if (rc == EB_OK)
		rc = st_exec(srv,
			     "CREATE TABLE IF NOT EXISTS stores ("
			     " store TEXT PRIMARY KEY, version INTEGER NOT NULL)", err);
	if (rc != EB_OK)
		return rc;
	if (sqlite3_prepare_v2(srv->db,
			       "INSERT INTO changes (store, version, json) VALUES (?1, ?2, ?3)",
			       -1, &srv->st_insert, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(srv->db,
			       "INSERT INTO stores (store, version) VALUES (?1, ?2)"
			       " ON CONFLICT (store) DO UPDATE SET version = excluded.version",
			       -1, &srv->st_store, NULL) != SQLITE_OK)
		return st_db_err(srv, err, "prepare");
	return st_load(srv, err);
}

/* ---- admin: drop and re-version (scripted faults) ----------------------- */

static eb_rc st_db_delete(ebm_server *srv, const char *id, eb_err *err)
{
	static const char *const sql[] = { "DELETE FROM changes WHERE store = ?1",
					   "DELETE FROM stores WHERE store = ?1" };
	eb_rc rc = st_exec(srv, "BEGIN IMMEDIATE", err);
	if (rc != EB_OK)
		return rc;
	for (size_t i = 0; i < 2; i++) {
		sqlite3_stmt *q = NULL;
		if (sqlite3_prepare_v2(srv->db, sql[i], -1, &q, NULL) != SQLITE_OK) {
			rc = st_db_err(srv, err, "drop store");
			break;
		}
		sqlite3_bind_text(q, 1, id, -1, SQLITE_STATIC);
		int r = sqlite3_step(q);
		sqlite3_finalize(q);
		if (r != SQLITE_DONE) {
			rc = st_db_err(srv, err, "drop store");
			break;
		}
	}
	if (rc == EB_OK)
		rc = st_exec(srv, "COMMIT", err);
	if (rc != EB_OK)
		st_exec(srv, "ROLLBACK", NULL);
	return rc;
}

eb_rc ebm_store_drop(ebm_server *srv, const char *id, eb_err *err)
{
	ebm_store *st = ebm_store_find(srv, id);
	if (srv->be->drop) {
		eb_rc rc = srv->be->drop(srv, id, err);
		if (rc != EB_OK)
			return rc;
	}
	if (!st)
		return EB_OK;
	for (size_t i = 0; i < st->n; i++)
		eb_change_clear(&st->changes[i]);
	free(st->changes);
	free(st->idx);
	st->changes = NULL;
	st->idx = NULL;
	st->n = st->cap = st->idx_cap = st->idx_used = 0;
	st->version = 0;
	st->persisted = false;
	ebm_store_maybe_release(srv, st);
	return EB_OK;
}

eb_rc ebm_store_set_version(ebm_server *srv, const char *id, uint64_t v,
			    eb_err *err)
{
	ebm_store *st = ebm_store_find(srv, id);
	if (st && st->n)
		return eb_err_set(err, EB_ERR_ARG, NULL, NULL, NULL, -1,
				  "store %s has changes", id);
	if (v > EB_MAX_UINT53 - 1)
		return eb_err_set(err, EB_ERR_ARG, "VER-8", NULL, NULL, -1,
				  "version above 2^53-2");
	st = ebm_store_get(srv, id);
	if (!st)
		return eb_err_set(err, EB_ERR_NOMEM, NULL, NULL, NULL, -1, "out of memory");
	if (srv->be->set_version) {
		eb_rc rc = srv->be->set_version(srv, st, v, err);
		if (rc != EB_OK) {
			ebm_store_maybe_release(srv, st);
			return rc;
		}
	}
	st->version = v;
	ebm_store_maybe_release(srv, st);
	return EB_OK;
}

static eb_rc sqlite_set_version(ebm_server *srv, ebm_store *st, uint64_t v,
				eb_err *err)
{
	sqlite3_reset(srv->st_store);
	sqlite3_bind_text(srv->st_store, 1, st->id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(srv->st_store, 2, (sqlite3_int64)v);
	int r = sqlite3_step(srv->st_store);
	sqlite3_reset(srv->st_store);
	if (r != SQLITE_DONE)
		return st_db_err(srv, err, "set store version");
	st->persisted = true;
	return EB_OK;
}

static void sqlite_close(ebm_server *srv)
{
	sqlite3_finalize(srv->st_insert);
	sqlite3_finalize(srv->st_store);
	srv->st_insert = srv->st_store = NULL;
	if (srv->db) {
		/* folds the WAL into the main file so a copy of it is complete */
		sqlite3_wal_checkpoint_v2(srv->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
		sqlite3_close(srv->db);
		srv->db = NULL;
	}
}

static const ebm_backend_ops st_memory_ops = { .name = "memory" };
static const ebm_backend_ops st_sqlite_ops = {
	.name = "sqlite",
	.commit = sqlite_commit,
	.drop = st_db_delete,
	.set_version = sqlite_set_version,
	.close = sqlite_close,
};

const ebm_backend_ops *ebm_store_memory_ops(void)
{
	return &st_memory_ops;
}

void ebm_store_close_all(ebm_server *srv)
{
	for (size_t i = 0; srv->stores && i < srv->stores_cap; i++) {
		ebm_store *st = srv->stores[i];
		while (st) {
			ebm_store *nx = st->hnext;
			st_free(st);
			st = nx;
		}
	}
	free(srv->stores);
	srv->stores = NULL;
	srv->n_stores = 0;
	if (srv->be && srv->be->close)
		srv->be->close(srv);
	srv->be = &st_memory_ops;
}
