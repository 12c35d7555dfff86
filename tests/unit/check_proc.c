/*
 * check_proc.c — eb_proc: start, readiness, stop, SIGKILL fallback, logs.
 *
 * The server under test is this program itself, re-executed with
 * "--fake-server MODE": it listens on 127.0.0.1 port 0 and writes the port
 * file the way ebmock must (temp file + rename).
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "eb_proc.h"

/* ---- the fake server ------------------------------------------------------ */

static volatile sig_atomic_t fake_stop;

static void fake_on_term(int sig)
{
	(void)sig;
	fake_stop = 1;
}

static int fake_write_port_file(const char *path, int port)
{
	char tmp[512];
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	FILE *f = fopen(tmp, "w");
	if (f == NULL)
		return -1;
	fprintf(f, "%d\n", port);
	if (fclose(f) != 0)
		return -1;
	return rename(tmp, path);
}

/* Modes: serve (exit 0 on SIGTERM), ignore-term (only SIGKILL stops it),
 * exit-early (logs and exits 3 before listening), never-ready (never writes
 * the port file), bad-port-file (writes garbage). */
static int fake_server(int argc, char **argv)
{
	const char *mode = argv[2];
	const char *port_file = NULL;
	for (int i = 3; i + 1 < argc; i++)
		if (strcmp(argv[i], "--port-file") == 0)
			port_file = argv[i + 1];
	fprintf(stderr, "fake-server %s starting\n", mode);
	printf("fake-server stdout line\n");
	fflush(stdout);
	if (port_file == NULL) {
		fprintf(stderr, "fake-server: no --port-file\n");
		return 2;
	}
	if (strcmp(mode, "exit-early") == 0) {
		fprintf(stderr, "fake-server: cannot open the store (on purpose)\n");
		return 3;
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = strcmp(mode, "ignore-term") == 0 ? SIG_IGN : fake_on_term;
	sigaction(SIGTERM, &sa, NULL);

	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sin;
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t sl = sizeof sin;
	if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof sin) != 0 ||
	    listen(fd, 16) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sin, &sl) != 0) {
		fprintf(stderr, "fake-server: listen: %s\n", strerror(errno));
		return 2;
	}
	if (strcmp(mode, "bad-port-file") == 0) {
		FILE *f = fopen(port_file, "w");
		if (f != NULL) {
			fputs("not-a-port\n", f);
			fclose(f);
		}
	} else if (strcmp(mode, "never-ready") != 0) {
		if (fake_write_port_file(port_file, ntohs(sin.sin_port)) != 0)
			return 2;
	}
	fprintf(stderr, "fake-server listening on %d\n", ntohs(sin.sin_port));
	/* Bounded: a fake server never outlives a minute even if orphaned. */
	for (int i = 0; i < 60000 && !fake_stop; i++) {
		struct timespec ts = { 0, 1000000 };
		nanosleep(&ts, NULL);
	}
	fprintf(stderr, "fake-server stopping\n");
	close(fd);
	return 0;
}

/* ---- helpers -------------------------------------------------------------- */

static char self_path[512];

static void start_args(const char *mode, const char *args[4])
{
	args[0] = self_path;
	args[1] = "--fake-server";
	args[2] = mode;
	args[3] = NULL;
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;
	if (d == NULL)
		return -1;
	while (readdir(d) != NULL)
		n++;
	closedir(d);
	return n;
}

static bool path_exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

static bool file_contains(const char *path, const char *needle)
{
	char buf[8192];
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return false;
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	return strstr(buf, needle) != NULL;
}

static bool connect_ok(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sin;
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	bool ok = fd >= 0 && connect(fd, (struct sockaddr *)&sin, sizeof sin) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/* ---- tests ---------------------------------------------------------------- */

START_TEST(test_proc_start_waits_for_port_file_and_listener)
{
	const char *args[4];
	eb_proc p;
	int fds = count_fds();
	start_args("serve", args);
	ck_assert_int_eq(eb_proc_start(&p, args, 5000), 0);
	ck_assert_int_gt(p.port, 0);
	ck_assert(eb_proc_alive(&p));
	ck_assert(connect_ok(p.port));
	char want[64];
	snprintf(want, sizeof want, "http://127.0.0.1:%d", p.port);
	ck_assert_str_eq(p.url, want);
	ck_assert(path_exists(p.dir));
	int st = eb_proc_stop(&p, 3000, false);
	ck_assert(WIFEXITED(st));
	ck_assert_int_eq(WEXITSTATUS(st), 0);
	ck_assert(!eb_proc_alive(&p));
	ck_assert_int_eq(count_fds(), fds);
}
END_TEST

START_TEST(test_proc_stop_removes_temp_dir_unless_keep_log)
{
	const char *args[4];
	eb_proc p;
	start_args("serve", args);
	ck_assert_int_eq(eb_proc_start(&p, args, 5000), 0);
	char dir[256];
	snprintf(dir, sizeof dir, "%s", p.dir);
	eb_proc_stop(&p, 3000, false);
	ck_assert(!path_exists(dir));

	ck_assert_int_eq(eb_proc_start(&p, args, 5000), 0);
	char log[256];
	snprintf(log, sizeof log, "%s", p.log_path);
	eb_proc_stop(&p, 3000, true);
	ck_assert(path_exists(log));
	/* stderr and stdout both land in the log. */
	ck_assert(file_contains(log, "fake-server serve starting"));
	ck_assert(file_contains(log, "fake-server stdout line"));
	ck_assert(file_contains(log, "fake-server stopping"));
	/* A second stop cleans the kept dir and is harmless. */
	snprintf(dir, sizeof dir, "%s", p.dir);
	ck_assert_int_eq(eb_proc_stop(&p, 1000, false), -1);
	ck_assert(!path_exists(dir));
}
END_TEST

START_TEST(test_proc_stop_falls_back_to_sigkill_when_sigterm_ignored)
{
	const char *args[4];
	eb_proc p;
	start_args("ignore-term", args);
	ck_assert_int_eq(eb_proc_start(&p, args, 5000), 0);
	double t0 = now_ms();
	int st = eb_proc_stop(&p, 300, false);
	double dt = now_ms() - t0;
	ck_assert(WIFSIGNALED(st));
	ck_assert_int_eq(WTERMSIG(st), SIGKILL);
	ck_assert(dt >= 280.0);
	ck_assert(dt < 4000.0);
	ck_assert(!connect_ok(p.port));
}
END_TEST

START_TEST(test_proc_kill9_reaps_and_keeps_log)
{
	const char *args[4];
	eb_proc p;
	start_args("serve", args);
	ck_assert_int_eq(eb_proc_start(&p, args, 5000), 0);
	int port = p.port;
	eb_proc_kill9(&p);
	ck_assert(!eb_proc_alive(&p));
	ck_assert(!connect_ok(port));
	ck_assert(path_exists(p.log_path));
	ck_assert(file_contains(p.log_path, "listening on"));
	char dir[256];
	snprintf(dir, sizeof dir, "%s", p.dir);
	eb_proc_stop(&p, 1000, false);
	ck_assert(!path_exists(dir));
}
END_TEST

START_TEST(test_proc_alive_sees_exit_and_stop_still_reports_status)
{
	const char *args[4];
	eb_proc p;
	start_args("serve", args);
	ck_assert_int_eq(eb_proc_start(&p, args, 5000), 0);
	kill(p.pid, SIGTERM);
	double t0 = now_ms();
	while (eb_proc_alive(&p) && now_ms() - t0 < 3000.0)
		usleep(2000);
	ck_assert(!eb_proc_alive(&p));
	int st = eb_proc_stop(&p, 1000, false);
	ck_assert(WIFEXITED(st));
	ck_assert_int_eq(WEXITSTATUS(st), 0);
}
END_TEST

START_TEST(test_proc_start_fails_fast_when_server_exits_early)
{
	const char *args[4];
	eb_proc p;
	int fds = count_fds();
	start_args("exit-early", args);
	double t0 = now_ms();
	ck_assert_int_eq(eb_proc_start(&p, args, 5000), -1);
	ck_assert(now_ms() - t0 < 3000.0);
	ck_assert_int_eq(p.pid, 0);
	ck_assert_int_eq(p.port, 0);
	ck_assert_int_eq(count_fds(), fds);
}
END_TEST

START_TEST(test_proc_start_times_out_without_port_file)
{
	const char *args[4];
	eb_proc p;
	start_args("never-ready", args);
	double t0 = now_ms();
	ck_assert_int_eq(eb_proc_start(&p, args, 300), -1);
	double dt = now_ms() - t0;
	ck_assert(dt >= 280.0);
	ck_assert(dt < 4000.0);
	ck_assert_int_eq(p.pid, 0);
	ck_assert_str_eq(p.dir, "");
}
END_TEST

START_TEST(test_proc_start_rejects_malformed_port_file)
{
	const char *args[4];
	eb_proc p;
	start_args("bad-port-file", args);
	ck_assert_int_eq(eb_proc_start(&p, args, 300), -1);
	ck_assert_int_eq(p.pid, 0);
}
END_TEST

START_TEST(test_proc_start_reports_missing_program)
{
	const char *args[] = { "/nonexistent/ebmock", NULL };
	eb_proc p;
	ck_assert_int_eq(eb_proc_start(&p, args, 2000), -1);
	ck_assert_int_eq(p.pid, 0);
	const char *none[] = { NULL };
	ck_assert_int_eq(eb_proc_start(&p, none, 100), -1);
}
END_TEST

START_TEST(test_proc_bin_uses_eb_bin_dir)
{
	char buf[256];
	setenv("EB_BIN_DIR", "/x/bin", 1);
	ck_assert_str_eq(eb_proc_bin("ebmock", buf, sizeof buf), "/x/bin/ebmock");
	unsetenv("EB_BIN_DIR");
	ck_assert_str_eq(eb_proc_bin("ebmock", buf, sizeof buf),
			 "build/release/bin/ebmock");
	char small[8];
	ck_assert_ptr_null(eb_proc_bin("ebmock", small, sizeof small));
}
END_TEST

START_TEST(test_proc_two_servers_at_once_get_distinct_ports)
{
	const char *args[4];
	eb_proc a, b;
	start_args("serve", args);
	ck_assert_int_eq(eb_proc_start(&a, args, 5000), 0);
	ck_assert_int_eq(eb_proc_start(&b, args, 5000), 0);
	ck_assert_int_ne(a.port, b.port);
	ck_assert_str_ne(a.dir, b.dir);
	eb_proc_stop(&a, 3000, false);
	ck_assert(eb_proc_alive(&b));
	ck_assert(connect_ok(b.port));
	eb_proc_stop(&b, 3000, false);
}
END_TEST

static Suite *proc_suite(void)
{
	Suite *s = suite_create("proc");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, test_proc_start_waits_for_port_file_and_listener);
	tcase_add_test(tc, test_proc_stop_removes_temp_dir_unless_keep_log);
	tcase_add_test(tc, test_proc_stop_falls_back_to_sigkill_when_sigterm_ignored);
	tcase_add_test(tc, test_proc_kill9_reaps_and_keeps_log);
	tcase_add_test(tc, test_proc_alive_sees_exit_and_stop_still_reports_status);
	tcase_add_test(tc, test_proc_start_fails_fast_when_server_exits_early);
	tcase_add_test(tc, test_proc_start_times_out_without_port_file);
	tcase_add_test(tc, test_proc_start_rejects_malformed_port_file);
	tcase_add_test(tc, test_proc_start_reports_missing_program);
	tcase_add_test(tc, test_proc_bin_uses_eb_bin_dir);
	tcase_add_test(tc, test_proc_two_servers_at_once_get_distinct_ports);
	suite_add_tcase(s, tc);
	return s;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && strcmp(argv[1], "--fake-server") == 0)
		return fake_server(argc, argv);
	ssize_t n = readlink("/proc/self/exe", self_path, sizeof self_path - 1);
	if (n <= 0)
		return 2;
	self_path[n] = '\0';
	SRunner *sr = srunner_create(proc_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
