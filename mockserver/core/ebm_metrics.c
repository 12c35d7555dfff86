/*
 * ebm_metrics.c — the counters and the memory budget of the ebmock core
 * (ebm_metrics.h): fields of the server, nothing else.
 */
#include "ebm_metrics.h"
#include "ebm_int.h"

/* ---- metrics -------------------------------------------------------------- */

void ebm_metrics_http(ebm_server *srv, ebm_route route, int status)
{
	ebm_metrics *m = &srv->m;
	m->http_requests_total++;
	for (size_t i = 0; i < m->n_http; i++) {
		if (m->http[i].route == route && m->http[i].status == status) {
			m->http[i].n++;
			return;
		}
	}
	if (m->n_http < sizeof m->http / sizeof m->http[0]) {
		m->http[m->n_http].route = (uint8_t)route;
		m->http[m->n_http].status = (uint16_t)status;
		m->http[m->n_http].n = 1;
		m->n_http++;
	}
}

void ebm_metrics_conn(ebm_server *srv, int delta)
{
	srv->m.connections += delta;
}

void ebm_metrics_refusal(ebm_server *srv, ebm_refusal why)
{
	if ((unsigned)why < EBM_REFUSE__COUNT)
		srv->m.refusals[why]++;
}

/* ---- memory budget --------------------------------------------------------- */

bool ebm_mem_take(ebm_server *srv, size_t n)
{
	if (srv->mem_used + n > srv->cfg.mem_budget_bytes)
		return false;
	srv->mem_used += n;
	return true;
}

void ebm_mem_force(ebm_server *srv, size_t n)
{
	srv->mem_used += n;
}

void ebm_mem_give(ebm_server *srv, size_t n)
{
	srv->mem_used = n > srv->mem_used ? 0 : srv->mem_used - n;
}

bool ebm_mem_spent(const ebm_server *srv)
{
	return srv->mem_used >= srv->cfg.mem_budget_bytes;
}
