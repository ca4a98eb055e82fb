/* SPDX-License-Identifier: MIT */
/*
 * Internals of the run-time engine, shared by engine.c (build, threads),
 * engine_run.c (evaluation), prefilter.c (Hyperscan) and alert.c (alert
 * queue, EVE). Not a public interface.
 *
 * Shape:
 *  - every loaded signature gets an internal number ("num") in Suricata's
 *    evaluation order (action order, flowbits/flowint writers before readers,
 *    priority, sid); candidates are evaluated and alerts are sorted by num;
 *  - packet signatures live in groups: per IP protocol class and direction,
 *    and for TCP/UDP per server port (the well-used ports get their own
 *    group, every other port shares one); a group has a candidate set per
 *    inspection mode (packets without a stream, packets whose payload is in
 *    the TCP stream, the stream itself);
 *  - a candidate set is a few prefilter databases (one per buffer instance,
 *    Hyperscan, fast patterns only) plus a sorted "always evaluate" list of
 *    the signatures without a usable fast pattern;
 *  - app-layer signatures live in per-parser, per-direction transaction sets
 *    of the same shape, prefiltered on the parser's buffers.
 */
#ifndef NJ_DETECT_ENGINE_INT_H
#define NJ_DETECT_ENGINE_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <hs/hs.h>

#include "dataplane/flow.h"
#include "dataplane/pkt.h"
#include "detect.h"
#include "engine.h"
#include "parsers/applayer.h"

/* eng_sig.flags */
#define ES_IPONLY     0x0001u /* header (+ flowbits set) only: first packet of each direction */
#define ES_PAYLOAD    0x0002u /* has a list on the packet payload */
#define ES_HDRBUF     0x0004u /* has a list on a packet-header buffer (tcp.hdr ...) */
#define ES_PKT_OK     0x0008u /* payload lists may be inspected on packets */
#define ES_STREAM_OK  0x0010u /* payload lists may be inspected on the TCP stream */
#define ES_TX	      0x0020u /* app-layer signature: inspected per transaction */
#define ES_NEVER      0x0040u /* cannot match here (unsupported run-time check) */
#define ES_TX_TS      0x0080u /* transaction inspected when the request is done */
#define ES_TX_TC      0x0100u /* ... when the response is done */
#define ES_FLOWSTATE  0x0200u /* reads or writes flowbits / flowint */
#define ES_PASS_FLOW  0x0400u /* a pass on this signature passes the whole flow */
#define ES_APP_ANY    0x0800u /* tx signature without protocol: every parser */
#define ES_NEEDS_FLOW 0x1000u
#define ES_EVENT      0x2000u /* stream-event: evaluated when the stream raises the event */
#define ES_TX_EACHDIR 0x4000u /* alerts once per direction of a transaction */

/* Packet requirement mask (cheap pre-check before a full evaluation). */
#define PM_PAYLOAD 0x01u
#define PM_FLOW	   0x02u
#define PM_EST	   0x04u
#define PM_NOTEST  0x08u
#define PM_IPV4	   0x10u
#define PM_IPV6	   0x20u

/* filestore[:direction[,scope]] (Suricata's detect-filestore.c) */
#define FS_ON	    0x01u /* the rule has filestore */
#define FS_TS	    0x02u /* files to server */
#define FS_TC	    0x04u /* files to client */
#define FS_RULE_DIR 0x08u /* the direction the rule matched in (no direction given) */
#define FS_FLOW	    0x10u /* scope ssn/flow: this and later transactions of the flow */

struct eng_sig {
	const struct nj_detect_sig *s;
	uint32_t flags;	    /* ES_* */
	uint8_t req;	    /* PM_* the packet must have */
	uint8_t order;	    /* action order: 0 pass, 1 drop, 2 reject, 3 alert */
	uint16_t app_id;    /* parser id the flow must have (header or sticky protocol), 0 any */
	uint16_t app_match; /* app-layer-protocol: parser id, 0 none; NJ_APP_PROTO_FAILED ok */
	uint8_t fstore;	    /* filestore: FS_* (0: the rule does not store) */
	const char *never;  /* why it cannot match (ES_NEVER) */
};

/* One prefilter database: the fast patterns of a candidate set on one buffer instance. */
struct pf_db {
	hs_database_t *db;
	uint16_t inst;	   /* buffer instance scanned */
	uint16_t base;	   /* its base buffer */
	uint32_t npat;	   /* distinct patterns */
	uint32_t maxlen;   /* longest pattern (stream overlap) */
	uint32_t minlen;   /* shortest pattern: a shorter buffer is not scanned */
	uint32_t scan_max; /* bytes scanned from the buffer start (head database), 0 = all */
	uint32_t *map_off; /* npat + 1 offsets into map_num */
	uint32_t *map_num; /* signature nums per pattern, ascending */
};

/* Candidate set: prefilter databases + the sorted always-evaluated list. */
struct cand_set {
	unsigned ndb;
	struct pf_db *db;
	uint32_t nalways;
	uint32_t *always;
	uint32_t nsigs; /* signatures in the set (stats) */
};

/*
 * Packet patterns that must end within the first PF_HEAD_MAX bytes of the
 * payload (absolute depth) go to a head database scanned over those bytes
 * only: ET's short protocol-header patterns (DNS, NTP, TFTP ...) then stop
 * costing a scan of the whole payload.
 */
#define PF_HEAD_MAX 64

/* Longest fast pattern compiled for stream scanning (longer ones: their prefix). */
#define STREAM_FP_MAX 32

/* Protocol classes of packet groups. */
enum { PC_TCP = 0, PC_UDP, PC_ICMP, PC_OTHER, PC_MAX };
/* Candidate sets of a packet group. */
enum { CS_PKT = 0, CS_PKT_INSTREAM, CS_STREAM, CS_MAX };

/* A class's prefilter databases and its always-evaluated signatures for any port. */
struct pkt_class {
	struct cand_set cs[CS_MAX];
};

/* Port group: always-evaluated signatures for given server ports. */
struct pkt_group {
	uint32_t nalways[CS_MAX];
	uint32_t *always[CS_MAX];
};

/* Elementary address intervals and the IP-only signatures covering each. */
struct ip_index {
	uint32_t nseg, nlist;
	uint32_t *lo4;	    /* segment starts (IPv4, host order) */
	uint8_t (*lo6)[16]; /* segment starts (IPv6) */
	uint32_t *off;	    /* nseg + 1 offsets into list */
	uint32_t *list;	    /* signature nums, ascending per segment */
};

struct iponly_index {
	uint32_t n;
	struct ip_index v4[2], v6[2]; /* [0] matched against the packet source, [1] destination */
	uint32_t *always[2];	      /* [v4, v6]: both sides too wide to index */
	uint32_t nalways[2];
};

/* Transaction set of one parser and direction. */
struct tx_group {
	struct cand_set cs;
};

/* Getter of a base buffer for a parser, per direction. */
struct al_getter {
	bool (*get[2])(const struct nj_al_tx *tx, const uint8_t **data, uint32_t *len);
	bool (*get_multi[2])(const struct nj_al_tx *tx, uint32_t idx, const uint8_t **data,
			     uint32_t *len);
	/* file.name / file.magic: read through the parser's tx_file op */
	uint8_t file_prop; /* AL_FILE_NAME, AL_FILE_MAGIC, 0 */
};
#define AL_FILE_NAME  1u
#define AL_FILE_MAGIC 2u

/* Alert output options (eve-log types: - alert: {...}). */
struct alert_opts {
	bool payload, payload_printable, packet, metadata, flow, references, raw;
	bool payload_length;
	bool tagged_packets;  /* EVE "packet" events for tagged packets (tag keyword) */
	bool verdict;	      /* "verdict" object: the packet's final action */
	uint32_t payload_max; /* payload-buffer-size */
	/* xff: alert.xff (extra-data) or the client address replaced (overwrite) */
	uint8_t xff_mode; /* XFF_* */
	bool xff_reverse; /* deployment: reverse (last element) */
	char xff_header[64];
};
#define XFF_NONE       0
#define XFF_EXTRA_DATA 1
#define XFF_OVERWRITE  2

struct nj_detect_engine {
	const struct nj_detect_rules *rules;
	uint32_t nsigs;	      /* = rules->nsigs */
	struct eng_sig *sigs; /* by num */
	uint32_t *num_of_idx; /* sigs[num_of_idx[s->idx]].s == s */
	uint32_t nactive;     /* signatures that can match */
	uint32_t npkt, ntx, niponly, nnever, nalways;
	uint8_t action_rank[4];	   /* action-order: rank of pass, drop, reject, alert */
	uint32_t *evsigs, nevsigs; /* ES_EVENT signatures, by num */

	/* packet groups: [class][dir]; TCP/UDP by server port */
	uint32_t ngroups;
	struct pkt_group *groups;
	uint16_t *portmap[2][2]; /* [tcp=0/udp=1][dir] 65536 entries: group index */
	uint32_t classgrp[PC_MAX][2];
	struct pkt_class cls[PC_MAX][2];
	struct iponly_index ipx;

	/* transaction groups by parser id and direction; NULL when none */
	struct tx_group *txg[NJ_APP_MAX_PARSERS][2];
	struct al_getter *getters[NJ_APP_MAX_PARSERS]; /* [parser] -> per base buffer */
	unsigned nbuffers;

	hs_scratch_t *proto_scratch;
	uint32_t ndbs, npatterns;
	uint32_t stream_overlap; /* bytes of the tail the stream scan re-reads */

	/* packet-header buffer ids */
	int buf_ipv4, buf_ipv6, buf_tcp, buf_udp, buf_icmpv4, buf_icmpv6;
	int buf_ipsrc, buf_ipdst; /* ip.src / ip.dst (detect/intel/dataset.c) */

	/* per-flow state layout */
	uint32_t nbits, nints;
	uint32_t ntraffic;	       /* flowbits named traffic/id/X or traffic/label/X */
	uint16_t *traffic_bits;	       /* logged as "traffic":{"id":[X],"label":[X]} */
	uint32_t off_intset, off_ints; /* in eng_flow.data */
	uint32_t fstate_size;

	/* limits */
	uint32_t flow_states;	     /* per thread */
	uint32_t thr_entries;	     /* per thread, power of two */
	uint32_t stream_tail;	     /* bytes kept per flow direction */
	uint64_t stream_tail_memcap; /* per thread */
	uint32_t alert_max;	     /* alerts per packet (packet-alert-max) */
	bool pf_offsets;	     /* packet prefilter honours offset/depth */
	bool prefilter;		     /* false: every signature is always evaluated */
	bool tls_raw;		     /* encryption-handling: full (inspect encrypted data) */
	bool stream_inline;	     /* stream.inline: inspect stream data as reassembled */
	uint16_t tls_id;	     /* parser id of "tls", 0 none */

	uint32_t tag_sessions, tag_hosts; /* tag entries per thread (tag.h) */

	struct alert_opts ao;
	uint64_t build_ns;
};

/* ------------------------------------------------------------ per flow */

#define EF_PASS	  0x1u /* a pass rule matched on the flow: no more inspection */
#define EF_NO_RAW 0x2u /* TLS handshake done: the encrypted stream is not inspected */

#define EF_TXD 8

/*
 * Raw stream data of a direction delivered but not yet inspected: in IDS
 * mode, as Suricata, a direction's stream is inspected by the packets of that
 * direction up to what the peer acknowledged, and the rest at flow end. The
 * held bytes are copied (the packet is gone by then); holes are kept as gap
 * records, so that inspection restarts after them and the logged payload
 * shows "[N bytes missing]".
 */
#define RP_GAPS 4
struct raw_pend {
	uint8_t *buf;
	uint32_t head;	   /* first data byte held: buf + head */
	uint32_t len, cap; /* data bytes held */
	uint32_t span;	   /* data and gap bytes held */
	uint32_t end_seq;  /* sequence number just past the last byte held */
	uint32_t ack;	   /* the peer's last acknowledgement (with ack_set) */
	uint8_t ack_set, ngap;
	struct {
		uint32_t at, len; /* len missing bytes before buf[at] */
	} gap[RP_GAPS];
};

struct eng_flow {
	uint32_t flags;
	uint8_t ntxd, txd_next;
	uint32_t tag_head; /* session tags (tag.c pool index + 1), 0 none */
	uint32_t tail_len[2], tail_cap[2];
	uint32_t tail_skip[2]; /* leading tail bytes not to match on (before a gap) */
	uint8_t *tail[2];
	struct raw_pend rp[2];
	struct {
		uint64_t tx;
		uint32_t num;
	} txd[EF_TXD];	/* (tx, signature) pairs that alerted: once per transaction */
	uint8_t data[]; /* flowbits, flowint set bits, then flowint values (uint32) */
};

/* ------------------------------------------------------------ per thread */

#define AF_TX	  0x1u
#define AF_STREAM 0x2u
#define AF_EOF	  0x4u /* flow end (pseudo packet) */
/* tx alert waiting for the flow's next packet of its direction (p NULL until then) */
#define AF_DEFER 0x8u

#define NOTX UINT64_MAX

struct eng_alert {
	uint32_t num;
	uint8_t flags; /* AF_* */
	uint8_t dir;
	uint64_t tx_id;
	struct nj_flow *f;
	const struct nj_pkt *p; /* NULL: no packet (flow end, tx without packet) */
	const char *meta_key;	/* app-layer object ("dns") in t->meta, NULL none */
	uint32_t meta_off, meta_len;
	uint32_t burst; /* AF_DEFER: the burst it was raised in (t->burst_no) */
	char xff[48];	/* client address from the transaction's XFF header ("" none) */
};

/* Per-thread arena for the app-layer objects of pending alerts. */
#define ALERT_META_ARENA (1u << 20)

#define PEND_MAX 256

#define CHUNK_ARENA_MAX (8u << 20)
struct pchunk {
	const struct nj_pkt *p;
	struct nj_flow *f;
	const uint8_t *ptr; /* in the packet's payload, else NULL: carena + off */
	uint32_t off, len;
	uint8_t dir, done;
};

struct thr_entry {
	uint32_t num1; /* signature num + 1, 0 = free */
	uint32_t count;
	uint64_t tv1_us;
	uint64_t next; /* backoff: next count that alerts */
	uint8_t key[32];
};

struct nj_detect_thread {
	const struct nj_detect_engine *e;
	struct nj_eve_worker *eve;
	struct nj_files *files; /* filestore rules mark files here (may be NULL) */
	struct nj_detect_stats st;
	struct nj_detect_ctx *ctx;
	hs_scratch_t *scratch;

	/* candidates */
	uint32_t *cand, ncand;
	uint32_t *stamp, gen;

	/* transform scratch */
	uint8_t *tfbuf, *tftmp;
	char *meta; /* ALERT_META_ARENA bytes: app-layer objects of pend[] */
	uint32_t meta_used;
	uint32_t tfcap;

	/* stream scratch */
	uint8_t *sbuf;
	uint32_t scap;
	uint64_t tail_mem;
	/* stream data waiting for its packet's detection pass */
	bool defer_null; /* flow end: alerts without a packet wait for nj_detect_flow_end */
	struct pchunk chunk[64];
	unsigned nchunk;
	uint8_t *carena;
	uint32_t clen, ccap;

	/* alerts */
	struct eng_alert pend[PEND_MAX];
	unsigned npend;
	const struct nj_pkt *app_pkt;	/* packet given to the app-layer (tx alerts) */
	const struct nj_pkt *app_burst; /* the burst app_pkt is in (nj_detect_app_burst) */
	uint16_t app_n;
	unsigned ndefer;   /* pending alerts with AF_DEFER */
	uint32_t burst_no; /* bursts inspected (deferred alerts wait for a later one) */
	/* app_proto of each packet's flow right after the app-layer saw it */
	struct {
		const struct nj_pkt *p;
		struct nj_flow *f;
		uint16_t app;
	} snap[2 * NJ_BURST];
	unsigned nsnap, snap_cur;
	int cur_app; /* app_proto for the packet being inspected, -1: the flow's */

	/* flow states */
	uint32_t flow_states;

	/* thresholds */
	struct thr_entry *thr;
	struct nj_tag_thread *tag; /* NULL: no signature uses tag */

	/* pseudo packet for flow-end / tx inspection without a packet */
	struct nj_pkt pseudo;
	uint8_t pseudo_hdr[64];
};

/* prefilter.c */
struct pf_pattern {
	const uint8_t *bytes;
	uint32_t len;
	uint32_t offset, depth; /* absolute placement, 0 = none */
	bool nocase;
	uint32_t num;
};
/*
 * Compiles the patterns into db (inst/base set by the caller). Patterns whose
 * compilation fails are reported (with their signatures' sids) on stderr and
 * their signature nums are returned in *dropped (malloc'ed, *ndropped): the
 * caller evaluates those signatures without prefilter. Returns 0 or -1.
 */
int nj_pf_build(const struct nj_detect_engine *e, struct pf_db *db, struct pf_pattern *pats,
		uint32_t n, bool bounds, bool vectored, uint32_t **dropped, uint32_t *ndropped);
void nj_pf_free(struct pf_db *db);
int nj_pf_scratch(struct nj_detect_engine *e, const struct pf_db *db);

/* engine_ip.c */
int nj_iponly_build(struct nj_detect_engine *e, const uint32_t *nums, uint32_t n);
void nj_iponly_free(struct nj_detect_engine *e);
void nj_iponly_candidates(const struct nj_detect_engine *e, const struct nj_pkt *p,
			  const uint32_t **v0, uint32_t *n0, const uint32_t **v1, uint32_t *n1,
			  const uint32_t **al, uint32_t *nal);

/* engine_run.c */
void nj_eng_flow_free(struct nj_detect_thread *t, struct nj_flow *f);
const struct nj_pkt *nj_eng_pseudo_fill(struct nj_pkt *p, uint8_t hdr[64], const struct nj_flow *f,
					int dir);

/* alert.c */
int nj_alert_opts_load(const struct nj_conf *conf, struct alert_opts *ao);
void nj_alert_add(struct nj_detect_thread *t, uint32_t num, struct nj_flow *f,
		  const struct nj_pkt *p, int dir, uint64_t tx_id, unsigned flags);
/* Finalizes (sorts, thresholds, pass, writes) pending alerts of packet p (NULL: those without). */
/* Renders the transaction's app-layer object (parser's alert_json) for the last queued alert. */
/* nj_eve_flow_meta_fn of a detection thread (arg): "traffic" and "metadata" of a flow. */
void nj_alert_flow_meta(void *arg, struct nj_json *j, const struct nj_flow *f,
			const struct nj_pkt *p);
void nj_alert_tx_meta(struct nj_detect_thread *t, const struct nj_app_parser *p,
		      const struct nj_flow *f, const struct nj_al_tx *tx, int dir);
/* The XFF address of the transaction (parser's alert_xff) for the last queued alert. */
void nj_alert_tx_xff(struct nj_detect_thread *t, const struct nj_app_parser *p,
		     const struct nj_al_tx *tx);
void nj_alert_flush_pkt(struct nj_detect_thread *t, const struct nj_pkt *p);
/* The same for alerts of flow f without a packet. */
void nj_alert_flush_null(struct nj_detect_thread *t, const struct nj_flow *f);
void nj_alert_flush_all(struct nj_detect_thread *t);
/* Deferred tx alerts (AF_DEFER) of p's flow and direction are now p's. */
void nj_alert_adopt(struct nj_detect_thread *t, const struct nj_pkt *p);
/* Flow end: the deferred alerts of f are logged without a packet. */
void nj_alert_flush_deferred(struct nj_detect_thread *t, const struct nj_flow *f);
/* EVE "packet" event for a tagged packet (Suricata's alert output, tagged-packets). */
void nj_alert_write_packet(struct nj_detect_thread *t, const struct nj_pkt *p);
struct eng_flow *nj_eng_flow_get(struct nj_detect_thread *t, struct nj_flow *f);

#endif
