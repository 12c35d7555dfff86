/*
 * ebm_defects.c — the defect table of ebmock (ebm_defects.h).
 */
#include "ebm_defects.h"
#include "ebm_int.h"

#include <stdint.h>
#include <string.h>

/* Mirrors the table of docs/DEFECTS.md row by row (a test compares them). */
static const ebm_defect_info ebm_defects[EBM_DEFECT__COUNT] = {
	[EBM_DEFECT_VERSION_GAP] = { "version-gap", "VER-2",
		"the second change of every batch skips a version (gap of one)" },
	[EBM_DEFECT_DUPLICATE_NEW_VERSION] = { "duplicate-new-version", "IDEM-2",
		"a duplicate change (same id, same content) is stored again with a new version" },
	[EBM_DEFECT_CONFLICT_ACCEPTED] = { "conflict-accepted", "IDEM-3",
		"the same id with other content across requests is accepted as a new change" },
	[EBM_DEFECT_INTERNAL_CONFLICT_ACCEPTED] = { "internal-conflict-accepted", "IDEM-4",
		"the same id twice with different content inside one request is accepted" },
	[EBM_DEFECT_ECHO_OWN_CHANGES] = { "echo-own-changes", "SYNC-5",
		"the sync response includes the changes the same request pushed" },
	[EBM_DEFECT_CHANGES_OUT_OF_ORDER] = { "changes-out-of-order", "FEED-3",
		"the changes feed returns changes in descending version order" },
	[EBM_DEFECT_SINCE_OFF_BY_ONE] = { "since-off-by-one", "FEED-3",
		"the changes feed includes the change whose version equals `since`" },
	[EBM_DEFECT_HASMORE_WRONG] = { "hasmore-wrong", "SYNC-7",
		"`hasMore` is true on the last page" },
	[EBM_DEFECT_PARTIAL_BATCH] = { "partial-batch", "SYNC-2",
		"a batch with an invalid change commits the valid changes before it" },
	[EBM_DEFECT_NO_RESYNC] = { "no-resync", "SYNC-8",
		"a `lastKnownVersion` ahead of the store is answered 200 instead of 409" },
	[EBM_DEFECT_EMPTY_BATCH_BUMPS_VERSION] = { "empty-batch-bumps-version", "VER-5",
		"a sync without changes increments the version" },
	[EBM_DEFECT_TIMESTAMP_REWRITTEN] = { "timestamp-rewritten", "TS-1",
		"the server replaces each change's timestamp with its own clock" },
	[EBM_DEFECT_FUTURE_TIMESTAMP_ACCEPTED] = { "future-timestamp-accepted", "TS-2",
		"timestamps far in the future are accepted" },
	[EBM_DEFECT_DELETE_VALUE_ACCEPTED] = { "delete-value-accepted", "CHG-6",
		"a `delete` carrying a `value` is accepted" },
	[EBM_DEFECT_DUP_KEY_ACCEPTED] = { "dup-key-accepted", "GEN-6",
		"a body with a duplicate member name is accepted (last one wins)" },
	[EBM_DEFECT_LIMIT_CLAMPED] = { "limit-clamped", "LIMIT-7",
		"`limit` above 1000 is silently clamped instead of 400" },
	[EBM_DEFECT_BODY_LIMIT_IGNORED] = { "body-limit-ignored", "LIMIT-1",
		"bodies over the size limit (up to 8 MiB) are accepted" },
	[EBM_DEFECT_ERROR_WITHOUT_CODE] = { "error-without-code", "ERR-1",
		"error bodies carry only `message`, no `code`" },
	[EBM_DEFECT_CHECK_ORDER_WRONG] = { "check-order-wrong", "ERR-3",
		"the body is validated before authentication (bad JSON without a token gives 400, not 401)" },
	[EBM_DEFECT_ALG_NONE_ACCEPTED] = { "alg-none-accepted", "AUTH-3",
		"tokens with `alg: none` are accepted" },
	[EBM_DEFECT_EXP_IGNORED] = { "exp-ignored", "AUTH-4",
		"expired tokens are accepted" },
	[EBM_DEFECT_NBF_IGNORED] = { "nbf-ignored", "AUTH-5",
		"tokens not yet valid are accepted" },
	[EBM_DEFECT_ISSUER_IGNORED] = { "issuer-ignored", "AUTH-6",
		"a wrong `iss` is accepted" },
	[EBM_DEFECT_READONLY_CAN_PUSH] = { "readonly-can-push", "AUTH-11",
		"a token with read but not write permission can push changes" },
	[EBM_DEFECT_NO_RETRY_AFTER] = { "no-retry-after", "ERR-6",
		"429 responses carry no `Retry-After`" },
	[EBM_DEFECT_NO_NOTIFY_PUSHER] = { "no-notify-pusher", "WS-NOTIF-1",
		"sockets authenticated with the pushing request's subject are not notified" },
	[EBM_DEFECT_STALE_NOTIFY_VERSION] = { "stale-notify-version", "WS-NOTIF-3",
		"`store_changed` carries the version before the commit" },
	[EBM_DEFECT_NOTIFY_DUPLICATE] = { "notify-duplicate", "WS-NOTIF-7",
		"a push of only duplicates still notifies (with an unchanged version)" },
	[EBM_DEFECT_NOTIFY_NON_SUBSCRIBER] = { "notify-non-subscriber", "WS-NOTIF-6",
		"notifications go to every authenticated socket, subscribed or not" },
	[EBM_DEFECT_NOTIFY_AFTER_UNSUBSCRIBE] = { "notify-after-unsubscribe", "WS-SUB-5",
		"unsubscribe is acknowledged but the subscription stays" },
	[EBM_DEFECT_NO_ACK_VERSION] = { "no-ack-version", "WS-SUB-1",
		"the `subscribed` ack omits each store's `version`" },
	[EBM_DEFECT_FORBIDDEN_SUBSCRIBE_CLOSES] = { "forbidden-subscribe-closes", "WS-SUB-3",
		"subscribing to a forbidden store closes the socket with 4403" },
	[EBM_DEFECT_NO_AUTH_TIMEOUT] = { "no-auth-timeout", "WS-AUTH-1",
		"an unauthenticated socket is never closed" },
	[EBM_DEFECT_EXPIRED_SOCKET_OPEN] = { "expired-socket-open", "WS-AUTH-5",
		"a socket whose token expires stays open" },
	[EBM_DEFECT_MALFORMED_KEEPS_OPEN] = { "malformed-keeps-open", "WS-2",
		"a malformed message is ignored instead of closing with 4400" },
	[EBM_DEFECT_NO_PONG] = { "no-pong", "WS-5",
		"application-level `ping` gets no `pong`" },
	[EBM_DEFECT_WS_FRAME_LIMIT_IGNORED] = { "ws-frame-limit-ignored", "LIMIT-6",
		"WebSocket messages over the size limit (up to 1 MiB) are processed" },
	[EBM_DEFECT_WS_RATE_NO_CLOSE] = { "ws-rate-no-close", "RATE-4",
		"WebSocket messages over the rate limit get errors but the socket is never closed" },
	[EBM_DEFECT_FUTURE_TIMESTAMP_CLAMPED] = { "future-timestamp-clamped", "TS-1",
		"a timestamp ahead of the server's clock but within the skew allowance is stored as the server's clock" },
	[EBM_DEFECT_OWN_FILTER_AFTER_LIMIT] = { "own-filter-after-limit", "SYNC-7",
		"the sync response takes `limit` changes first and only then leaves out the pushed ones, so a page comes back short or empty with `hasMore: true`" },
	[EBM_DEFECT_AUD_ARRAY_UNCHECKED] = { "aud-array-unchecked", "AUTH-6",
		"a token whose `aud` is an array is accepted without looking at its members" },
	[EBM_DEFECT_REAUTH_KEEPS_EXPIRY] = { "reauth-keeps-expiry", "WS-AUTH-6",
		"a re-auth is answered `auth_ok` but the socket keeps the first token's expiry" },
	[EBM_DEFECT_REAUTH_KEEPS_PERMISSIONS] = { "reauth-keeps-permissions", "WS-AUTH-6",
		"a re-auth is answered `auth_ok` but the socket keeps the first token's permissions" },
	[EBM_DEFECT_ID_LENGTH_CHARS] = { "id-length-chars", "LIMIT-5",
		"the change-id limit counts characters instead of UTF-8 bytes" },
	[EBM_DEFECT_RATE_BUCKET_PER_TOKEN] = { "rate-bucket-per-token", "RATE-1",
		"the HTTP rate bucket is kept per token instead of per subject: a new token of the same subject starts full" },
	[EBM_DEFECT_SYNC_NOT_RATE_LIMITED] = { "sync-not-rate-limited", "RATE-2",
		"`POST …/sync` is never rate-limited (the changes feed still is)" },
	[EBM_DEFECT_FEED_HIDES_DELETES] = { "feed-hides-deletes", "FEED-6",
		"the changes feed leaves out `delete` changes" },
	[EBM_DEFECT_PONG_WITHOUT_REQUEST_ID] = { "pong-without-request-id", "WS-4",
		"`pong` carries no `requestId`" },
	[EBM_DEFECT_VALUE_SIZE_CHARS] = { "value-size-chars", "CHG-7",
		"the value size limit counts characters of the canonical form instead of UTF-8 bytes" },
	[EBM_DEFECT_CONFLICT_BURNS_VERSION] = { "conflict-burns-version", "VER-2",
		"a request refused with `CHANGE_ID_CONFLICT` still uses up a version: the next commit leaves a gap" },
	[EBM_DEFECT_REAUTH_KEEPS_SUBSCRIPTIONS] = { "reauth-keeps-subscriptions", "WS-AUTH-8",
		"after a re-auth with fewer permissions, subscriptions to stores the new token may not read stay and keep notifying" },
	[EBM_DEFECT_AUTH_TIMEOUT_EARLY] = { "auth-timeout-early", "WS-AUTH-9",
		"an unauthenticated socket is closed with 4408 after half the auth timeout (5 s instead of 10 s)" },
	[EBM_DEFECT_SUBSCRIBE_TWICE_DOUBLES] = { "subscribe-twice-doubles", "WS-SUB-7",
		"a store named twice in one `subscribe` gets two subscriptions: two notifications per commit" },
	[EBM_DEFECT_CLUSTER_LOCAL_NOTIFY] = { "cluster-local-notify", "CLUSTER-5",
		"with `--backend`: a commit notifies only the sockets of the node that made it (other nodes' NOTIFYs are ignored)" },
	[EBM_DEFECT_CLUSTER_VERSIONS_PER_NODE] = { "cluster-versions-per-node", "CLUSTER-3",
		"with `--backend`: a node numbers a commit from its own copy of the store without checking the database (two nodes at once give out one version; one change is lost)" },
	[EBM_DEFECT_CLUSTER_IDEM_PER_NODE] = { "cluster-idempotency-per-node", "CLUSTER-4",
		"with `--backend`: a node looks change ids up only among the changes it committed itself (a duplicate sent to another node is not recognized)" },
	[EBM_DEFECT_CLUSTER_NOTIFY_BEFORE_COMMIT] = { "cluster-notify-before-commit", "CLUSTER-5",
		"with `--backend`: the NOTIFY goes out before the transaction commits (100 ms before): other nodes read nothing new and never notify" },
	[EBM_DEFECT_PIPELINE_DROPPED] = { "pipelined-replies-dropped", "WS-CLOSE-4",
		"a client that pipelines requests is dropped (no close frame) as soon as 64 KiB of its replies are pending, although it reads them" },
};

const ebm_defect_info *ebm_defect_get(ebm_defect d)
{
	if ((unsigned)d >= EBM_DEFECT__COUNT)
		return NULL;
	return &ebm_defects[d];
}

int ebm_defect_by_name(const char *name)
{
	if (!name)
		return -1;
	for (int i = 0; i < EBM_DEFECT__COUNT; i++)
		if (strcmp(ebm_defects[i].name, name) == 0)
			return i;
	return -1;
}

bool ebm_defect_on(const ebm_server *srv, ebm_defect d)
{
	return srv && (unsigned)d < EBM_DEFECT__COUNT &&
	       (srv->cfg.defects & ((uint64_t)1 << d)) != 0;
}
