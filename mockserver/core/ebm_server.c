/*
 * ebm_server.c — configuration and lifetime of the ebmock core: the one
 * place that knows every part (store, sessions, verifiers, rate limits) to
 * create and free them. Nothing in the core calls back into it; the
 * defect table, fault specs, rate limiter, counters and helpers are leaf
 * modules of their own (ebm_defects, ebm_faultspec, ebm_rate, ebm_metrics,
 * ebm_util).
 */
#include "ebm_int.h"
#include "ebm_faults.h"
#include "ebm_rate.h"
#include "ebm_store.h"
#include "ebm_ws.h"

#include <stdlib.h>
#include <string.h>

/* ---- config and lifetime ------------------------------------------------- */

void ebm_config_default(ebm_config *c)
{
	memset(c, 0, sizeof *c);
	eb_limits_default(&c->limits);
	c->jwt_leeway_s = 5;
	c->auth_timeout_ms = 10000;
	c->ping_interval_s = 30;
	c->mem_budget_bytes = EBM_MEM_BUDGET_DEFAULT;
	c->body_timeout_ms = EBM_BODY_TIMEOUT_DEFAULT_MS;
	c->ws_stall_ms = EBM_WS_STALL_DEFAULT_MS;
}

static eb_rc ebm_dup(const char *s, char **own)
{
	*own = NULL;
	if (!s)
		return EB_OK;
	*own = strdup(s);
	return *own ? EB_OK : EB_ERR_NOMEM;
}

eb_rc ebm_server_new(const ebm_config *cfg, ebm_wake_fn wake, void *glue,
		     ebm_server **out, eb_err *err)
{
	eb_rc rc = EB_OK;
	ebm_server *srv = NULL;

	*out = NULL;
	if (!cfg->no_auth && !cfg->jwt_secret && !cfg->jwt_public_pem)
		return eb_err_set(err, EB_ERR_ARG, NULL, NULL, NULL, -1,
				  "no JWT key configured and --no-auth not given");
	if (cfg->jwt_leeway_s > 60)
		return eb_err_set(err, EB_ERR_ARG, "AUTH-7", NULL, NULL, -1,
				  "leeway above 60 s");
	if (cfg->limits.coalesce_ms > 250)
		return eb_err_set(err, EB_ERR_ARG, "WS-NOTIF-5", NULL, NULL, -1,
				  "coalescing window above 250 ms");
	srv = calloc(1, sizeof *srv);
	if (!srv)
		return eb_err_set(err, EB_ERR_NOMEM, NULL, NULL, NULL, -1, "out of memory");
	srv->cfg = *cfg;
	srv->notify_commit = ebm_ws_notify_commit;
	srv->be = ebm_store_memory_ops();
	if (ebm_dup(cfg->jwt_secret, &srv->own_secret) ||
	    ebm_dup(cfg->jwt_public_pem, &srv->own_pem) ||
	    ebm_dup(cfg->jwt_issuer, &srv->own_issuer) ||
	    ebm_dup(cfg->jwt_audience, &srv->own_audience) ||
	    ebm_dup(cfg->data_path, &srv->own_data) ||
	    ebm_dup(cfg->admin_token, &srv->own_admin)) {
		rc = eb_err_set(err, EB_ERR_NOMEM, NULL, NULL, NULL, -1, "out of memory");
		goto out;
	}
	srv->cfg.jwt_secret = srv->own_secret;
	srv->cfg.jwt_public_pem = srv->own_pem;
	srv->cfg.jwt_issuer = srv->own_issuer;
	srv->cfg.jwt_audience = srv->own_audience;
	srv->cfg.data_path = srv->own_data;
	srv->cfg.admin_token = srv->own_admin;
	srv->faults = cfg->faults;
	srv->wake = wake;
	srv->glue = glue;
	ebm_rate_init(&srv->rate_http,
		      cfg->limits.rate_limit_on ? cfg->limits.http_per_second : 0,
		      cfg->limits.http_burst);
	ebm_rate_init(&srv->rate_ws,
		      cfg->limits.rate_limit_on ? cfg->limits.ws_per_second : 0,
		      cfg->limits.ws_burst);

	if (!cfg->no_auth) {
		eb_jwt_verifier_opts o;
		memset(&o, 0, sizeof o);
		o.hs256_secret = srv->own_secret;
		o.hs256_secret_len = srv->own_secret ? strlen(srv->own_secret) : 0;
		o.rs256_public_pem = srv->own_pem;
		o.issuer = srv->own_issuer;
		o.audience = srv->own_audience;
		o.leeway_s = cfg->jwt_leeway_s;
		rc = eb_jwt_verifier_new(&o, &srv->jwt, err);
		if (rc != EB_OK)
			goto out;
		if (ebm_defect_on(srv, EBM_DEFECT_ISSUER_IGNORED)) {
			o.issuer = NULL;
			rc = eb_jwt_verifier_new(&o, &srv->jwt_noiss, err);
			if (rc != EB_OK)
				goto out;
		}
		if (ebm_defect_on(srv, EBM_DEFECT_AUD_ARRAY_UNCHECKED)) {
			o.issuer = srv->own_issuer;
			o.audience = NULL;
			rc = eb_jwt_verifier_new(&o, &srv->jwt_noaud, err);
			if (rc != EB_OK)
				goto out;
		}
	}
	srv->stores_cap = 64;
	srv->stores = calloc(srv->stores_cap, sizeof *srv->stores);
	if (!srv->stores) {
		rc = eb_err_set(err, EB_ERR_NOMEM, NULL, NULL, NULL, -1, "out of memory");
		goto out;
	}
	if (srv->cfg.data_path) {
		rc = ebm_store_open_db(srv, srv->cfg.data_path, err);
		if (rc != EB_OK)
			goto out;
	}
	*out = srv;
	srv = NULL;
out:
	ebm_server_free(srv);
	return rc;
}

void ebm_server_free(ebm_server *srv)
{
	if (!srv)
		return;
	while (srv->sessions)
		ebm_ws_free(srv->sessions);
	ebm_store_close_all(srv);
	eb_jwt_verifier_free(srv->jwt);
	eb_jwt_verifier_free(srv->jwt_noiss);
	eb_jwt_verifier_free(srv->jwt_noaud);
	ebm_rate_clear(&srv->rate_http);
	ebm_rate_clear(&srv->rate_ws);
	free(srv->own_secret);
	free(srv->own_pem);
	free(srv->own_issuer);
	free(srv->own_audience);
	free(srv->own_data);
	free(srv->own_admin);
	free(srv);
}

const eb_limits *ebm_server_limits(const ebm_server *srv)
{
	return &srv->cfg.limits;
}

const ebm_config *ebm_server_config(const ebm_server *srv)
{
	return &srv->cfg;
}

const ebm_faults *ebm_server_faults(const ebm_server *srv)
{
	return &srv->faults;
}

void ebm_server_set_evlog(ebm_server *srv, ebm_evlog *l)
{
	srv->evlog = l;
	if (l)
		ebm_faults_log_state(srv);
}
