/*
 * proto_notify.c — the notification WebSocket of ebmock on lws. Each socket
 * is one core session (ebm_ws_*); this file only reassembles messages, arms
 * the one wsi timer at the core's next deadline, and writes what the core
 * hands out from the WRITEABLE callback.
 *
 * Memory: the pss is a few pointers; the reassembly buffer exists only while
 * a fragmented message is arriving, and a message that arrives whole is
 * handed to the core straight from lws's buffer.
 */
#include "ebmock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

typedef struct notify_pss {
	ebm_ws_session *sess;
	struct lws *wsi;
	char *rx;              /* fragments of the message being received */
	size_t rx_len;
	bool rx_binary;
	bool rx_skip;          /* the message is already known too big */
} notify_pss;

size_t ebmock_notify_pss_size(void)
{
	return sizeof(notify_pss);
}

/* Makes lws's view match the core's: WRITEABLE when there is something to
 * send, the timer at the next deadline. */
static void notify_arm(notify_pss *p)
{
	if (!p->sess || !p->wsi)
		return;
	if (ebm_ws_wants_write(p->sess))
		lws_callback_on_writable(p->wsi);
	uint64_t d = ebm_ws_next_deadline_ms(p->sess);
	if (d) {
		uint64_t now = ebm_mono_ms();
		uint64_t us = d > now ? (d - now) * 1000u : 1;
		lws_set_timer_usecs(p->wsi, (lws_usec_t)us);
	} else {
		lws_set_timer_usecs(p->wsi, LWS_SET_TIMER_USEC_CANCEL);
	}
}

void ebmock_notify_wake(void *glue, void *user)
{
	(void)glue;
	notify_arm(user);
}

static void notify_rx(notify_pss *p, struct lws *wsi, const char *in, size_t len)
{
	ebmock_glue *g = ebmock_glue_of(wsi);
	size_t max = ebm_ws_max_message(g->srv);
	bool first = lws_is_first_fragment(wsi);
	bool last = lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi);

	if (first && !p->rx_len) {
		p->rx_binary = lws_frame_is_binary(wsi);
		p->rx_skip = false;
	}
	if (!p->rx_skip && p->rx_len + len > max) {
		/* LIMIT-6: close 1009 without keeping any more of it */
		p->rx_skip = true;
		free(p->rx);
		p->rx = NULL;
		p->rx_len = 0;
		ebm_ws_on_too_big(p->sess);
	}
	if (p->rx_skip) {
		if (last)
			p->rx_skip = false;
		return;
	}
	if (last && !p->rx_len) {
		ebm_ws_on_message(p->sess, in, len, p->rx_binary);
		return;
	}
	char *nb = realloc(p->rx, p->rx_len + len + 1);
	if (!nb) {
		ebm_ws_on_too_big(p->sess);
		p->rx_skip = !last;
		return;
	}
	p->rx = nb;
	memcpy(p->rx + p->rx_len, in, len);
	p->rx_len += len;
	if (!last)
		return;
	ebm_ws_on_message(p->sess, p->rx, p->rx_len, p->rx_binary);
	free(p->rx);
	p->rx = NULL;
	p->rx_len = 0;
}

static int notify_writeable(notify_pss *p, struct lws *wsi)
{
	char *text = NULL;
	size_t len = 0;
	int code = 0;
	int rc = 0;

	switch (ebm_ws_next_out(p->sess, &text, &len, &code)) {
	case EBM_WS_OUT_NONE:
		break;
	case EBM_WS_OUT_TEXT: {
		unsigned char *buf = malloc(LWS_PRE + len);
		if (!buf) {
			rc = -1;
			break;
		}
		memcpy(buf + LWS_PRE, text, len);
		if (lws_write(wsi, buf + LWS_PRE, len, LWS_WRITE_TEXT) < (int)len)
			rc = -1;
		free(buf);
		break;
	}
	case EBM_WS_OUT_PING: {
		unsigned char buf[LWS_PRE + 4];
		if (lws_write(wsi, buf + LWS_PRE, 0, LWS_WRITE_PING) < 0)
			rc = -1;
		break;
	}
	case EBM_WS_OUT_CLOSE: {
		char reason[24];
		int n = snprintf(reason, sizeof reason, "ebmock %d", code);
		lws_close_reason(wsi, (enum lws_close_status)code, (unsigned char *)reason,
				 (size_t)n);
		rc = -1;
		break;
	}
	case EBM_WS_OUT_DROP:
		/* WS-CLOSE-4 and the drop fault: no close frame can get out */
		shutdown(lws_get_socket_fd(wsi), SHUT_RDWR);
		rc = -1;
		break;
	}
	free(text);
	if (rc == 0)
		notify_arm(p);
	return rc;
}

int ebmock_notify_callback(struct lws *wsi, enum lws_callback_reasons reason,
			   void *user, void *in, size_t len)
{
	notify_pss *p = user;
	ebmock_glue *g;
	char addr[48];

	switch (reason) {
	case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
		/* lws asks the protocol the connection is bound to */
		return ebmock_confirm_upgrade(wsi);
	case LWS_CALLBACK_ESTABLISHED:
		g = ebmock_glue_of(wsi);
		if (!lws_get_peer_simple(wsi, addr, sizeof addr))
			snprintf(addr, sizeof addr, "unknown");
		memset(p, 0, sizeof *p);
		p->wsi = wsi;
		p->sess = ebm_ws_open(g->srv, addr, p);
		if (!p->sess)
			return -1;
		if (g->shutting_down)
			ebm_ws_shutdown_all(g->srv);
		notify_arm(p);
		return 0;
	case LWS_CALLBACK_RECEIVE:
		if (!p->sess)
			return -1;
		notify_rx(p, wsi, in, len);
		notify_arm(p);
		return 0;
	case LWS_CALLBACK_TIMER:
		if (!p->sess)
			return 0;
		ebm_ws_on_timer(p->sess);
		notify_arm(p);
		return 0;
	case LWS_CALLBACK_SERVER_WRITEABLE:
		if (!p->sess)
			return -1;
		return notify_writeable(p, wsi);
	case LWS_CALLBACK_CLOSED:
		ebm_ws_free(p->sess);
		p->sess = NULL;
		p->wsi = NULL;
		free(p->rx);
		p->rx = NULL;
		return 0;
	default:
		break;
	}
	return 0;
}
