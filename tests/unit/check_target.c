/*
 * check_target.c — the shared front door of the client programs: URL forms
 * good and bad, the option table, the target flags, the secret from the
 * environment, minting as configured, and a command line that never holds
 * the secret.
 */
#include <check.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "eb_file.h"
#include "eb_jwt.h"
#include "eb_target.h"
#include "eb_time.h"

/* argv strings are writable in a real main; here they are literals */
#define S(x) ((char *)(x))

static char tmpdir[] = "/tmp/check_target.XXXXXX";

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "wb");

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(text, 1, strlen(text), f), strlen(text));
	fclose(f);
}

static void unset_secret_env(void)
{
	unsetenv(EB_SECRET_ENV);
	unsetenv(EB_SECRET_FILE_ENV);
	unsetenv(EB_SECRET_ENV_ALIAS);
}

/* Parses argv (NULL-terminated) through eb_target_arg only. */
static int parse(eb_target *t, unsigned flags, const char **args, char *err, size_t errlen)
{
	char *argv[32];
	int argc = 0, i, r;

	argv[argc++] = (char *)"prog";
	while (*args && argc < 31)
		argv[argc++] = (char *)*args++;
	argv[argc] = NULL;
	eb_target_init(t, flags);
	for (i = 1; i < argc; i++) {
		r = eb_target_arg(t, argc, argv, &i, err, errlen);
		if (r < 0)
			return -1;
		if (r == 0) {
			snprintf(err, errlen, "not a target flag: %s", argv[i]);
			return -2;
		}
	}
	return 0;
}

#define ALL_FLAGS (EB_TF_URL | EB_TF_JWT | EB_TF_LEEWAY | EB_TF_NO_AUTH | EB_TF_TIMEOUT)

/* ---- URLs ------------------------------------------------------------------ */

START_TEST(test_url_forms_give_host_port_path_and_both_bases)
{
	eb_url u;
	eb_err e;

	ck_assert_int_eq(eb_url_parse("http://127.0.0.1:8080", &u, &e), EB_OK);
	ck_assert_str_eq(u.host, "127.0.0.1");
	ck_assert_int_eq(u.port, 8080);
	ck_assert_str_eq(u.path, "");
	ck_assert_str_eq(u.http, "http://127.0.0.1:8080");
	ck_assert_str_eq(u.ws, "ws://127.0.0.1:8080");
	ck_assert(!u.tls);

	ck_assert_int_eq(eb_url_parse("ws://[::1]:8080", &u, &e), EB_OK);
	ck_assert_str_eq(u.host, "::1");
	ck_assert(u.ipv6);
	ck_assert_int_eq(u.port, 8080);
	ck_assert_str_eq(u.http, "http://[::1]:8080");
	ck_assert_str_eq(u.hostport, "[::1]:8080");

	ck_assert_int_eq(eb_url_parse("HTTPS://api.example.com/sync/", &u, &e), EB_OK);
	ck_assert_str_eq(u.scheme, "https");
	ck_assert(u.tls);
	ck_assert_int_eq(u.port, 443);
	ck_assert_str_eq(u.path, "/sync");
	ck_assert_str_eq(u.http, "https://api.example.com:443/sync");
	ck_assert_str_eq(u.ws, "wss://api.example.com:443/sync");
}
END_TEST

START_TEST(test_default_ports_are_80_and_443)
{
	eb_url u;
	eb_err e;

	ck_assert_int_eq(eb_url_parse("http://h", &u, &e), EB_OK);
	ck_assert_int_eq(u.port, 80);
	ck_assert_int_eq(eb_url_parse("ws://h/", &u, &e), EB_OK);
	ck_assert_int_eq(u.port, 80);
	ck_assert_str_eq(u.path, "");
	ck_assert_int_eq(eb_url_parse("wss://h", &u, &e), EB_OK);
	ck_assert_int_eq(u.port, 443);
	ck_assert_int_eq(eb_url_parse("https://[2001:db8::1]/a/b", &u, &e), EB_OK);
	ck_assert_int_eq(u.port, 443);
	ck_assert_str_eq(u.path, "/a/b");
}
END_TEST

START_TEST(test_bad_urls_are_refused_with_the_reason)
{
	static const struct { const char *url, *why; } bad[] = {
		{ "http://127.0.0.1:80abc", "port" },
		{ "http://127.0.0.1:0", "port" },
		{ "http://127.0.0.1:65536", "port" },
		{ "http://127.0.0.1:", "empty port" },
		{ "http://127.0.0.1:+80", "port" },
		{ "http://:8080", "missing host" },
		{ "http://", "missing host" },
		{ "http:///api", "missing host" },
		{ "ftp://h:1", "scheme" },
		{ "127.0.0.1:8080", "no scheme" },
		{ "http://[::1:8080", "without ']'" },
		{ "http://[::1]x", "':'" },
		{ "http://[127.0.0.1]:80", "IPv6" },
		{ "http://u@h:80", "user info" },
		{ "http://h:80/a?b=c", "query" },
		{ "http://h:80?b", "query" },
		{ "http://h:80/a b", "space" },
		{ "http://h_ost!:80", "character" },
		{ "", "empty" },
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		eb_url u;
		eb_err e;

		eb_err_clear(&e);
		ck_assert_msg(eb_url_parse(bad[i].url, &u, &e) == EB_ERR_ARG, "accepted %s", bad[i].url);
		ck_assert_msg(strstr(e.msg, bad[i].why) != NULL, "%s: '%s' lacks '%s'", bad[i].url,
			      e.msg, bad[i].why);
	}
}
END_TEST

/* ---- option values --------------------------------------------------------- */

START_TEST(test_numbers_take_digits_only_within_the_range)
{
	uint64_t u;
	double d;

	ck_assert(eb_parse_u64("42", 1, 64, &u) && u == 42);
	ck_assert(!eb_parse_u64("0", 1, 64, &u));
	ck_assert(!eb_parse_u64("65", 1, 64, &u));
	ck_assert(!eb_parse_u64("-1", 0, 64, &u));
	ck_assert(!eb_parse_u64("+1", 0, 64, &u));
	ck_assert(!eb_parse_u64(" 1", 0, 64, &u));
	ck_assert(!eb_parse_u64("1x", 0, 64, &u));
	ck_assert(!eb_parse_u64("", 0, 64, &u));
	ck_assert(!eb_parse_u64("99999999999999999999999", 0, UINT64_MAX, &u));
	ck_assert(eb_parse_double("0.5", 0.1, 100, &d) && d == 0.5);
	ck_assert(!eb_parse_double("nan", 0, 100, &d));
	ck_assert(!eb_parse_double("inf", 0, 1e300, &d));
	ck_assert(!eb_parse_double("1e3", 0, 100, &d));
	ck_assert(!eb_parse_double("2x", 0, 100, &d));
}
END_TEST

START_TEST(test_option_table_takes_both_spellings_and_names_flag_and_value_in_errors)
{
	unsigned jobs = 4;
	bool strict = false;
	int verbose = 0;
	const char *dir = NULL;
	const eb_opt tab[] = {
		{ "--jobs", "-j", EB_OPT_UINT, &jobs, 1, 64, "1-64", NULL, NULL, false },
		{ "--strict", NULL, EB_OPT_FLAG, &strict, 0, 0, NULL, NULL, NULL, false },
		{ "-v", "--verbose", EB_OPT_COUNT, &verbose, 0, 0, NULL, NULL, NULL, false },
		{ "--report-dir", NULL, EB_OPT_STR, &dir, 0, 0, NULL, NULL, NULL, false },
	};
	char *argv[] = { S("p"), S("--jobs"), S("8"), S("--strict"), S("-v"), S("--verbose"), S("--report-dir=out"),
			 S("-j=3"), S("--jobs"), S("99999"), S("--strict=1"), S("--other"), S("--jobs"), NULL };
	int argc = 13, i;
	char err[256];

	for (i = 1; i <= 7; i++)
		ck_assert_int_eq(eb_opt_parse(tab, 4, argc, argv, &i, err, sizeof(err)), 1);
	ck_assert_int_eq(i, 8);
	ck_assert_uint_eq(jobs, 3);
	ck_assert(strict);
	ck_assert_int_eq(verbose, 2);
	ck_assert_str_eq(dir, "out");
	ck_assert_int_eq(eb_opt_parse(tab, 4, argc, argv, &i, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "bad value '99999' for --jobs: want 1-64");
	i = 10;
	ck_assert_int_eq(eb_opt_parse(tab, 4, argc, argv, &i, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "--strict takes no value (got '1')");
	i = 11;
	ck_assert_int_eq(eb_opt_parse(tab, 4, argc, argv, &i, err, sizeof(err)), 0);
	i = 12;
	ck_assert_int_eq(eb_opt_parse(tab, 4, argc, argv, &i, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "--jobs needs a value");
}
END_TEST

START_TEST(test_an_option_up_to_uint64_max_takes_the_largest_value)
{
	uint64_t seed = 0;
	const eb_opt tab[] = {
		{ "--seed", NULL, EB_OPT_U64, &seed, 0, (double)UINT64_MAX, "an integer", NULL, NULL, false },
	};
	char *argv[] = { S("p"), S("--seed"), S("18446744073709551615"), S("--seed=7"), NULL };
	char err[128];
	int i = 1;

	ck_assert_int_eq(eb_opt_parse(tab, 1, 4, argv, &i, err, sizeof(err)), 1);
	ck_assert(seed == UINT64_MAX);
	i = 3;
	ck_assert_int_eq(eb_opt_parse(tab, 1, 4, argv, &i, err, sizeof(err)), 1);
	ck_assert(seed == 7);
}
END_TEST

/* ---- the target flags ------------------------------------------------------ */

START_TEST(test_target_flags_fill_the_target)
{
	const char *args[] = { "--url", "http://[::1]:9/base", "--jwt-secret=s3", "--jwt-issuer",
			       "iss", "--jwt-audience", "aud", "--jwt-leeway", "7",
			       "--timeout-ms", "900", NULL };
	eb_target t;
	char err[256];

	unset_secret_env();
	ck_assert_int_eq(parse(&t, ALL_FLAGS, args, err, sizeof(err)), 0);
	ck_assert(t.has_url);
	ck_assert_str_eq(t.url.http, "http://[::1]:9/base");
	ck_assert_str_eq(t.secret, "s3");
	ck_assert_str_eq(t.issuer, "iss");
	ck_assert_str_eq(t.audience, "aud");
	ck_assert_int_eq(t.leeway_s, 7);
	ck_assert_int_eq(t.timeout_ms, 900);
	ck_assert_int_eq(eb_target_finish(&t, true, err, sizeof(err)), 0);
	ck_assert_str_eq(t.secret_from, "--jwt-secret");
	eb_target_clear(&t);
}
END_TEST

START_TEST(test_a_program_gets_only_the_flags_it_takes)
{
	const char *leeway[] = { "--jwt-leeway", "7", NULL };
	const char *noauth[] = { "--no-auth-server", NULL };
	eb_target t;
	char err[256];

	ck_assert_int_eq(parse(&t, EB_TF_URL | EB_TF_JWT, leeway, err, sizeof(err)), -2);
	ck_assert_int_eq(parse(&t, EB_TF_URL | EB_TF_JWT, noauth, err, sizeof(err)), -2);
	ck_assert_int_eq(parse(&t, EB_TF_URL | EB_TF_NO_AUTH, noauth, err, sizeof(err)), 0);
	ck_assert(t.no_auth);
}
END_TEST

START_TEST(test_max_response_mib_goes_with_the_timeout_default_64_range_1_to_4096)
{
	const char *ok[] = { "--max-response-mib", "128", NULL };
	const char *zero[] = { "--max-response-mib", "0", NULL };
	const char *big[] = { "--max-response-mib", "4097", NULL };
	const char *none[] = { NULL };
	eb_target t;
	char err[256];

	ck_assert_int_eq(parse(&t, ALL_FLAGS, none, err, sizeof(err)), 0);
	ck_assert_int_eq(t.max_response_mib, 64);
	ck_assert_int_eq(parse(&t, ALL_FLAGS, ok, err, sizeof(err)), 0);
	ck_assert_int_eq(t.max_response_mib, 128);
	ck_assert_int_eq(parse(&t, ALL_FLAGS, zero, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "bad value '0' for --max-response-mib: want MiB 1-4096");
	ck_assert_int_eq(parse(&t, ALL_FLAGS, big, err, sizeof(err)), -1);
	/* a program without --timeout does not take it (ebload) */
	ck_assert_int_eq(parse(&t, EB_TF_URL | EB_TF_JWT, ok, err, sizeof(err)), -2);
	ck_assert_ptr_nonnull(strstr(eb_target_help(ALL_FLAGS), "--max-response-mib N"));
}
END_TEST

START_TEST(test_bad_target_values_name_the_flag_and_the_value)
{
	static const struct { const char *a, *b, *msg; } bad[] = {
		{ "--url", "http://127.0.0.1:80abc",
		  "bad value 'http://127.0.0.1:80abc' for --url: port is not a number 1-65535" },
		{ "--url", "http://:1", "bad value 'http://:1' for --url: missing host" },
		{ "--jwt-leeway", "61", "bad value '61' for --jwt-leeway: want seconds 0-60 (AUTH-7)" },
		{ "--timeout", "5s", "bad value '5s' for --timeout: want milliseconds 50-600000" },
		{ "--jwt-secret", "", "bad value '' for --jwt-secret: must not be empty" },
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *args[] = { bad[i].a, bad[i].b, NULL };
		eb_target t;
		char err[256];

		ck_assert_int_eq(parse(&t, ALL_FLAGS, args, err, sizeof(err)), -1);
		ck_assert_str_eq(err, bad[i].msg);
	}
}
END_TEST

START_TEST(test_finish_refuses_missing_url_missing_key_and_no_auth_with_a_key)
{
	const char *none[] = { NULL };
	const char *nokey[] = { "--url", "http://h:1", NULL };
	const char *both[] = { "--url", "http://h:1", "--no-auth", "--jwt-secret", "s", NULL };
	const char *tls[] = { "--url", "https://h", "--no-auth", NULL };
	eb_target t;
	char err[256];

	unset_secret_env();
	ck_assert_int_eq(parse(&t, ALL_FLAGS, none, err, sizeof(err)), 0);
	ck_assert_int_eq(eb_target_finish(&t, true, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "--url is required");
	ck_assert_int_eq(parse(&t, ALL_FLAGS, nokey, err, sizeof(err)), 0);
	ck_assert_int_eq(eb_target_finish(&t, true, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "--jwt-secret"));
	ck_assert_ptr_nonnull(strstr(err, "--no-auth"));
	ck_assert_int_eq(parse(&t, ALL_FLAGS, both, err, sizeof(err)), 0);
	ck_assert_int_eq(eb_target_finish(&t, true, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "--no-auth and --jwt-secret exclude each other");
	ck_assert_int_eq(parse(&t, ALL_FLAGS, tls, err, sizeof(err)), 0);
	ck_assert_int_eq(eb_target_finish(&t, true, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "TLS"));
	ck_assert_int_eq(parse(&t, ALL_FLAGS | EB_TF_TLS, tls, err, sizeof(err)), 0);
	ck_assert_int_eq(eb_target_finish(&t, true, err, sizeof(err)), 0);
	ck_assert_ptr_nonnull(t.tls);
	eb_target_clear(&t);
	ck_assert_ptr_null(t.tls);
}
END_TEST

START_TEST(test_tls_flags_only_for_programs_that_speak_tls)
{
	const char *ca[] = { "--cacert", "/x/ca.pem", NULL };
	const char *insecure[] = { "--insecure", NULL };
	eb_target t;
	char err[256];

	ck_assert_int_eq(parse(&t, ALL_FLAGS, ca, err, sizeof(err)), -2);
	ck_assert_int_eq(parse(&t, ALL_FLAGS, insecure, err, sizeof(err)), -2);
	ck_assert_int_eq(parse(&t, ALL_FLAGS | EB_TF_TLS, ca, err, sizeof(err)), 0);
	ck_assert_str_eq(t.tls_opts.cacert, "/x/ca.pem");
	ck_assert(!t.tls_opts.insecure);
	ck_assert_int_eq(parse(&t, ALL_FLAGS | EB_TF_TLS, insecure, err, sizeof(err)), 0);
	ck_assert(t.tls_opts.insecure);
	ck_assert_ptr_nonnull(strstr(eb_target_help(ALL_FLAGS | EB_TF_TLS), "--cacert FILE"));
	ck_assert_ptr_nonnull(strstr(eb_target_help(ALL_FLAGS | EB_TF_TLS), "--insecure"));
	ck_assert_ptr_null(strstr(eb_target_help(ALL_FLAGS), "--cacert"));
}
END_TEST

START_TEST(test_finish_names_cacert_when_it_holds_no_certificate)
{
	char missing[300], notpem[300], err[256];
	const char *args[] = { "--url", "https://127.0.0.1:1", "--no-auth", "--cacert", missing, NULL };
	const char *both[] = { "--url", "https://h", "--no-auth", "--cacert", notpem, "--insecure",
			       NULL };
	const char *plain[] = { "--url", "http://h", "--no-auth", NULL };
	eb_target t;

	snprintf(missing, sizeof(missing), "%s/no-such-ca.pem", tmpdir);
	snprintf(notpem, sizeof(notpem), "%s/not-a-cert.pem", tmpdir);
	write_file(notpem, "hello\n");
	ck_assert_int_eq(parse(&t, ALL_FLAGS | EB_TF_TLS, args, err, sizeof(err)), 0);
	ck_assert_int_eq(eb_target_finish(&t, true, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "--cacert"));
	ck_assert_ptr_nonnull(strstr(err, "no-such-ca.pem"));
	ck_assert_ptr_null(t.tls);
	args[4] = notpem;
	ck_assert_int_eq(parse(&t, ALL_FLAGS | EB_TF_TLS, args, err, sizeof(err)), 0);
	ck_assert_int_eq(eb_target_finish(&t, true, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "--cacert"));
	ck_assert_ptr_nonnull(strstr(err, "no PEM certificate"));
	ck_assert_int_eq(parse(&t, ALL_FLAGS | EB_TF_TLS, both, err, sizeof(err)), 0);
	ck_assert_int_eq(eb_target_finish(&t, true, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "--cacert and --insecure exclude each other");
	/* a plain URL needs no context */
	ck_assert_int_eq(parse(&t, ALL_FLAGS | EB_TF_TLS, plain, err, sizeof(err)), 0);
	ck_assert_int_eq(eb_target_finish(&t, true, err, sizeof(err)), 0);
	ck_assert_ptr_null(t.tls);
}
END_TEST

/* ---- the secret from the environment --------------------------------------- */

START_TEST(test_secret_comes_from_the_environment_in_order)
{
	const char *args[] = { "--url", "http://h:1", NULL };
	char path[128], err[256];
	eb_target t;

	unset_secret_env();
	setenv(EB_SECRET_ENV_ALIAS, "alias-secret", 1);
	ck_assert_int_eq(parse(&t, ALL_FLAGS, args, err, sizeof(err)), 0);
	ck_assert_int_eq(eb_target_finish(&t, true, err, sizeof(err)), 0);
	ck_assert_str_eq(t.secret, "alias-secret");
	ck_assert_str_eq(t.secret_from, "$EBCONFORM_JWT_SECRET");

	snprintf(path, sizeof(path), "%s/secret", tmpdir);
	write_file(path, "file-secret\n");
	setenv(EB_SECRET_FILE_ENV, path, 1);
	ck_assert_int_eq(parse(&t, ALL_FLAGS, args, err, sizeof(err)), 0);
	ck_assert_int_eq(eb_target_finish(&t, true, err, sizeof(err)), 0);
	ck_assert_str_eq(t.secret, "file-secret");
	eb_target_clear(&t);

	setenv(EB_SECRET_ENV, "env-secret", 1);
	ck_assert_int_eq(parse(&t, ALL_FLAGS, args, err, sizeof(err)), 0);
	ck_assert_int_eq(eb_target_finish(&t, true, err, sizeof(err)), 0);
	ck_assert_str_eq(t.secret, "env-secret");
	ck_assert_str_eq(t.secret_from, "$EB_JWT_SECRET");
	eb_target_clear(&t);

	{
		const char *flag[] = { "--url", "http://h:1", "--jwt-secret", "flag-secret", NULL };

		ck_assert_int_eq(parse(&t, ALL_FLAGS, flag, err, sizeof(err)), 0);
		ck_assert_int_eq(eb_target_finish(&t, true, err, sizeof(err)), 0);
		ck_assert_str_eq(t.secret, "flag-secret");
	}
	{
		const char *noauth[] = { "--url", "http://h:1", "--no-auth", NULL };

		ck_assert_int_eq(parse(&t, ALL_FLAGS, noauth, err, sizeof(err)), 0);
		ck_assert_int_eq(eb_target_finish(&t, true, err, sizeof(err)), 0);
		ck_assert_ptr_null(t.secret);
	}
	unset_secret_env();
	write_file(path, "\n");
	setenv(EB_SECRET_FILE_ENV, path, 1);
	ck_assert_int_eq(parse(&t, ALL_FLAGS, args, err, sizeof(err)), 0);
	ck_assert_int_eq(eb_target_finish(&t, true, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "EB_JWT_SECRET_FILE"));
	unset_secret_env();
}
END_TEST

/* ---- minting ------------------------------------------------------------------ */

static char *make_rsa_pem(void)
{
	EVP_PKEY *k = EVP_RSA_gen(2048);
	BIO *b = BIO_new(BIO_s_mem());
	char *data = NULL, *out;
	long n;

	ck_assert_ptr_nonnull(k);
	ck_assert_ptr_nonnull(b);
	ck_assert_int_eq(PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL), 1);
	n = BIO_get_mem_data(b, &data);
	out = malloc((size_t)n + 1);
	ck_assert_ptr_nonnull(out);
	memcpy(out, data, (size_t)n);
	out[n] = '\0';
	BIO_free(b);
	EVP_PKEY_free(k);
	return out;
}

static void verify(const char *tok, const char *secret, const char *pub, const char *iss)
{
	eb_jwt_verifier_opts vo;
	eb_jwt_verifier *v = NULL;
	eb_claims *c = NULL;
	eb_err e;

	memset(&vo, 0, sizeof(vo));
	vo.hs256_secret = secret;
	vo.hs256_secret_len = secret ? strlen(secret) : 0;
	vo.rs256_public_pem = pub;
	vo.issuer = iss;
	ck_assert_int_eq(eb_jwt_verifier_new(&vo, &v, &e), EB_OK);
	ck_assert_msg(eb_jwt_verify(v, tok, strlen(tok), eb_time_now_ms() / 1000, &c, &e) == EB_OK,
		      "%s", e.msg);
	ck_assert_str_eq(c->sub, "who");
	ck_assert(eb_claims_can_write(c, "any-store"));
	eb_claims_free(c);
	eb_jwt_verifier_free(v);
}

START_TEST(test_tokens_are_minted_as_the_target_is_configured)
{
	const char *hs[] = { "--url", "http://h:1", "--jwt-secret", "k1", "--jwt-issuer", "I", NULL };
	char path[128], err[256], *pem = make_rsa_pem(), *tok = NULL;
	eb_target t;
	eb_err e;

	unset_secret_env();
	ck_assert_int_eq(parse(&t, ALL_FLAGS, hs, err, sizeof(err)), 0);
	ck_assert_int_eq(eb_target_finish(&t, true, err, sizeof(err)), 0);
	ck_assert_int_eq(eb_target_mint(&t, "who", 60, true, &tok, &e), EB_OK);
	verify(tok, "k1", NULL, "I");
	free(tok);

	{
		const char *rs[] = { "--url", "http://h:1", "--jwt-private-key", path, NULL };
		BIO *in;
		EVP_PKEY *k;
		BIO *out = BIO_new(BIO_s_mem());
		char *pub, *data = NULL;
		long n;

		snprintf(path, sizeof(path), "%s/key.pem", tmpdir);
		write_file(path, pem);
		ck_assert_int_eq(parse(&t, ALL_FLAGS, rs, err, sizeof(err)), 0);
		ck_assert_int_eq(eb_target_finish(&t, true, err, sizeof(err)), 0);
		ck_assert_int_eq(eb_target_mint(&t, "who", 60, true, &tok, &e), EB_OK);
		in = BIO_new_mem_buf(pem, -1);
		k = PEM_read_bio_PrivateKey(in, NULL, NULL, NULL);
		ck_assert_int_eq(PEM_write_bio_PUBKEY(out, k), 1);
		n = BIO_get_mem_data(out, &data);
		pub = strndup(data, (size_t)n);
		verify(tok, NULL, pub, NULL);
		free(pub);
		free(tok);
		EVP_PKEY_free(k);
		BIO_free(in);
		BIO_free(out);
		eb_target_clear(&t);

		write_file(path, "-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----\n");
		ck_assert_int_eq(parse(&t, ALL_FLAGS, rs, err, sizeof(err)), 0);
		ck_assert_int_eq(eb_target_finish(&t, true, err, sizeof(err)), -1);
		ck_assert_ptr_nonnull(strstr(err, "for --jwt-private-key: not an RSA private key"));
		eb_target_clear(&t);
	}
	free(pem);
}
END_TEST

/* ---- the command line -------------------------------------------------------- */

START_TEST(test_recorded_command_line_names_the_variable_never_the_secret)
{
	char *argv[] = { S("ebload"), S("--url"), S("http://h:1"), S("--jwt-secret"), S("TOPSECRET"),
			 S("--jwt-secret=TOPSECRET"), S("--store-prefix"), S("it's"), NULL };
	char buf[512], small[20];

	ck_assert_int_eq(eb_cmdline_record(8, argv, buf, sizeof(buf)), 0);
	ck_assert_ptr_null(strstr(buf, "TOPSECRET"));
	ck_assert_str_eq(buf, "ebload --url http://h:1 --jwt-secret \"$EB_JWT_SECRET\" "
			 "--jwt-secret=\"$EB_JWT_SECRET\" --store-prefix 'it'\\''s'");
	ck_assert_int_eq(eb_cmdline_record(8, argv, small, sizeof(small)), -1);
	ck_assert_uint_lt(strlen(small), sizeof(small));
	ck_assert_ptr_null(strstr(small, "TOPSECRET"));
}
END_TEST

START_TEST(test_rerun_flags_name_the_variable_and_the_other_settings)
{
	const char *args[] = { "--url", "http://h:1", "--jwt-secret", "TOPSECRET", "--jwt-issuer",
			       "my iss", "--jwt-leeway", "9", NULL };
	const char *noauth[] = { "--url", "http://h:1", "--no-auth-server", NULL };
	const char *tls[] = { "--url", "https://h:1", "--no-auth", "--insecure", NULL };
	eb_target t;
	char err[256], buf[256] = "";

	unset_secret_env();
	ck_assert_int_eq(parse(&t, ALL_FLAGS, args, err, sizeof(err)), 0);
	ck_assert_int_eq(eb_target_finish(&t, true, err, sizeof(err)), 0);
	eb_target_rerun_flags(&t, buf, sizeof(buf));
	ck_assert_str_eq(buf, " --jwt-secret \"$EB_JWT_SECRET\" --jwt-issuer 'my iss' --jwt-leeway 9");
	ck_assert_int_eq(parse(&t, ALL_FLAGS, noauth, err, sizeof(err)), 0);
	buf[0] = '\0';
	eb_target_rerun_flags(&t, buf, sizeof(buf));
	ck_assert_str_eq(buf, " --no-auth");
	/* a rerun over TLS needs the same trust */
	ck_assert_int_eq(parse(&t, ALL_FLAGS | EB_TF_TLS, tls, err, sizeof(err)), 0);
	buf[0] = '\0';
	eb_target_rerun_flags(&t, buf, sizeof(buf));
	ck_assert_str_eq(buf, " --insecure --no-auth");
}
END_TEST

START_TEST(test_file_reader_caps_the_size_and_says_why)
{
	char path[128], *buf = NULL;
	size_t n = 0;
	eb_err e;

	snprintf(path, sizeof(path), "%s/f", tmpdir);
	write_file(path, "0123456789");
	ck_assert_int_eq(eb_file_read(path, 10, &buf, &n, &e), EB_OK);
	ck_assert_str_eq(buf, "0123456789");
	ck_assert_uint_eq(n, 10);
	free(buf);
	ck_assert_int_eq(eb_file_read(path, 9, &buf, &n, &e), EB_ERR_LIMIT);
	ck_assert_ptr_null(buf);
	snprintf(path, sizeof(path), "%s/missing", tmpdir);
	ck_assert_int_eq(eb_file_read(path, 9, &buf, &n, &e), EB_ERR_IO);
	ck_assert_ptr_nonnull(strstr(e.msg, "missing"));
}
END_TEST

START_TEST(test_mkdirs_creates_the_missing_parents_and_says_why_it_cannot)
{
	char path[160], file[160];
	struct stat st;
	eb_err e;

	snprintf(path, sizeof(path), "%s/a/b/c", tmpdir);
	ck_assert_int_eq(eb_file_mkdirs(path, &e), EB_OK);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert(S_ISDIR(st.st_mode));
	ck_assert_int_eq(eb_file_mkdirs(path, &e), EB_OK);   /* exists: fine */
	snprintf(file, sizeof(file), "%s/plain", tmpdir);
	write_file(file, "x");
	snprintf(path, sizeof(path), "%s/plain/sub", tmpdir);
	ck_assert_int_eq(eb_file_mkdirs(path, &e), EB_ERR_IO);
	ck_assert_ptr_nonnull(strstr(e.msg, "plain"));
	ck_assert_int_eq(eb_file_mkdirs(file, &e), EB_ERR_IO);     /* a file, not a folder */
	ck_assert_int_eq(eb_file_mkdirs("", &e), EB_ERR_ARG);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("target");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;
	char cmd[160];

	if (!mkdtemp(tmpdir))
		return EXIT_FAILURE;
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_url_forms_give_host_port_path_and_both_bases);
	tcase_add_test(tc, test_default_ports_are_80_and_443);
	tcase_add_test(tc, test_bad_urls_are_refused_with_the_reason);
	tcase_add_test(tc, test_numbers_take_digits_only_within_the_range);
	tcase_add_test(tc, test_option_table_takes_both_spellings_and_names_flag_and_value_in_errors);
	tcase_add_test(tc, test_an_option_up_to_uint64_max_takes_the_largest_value);
	tcase_add_test(tc, test_target_flags_fill_the_target);
	tcase_add_test(tc, test_a_program_gets_only_the_flags_it_takes);
	tcase_add_test(tc, test_bad_target_values_name_the_flag_and_the_value);
	tcase_add_test(tc, test_finish_refuses_missing_url_missing_key_and_no_auth_with_a_key);
	tcase_add_test(tc, test_tls_flags_only_for_programs_that_speak_tls);
	tcase_add_test(tc, test_finish_names_cacert_when_it_holds_no_certificate);
	tcase_add_test(tc, test_secret_comes_from_the_environment_in_order);
	tcase_add_test(tc, test_tokens_are_minted_as_the_target_is_configured);
	tcase_add_test(tc, test_recorded_command_line_names_the_variable_never_the_secret);
	tcase_add_test(tc, test_rerun_flags_name_the_variable_and_the_other_settings);
	tcase_add_test(tc, test_file_reader_caps_the_size_and_says_why);
	tcase_add_test(tc, test_mkdirs_creates_the_missing_parents_and_says_why_it_cannot);
	tcase_add_test(tc, test_max_response_mib_goes_with_the_timeout_default_64_range_1_to_4096);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	if (system(cmd) != 0)
		failed++;
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
