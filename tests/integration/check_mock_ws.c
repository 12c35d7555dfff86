/*
 * check_mock_ws.c — ebmock's notification WebSocket on a real server:
 * framing and malformed input (10.1), auth, timeout, expiry and re-auth
 * (10.2), subscriptions (10.3), notifications with pusher and coalescing
 * (10.4), closing and back-pressure (10.5) and the WebSocket rate limit.
 */
#include <sys/wait.h>
#include "check_mock_common.h"

static char *g_tok;

static void setup(void)
{
	g_tok = mock_token("alice");
}

static void teardown(void)
{
	free(g_tok);
}

static const char *type_of(const char *msg, char *buf, size_t len)
{
	return mock_str(msg, "type", buf, len);
}

START_TEST(test_auth_subscribe_ping_unknown_type_WS_AUTH_4_WS_SUB_1_WS_3_WS_5)
{
	mock m;
	char t[64];
	MOCK_START_DEFAULT(&m);
	eb_wsc *c = mock_ws(&m);
	MOCK_CHECK(&m, c != NULL, "WS-1 upgrade");
	char msg[1024];
	snprintf(msg, sizeof msg, "{\"type\":\"auth\",\"requestId\":\"r1\",\"token\":\"%s\"}", g_tok);
	MOCK_CHECK(&m, mock_ws_send(c, msg), "send");
	char *r = mock_ws_recv(c, MOCK_TIMEOUT_MS, NULL);
	MOCK_CHECK(&m, r && strcmp(type_of(r, t, sizeof t), "auth_ok") == 0, "auth_ok: %s", r ? r : "-");
	MOCK_CHECK(&m, strcmp(mock_str(r, "subject", t, sizeof t), "alice") == 0, "subject");
	MOCK_CHECK(&m, strcmp(mock_str(r, "requestId", t, sizeof t), "r1") == 0, "WS-4 echo");
	MOCK_CHECK(&m, mock_int(r, strlen(r), "expiresAt") > (long long)eb_time_now_ms(), "expiresAt in ms");
	free(r);
	MOCK_CHECK(&m, mock_push(&m, g_tok, "s1", "x", 0, NULL) == 200, "push");
	r = mock_ws_subscribe(c, "s1", false);
	MOCK_CHECK(&m, r && strstr(r, "\"subscribed\"") && strstr(r, "\"version\":1"), "WS-SUB-1: %s", r ? r : "-");
	free(r);
	r = mock_ws_subscribe(c, "s1", false);
	MOCK_CHECK(&m, r && strstr(r, "\"version\":1"), "WS-SUB-4 resubscribe: %s", r ? r : "-");
	free(r);
	MOCK_CHECK(&m, mock_ws_send(c, "{\"type\":\"ping\",\"requestId\":\"p9\"}"), "ping");
	r = mock_ws_recv(c, MOCK_TIMEOUT_MS, NULL);
	MOCK_CHECK(&m, r && strcmp(type_of(r, t, sizeof t), "pong") == 0 &&
		   strcmp(mock_str(r, "requestId", t, sizeof t), "p9") == 0, "WS-5: %s", r ? r : "-");
	free(r);
	MOCK_CHECK(&m, mock_ws_send(c, "{\"type\":\"hello\",\"requestId\":\"u1\",\"x\":1}"), "unknown");
	r = mock_ws_recv(c, MOCK_TIMEOUT_MS, NULL);
	MOCK_CHECK(&m, r && strstr(r, "UNKNOWN_TYPE") && strstr(r, "\"u1\""), "WS-3: %s", r ? r : "-");
	free(r);
	/* an unknown type with an id that cannot be echoed: error without it */
	MOCK_CHECK(&m, mock_ws_send(c, "{\"type\":\"hello\",\"requestId\":\"\"}"), "unknown, empty id");
	r = mock_ws_recv(c, MOCK_TIMEOUT_MS, NULL);
	MOCK_CHECK(&m, r && strstr(r, "UNKNOWN_TYPE") && !strstr(r, "requestId"), "no invalid echo: %s", r ? r : "-");
	free(r);
	/* WS-CLOSE-5: still open */
	MOCK_CHECK(&m, mock_ws_send(c, "{\"type\":\"ping\",\"requestId\":\"p10\"}"), "ping");
	r = mock_ws_recv(c, MOCK_TIMEOUT_MS, NULL);
	MOCK_CHECK(&m, r && strstr(r, "pong"), "open after UNKNOWN_TYPE");
	free(r);
	eb_wsc_free(c);
	MOCK_STOP_OK(&m);
}
END_TEST

START_TEST(test_subscription_errors_keep_socket_open_WS_SUB_3_LIMIT_8)
{
	mock m;
	static const char *const rd[] = { "mine*" };
	char *t = mock_token_full("erin", rd, 1, NULL, 0, 3600);
	MOCK_START(&m, "--max-subscriptions", "2");
	eb_wsc *c = mock_ws_authed(&m, t);
	MOCK_CHECK(&m, c, "auth");
	MOCK_CHECK(&m, mock_ws_send(c, "{\"type\":\"subscribe\",\"requestId\":\"1\",\"storeIds\":[\"mine1\",\"secret\",\"bad id\",\"mine2\",\"mine3\"]}"), "send");
	char *r = mock_ws_recv(c, MOCK_TIMEOUT_MS, NULL);
	MOCK_CHECK(&m, r && strstr(r, "\"mine1\"") && strstr(r, "\"mine2\""), "allowed subscribed: %s", r ? r : "-");
	MOCK_CHECK(&m, strstr(r, "{\"storeId\":\"secret\",\"code\":\"FORBIDDEN\"}"), "FORBIDDEN: %s", r);
	MOCK_CHECK(&m, strstr(r, "INVALID_STORE_ID"), "invalid id: %s", r);
	MOCK_CHECK(&m, strstr(r, "{\"storeId\":\"mine3\",\"code\":\"LIMIT_EXCEEDED\"}"), "LIMIT-8: %s", r);
	free(r);
	MOCK_CHECK(&m, mock_ws_send(c, "{\"type\":\"unsubscribe\",\"requestId\":\"2\",\"storeIds\":[\"mine1\",\"never\"]}"), "send");
	r = mock_ws_recv(c, MOCK_TIMEOUT_MS, NULL);
	MOCK_CHECK(&m, r && strstr(r, "unsubscribed") && strstr(r, "\"never\""), "WS-SUB-4 no-op ack: %s", r ? r : "-");
	free(r);
	r = mock_ws_subscribe(c, "mine3", false);
	MOCK_CHECK(&m, r && strstr(r, "\"stores\":[{\"storeId\":\"mine3\""), "room again: %s", r ? r : "-");
	free(r);
	eb_wsc_free(c);
	/* LIMIT-8 default: 100 subscriptions on one socket */
	mock_stop(&m);
	MOCK_START_DEFAULT(&m);
	c = mock_ws_authed(&m, g_tok);
	char big[4096];
	size_t len = (size_t)snprintf(big, sizeof big, "{\"type\":\"subscribe\",\"requestId\":\"h\",\"storeIds\":[");
	for (int i = 0; i < 100; i++)
		len += (size_t)snprintf(big + len, sizeof big - len, "%s\"st%d\"", i ? "," : "", i);
	snprintf(big + len, sizeof big - len, "]}");
	MOCK_CHECK(&m, mock_ws_send(c, big), "send");
	r = mock_ws_recv(c, MOCK_TIMEOUT_MS, NULL);
	MOCK_CHECK(&m, r && strstr(r, "\"st99\"") && !strstr(r, "errors\":[{"), "100 subscriptions: %s", r ? r : "-");
	free(r);
	eb_wsc_free(c);
	free(t);
	MOCK_STOP_OK(&m);
}
END_TEST

START_TEST(test_notifications_reach_subscribers_and_pusher_WS_NOTIF_1_to_7)
{
	mock m;
	char t[64];
	char *bob = mock_token("bob");
	MOCK_START_DEFAULT(&m);
	eb_wsc *a = mock_ws_authed(&m, g_tok);     /* alice: the pusher */
	eb_wsc *b = mock_ws_authed(&m, bob);       /* bob: subscribed */
	eb_wsc *o = mock_ws_authed(&m, bob);       /* bob: other store */
	MOCK_CHECK(&m, a && b && o, "auth");
	free(mock_ws_subscribe(a, "n1", false));
	free(mock_ws_subscribe(b, "n1", false));
	free(mock_ws_subscribe(o, "n2", false));
	uint64_t t0 = eb_time_now_ms();
	MOCK_CHECK(&m, mock_push(&m, g_tok, "n1", "c1", 0, NULL) == 200, "push");
	char *ra = mock_ws_recv(a, 1000, NULL), *rb = mock_ws_recv(b, 1000, NULL);
	MOCK_CHECK(&m, ra && strcmp(type_of(ra, t, sizeof t), "store_changed") == 0 &&
		   mock_int(ra, strlen(ra), "version") == 1, "WS-NOTIF-1 pusher: %s", ra ? ra : "-");
	MOCK_CHECK(&m, rb && strstr(rb, "\"storeId\":\"n1\"") && mock_int(rb, strlen(rb), "version") == 1,
		   "subscriber: %s", rb ? rb : "-");
	long long ts = mock_int(rb, strlen(rb), "timestamp");
	MOCK_CHECK(&m, ts >= (long long)t0 - 1000 && ts <= (long long)eb_time_now_ms() + 1000, "WS-NOTIF-3 timestamp");
	free(ra);
	free(rb);
	char *ro = mock_ws_recv(o, 300, NULL);
	MOCK_CHECK(&m, ro == NULL, "WS-NOTIF-6 not subscribed: %s", ro ? ro : "-");
	/* WS-NOTIF-7: a push of only duplicates notifies nobody */
	char dup[512];
	snprintf(dup, sizeof dup, "{\"lastKnownVersion\":1,\"changes\":[{\"id\":\"d\",\"timestamp\":5,"
		 "\"operation\":\"delete\",\"path\":[\"k\"]}]}");
	MOCK_CHECK(&m, mock_status(&m, "POST", "/api/stores/n1/sync", g_tok, dup) == 200, "push d");
	free(mock_ws_recv(a, 1000, NULL));
	free(mock_ws_recv(b, 1000, NULL));
	MOCK_CHECK(&m, mock_status(&m, "POST", "/api/stores/n1/sync", g_tok, dup) == 200, "dup push");
	MOCK_CHECK(&m, mock_status(&m, "POST", "/api/stores/n1/sync", g_tok, "{\"lastKnownVersion\":2}") == 200, "request");
	rb = mock_ws_recv(b, 300, NULL);
	MOCK_CHECK(&m, rb == NULL, "no notification for duplicates: %s", rb ? rb : "-");
	/* WS-SUB-5: after the unsubscribe ack, nothing more */
	char *ack = mock_ws_subscribe(b, "n1", true);
	MOCK_CHECK(&m, ack && strstr(ack, "unsubscribed") && strstr(ack, "\"version\":2"), "ack: %s", ack ? ack : "-");
	free(ack);
	MOCK_CHECK(&m, mock_push(&m, g_tok, "n1", "c2", 2, NULL) == 200, "push 2");
	rb = mock_ws_recv(b, 300, NULL);
	MOCK_CHECK(&m, rb == NULL, "WS-SUB-5: %s", rb ? rb : "-");
	ra = mock_ws_recv(a, 1000, NULL);
	MOCK_CHECK(&m, ra && mock_int(ra, strlen(ra), "version") == 3, "WS-NOTIF-4 increasing: %s", ra ? ra : "-");
	free(ra);
	eb_wsc_free(a);
	eb_wsc_free(b);
	eb_wsc_free(o);
	free(bob);
	MOCK_STOP_OK(&m);
}
END_TEST

START_TEST(test_coalescing_sends_only_the_latest_version_WS_NOTIF_5)
{
	mock m;
	eb_http_resp r;
	MOCK_START(&m, "--coalesce-ms", "200");
	MOCK_CHECK(&m, mock_req(&m, "GET", "/api/limits", NULL, NULL, &r) == 200, "limits");
	MOCK_CHECK(&m, mock_int(r.body, r.body_len, "coalesceMs") == 200, "advertised");
	eb_http_resp_clear(&r);
	eb_wsc *c = mock_ws_authed(&m, g_tok);
	free(mock_ws_subscribe(c, "co", false));
	uint64_t t0 = eb_time_mono_ns() / 1000000u;
	for (int i = 0; i < 5; i++) {
		char id[16];
		snprintf(id, sizeof id, "k%d", i);
		MOCK_CHECK(&m, mock_push(&m, g_tok, "co", id, i, NULL) == 200, "push");
	}
	char *n = mock_ws_recv(c, 2000, NULL);
	uint64_t dt = eb_time_mono_ns() / 1000000u - t0;
	MOCK_CHECK(&m, n && mock_int(n, strlen(n), "version") == 5, "one notification, latest: %s", n ? n : "-");
	MOCK_CHECK(&m, dt <= 1000, "within the window (%llu ms)", (unsigned long long)dt);
	free(n);
	n = mock_ws_recv(c, 400, NULL);
	MOCK_CHECK(&m, n == NULL, "coalesced: %s", n ? n : "-");
	eb_wsc_free(c);
	MOCK_STOP_OK(&m);
}
END_TEST

START_TEST(test_auth_failures_close_4401_WS_AUTH_2_WS_AUTH_3)
{
	mock m;
	MOCK_START_DEFAULT(&m);
	eb_wsc *c = mock_ws(&m);
	MOCK_CHECK(&m, mock_ws_send(c, "{\"type\":\"ping\",\"requestId\":\"1\"}"), "send");
	MOCK_CHECK(&m, mock_ws_wait_close(c, 2000) == 4401, "WS-AUTH-3");
	eb_wsc_free(c);
	c = mock_ws(&m);
	MOCK_CHECK(&m, mock_ws_send(c, "{\"type\":\"auth\",\"requestId\":\"1\",\"token\":\"a.b.c\"}"), "send");
	MOCK_CHECK(&m, mock_ws_wait_close(c, 2000) == 4401, "WS-AUTH-2 bad token");
	eb_wsc_free(c);
	char *expired = mock_token_full("x", NULL, 0, NULL, 0, -120);
	char msg[1024];
	snprintf(msg, sizeof msg, "{\"type\":\"auth\",\"requestId\":\"1\",\"token\":\"%s\"}", expired);
	c = mock_ws(&m);
	MOCK_CHECK(&m, mock_ws_send(c, msg), "send");
	MOCK_CHECK(&m, mock_ws_wait_close(c, 2000) == 4401, "expired token");
	eb_wsc_free(c);
	free(expired);
	MOCK_ALIVE(&m);
	MOCK_STOP_OK(&m);
}
END_TEST

START_TEST(test_auth_timeout_closes_4408_WS_AUTH_1)
{
	mock m;
	MOCK_START(&m, "--auth-timeout-ms", "300");
	eb_wsc *c = mock_ws(&m);
	uint64_t t0 = eb_time_mono_ns() / 1000000u;
	int code = mock_ws_wait_close(c, 3000);
	uint64_t dt = eb_time_mono_ns() / 1000000u - t0;
	MOCK_CHECK(&m, code == 4408, "4408 (got %d)", code);
	MOCK_CHECK(&m, dt >= 250 && dt < 1500, "after about 300 ms (%llu)", (unsigned long long)dt);
	eb_wsc_free(c);
	/* an authenticated socket is not closed */
	c = mock_ws_authed(&m, g_tok);
	MOCK_CHECK(&m, mock_ws_wait_close(c, 600) == 0, "stays open");
	eb_wsc_free(c);
	MOCK_STOP_OK(&m);
}
END_TEST

START_TEST(test_token_expiry_closes_within_2s_and_reauth_extends_WS_AUTH_5_WS_AUTH_6)
{
	mock m;
	char msg[1024];
	static const char *const all[] = { "*" };
	MOCK_START(&m, "--jwt-leeway", "0");
	char *short_tok = mock_token_full("frank", all, 1, NULL, 0, 1);
	eb_wsc *c = mock_ws_authed(&m, short_tok);
	MOCK_CHECK(&m, c, "auth");
	uint64_t t0 = eb_time_now_ms();
	int code = mock_ws_wait_close(c, 4000);
	uint64_t dt = eb_time_now_ms() - t0;
	MOCK_CHECK(&m, code == 4401, "WS-AUTH-5 close 4401 (got %d)", code);
	MOCK_CHECK(&m, dt <= 3100, "within exp + 2 s (%llu ms)", (unsigned long long)dt);
	eb_wsc_free(c);
	/* re-auth with the same sub before exp keeps the socket */
	free(short_tok);
	short_tok = mock_token_full("frank", all, 1, NULL, 0, 2);
	char *long_tok = mock_token_full("frank", all, 1, NULL, 0, 3600);
	c = mock_ws_authed(&m, short_tok);
	snprintf(msg, sizeof msg, "{\"type\":\"auth\",\"requestId\":\"re\",\"token\":\"%s\"}", long_tok);
	MOCK_CHECK(&m, mock_ws_send(c, msg), "send");
	char *r = mock_ws_recv(c, 2000, NULL);
	MOCK_CHECK(&m, r && strstr(r, "auth_ok") && strstr(r, "\"re\""), "WS-AUTH-6 auth_ok: %s", r ? r : "-");
	free(r);
	MOCK_CHECK(&m, mock_ws_wait_close(c, 3500) == 0, "still open after the first exp");
	/* another sub closes */
	char *other = mock_token("mallory");
	snprintf(msg, sizeof msg, "{\"type\":\"auth\",\"requestId\":\"x\",\"token\":\"%s\"}", other);
	MOCK_CHECK(&m, mock_ws_send(c, msg), "send");
	MOCK_CHECK(&m, mock_ws_wait_close(c, 2000) == 4401, "other sub closes");
	eb_wsc_free(c);
	free(other);
	free(short_tok);
	free(long_tok);
	MOCK_STOP_OK(&m);
}
END_TEST

START_TEST(test_malformed_messages_close_4400_and_server_survives_WS_2)
{
	mock m;
	static const char *const bad[] = {
		"not json", "[]", "{}", "{\"type\":1}", "{\"type\":\"ping\"}",
		"{\"type\":\"ping\",\"requestId\":\"\"}",
		"{\"type\":\"ping\",\"requestId\":\"01234567890123456789012345678901234567890123456789012345678901234\"}",
		"{\"type\":\"subscribe\",\"requestId\":\"1\",\"storeIds\":\"a\"}",
		"{\"type\":\"subscribe\",\"requestId\":\"1\",\"storeIds\":[]}",
		"{\"type\":\"subscribe\",\"requestId\":\"1\",\"storeIds\":[1]}",
		"{\"type\":\"ping\",\"requestId\":\"1\",\"requestId\":\"2\"}",
	};
	MOCK_START_DEFAULT(&m);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		eb_wsc *c = mock_ws_authed(&m, g_tok);
		MOCK_CHECK(&m, c && mock_ws_send(c, bad[i]), "send %zu", i);
		int code = mock_ws_wait_close(c, 2000);
		MOCK_CHECK(&m, code == 4400, "%s -> %d", bad[i], code);
		eb_wsc_free(c);
		MOCK_ALIVE(&m);
	}
	eb_wsc *c = mock_ws_authed(&m, g_tok);
	MOCK_CHECK(&m, eb_wsc_send_frame(c, 2, true, "{}", 2, false, NULL) == EB_OK, "binary");
	MOCK_CHECK(&m, mock_ws_wait_close(c, 2000) == 4400, "binary frame 4400");
	eb_wsc_free(c);
	/* LIMIT-6: too big in one frame, and in fragments */
	size_t n = 65537;
	char *big = malloc(n);
	memset(big, ' ', n);
	c = mock_ws_authed(&m, g_tok);
	MOCK_CHECK(&m, eb_wsc_send_frame(c, 1, true, big, n, false, NULL) == EB_OK, "big");
	MOCK_CHECK(&m, mock_ws_wait_close(c, 3000) == 1009, "1009");
	eb_wsc_free(c);
	c = mock_ws_authed(&m, g_tok);
	MOCK_CHECK(&m, eb_wsc_send_frame(c, 1, false, big, 40000, false, NULL) == EB_OK, "frag 1");
	MOCK_CHECK(&m, eb_wsc_send_frame(c, 0, true, big, 40000, false, NULL) == EB_OK, "frag 2");
	MOCK_CHECK(&m, mock_ws_wait_close(c, 3000) == 1009, "fragmented 1009");
	eb_wsc_free(c);
	/* exactly 65536 bytes is processed (padded ping) */
	memset(big, ' ', n);
	memcpy(big, "{\"type\":\"ping\",\"requestId\":\"big\"}", 33);
	c = mock_ws_authed(&m, g_tok);
	MOCK_CHECK(&m, eb_wsc_send_frame(c, 1, true, big, 65536, false, NULL) == EB_OK, "at limit");
	char *r = mock_ws_recv(c, 3000, NULL);
	MOCK_CHECK(&m, r && strstr(r, "pong"), "LIMIT-9 message at the limit: %s", r ? r : "-");
	free(r);
	/* fragmented but small messages are joined */
	MOCK_CHECK(&m, eb_wsc_send_frame(c, 1, false, "{\"type\":\"pi", 11, false, NULL) == EB_OK, "f1");
	MOCK_CHECK(&m, eb_wsc_send_frame(c, 0, true, "ng\",\"requestId\":\"f\"}", 20, false, NULL) == EB_OK, "f2");
	r = mock_ws_recv(c, 3000, NULL);
	MOCK_CHECK(&m, r && strstr(r, "pong"), "fragments joined: %s", r ? r : "-");
	free(r);
	eb_wsc_free(c);
	/* garbage that is not a frame at all */
	c = mock_ws(&m);
	MOCK_CHECK(&m, eb_wsc_send_raw(c, "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", 10, NULL) == EB_OK, "raw");
	mock_ws_wait_close(c, 2000);
	eb_wsc_free(c);
	free(big);
	MOCK_ALIVE(&m);
	MOCK_STOP_OK(&m);
}
END_TEST

START_TEST(test_ws_rate_limit_error_then_close_4429_RATE_4)
{
	mock m;
	MOCK_START(&m, "--rate-ws", "1", "--rate-ws-burst", "3");
	/* messages after auth are counted in the subject's bucket (RATE-1) */
	eb_wsc *c = mock_ws_authed(&m, g_tok);
	MOCK_CHECK(&m, c, "auth");
	for (int i = 0; i < 3; i++)
		MOCK_CHECK(&m, mock_ws_send(c, "{\"type\":\"ping\",\"requestId\":\"p\"}"), "send");
	for (int i = 0; i < 3; i++) {
		char *r = mock_ws_recv(c, 2000, NULL);
		MOCK_CHECK(&m, r && strstr(r, "pong"), "within the burst: %s", r ? r : "-");
		free(r);
	}
	MOCK_CHECK(&m, mock_ws_send(c, "{\"type\":\"ping\",\"requestId\":\"over\"}"), "send");
	char *r = mock_ws_recv(c, 2000, NULL);
	MOCK_CHECK(&m, r && strstr(r, "RATE_LIMITED") && strstr(r, "\"over\""), "error first: %s", r ? r : "-");
	free(r);
	MOCK_CHECK(&m, mock_ws_send(c, "{\"type\":\"ping\",\"requestId\":\"again\"}"), "send");
	MOCK_CHECK(&m, mock_ws_wait_close(c, 2000) == 4429, "second closes 4429");
	eb_wsc_free(c);
	MOCK_STOP_OK(&m);
}
END_TEST

START_TEST(test_shutdown_closes_sockets_1001_WS_CLOSE_1)
{
	mock m;
	MOCK_START_DEFAULT(&m);
	eb_wsc *c = mock_ws_authed(&m, g_tok);
	eb_wsc *u = mock_ws(&m);
	MOCK_CHECK(&m, c && u, "connect");
	kill(m.proc.pid, SIGTERM);
	MOCK_CHECK(&m, mock_ws_wait_close(c, 3000) == 1001, "1001 authed");
	MOCK_CHECK(&m, mock_ws_wait_close(u, 3000) == 1001, "1001 unauthed");
	eb_wsc_free(c);
	eb_wsc_free(u);
	MOCK_STOP_OK(&m);
}
END_TEST

START_TEST(test_protocol_pings_are_sent_WS_6_and_answered_WS_7)
{
	mock m;
	MOCK_START(&m, "--ping-interval-s", "1");
	eb_wsc *c = mock_ws_authed(&m, g_tok);
	bool got_ping = false;
	for (int i = 0; i < 30 && !got_ping; i++) {
		eb_wsc_msg msg;
		if (eb_wsc_recv(c, 200, &msg, NULL) != EB_OK)
			break;
		got_ping = msg.ev == EB_WSC_PING;
		eb_wsc_msg_clear(&msg);
	}
	MOCK_CHECK(&m, got_ping, "WS-6 ping within ~1 s");
	MOCK_CHECK(&m, eb_wsc_send_frame(c, 9, true, "hi", 2, false, NULL) == EB_OK, "ping");
	bool got_pong = false;
	for (int i = 0; i < 20 && !got_pong; i++) {
		eb_wsc_msg msg;
		if (eb_wsc_recv(c, 200, &msg, NULL) != EB_OK)
			break;
		got_pong = msg.ev == EB_WSC_PONG && msg.len == 2;
		eb_wsc_msg_clear(&msg);
	}
	MOCK_CHECK(&m, got_pong, "WS-7 pong");
	eb_wsc_free(c);
	MOCK_STOP_OK(&m);
}
END_TEST

START_TEST(test_commits_to_a_client_not_reading_leave_one_pending_notification_WS_CLOSE_3)
{
	mock m;
	MOCK_START_DEFAULT(&m);
	eb_wsc *c = mock_ws_authed(&m, g_tok);
	free(mock_ws_subscribe(c, "flood", false));
	/* many commits while not reading: one pending notification per
	 * (socket, store), the newer replacing the older. WS-CLOSE-4 (replies
	 * of a client that does not read) is check_mock_hostile's. */
	for (int i = 0; i < 50; i++) {
		char id[16];
		snprintf(id, sizeof id, "f%d", i);
		MOCK_CHECK(&m, mock_push(&m, g_tok, "flood", id, i, NULL) == 200, "push");
	}
	int n = 0;
	long long last = 0;
	bool increasing = true;
	for (;;) {
		char *r = mock_ws_recv(c, 500, NULL);
		if (!r)
			break;
		long long v = mock_int(r, strlen(r), "version");
		free(r);
		increasing = increasing && v > last;
		last = v;
		n++;
	}
	/* the kernel's buffers take most of them at once; whatever waited
	 * was sent once, with the newest version */
	MOCK_CHECK(&m, n >= 1 && n <= 50, "%d notifications for 50 commits", n);
	MOCK_CHECK(&m, increasing, "versions not strictly increasing");
	MOCK_CHECK(&m, last == 50, "the last notification carries version %lld, not 50", last);
	eb_wsc_free(c);
	MOCK_ALIVE(&m);
	MOCK_STOP_OK(&m);
}
END_TEST

int main(void)
{
	TCase *tc;
	Suite *s = mock_suite_one("mock_ws", &tc);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_auth_subscribe_ping_unknown_type_WS_AUTH_4_WS_SUB_1_WS_3_WS_5);
	tcase_add_test(tc, test_subscription_errors_keep_socket_open_WS_SUB_3_LIMIT_8);
	tcase_add_test(tc, test_notifications_reach_subscribers_and_pusher_WS_NOTIF_1_to_7);
	tcase_add_test(tc, test_coalescing_sends_only_the_latest_version_WS_NOTIF_5);
	tcase_add_test(tc, test_auth_failures_close_4401_WS_AUTH_2_WS_AUTH_3);
	tcase_add_test(tc, test_auth_timeout_closes_4408_WS_AUTH_1);
	tcase_add_test(tc, test_token_expiry_closes_within_2s_and_reauth_extends_WS_AUTH_5_WS_AUTH_6);
	tcase_add_test(tc, test_malformed_messages_close_4400_and_server_survives_WS_2);
	tcase_add_test(tc, test_ws_rate_limit_error_then_close_4429_RATE_4);
	tcase_add_test(tc, test_shutdown_closes_sockets_1001_WS_CLOSE_1);
	tcase_add_test(tc, test_protocol_pings_are_sent_WS_6_and_answered_WS_7);
	tcase_add_test(tc, test_commits_to_a_client_not_reading_leave_one_pending_notification_WS_CLOSE_3);
	return mock_run(s);
}
