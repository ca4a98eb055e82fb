/* SPDX-License-Identifier: MIT */
/*
 * The app-layer framework: the one ops table every protocol parser fills in,
 * and what the framework offers parsers. A protocol is a folder under
 * parsers/ (wire decoding, state and transactions, detection buffers, EVE
 * writer) that registers itself with NJ_APP_PARSER_REGISTER; there is no
 * central list to edit.
 *
 * Contract with parsers:
 *  - parse() is incremental: it is given the bytes of one direction in order
 *    and returns how many it consumed (0..len). Bytes not consumed are kept by
 *    the framework (TCP; bounded by app-layer.max-buffer per direction) and
 *    presented again, followed by new data, on the next call. A parser that
 *    can stream (bodies) should consume what it can. For UDP every datagram
 *    is one call and whatever is not consumed is dropped.
 *    Return NJ_AL_ERROR when the stream can no longer be parsed: the framework
 *    stops calling parse for that direction (counted, an anomaly event).
 *  - gap() says len bytes of this direction are missing (lost packets,
 *    reassembly depth or memcap); the parser resyncs or gives up.
 *  - close() says no more data will come in that direction (FIN/RST, flow end):
 *    the parser completes what it can (marks transactions done).
 *  - Transactions: the parser allocates its own (bounded per flow: it must cap
 *    the number it keeps), embeds struct nj_al_tx first, appends them with
 *    nj_al_tx_add and sets tx->done[dir] when a direction of it is complete.
 *    The framework logs and frees (tx_free) transactions in order once both
 *    directions are done, or at flow end.
 *  - Anomalies: nj_al_event(ctx, dir, "NAME") with Suricata's event name for the
 *    protocol (e.g. "REQUEST_HEADER_INVALID"); becomes an EVE anomaly event.
 *  - No global mutable state: a parser's state belongs to one flow on one core.
 */
#ifndef NJ_APPLAYER_H
#define NJ_APPLAYER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../export/eve.h"
#include "../export/json.h"

struct nj_conf;

#define NJ_DIR_TOSERVER 0
#define NJ_DIR_TOCLIENT 1

/* probe() results */
#define NJ_PROBE_NO   (-1) /* not this protocol */
#define NJ_PROBE_MORE 0	   /* cannot tell yet: call again with more bytes */
#define NJ_PROBE_YES  1
/*
 * The protocol, but these bytes were sent by the server (a DNS response in
 * the direction taken for to-server): the framework swaps the flow's
 * orientation where Suricata does (UDP, and TCP picked up mid-stream).
 */
#define NJ_PROBE_YES_REVERSED 2
/*
 * These bytes match the protocol's pattern for the other direction (an HTTP
 * response where a request was expected): only a TCP session picked up
 * mid-stream is then taken as this protocol, turned around (Suricata looks
 * for the reverse direction's patterns only with stream.midstream). NO otherwise.
 */
#define NJ_PROBE_OTHER_DIR 3

#define NJ_AL_ERROR (-1) /* parse(): give up on this direction */

/* ipproto_mask */
#define NJ_AL_TCP 0x1u
#define NJ_AL_UDP 0x2u

/* Transaction header, embedded first in every parser's transaction. */
struct nj_al_tx {
	struct nj_al_tx *next;
	uint64_t id;	      /* 0-based within the flow, set by nj_al_tx_add */
	uint8_t done[2];      /* parser: direction complete (request / response) */
	uint8_t inspected[2]; /* detection: progress already inspected */
	uint8_t logged;	      /* framework: bit d = direction d logged (log_tx_dir), 0x80 = done */
	uint8_t progress[2];  /* parser-defined progress per direction, for detection */
};

struct nj_al_txq {
	struct nj_al_tx *head, *tail;
	uint64_t next_id;
	uint32_t count;
};

/* Appends tx to q and gives it the next id. */
static inline void nj_al_tx_add(struct nj_al_txq *q, struct nj_al_tx *tx)
{
	tx->next = NULL;
	tx->id = q->next_id++;
	if (q->tail)
		q->tail->next = tx;
	else
		q->head = tx;
	q->tail = tx;
	q->count++;
}

struct nj_flow;
struct nj_al_ctx; /* per call: flow, time, the worker's sinks (opaque to parsers) */

/* Reports an app-layer anomaly ("anomaly":{"type":"applayer","event":name,...}). */
void nj_al_event(struct nj_al_ctx *c, int dir, const char *name);
/* The same for an event of transaction tx_id (logged as the event's "tx_id"). */
void nj_al_event_tx(struct nj_al_ctx *c, int dir, const char *name, uint64_t tx_id);
/* The flow being parsed and the current packet time. */
struct nj_flow *nj_al_flow(const struct nj_al_ctx *c);
uint64_t nj_al_ts(const struct nj_al_ctx *c);
/*
 * Protocol change (Suricata's AppLayerRequestProtocolChange: a 2xx reply to
 * HTTP CONNECT). Once the current parse() call returns, the framework logs
 * and frees the parser's transactions and its state and detects the
 * protocol again on the bytes that follow, those this call did not consume
 * first; dp (when not 0) is taken as the server port for port hints. The
 * flow keeps the old protocol as app_proto_orig and as app_proto until a new
 * one is detected. False when a change is already pending.
 */
bool nj_al_request_proto_change(struct nj_al_ctx *c, uint16_t dp);
/* The core's files object (parsers/files.h) for carving; NULL when files are off. */
struct nj_files;
struct nj_files *nj_al_files(const struct nj_al_ctx *c);

/*
 * Expectations (Suricata's AppLayerExpectationCreate): a parser that learns a
 * connection will follow (FTP's PORT/PASV then RETR/STOR) announces it. The
 * next TCP flow between the current flow's two hosts (either may connect)
 * whose server port is dport is given to parser proto without probing, and
 * data (copied, at most NJ_AL_EXPECT_DATA bytes) is handed to that parser's
 * expect_start(). The table is per core (NJ_AL_EXPECT_MAX entries, the oldest
 * replaced when full, entries expire after NJ_AL_EXPECT_TIMEOUT_US of packet
 * time): the fan-out and RSS hash on the two addresses only, so a connection
 * between the same two hosts reaches the same core (docs/parsers.md).
 * Returns false when proto is unknown or disabled, or data too long.
 */
#define NJ_AL_EXPECT_MAX	64u
#define NJ_AL_EXPECT_DATA	480u
#define NJ_AL_EXPECT_TIMEOUT_US (120ull * 1000000ull)
bool nj_al_expect(struct nj_al_ctx *c, const char *proto, uint16_t dport, const void *data,
		  uint32_t len);
/*
 * TCP: true when reassembly stopped direction dir of the current flow at its
 * depth (stream.reassembly.depth, or a file-store stream-depth): what the
 * parser has is cut (Suricata truncates the open files).
 */
bool nj_al_depth_reached(const struct nj_al_ctx *c, int dir);

/*
 * EVE logging of a transaction: the framework calls log_tx with a logger; the
 * parser opens as many events as it needs (DNS logs a query and an answer),
 * each with begin/commit. begin writes the common header (timestamp, flow_id,
 * event_type, addresses in the flow's orientation, or reversed for dir
 * NJ_DIR_TOCLIENT when the parser asks, tx_id, community_id) and returns the
 * writer positioned in the top-level object: the parser writes its object
 * ("http":{...}) and calls commit.
 */
struct nj_al_log;
struct nj_json *nj_al_log_begin(struct nj_al_log *lg, const struct nj_al_tx *tx, int dir);
void nj_al_log_commit(struct nj_al_log *lg);

/*
 * A detection buffer offered by a parser (sticky buffers such as http.uri):
 * get() yields a pointer and length into the transaction for direction dir,
 * or returns false when the transaction has no such data (yet).
 */
struct nj_al_buffer {
	const char *name; /* rule keyword, Suricata's name: "http.uri", "dns.query" */
	int dir;	  /* NJ_DIR_TOSERVER or NJ_DIR_TOCLIENT */
	bool (*get)(const struct nj_al_tx *tx, const uint8_t **data, uint32_t *len);
};

/*
 * A multi-buffer (dns.answers.rrname, tls.certs): get() yields the idx-th
 * instance (0-based) and returns false past the last. A rule's list on such a
 * buffer matches when it matches one instance.
 */
struct nj_al_multibuffer {
	const char *name;
	int dir;
	bool (*get)(const struct nj_al_tx *tx, uint32_t idx, const uint8_t **data, uint32_t *len);
};
/* Instances of a multi-buffer inspected per transaction at most. */
#define NJ_AL_MULTI_MAX 1024u

/* What detection knows of a transaction's file (tx_file). */
struct nj_al_fileinfo {
	uint64_t size;
	bool has_md5;
	uint8_t md5[16];
	const uint8_t *name; /* file.name: the name as on the wire, or NULL */
	uint32_t name_len;
	const char *magic; /* file.magic: libmagic's description, or NULL */
};

struct nj_app_parser {
	const char *name;      /* Suricata's app_proto name: "http", "dns", "tls" */
	uint8_t ipproto_mask;  /* NJ_AL_TCP | NJ_AL_UDP */
	uint16_t ports[8];     /* port hints (either side), 0-terminated */
	uint32_t probe_min;    /* bytes needed before probe is called */
	bool probe_ports_only; /* probe only on the port hints (Suricata: DNS is detected on 53) */
	enum nj_eve_type eve;  /* event type of log_tx */
	/* Is this the protocol? dir is the direction the bytes were sent in. */
	int (*probe)(const uint8_t *data, uint32_t len, int dir);
	void *(*state_new)(void);
	void (*state_free)(void *st); /* frees remaining transactions too */
	int32_t (*parse)(void *st, struct nj_al_ctx *c, int dir, const uint8_t *data, uint32_t len);
	void (*gap)(void *st, struct nj_al_ctx *c, int dir, uint32_t len);
	void (*close)(void *st, struct nj_al_ctx *c, int dir);
	struct nj_al_txq *(*txq)(void *st);
	void (*tx_free)(void *st, struct nj_al_tx *tx); /* tx already unlinked */
	void (*log_tx)(struct nj_al_log *lg, const struct nj_flow *f, const struct nj_al_tx *tx);
	/*
	 * Optional, instead of log_tx: called once per direction of a
	 * transaction as soon as it is done (DNS logs the request at request
	 * time), and at flow end for directions never done.
	 */
	void (*log_tx_dir)(struct nj_al_log *lg, const struct nj_flow *f, const struct nj_al_tx *tx,
			   int dir);
	bool log_no_tx_id; /* the event has no top-level tx_id (DNS keeps it inside "dns") */
	/*
	 * Transactions are not counted in app_layer.tx.NAME: Suricata's TLS has
	 * one transaction that exists from the start, so its counter stays 0.
	 */
	bool no_tx_stats;
	/*
	 * Detection sees each direction of a transaction as a transaction of its
	 * own (DNS: Suricata 8 makes every message one): a rule without a
	 * direction may alert once per direction.
	 */
	bool detect_per_dir;
	/*
	 * The server speaks first (FTP's greeting): once the parser is chosen,
	 * the bytes buffered during detection are given to-client first.
	 */
	bool server_first;
	/*
	 * Optional, with detect_per_dir: the "tx_id" an alert on direction dir
	 * of tx is logged with (DNS: the message's number, Suricata's tx id).
	 */
	uint64_t (*alert_tx_id)(const struct nj_al_tx *tx, int dir);
	/*
	 * Optional: the file of transaction tx in direction dir, for filesize /
	 * filemd5 / file.name / file.magic (false: no file there).
	 */
	bool (*tx_file)(const struct nj_al_tx *tx, int dir, struct nj_al_fileinfo *out);
	const struct nj_al_buffer *buffers; /* terminated by an entry with name NULL; may be NULL */
	const struct nj_al_multibuffer *multi_buffers; /* the same for multi-buffers */
	/*
	 * Optional: writes the members an alert on direction dir of the
	 * transaction carries ("dns":{...}, "files":[...]) into the open
	 * top-level object j.
	 */
	void (*alert_json)(struct nj_json *j, const struct nj_al_tx *tx, int dir);
	/*
	 * Optional: the client address a proxy header of the transaction names
	 * (X-Forwarded-For style header, first or last element when reverse),
	 * as text into out; false when there is none. For the alert xff option.
	 */
	bool (*alert_xff)(const struct nj_al_tx *tx, const char *header, bool reverse, char *out,
			  size_t outlen);
	/*
	 * Optional, called once at start-up before any worker runs: the parser
	 * reads its settings (app-layer.protocols.NAME.*, its eve-log options)
	 * into its own static, read-only-afterwards configuration. Returns 0, or
	 * -1 after printing "file:line: key: reason". conf may be NULL (defaults).
	 */
	int (*configure)(const struct nj_conf *conf);
	/*
	 * Optional: the flow was announced by nj_al_expect (the parser was
	 * chosen without probing); data and len are what the announcer gave,
	 * parent_flow_id the announcing flow's flow_id. Called once, right
	 * after state_new, before any parse().
	 */
	void (*expect_start)(void *st, struct nj_al_ctx *c, const void *data, uint32_t len,
			     uint64_t parent_flow_id);

	uint16_t id; /* set by the registry: flow->app_proto */
};

#define NJ_APP_PROTO_UNKNOWN 0
#define NJ_APP_PROTO_FAILED  0xffffu /* detection gave up: logged as "failed" */
#define NJ_APP_MAX_PARSERS   32

/* Registration (from a constructor; see NJ_APP_PARSER_REGISTER). */
void nj_app_parser_register(struct nj_app_parser *p);
#define NJ_APP_PARSER_REGISTER(p)                                      \
	static void __attribute__((constructor)) nj_register_##p(void) \
	{                                                              \
		nj_app_parser_register(&(p));                          \
	}

/* The output directory (-l / default-log-dir), for parsers writing files; "." by default. */
void nj_al_set_log_dir(const char *dir);
const char *nj_al_log_dir(void);
/* Calls every parser's configure(); -1 if one failed. */
int nj_app_parsers_configure(const struct nj_conf *conf);
/* Registry lookups. */
const struct nj_app_parser *nj_app_parser_by_id(uint16_t id);
const struct nj_app_parser *nj_app_parser_by_name(const char *name);
/* "http", "failed", or NULL for unknown. */
const char *nj_app_proto_name(uint16_t id);

/* ------------------------------------------------------------------ runtime
 * Used by the worker: one nj_al_worker per core.
 */
struct nj_al_config {
	uint32_t
		max_buffer; /* unconsumed bytes kept per flow and direction (app-layer.max-buffer) */
	uint32_t probe_max; /* bytes per direction probed before detection gives up */
	bool log_anomaly;   /* anomaly events of type applayer */
	bool disabled[NJ_APP_MAX_PARSERS]; /* by parser id (app-layer.protocols.X.enabled: no) */
};
void nj_al_config_defaults(struct nj_al_config *cfg);

struct nj_al_stats {
	uint64_t flows[NJ_APP_MAX_PARSERS];	       /* flows detected, by parser id */
	uint64_t tx[NJ_APP_MAX_PARSERS];	       /* transactions completed, by parser id */
	uint64_t failed_tcp, failed_udp;	       /* flows whose detection gave up */
	uint64_t parse_errors;			       /* directions abandoned after NJ_AL_ERROR */
	uint64_t parser_errors[NJ_APP_MAX_PARSERS][2]; /* the same by parser id, [0] TCP [1] UDP */
	uint64_t buffer_overflow; /* directions abandoned: max_buffer reached */
	uint64_t gaps;
	uint64_t events; /* anomaly events reported by parsers */
	/* expectations (nj_al_expect): announced, matched by a new flow, replaced when the
	 * table was full, expired unused */
	uint64_t expect_new, expect_hit, expect_evicted, expect_expired;
};

/* Called when a direction of a transaction completes (detection). */
typedef void (*nj_al_tx_hook)(void *arg, struct nj_flow *f, const struct nj_app_parser *p,
			      struct nj_al_tx *tx, int dir);

struct nj_pkt;
struct nj_al_worker;
struct nj_al_worker *nj_al_worker_create(const struct nj_al_config *cfg, struct nj_eve_worker *eve);
void nj_al_worker_destroy(struct nj_al_worker *w);
void nj_al_worker_set_tx_hook(struct nj_al_worker *w, nj_al_tx_hook fn, void *arg);
void nj_al_worker_set_files(struct nj_al_worker *w, struct nj_files *files);
const struct nj_al_stats *nj_al_worker_stats(const struct nj_al_worker *w);
/* In-order TCP data (the signature of nj_stream_data_fn; arg is the nj_al_worker). */
void nj_al_stream_data(void *arg, struct nj_flow *f, int dir, const uint8_t *data, uint32_t len,
		       unsigned flags, const struct nj_pkt *p);
/*
 * One UDP datagram of flow f. Returns true when detection reversed the flow
 * (nj_flow_swap was called and p's direction flipped): the caller flips the
 * flow's other packets still in its burst.
 */
bool nj_al_udp(struct nj_al_worker *w, struct nj_flow *f, struct nj_pkt *p);
/*
 * After nj_flow_swap of a flow whose app-layer state exists, for a swap the
 * framework did not ask for itself (it handles swap_pending on its own).
 */
void nj_al_swap(struct nj_flow *f);
/* The flow ends: close both directions, log what is left, free the state. */
void nj_al_flow_end(struct nj_al_worker *w, struct nj_flow *f);

/*
 * Test support (unit tests of parsers, no dataplane): a context whose
 * anomaly events are recorded, and a logger that writes each event as one
 * JSON line ({"event_type":..,"tx_id":..,<parser's keys>}) into out.
 */
#define NJ_AL_TEST_MAX_EVENTS 256
struct nj_al_test {
	struct nj_al_ctx *ctx;
	struct nj_al_log *log;
	unsigned nevents; /* anomaly events reported (all counted, first ones kept) */
	char events[NJ_AL_TEST_MAX_EVENTS][64];
	int event_dir[NJ_AL_TEST_MAX_EVENTS];
	struct nj_files *files; /* what nj_al_files returns (set it to test carving) */
	unsigned expects;	/* nj_al_expect calls; the last one's port and data */
	uint16_t expect_dport;
	uint32_t expect_len;
	uint8_t expect_data[NJ_AL_EXPECT_DATA];
	bool depth_reached[2];	/* what nj_al_depth_reached answers */
	unsigned proto_changes; /* nj_al_request_proto_change calls */
	uint16_t proto_change_dp;
	char *out; /* NUL-terminated JSON lines written through log */
	size_t out_len, out_cap;
};
/* f may be NULL (a zeroed TCP flow is used). ts_us is the context's time. */
struct nj_al_test *nj_al_test_new(struct nj_flow *f, enum nj_eve_type type, uint64_t ts_us);
void nj_al_test_free(struct nj_al_test *t);

#endif
