/*
 * check_wsgen.c — eb_wsgen, the wire of ebload's own WebSocket client: the
 * upgrade request and its key, the 101 check, masked frames, server frame
 * heads, and the store_changed scan agreeing with eb_ws_server_msg_parse on
 * every message it decides (and leaving every other to it).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "eb_ws.h"
#include "eb_wsgen.h"

START_TEST(test_wsgen_accept_is_the_rfc_example)
{
	/* RFC 6455 1.3: key dGhlIHNhbXBsZSBub25jZQ== answers s3pPLMBiTxaQ9kYGzzhZRbK+xOo= */
	static const uint8_t nonce[16] = "the sample nonce";
	char key[EB_WSGEN_KEY_LEN], acc[EB_WSGEN_ACCEPT_LEN + 1];
	ck_assert_int_eq(eb_wsgen_key(nonce, key, acc), 0);
	ck_assert(memcmp(key, "dGhlIHNhbXBsZSBub25jZQ==", EB_WSGEN_KEY_LEN) == 0);
	ck_assert_str_eq(acc, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}
END_TEST

START_TEST(test_wsgen_request_has_the_key_at_its_offset)
{
	char buf[512];
	size_t off = 0;
	size_t n = eb_wsgen_request(buf, sizeof buf, "::1", 8080, "/base/api/sync/notifications", &off);
	ck_assert_uint_gt(n, 0);
	buf[n] = '\0';
	ck_assert_ptr_nonnull(strstr(buf, "GET /base/api/sync/notifications HTTP/1.1\r\n"));
	ck_assert_ptr_nonnull(strstr(buf, "Host: [::1]:8080\r\n"));
	ck_assert(memcmp(buf + off - 19, "Sec-WebSocket-Key: ", 19) == 0);
	ck_assert(memcmp(buf + off + EB_WSGEN_KEY_LEN, "\r\n\r\n", 4) == 0);
	ck_assert_uint_eq(off + EB_WSGEN_KEY_LEN + 4, n);
	ck_assert_uint_eq(eb_wsgen_request(buf, 40, "127.0.0.1", 80, "/x", &off), 0);
}
END_TEST

static const char ACC[] = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

static long resp(const char *s, int *status, bool *ok)
{
	return eb_wsgen_response(s, strlen(s), 8192, ACC, status, ok);
}

START_TEST(test_wsgen_response_takes_only_a_matching_101)
{
	int st = 0;
	bool ok = false;
	const char *good = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: WebSocket\r\n"
			   "connection: keep-alive, Upgrade\r\nSec-WebSocket-Accept:  "
			   "s3pPLMBiTxaQ9kYGzzhZRbK+xOo= \r\n\r\n\x81\x02hi";
	ck_assert_int_eq(resp(good, &st, &ok), (long)strlen(good) - 4);
	ck_assert_int_eq(st, 101);
	ck_assert(ok);
	/* incomplete head: wait */
	ck_assert_int_eq(eb_wsgen_response(good, 40, 8192, ACC, &st, &ok), 0);
	/* wrong accept, missing Upgrade, an extension, another status */
	ck_assert_int_gt(resp("HTTP/1.1 101 x\r\nUpgrade: websocket\r\nConnection: upgrade\r\n"
			      "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOX=\r\n\r\n", &st, &ok), 0);
	ck_assert(!ok);
	ck_assert_int_gt(resp("HTTP/1.1 101 x\r\nConnection: upgrade\r\n"
			      "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n", &st, &ok), 0);
	ck_assert(!ok);
	ck_assert_int_gt(resp("HTTP/1.1 101 x\r\nUpgrade: websocket\r\nConnection: upgrade\r\n"
			      "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
			      "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n", &st, &ok), 0);
	ck_assert(!ok);
	ck_assert_int_gt(resp("HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n", &st, &ok), 0);
	ck_assert_int_eq(st, 401);
	ck_assert(!ok);
	/* malformed, and a head longer than the cap */
	ck_assert_int_eq(resp("HTTP/1.1 1x1 x\r\n\r\n", &st, &ok), -1);
	ck_assert_int_eq(resp("HTTP/1.1 101 x\r\nno colon\r\n\r\n", &st, &ok), -1);
	char big[300];
	memset(big, 'a', sizeof big);
	ck_assert_int_eq(eb_wsgen_response(big, sizeof big, 256, ACC, &st, &ok), -1);
}
END_TEST

START_TEST(test_wsgen_frame_is_masked_and_unmasks_to_the_payload)
{
	uint8_t payload[300], out[300 + EB_WSGEN_HEAD_MAX];
	for (size_t i = 0; i < sizeof payload; i++)
		payload[i] = (uint8_t)(i * 7);
	size_t lens[] = { 0, 5, 125, 126, 300 };
	for (size_t k = 0; k < 5; k++) {
		size_t len = lens[k];
		size_t n = eb_wsgen_frame(out, EB_WSGEN_OP_TEXT, payload, len, 0x11223344u);
		size_t hl = len < 126 ? 6 : 8;
		ck_assert_uint_eq(n, hl + len);
		ck_assert_uint_eq(out[0], 0x81);
		ck_assert_uint_eq(out[1] & 0x80, 0x80);
		ck_assert(memcmp(out + hl - 4, "\x11\x22\x33\x44", 4) == 0);
		for (size_t i = 0; i < len; i++)
			ck_assert_uint_eq(out[hl + i] ^ out[hl - 4 + (i & 3)], payload[i]);
	}
	/* the word-wide xor equals the byte-wise one at every phase and length */
	const uint8_t key[4] = { 0xa1, 0xb2, 0xc3, 0xd4 };
	for (unsigned ph = 0; ph < 4; ph++)
		for (size_t len = 0; len < 40; len++) {
			uint8_t a[40];
			memcpy(a, payload, len);
			eb_wsgen_mask(a, len, key, ph);
			for (size_t i = 0; i < len; i++)
				ck_assert_uint_eq(a[i], payload[i] ^ key[(ph + i) & 3]);
		}
}
END_TEST

START_TEST(test_wsgen_head_decodes_lengths_and_refuses_what_servers_must_not_send)
{
	eb_wsgen_head h;
	ck_assert_int_eq(eb_wsgen_head_parse((const uint8_t *)"\x81", 1, &h), 0);
	ck_assert_int_eq(eb_wsgen_head_parse((const uint8_t *)"\x81\x05", 2, &h), 1);
	ck_assert_int_eq(h.opcode, 1);
	ck_assert(h.fin);
	ck_assert_uint_eq(h.len, 5);
	ck_assert_uint_eq(h.head_len, 2);
	ck_assert_int_eq(eb_wsgen_head_parse((const uint8_t *)"\x01\x7e\x01", 3, &h), 0);
	ck_assert_int_eq(eb_wsgen_head_parse((const uint8_t *)"\x01\x7e\x01\x00", 4, &h), 1);
	ck_assert(!h.fin);
	ck_assert_uint_eq(h.len, 256);
	ck_assert_uint_eq(h.head_len, 4);
	ck_assert_int_eq(eb_wsgen_head_parse((const uint8_t *)"\x82\x7f\0\0\0\0\0\1\0\0", 10, &h), 1);
	ck_assert_uint_eq(h.len, 65536);
	ck_assert_uint_eq(h.head_len, 10);
	/* 64-bit length with the top bit, masked, reserved bit, opcode 3,
	 * long or fragmented control frames */
	ck_assert_int_eq(eb_wsgen_head_parse((const uint8_t *)"\x82\x7f\x80\0\0\0\0\0\0\0", 10, &h), -1);
	ck_assert_int_eq(eb_wsgen_head_parse((const uint8_t *)"\x81\x85", 2, &h), -1);
	ck_assert_int_eq(eb_wsgen_head_parse((const uint8_t *)"\xc1\x05", 2, &h), -1);
	ck_assert_int_eq(eb_wsgen_head_parse((const uint8_t *)"\x83\x05", 2, &h), -1);
	ck_assert_int_eq(eb_wsgen_head_parse((const uint8_t *)"\x89\x7e\0\x80", 4, &h), -1);
	ck_assert_int_eq(eb_wsgen_head_parse((const uint8_t *)"\x09\x00", 2, &h), -1);
}
END_TEST

/* The scan's answer, checked against the full parser. */
static bool scan(const char *s, eb_wsgen_notif *n)
{
	bool r = eb_wsgen_store_changed(s, strlen(s), n);
	if (r) {
		eb_ws_server_msg *m = NULL;
		ck_assert_int_eq(eb_ws_server_msg_parse(s, strlen(s), &m, NULL), EB_OK);
		ck_assert_int_eq(m->type, EB_WS_S_STORE_CHANGED);
		ck_assert_uint_eq(strlen(m->store_id), n->store_id_len);
		ck_assert(memcmp(m->store_id, n->store_id, n->store_id_len) == 0);
		ck_assert_uint_eq(m->version, n->version);
		ck_assert_uint_eq(m->timestamp, n->timestamp);
		eb_ws_server_msg_free(m);
	}
	return r;
}

START_TEST(test_wsgen_scan_reads_store_changed_as_the_parser_does)
{
	eb_wsgen_notif n;
	char *enc = NULL;
	ck_assert_int_eq(eb_ws_encode_store_changed("ebload-x-3", 42, 1700000000123ULL, &enc), EB_OK);
	ck_assert(scan(enc, &n));
	ck_assert_uint_eq(n.version, 42);
	free(enc);
	ck_assert(scan(" { \"version\" : 9007199254740991,\n\"storeId\":\"s\", \"x\":null,"
		       "\"type\":\"store_changed\",\"timestamp\":0,\"y\":true } ", &n));
	ck_assert_uint_eq(n.version, 9007199254740991ULL);
}
END_TEST

START_TEST(test_wsgen_scan_leaves_everything_else_to_the_parser)
{
	eb_wsgen_notif n;
	static const char *const others[] = {
		"{\"type\":\"auth_ok\",\"requestId\":\"1\",\"subject\":\"s\",\"expiresAt\":1}",
		/* beyond 2^53-1, a fraction, an exponent, a negative, a leading zero */
		"{\"type\":\"store_changed\",\"storeId\":\"s\",\"version\":9007199254740992,\"timestamp\":1}",
		"{\"type\":\"store_changed\",\"storeId\":\"s\",\"version\":1.5,\"timestamp\":1}",
		"{\"type\":\"store_changed\",\"storeId\":\"s\",\"version\":1e3,\"timestamp\":1}",
		"{\"type\":\"store_changed\",\"storeId\":\"s\",\"version\":-1,\"timestamp\":1}",
		"{\"type\":\"store_changed\",\"storeId\":\"s\",\"version\":01,\"timestamp\":1}",
		/* a duplicate member (GEN-6), an escape, a non-ASCII byte */
		"{\"type\":\"store_changed\",\"storeId\":\"s\",\"version\":1,\"version\":2,\"timestamp\":1}",
		"{\"type\":\"store_changed\",\"storeId\":\"s\\u0041\",\"version\":1,\"timestamp\":1}",
		"{\"type\":\"store_changed\",\"storeId\":\"s\xc3\xa9\",\"version\":1,\"timestamp\":1}",
		/* missing timestamp, storeId not a string, nested value, trailing bytes */
		"{\"type\":\"store_changed\",\"storeId\":\"s\",\"version\":1}",
		"{\"type\":\"store_changed\",\"storeId\":7,\"version\":1,\"timestamp\":1}",
		"{\"type\":\"store_changed\",\"storeId\":\"s\",\"version\":1,\"timestamp\":1,\"m\":{}}",
		"{\"type\":\"store_changed\",\"storeId\":\"s\",\"version\":1,\"timestamp\":1} x",
		"{\"type\":\"store_changed\",\"storeId\":\"s\",\"version\":1,\"timestamp\":1",
		"[1]", "", "{}",
	};
	for (size_t i = 0; i < sizeof others / sizeof others[0]; i++)
		ck_assert_msg(!scan(others[i], &n), "decided: %s", others[i]);
}
END_TEST

static Suite *wsgen_suite(void)
{
	Suite *s = suite_create("wsgen");
	TCase *t = tcase_create("core");
	tcase_add_test(t, test_wsgen_accept_is_the_rfc_example);
	tcase_add_test(t, test_wsgen_request_has_the_key_at_its_offset);
	tcase_add_test(t, test_wsgen_response_takes_only_a_matching_101);
	tcase_add_test(t, test_wsgen_frame_is_masked_and_unmasks_to_the_payload);
	tcase_add_test(t, test_wsgen_head_decodes_lengths_and_refuses_what_servers_must_not_send);
	tcase_add_test(t, test_wsgen_scan_reads_store_changed_as_the_parser_does);
	tcase_add_test(t, test_wsgen_scan_leaves_everything_else_to_the_parser);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(wsgen_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
