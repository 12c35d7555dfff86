/*
 * eb_target.h — the front door every client program of the kit shares
 * (ebconform, ebfuzz, ebload, ebclient): the exit codes and the version, one
 * URL parser, one table-driven parser of option values and of the target and
 * token flags, the HS256 secret from the environment, token minting as the
 * target is configured, and one recorder of the command line that never
 * writes the secret.
 */
#ifndef EB_TARGET_H
#define EB_TARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "eb_error.h"
#include "eb_jwt.h"
#include "eb_tls.h"

/* One version for every program of the kit (`--version`). */
#define EB_KIT_VERSION "1.1.0"

/* Exit codes of every program (house style). */
typedef enum eb_exit {
	EB_EXIT_OK = 0,          /* success, verdict passed */
	EB_EXIT_FAIL = 1,        /* the verdict failed */
	EB_EXIT_USAGE = 2,       /* usage or setup error: the command is wrong */
	EB_EXIT_UNREACHABLE = 3  /* the target did not answer */
} eb_exit;

/* The secret's environment variables: the first set one wins. The alias is
 * ebconform's older name. Rerun commands name EB_SECRET_ENV. */
#define EB_SECRET_ENV "EB_JWT_SECRET"
#define EB_SECRET_FILE_ENV "EB_JWT_SECRET_FILE"
#define EB_SECRET_ENV_ALIAS "EBCONFORM_JWT_SECRET"
/* What a report says beside rerun commands that need the secret. */
#define EB_SECRET_NOTE "rerun commands read the HS256 secret from $EB_JWT_SECRET: " \
	"export EB_JWT_SECRET before pasting one"

/* ---- URLs ------------------------------------------------------------------ */

typedef struct eb_url {
	char scheme[8];      /* "http", "https", "ws" or "wss", lower case */
	bool tls;            /* https or wss */
	char host[256];      /* without IPv6 brackets */
	bool ipv6;           /* host is an IPv6 literal (given in brackets) */
	int port;            /* given, or 80 / 443 */
	char path[256];      /* base path: "" or "/sync" (no trailing '/') */
	char http[640];      /* http(s)://host:port/path: eb_http's base URL */
	char ws[640];        /* ws(s)://host:port/path: eb_wsc's URL */
	char hostport[300];  /* "host:port", "[::1]:port" */
} eb_url;

/* Parses "scheme://host[:port][/base/path]" with scheme http, https, ws or
 * wss (case-insensitive), host a name, an IPv4 address or an IPv6 literal in
 * brackets, port 1-65535 of digits only (default 80, or 443 with TLS), and
 * an optional base path every request path is then prefixed with (one
 * trailing '/' dropped; no query, fragment, user info or whitespace). EB_OK,
 * or EB_ERR_ARG with err->msg saying what is wrong. */
eb_rc eb_url_parse(const char *text, eb_url *out, eb_err *err);

/* ---- option values --------------------------------------------------------- */

/* Unsigned decimal integer of digits only in [lo, hi]. */
bool eb_parse_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *out);
/* Finite decimal number in [lo, hi]. */
bool eb_parse_double(const char *s, double lo, double hi, double *out);

typedef enum eb_opt_kind {
	EB_OPT_FLAG = 1,  /* bool *dst set true; takes no value */
	EB_OPT_COUNT,     /* int *dst incremented (-v -v); takes no value */
	EB_OPT_STR,       /* const char **dst = the value (borrowed from argv) */
	EB_OPT_U64,       /* uint64_t *dst in [lo, hi] */
	EB_OPT_UINT,      /* unsigned *dst in [lo, hi] */
	EB_OPT_LONG,      /* long *dst in [lo, hi] (non-negative) */
	EB_OPT_DOUBLE,    /* double *dst in [lo, hi] */
	EB_OPT_FN         /* fn(ctx, value) checks and stores; value NULL when !takes_value */
} eb_opt_kind;

typedef struct eb_opt {
	const char *name;     /* "--connections" */
	const char *alias;    /* another spelling, or NULL */
	eb_opt_kind kind;
	void *dst;
	double lo, hi;        /* numeric kinds */
	const char *what;     /* what a good value is, for the error line ("1-64") */
	/* EB_OPT_FN: 0, or -1 with a message (no flag name needed) in err. */
	int (*fn)(void *ctx, const char *val, char *err, size_t errlen);
	void *ctx;
	bool takes_value;     /* EB_OPT_FN only */
} eb_opt;

/* Tries argv[*i] against the n options of tab, as "--name value" or
 * "--name=value". Returns 1 when it matched (value stored, *i moved past the
 * value), 0 when no option of tab has that name, -1 on a bad value or a
 * missing one with one line in err that names the flag and the value
 * ("bad value 'x' for --jobs: 1-64"). */
int eb_opt_parse(const eb_opt *tab, size_t n, int argc, char **argv, int *i,
		 char *err, size_t errlen);

/* ---- the target and its tokens --------------------------------------------- */

/* Which shared flags a program takes. */
enum eb_target_flags {
	EB_TF_URL = 1u << 0,      /* --url (one) */
	EB_TF_JWT = 1u << 1,      /* --jwt-secret/-private-key/-issuer/-audience */
	EB_TF_LEEWAY = 1u << 2,   /* --jwt-leeway */
	EB_TF_NO_AUTH = 1u << 3,  /* --no-auth (alias --no-auth-server) */
	EB_TF_TIMEOUT = 1u << 4,  /* --timeout MS (alias --timeout-ms) */
	EB_TF_TLS = 1u << 5       /* https:// and wss:// accepted; --cacert, --insecure */
};

typedef struct eb_target {
	unsigned flags;            /* enum eb_target_flags the program takes */
	const char *url_text;      /* as given */
	eb_url url;
	bool has_url;
	const char *secret;        /* HS256 secret: argv, environment or secret_owned */
	const char *secret_from;   /* "--jwt-secret", "EB_JWT_SECRET", ... or NULL */
	char *secret_owned;        /* read from $EB_JWT_SECRET_FILE */
	const char *private_key_path;
	char *private_pem;         /* read by eb_target_finish */
	const char *issuer, *audience;
	long leeway_s;             /* the server's leeway; EB_JWT_DEFAULT_LEEWAY_S */
	bool no_auth;              /* the server takes no token */
	long timeout_ms;           /* per network operation; 5000 */
	long max_response_mib;     /* --max-response-mib (with EB_TF_TIMEOUT): the
				    * harness's cap on one HTTP response body,
				    * EB_HTTP_MAX_BODY_DEFAULT; eb_http_set_max_body */
	eb_tls_opts tls_opts;      /* --cacert FILE (borrows argv), --insecure */
	eb_tls_ctx *tls;           /* made by eb_target_finish (or eb_target_tls)
				    * for a TLS URL or --cacert; owned */
	bool (*stop)(void *arg);   /* set by the program (NULL: none): the
				    * preflight's waits end when it returns true
				    * (a signal), seen as no answer */
	void *stop_arg;
} eb_target;

/* Zeroes t and sets the defaults; flags: enum eb_target_flags. */
void eb_target_init(eb_target *t, unsigned flags);

/* The help lines of the shared flags t->flags selects, to print in --help. */
const char *eb_target_help(unsigned flags);

/* Tries argv[*i] as one of the shared flags (like eb_opt_parse): 1 taken,
 * 0 not a shared flag, -1 with err on a bad value. Strings borrow argv. */
int eb_target_arg(eb_target *t, int argc, char **argv, int *i, char *err, size_t errlen);

/* After the command line: takes the secret from the environment when no
 * --jwt-secret was given (EB_JWT_SECRET, EB_JWT_SECRET_FILE, then
 * EBCONFORM_JWT_SECRET; not with --no-auth), reads --jwt-private-key, and
 * checks what the program needs: --url when need_url, a signing key unless
 * --no-auth, --no-auth without a key, TLS only with EB_TF_TLS, a key that
 * mints; makes t->tls (eb_target_tls) for an https/wss URL or a --cacert.
 * 0, or -1 with one line in err naming the flag. */
int eb_target_finish(eb_target *t, bool need_url, char *err, size_t errlen);

/* Makes t->tls from --cacert/--insecure unless made already (programs whose
 * TLS URLs are not t's own: ebload). 0, or -1 with one line in err naming
 * --cacert (unreadable, no certificate in it). */
int eb_target_tls(eb_target *t, char *err, size_t errlen);

/* Frees what eb_target_finish read and made; t stays initialised. NULL
 * no-op. */
void eb_target_clear(eb_target *t);

/* Fills m as the target signs: HS256 with the secret when there is one,
 * else RS256 with the private key; iss and aud as configured; sub, iat now
 * and exp now + ttl_s; no permission claims (callers set read/write). m
 * borrows from t. */
void eb_target_mint_opts(const eb_target *t, const char *sub, int64_t ttl_s,
			 eb_jwt_mint_opts *m);

/* Mints a token for sub valid ttl_s seconds with eb_read (and, when write,
 * eb_write) ["*"]. *out malloc'd. With --no-auth *out is "" (no token).
 * EB_ERR_ARG for a key that does not sign. */
eb_rc eb_target_mint(const eb_target *t, const char *sub, int64_t ttl_s, bool write,
		     char **out, eb_err *err);

/* ---- recording the command line -------------------------------------------- */

/* Appends s to buf (NUL-terminated, len bytes) quoted for a POSIX shell. */
void eb_shell_quote(char *buf, size_t len, const char *s);

/* Writes argv as one shell line into buf. The value of --jwt-secret (either
 * spelling) becomes "$EB_JWT_SECRET", so the line never holds the secret
 * and works when pasted with the variable exported. Returns 0, or -1 when
 * buf was too small (the line is cut, still NUL-terminated). */
int eb_cmdline_record(int argc, char *const *argv, char *buf, size_t len);

/* Appends the TLS and token flags of t for a rerun command to buf:
 * --cacert, --insecure, --jwt-secret
 * "$EB_JWT_SECRET" (never the value), --jwt-private-key, --jwt-issuer,
 * --jwt-audience, --jwt-leeway when not the default, --no-auth; each with a
 * leading space. */
void eb_target_rerun_flags(const eb_target *t, char *buf, size_t len);

#endif
