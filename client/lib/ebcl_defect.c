/*
 * ebcl_defect.c — the table of injectable client defects (ebclient.h): each
 * breaks one rule of PROTOCOL.md section 12 so that the client suite can
 * prove it catches it.
 */
#include "ebclient.h"

#include <string.h>

static const ebcl_defect_desc ebcl_defects[EBCL_DEFECT_COUNT] = {
	[EBCL_DEFECT_POLLS_WHILE_LIVE] = { "polls-while-live", "CLIENT-WS-1",
		"keeps polling every store on the activity interval while the socket is live" },
	[EBCL_DEFECT_IGNORES_NOTIFICATION] = { "ignores-notification", "CLIENT-WS-2",
		"does not sync a store on store_changed" },
	[EBCL_DEFECT_PARALLEL_SYNCS] = { "parallel-syncs", "CLIENT-WS-2",
		"starts a sync for every store_changed, even while one of the same store runs" },
	[EBCL_DEFECT_NO_SYNC_ON_HIGHER_ACK] = { "no-sync-on-higher-ack", "CLIENT-WS-3",
		"does not sync a store whose subscribe ack shows a version above the known one" },
	[EBCL_DEFECT_SYNCS_STALE_NOTIFICATION] = { "syncs-stale-notification", "CLIENT-WS-8",
		"syncs on every store_changed, also one not above the known version" },
	[EBCL_DEFECT_IGNORES_LOWER_VERSION] = { "ignores-lower-version", "CLIENT-WS-5",
		"keeps its known version when an ack or a read (409) shows the store below it: never reads from 0" },
	[EBCL_DEFECT_SUBSCRIBE_BEFORE_AUTH_OK] = { "subscribe-before-auth-ok", "CLIENT-WS-4",
		"sends subscribe before auth (so before auth_ok) on every connection attempt" },
	[EBCL_DEFECT_SUBSCRIBE_BATCH_TOO_LARGE] = { "subscribe-batch-too-large", "CLIENT-WS-4",
		"subscribes every open store in one message, over 100 ids" },
	[EBCL_DEFECT_NO_SILENT_SOCKET_DETECTION] = { "no-silent-socket-detection", "CLIENT-WS-6",
		"never pings a silent socket and stays on it" },
	[EBCL_DEFECT_PING_FLOOD] = { "ping-flood", "CLIENT-WS-7",
		"sends ping every 5 s while messages arrive" },
	[EBCL_DEFECT_IGNORES_ACTIVITY] = { "ignores-activity", "CLIENT-POLL-1",
		"polls every 30 s whatever the activity" },
	[EBCL_DEFECT_NO_BACKOFF] = { "no-backoff", "CLIENT-POLL-2",
		"retries a failed request after 2 s, without back-off" },
	[EBCL_DEFECT_BACKOFF_NO_CAP] = { "backoff-no-cap", "CLIENT-POLL-2",
		"keeps doubling the back-off past 5 min" },
	[EBCL_DEFECT_BACKOFF_NO_RESET] = { "backoff-no-reset", "CLIENT-POLL-8",
		"a success does not reset the back-off: the next failure waits longer" },
	[EBCL_DEFECT_IGNORES_RETRY_AFTER] = { "ignores-retry-after", "CLIENT-POLL-3",
		"ignores Retry-After, waits the back-off only" },
	[EBCL_DEFECT_NO_CATCH_UP] = { "no-catch-up", "CLIENT-POLL-5",
		"after a loss, waits a full interval before the first read" },
	[EBCL_DEFECT_ACTIVITY_CHANGE_LATE] = { "activity-change-late", "CLIENT-POLL-6",
		"an activity change takes effect only after the pending poll" },
	[EBCL_DEFECT_READS_TWICE_PER_ROUND] = { "reads-twice-per-round", "CLIENT-POLL-9",
		"reads every store twice in each poll round" },
	[EBCL_DEFECT_RECONNECT_EVERY_5S] = { "reconnect-every-5s", "CLIENT-RECONNECT-2",
		"tries to reconnect every 5 s instead of every 2 min" },
	[EBCL_DEFECT_NEVER_RECONNECTS] = { "never-reconnects", "CLIENT-RECONNECT-1",
		"never tries to reconnect after a loss; polls for ever" },
	[EBCL_DEFECT_NEVER_STOPS_POLLING] = { "never-stops-polling", "CLIENT-RECONNECT-3",
		"keeps polling after a reconnect reached live" },
	[EBCL_DEFECT_NO_ATTEMPT_DEADLINE] = { "no-attempt-deadline", "CLIENT-RECONNECT-4",
		"waits for ever for auth_ok and the acks of a connection attempt" },
	[EBCL_DEFECT_QUEUE_OUT_OF_ORDER] = { "queue-out-of-order", "CLIENT-QUEUE-1",
		"pushes the queued changes of a store newest first" },
	[EBCL_DEFECT_QUEUE_NEW_IDS] = { "queue-new-ids", "CLIENT-QUEUE-4",
		"gives the changes of a failed push new ids before retrying it" },
	[EBCL_DEFECT_NO_RESYNC_AFTER_409] = { "no-resync-after-409", "CLIENT-QUEUE-2",
		"on 409 RESYNC_REQUIRED to a push pushes again with the same lastKnownVersion, never reads from 0" },
	[EBCL_DEFECT_FIRST_PAGE_ONLY] = { "first-page-only", "CLIENT-QUEUE-3",
		"stops a read at the first page even when hasMore is true" },
	[EBCL_DEFECT_RETRIES_REJECTED] = { "retries-rejected", "CLIENT-QUEUE-5",
		"keeps a change the server rejected in the queue and pushes it again" },
	[EBCL_DEFECT_BATCH_TOO_LARGE] = { "batch-too-large", "CLIENT-QUEUE-6",
		"pushes the whole queue in one request, ignoring maxChangesPerRequest" },
	[EBCL_DEFECT_KNOWN_VERSION_CURRENT] = { "known-version-current-not-to", "CLIENT-QUEUE-7",
		"takes currentVersion instead of toVersion as its known version after a page" },
	[EBCL_DEFECT_MERGE_BY_ARRIVAL] = { "merge-by-arrival", "CLIENT-MERGE-1",
		"applies changes in arrival order instead of stamp order" },
	[EBCL_DEFECT_NO_REAUTH] = { "no-reauth", "CLIENT-TOKEN-2",
		"never re-authenticates an open socket before the token expires" },
	[EBCL_DEFECT_NO_401_REFRESH] = { "no-401-refresh", "CLIENT-TOKEN-3",
		"on HTTP 401 retries with the same token instead of asking the provider" },
	[EBCL_DEFECT_NO_4401_RECONNECT] = { "no-4401-reconnect", "CLIENT-TOKEN-3",
		"on close 4401 waits for the reconnect timer instead of reconnecting at once with a fresh token" },
	[EBCL_DEFECT_UNKNOWN_TYPE_CLOSES] = { "unknown-type-closes", "CLIENT-GEN-1",
		"closes the socket on a message of unknown type" },
	[EBCL_DEFECT_VERSION_AS_DOUBLE] = { "version-as-double", "CLIENT-GEN-2",
		"keeps versions as doubles printed with 15 significant digits" },
};

const ebcl_defect_desc *ebcl_defect_info(ebcl_defect d)
{
	if ((int)d < 0 || d >= EBCL_DEFECT_COUNT)
		return NULL;
	return &ebcl_defects[d];
}

int ebcl_defect_by_name(const char *name)
{
	if (name == NULL)
		return -1;
	for (int i = 0; i < EBCL_DEFECT_COUNT; i++)
		if (ebcl_defects[i].name != NULL &&
		    strcmp(ebcl_defects[i].name, name) == 0)
			return i;
	return -1;
}
