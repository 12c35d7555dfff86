/*
 * ebl.h — ebload internals shared by its files: the configuration, the
 * memory shared between the coordinating process and the worker processes,
 * and the entry points of the WebSocket workers and the pushers.
 *
 * Process layout: the parent parses flags, maps one anonymous shared region,
 * forks --procs worker processes (each runs --threads epoll loops), runs
 * the pushers and the once-a-second sampler itself, and builds the report
 * from the shared counters after the workers exit. Every counter in the
 * shared region has exactly one writer; readers use relaxed atomic loads.
 */
#ifndef EBL_H
#define EBL_H

#include <signal.h>
#include <stdio.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "eb_hist.h"
#include "eb_loadreport.h"
#include "eb_tls.h"

#define EBL_MAX_URLS 64
#define EBL_MAX_SOURCES 256
#define EBL_WS_PATH "/api/sync/notifications"

#define EBL_LD(p) __atomic_load_n((p), __ATOMIC_RELAXED)
#define EBL_ST(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)
#define EBL_INC(p) EBL_ST((p), EBL_LD(p) + 1)
#define EBL_ADD(p, n) EBL_ST((p), EBL_LD(p) + (n))

typedef struct ebl_url {
	char host[256];      /* no IPv6 brackets */
	int port;
	char base[640];      /* http://host:port[/base/path]: eb_http's base */
	char ws_path[320];   /* [/base/path]/api/sync/notifications */
	bool tls;            /* https:// or wss://: TLS on the socket and pushes */
} ebl_url;

typedef struct ebl_config {
	ebl_url urls[EBL_MAX_URLS];
	unsigned n_urls;
	bool shared_backend;         /* all URLs front one store backend */
	uint64_t connections;        /* this shard's connections */
	uint64_t connections_total;  /* as given, before sharding */
	double connect_rate;         /* per second, this shard */
	double rampdown_rate;        /* 0: close all at once */
	unsigned stores;             /* per target (or in all with shared_backend) */
	unsigned subs_per_conn;
	double push_rate;            /* per second, this shard */
	unsigned pushers;
	double duration_s;           /* hold */
	double drain_s;
	double churn_rate;
	double connect_timeout_s;
	double push_timeout_s;
	double deadline_s;           /* the whole run (--deadline; 0: the planned
	                              * phases + 60 s, ebl_deadline_s in main.c) */
	unsigned procs, threads;
	unsigned max_pending;        /* per worker thread */
	char sources[EBL_MAX_SOURCES][48];
	unsigned n_sources;          /* 0: no bind */
	unsigned shard_index, shard_count;
	uint64_t start_at_ms;        /* --start-at: ramp-up at this wall-clock ms (0: at once) */
	char store_prefix[96];
	char *token;                 /* owned; NULL with --no-auth */
	eb_tls_opts tls;             /* --cacert / --insecure for TLS targets */
	bool no_auth;
	const char *json_path, *csv_path, *html_path;
	bool quiet;
	bool evlib;                  /* --event-loop ev (recorded; the loop is epoll) */
	int lws_log_level;           /* --verbose: causes of failures on stderr */
} ebl_config;

/* One push slot of a store's ring: written by its pusher before the push is
 * sent, read by every subscriber that receives a notification. */
typedef struct ebl_push_rec {
	uint64_t version;       /* 0: empty; written last (release) */
	uint64_t intended_ns;   /* scheduled send time, monotonic clock */
	uint64_t commit_ns;     /* response received; 0 while in flight or failed */
	uint64_t n_recv;        /* subscribers that saw it (atomic add) */
	uint64_t last_recv_ns;  /* latest receipt (atomic max) */
} ebl_push_rec;

typedef struct ebl_store {
	uint64_t committed;     /* highest version confirmed by a push response */
	uint32_t url;           /* target index pushes go to */
	uint32_t pad;
} ebl_store;

enum ebl_phase {
	EBL_PH_INIT = 0, EBL_PH_RAMP, EBL_PH_HOLD, EBL_PH_DRAIN, EBL_PH_FINAL,
	EBL_PH_DONE
};

/* Counters of one worker thread (one writer). */
typedef struct ebl_wstat {
	eb_load_counters c;     /* conn_*, fail_*, notif_* fields used */
	uint64_t open;          /* subscribed and open now */
	uint64_t pending;       /* connecting now */
	uint64_t ready;         /* 1 once its event loop runs */
	uint64_t ramp_done;     /* 1 when every assigned connection ended its first attempt */
	uint64_t finished;      /* 1 when the thread closed everything */
	uint64_t limit_emfile, limit_addr;
	/* the thread's user and system CPU (getrusage RUSAGE_THREAD, us, plus
	 * 1 so that 0 means not taken) when it first saw each phase (index:
	 * enum ebl_phase; EBL_PH_DONE: exit) */
	uint64_t cpu_user_us[EBL_PH_DONE + 1], cpu_sys_us[EBL_PH_DONE + 1];
	eb_hist lat;            /* EB_LH_NOTIFY */
	eb_hist connect;        /* EB_LH_CONNECT */
} ebl_wstat;

/* Counters of one pusher thread (one writer). */
typedef struct ebl_pstat {
	uint64_t sent, ok, transport_err, http_err, mismatch, late;
	eb_hist push;           /* EB_LH_PUSH */
	eb_hist fanout;         /* EB_LH_FANOUT, recorded when a ring slot is reused */
} ebl_pstat;

typedef struct ebl_shm {
	uint64_t phase;         /* enum ebl_phase, written by the parent */
	uint64_t t0_ns;         /* run start, monotonic */
	uint64_t phase_ns;      /* when the current phase began */
	uint64_t stop;          /* 1: interrupted, finish quickly */
	uint32_t n_workers, n_pushers;
	uint32_t n_stores_total, ring;   /* ring: slots per store, power of two */
	ebl_wstat *w;           /* n_workers */
	ebl_pstat *p;           /* n_pushers */
	ebl_store *stores;      /* n_stores_total */
	ebl_push_rec *recs;     /* n_stores_total * ring */
	char (*store_ids)[128]; /* n_stores_total */
} ebl_shm;

/* Maps the shared region for cfg. NULL with a message on stderr. */
ebl_shm *ebl_shm_new(const ebl_config *cfg);
void ebl_shm_free(ebl_shm *s);

/* Store-table index of local store j of connection c (global index). */
uint32_t ebl_store_of(const ebl_config *cfg, uint64_t conn, unsigned j);
/* Target URL index of connection c. */
unsigned ebl_url_of(const ebl_config *cfg, uint64_t conn);

/* Runs the worker threads of worker process proc (forked child); returns
 * the exit status for _exit. */
int ebl_worker_process(const ebl_config *cfg, ebl_shm *shm, unsigned proc);

/* Counts, for one subscription ending at end_ns whose last seen version is
 * last, the pushes it should have seen: committed versions above last whose
 * commit is at least drain before end_ns. */
uint64_t ebl_missed(const ebl_config *cfg, ebl_shm *shm, uint32_t store,
		    uint64_t last, uint64_t end_ns);

/* Pusher threads: start them (parent process), then join. */
typedef struct ebl_pushers ebl_pushers;
ebl_pushers *ebl_pushers_start(const ebl_config *cfg, ebl_shm *shm);
void ebl_pushers_join(ebl_pushers *p);
/* As ebl_pushers_join when every pusher ends within ms; else false and the
 * pushers are left running (their push in flight ends by --push-timeout):
 * the caller then must not free the shm and ends the process instead. */
bool ebl_pushers_join_within(ebl_pushers *p, unsigned ms);
/* Records the fan-out of every push still in the rings (after the drain). */
void ebl_pushers_finalize(const ebl_config *cfg, ebl_shm *shm);

/* Outputs (ebl_out.c). */
void ebl_print_summary(const eb_loadreport *r, FILE *out);
int ebl_write_json(const eb_loadreport *r, const char *path);
int ebl_write_csv(const eb_loadreport *r, const char *path);
int ebl_write_html(const eb_loadreport *r, const char *path);

#endif
