/* SPDX-License-Identifier: MIT */
/*
 * DNS (UDP and TCP): wire decoding, transactions, detection buffers and the
 * EVE "dns" writer (Suricata 8's version 3 layout, version 2 by config).
 *
 * Wire decoding follows Suricata's rules so that what is logged and which
 * anomalies fire are the same: a name is its labels joined by '.', raw
 * (bytes are escaped only when written to JSON); it is cut at 1025 bytes
 * (name_too_long), at most 255 labels and pointers are followed
 * (too_many_labels) and a pointer to itself ends the name (infinite_loop).
 * A message whose questions or answers do not parse is malformed and yields
 * no transaction; a bad authority or additional section only empties that
 * section (invalid_authorities / invalid_additionals).
 *
 * Transactions: by default a request and its response (same DNS id and
 * question) share one transaction, done[0] on the request and done[1] on the
 * response; a response without a request is a transaction of its own;
 * requests unanswered at close(), after app-layer.protocols.dns.request-timeout
 * or pushed out by the per-flow cap (app-layer.protocols.dns.max-tx, event
 * "flooded") are completed without a response. With
 * app-layer.protocols.dns.transactions: message every message is its own
 * transaction, complete at once (Suricata 8's model: events are then written
 * when the message is seen, with Suricata's tx ids).
 */
#ifndef NJ_DNS_H
#define NJ_DNS_H

#include <stdbool.h>
#include <stdint.h>

#include "../applayer.h"

/* ------------------------------------------------------------------ wire */

#define NJ_DNS_HDR_LEN	  12
#define NJ_DNS_NAME_MAX	  1025 /* decoded name length kept (Suricata's, from dnsmasq) */
#define NJ_DNS_LABELS_MAX 255  /* labels and pointers followed per name */

/* Name flags (Suricata's DNSNameFlags). */
#define NJ_DNS_NAME_INFINITE_LOOP 0x01u
#define NJ_DNS_NAME_TRUNCATED	  0x02u
#define NJ_DNS_NAME_LABEL_LIMIT	  0x04u

/* RR types with a name here (the ones decoded or logged specially). */
enum {
	NJ_DNS_T_A = 1,
	NJ_DNS_T_NS = 2,
	NJ_DNS_T_CNAME = 5,
	NJ_DNS_T_SOA = 6,
	NJ_DNS_T_NULL = 10,
	NJ_DNS_T_PTR = 12,
	NJ_DNS_T_MX = 15,
	NJ_DNS_T_TXT = 16,
	NJ_DNS_T_AAAA = 28,
	NJ_DNS_T_SRV = 33,
	NJ_DNS_T_OPT = 41,
	NJ_DNS_T_DS = 43,
	NJ_DNS_T_SSHFP = 44,
	NJ_DNS_T_RRSIG = 46,
	NJ_DNS_T_NSEC = 47,
	NJ_DNS_T_DNSKEY = 48,
	NJ_DNS_T_SVCB = 64,
	NJ_DNS_T_HTTPS = 65,
	NJ_DNS_T_CAA = 257,
};

struct nj_dns_hdr {
	uint16_t id, flags;
	uint16_t qdcount, ancount, nscount, arcount;
};

/* A decoded name: up to NJ_DNS_NAME_MAX bytes (room for one label more, and slack, while decoding). */
struct nj_dns_name {
	uint16_t len;
	uint8_t flags; /* NJ_DNS_NAME_* */
	uint8_t data[NJ_DNS_NAME_MAX + 80];
};

/* The fixed part of a resource record; rdata is msg[rdata_off, rdata_off + rdata_len). */
struct nj_dns_rr {
	uint16_t type, rclass;
	uint32_t ttl;
	uint32_t rdata_off;
	uint16_t rdata_len;
};

/* Sections of a message. */
enum { NJ_DNS_SEC_QD = 0, NJ_DNS_SEC_AN, NJ_DNS_SEC_NS, NJ_DNS_SEC_AR, NJ_DNS_SEC_MAX };

/* What a full parse of one message found. */
struct nj_dns_info {
	struct nj_dns_hdr hdr;
	uint32_t off[NJ_DNS_SEC_MAX];	/* where each section starts */
	uint16_t count[NJ_DNS_SEC_MAX]; /* records usable per section (0 when invalid) */
	uint8_t name_flags;		/* union of the flags of every name decoded */
	bool invalid_authorities, invalid_additionals;
	uint16_t qtype, qclass; /* first question, when qdcount > 0 */
};

/* Message parse results. */
#define NJ_DNS_OK	     0
#define NJ_DNS_ERR_HEADER    (-1) /* too short or counts impossible (Suricata: header validation) */
#define NJ_DNS_ERR_MALFORMED (-2) /* a question or an answer does not parse */

/* Header; -1 if len < 12. */
int nj_dns_hdr_parse(const uint8_t *msg, uint32_t len, struct nj_dns_hdr *h);
/* Suricata's plausibility check of the header against the message length. */
bool nj_dns_hdr_plausible(const struct nj_dns_hdr *h, uint32_t len);

/*
 * Decodes the name at msg[pos]: labels are read up to end (<= len, the end of
 * the enclosing rdata or of the message), pointers may go anywhere in
 * msg[0, len). *next gets the offset after the name (after the first
 * pointer when one was followed). Returns 0, or -1 when the name is
 * malformed (runs out of data, bad label type, pointer past the message, or a
 * loop/label limit before any pointer was followed).
 */
int nj_dns_name_decode(const uint8_t *msg, uint32_t len, uint32_t pos, uint32_t end,
		       struct nj_dns_name *out, uint32_t *next);

/* Reads the question at *pos (advanced past it). 0 or -1. */
int nj_dns_question_read(const uint8_t *msg, uint32_t len, uint32_t *pos, struct nj_dns_name *name,
			 uint16_t *type, uint16_t *rclass);
/* Reads the resource record at *pos (advanced past it), owner name into name. 0 or -1. */
int nj_dns_rr_read(const uint8_t *msg, uint32_t len, uint32_t *pos, struct nj_dns_name *name,
		   struct nj_dns_rr *rr);
/* The same without decoding the owner name (walking a section). 0 or -1. */
int nj_dns_rr_next(const uint8_t *msg, uint32_t len, uint32_t *pos, struct nj_dns_rr *rr);
/*
 * Checks rdata the way Suricata parses it (names of CNAME/NS/PTR/MX/SOA/SRV,
 * TXT strings, SSHFP and OPT layout); other types always pass. Name flags
 * found are or-ed into *name_flags. 0 or -1.
 */
int nj_dns_rdata_check(const uint8_t *msg, uint32_t len, const struct nj_dns_rr *rr,
		       uint8_t *name_flags);

/*
 * Parses a whole message. qname (may be NULL) gets the first question's name.
 * Returns NJ_DNS_OK, NJ_DNS_ERR_HEADER or NJ_DNS_ERR_MALFORMED.
 */
int nj_dns_msg_parse(const uint8_t *msg, uint32_t len, struct nj_dns_info *info,
		     struct nj_dns_name *qname);

/* Suricata's names: "A", "CNAME", ..., or NULL for types it prints as numbers. */
const char *nj_dns_type_name(uint16_t type);
/* Type name into buf (the number when unnamed); returns buf or a constant. */
const char *nj_dns_type_str(uint16_t type, char buf[8]);
/* "NOERROR", "NXDOMAIN", ... for rcode 0..10, else NULL. */
const char *nj_dns_rcode_name(unsigned rcode);

/* ------------------------------------------------------------ transactions */

/* One DNS message as it arrived. */
struct nj_dns_msg {
	uint64_t ts_us;
	uint64_t seq; /* messages parsed before it in the flow: Suricata's tx_id */
	struct nj_dns_info info;
	uint8_t dir;	     /* direction it arrived in (flow orientation) */
	uint8_t qname_flags; /* first question's name flags */
	uint16_t qname_len;
	const uint8_t *qname; /* first question's decoded name (in this allocation) */
	uint32_t len;
	uint8_t data[]; /* the message, then the decoded name */
};

struct nj_dns_tx {
	struct nj_al_tx al; /* first */
	struct nj_dns_msg *req, *resp;
	bool unanswered; /* completed without a response (close, timeout, cap) */
};

static inline const struct nj_dns_tx *nj_dns_tx_of(const struct nj_al_tx *tx)
{
	return (const struct nj_dns_tx *)tx;
}

/*
 * The message of a transaction for a detection direction: the request for
 * NJ_DIR_TOSERVER, the response for NJ_DIR_TOCLIENT; NULL if absent. The
 * dns.opcode / dns.rcode / dns.rrtype keywords read header fields
 * (info.hdr.flags: opcode = (flags >> 11) & 15, rcode = flags & 15) and walk
 * sections with nj_dns_question_read / nj_dns_rr_read from info.off[].
 */
const struct nj_dns_msg *nj_dns_tx_msg(const struct nj_al_tx *tx, int dir);

/* ------------------------------------------------------------------ config */

/* Settings read by configure() (read-only afterwards). */
struct nj_dns_config {
	/* EVE: outputs.*.eve-log.types[dns] */
	uint8_t version;     /* 2 or 3 */
	bool requests;	     /* requests: (v1 name query:) */
	bool responses;	     /* responses: (v1 name answer:) */
	bool detailed;	     /* formats: detailed -> answers[] */
	bool grouped;	     /* formats: grouped -> grouped{} */
	bool all_types;	     /* no types: filter */
	uint64_t type_mask;  /* types: filter, bit per Suricata's type table */
	bool rdata_extended; /* rdata text for types Suricata leaves bare (DS, RRSIG, HTTPS, ...) */
	/* Parser: app-layer.protocols.dns */
	bool paired;		    /* transactions: paired (default) | message */
	uint32_t max_tx;	    /* transactions kept per flow */
	uint32_t request_timeout_s; /* paired: requests unanswered this long are completed */
};

void nj_dns_config_defaults(struct nj_dns_config *c);
/* Installs c (start-up / tests only: not while workers run). */
void nj_dns_config_set(const struct nj_dns_config *c);
const struct nj_dns_config *nj_dns_config_get(void);
struct nj_conf;
struct nj_conf_node;
/*
 * Reads the dns entry of one eve-log node (outputs.N.eve-log) into c: values
 * of absent keys are kept, the version falls back to the environment
 * variable SURICATA_EVE_DNS_VERSION as in Suricata. eve may be NULL. 0, or -1
 * after printing the reason. configure() applies the first eve-log listing dns.
 */
int nj_dns_config_eve(const struct nj_conf *conf, const struct nj_conf_node *eve,
		      struct nj_dns_config *c);
/* Parses a types: list entry ("a", "aaaa", "https"...); false if unknown. */
bool nj_dns_type_filter_bit(const char *name, uint64_t *bit);
/* Is rrtype logged under config c? */
bool nj_dns_type_enabled(const struct nj_dns_config *c, uint16_t type);

/* The "dns" object of alerts on a transaction (dns_log.c). */
void nj_dns_alert_json(struct nj_json *j, const struct nj_al_tx *tx, int dir);
/* Multi-buffers over the names of a message (dns_detect.c). */
extern const struct nj_al_multibuffer nj_dns_multi_buffers[];

/* The registered parser (its ops are the ones the framework calls). */
extern struct nj_app_parser nj_dns_parser;

/* EVE writer (dns_log.c), the parser's log_tx. */
void nj_dns_log_tx(struct nj_al_log *lg, const struct nj_flow *f, const struct nj_al_tx *tx);
/* The same, one direction at a time (the framework's log_tx_dir): 0 request, 1 response. */
void nj_dns_log_tx_dir(struct nj_al_log *lg, const struct nj_flow *f, const struct nj_al_tx *tx,
		       int dir);

#endif
