/* SPDX-License-Identifier: MIT */
/*
 * The Suricata rule language: rules are parsed once at start-up into compiled
 * signatures (struct nj_detect_sig) that the engine (prefilter, per-packet and
 * per-transaction evaluation) reads without locks from every core.
 *
 * Shape of a compiled signature:
 *  - header: action, IP protocols (a 256-bit set), app-layer protocol name,
 *    address and port sets as sorted disjoint ranges, direction;
 *  - one inspection list per buffer instance (a buffer such as http.uri plus
 *    the transforms applied to it): an ordered array of elements (content,
 *    pcre, byte_*, isdataat, bsize, urilen) evaluated by
 *    nj_detect_inspect_buffer() with Suricata's semantics;
 *  - packet-level checks (ttl, flags, dsize, itype, ...) as (fn, ctx) pairs
 *    evaluated by nj_detect_match_pkt();
 *  - flow conditions, flowbits/flowint/xbits operations, threshold,
 *    app-layer events: stored for the engine;
 *  - the fast pattern: the content the prefilter should look for, per list.
 *
 * Keywords and buffers are registered by constructors (NJ_DETECT_KEYWORD,
 * NJ_DETECT_BUFFER) from the files that implement them; there is no central
 * list. Protocol parsers may register the buffers they offer the same way.
 *
 * Everything here is read-only after nj_detect_load(); per-core scratch lives
 * in struct nj_detect_ctx (byte_extract variables, PCRE2 match data).
 */
#ifndef NJ_DETECT_H
#define NJ_DETECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct nj_conf;
struct nj_pkt;

/* ------------------------------------------------------------ buffers */

/* Built-in buffer ids: the packet payload and the reassembled stream. */
#define NJ_DETECT_BUF_PKT	0
#define NJ_DETECT_BUF_STREAM	1
#define NJ_DETECT_MAX_BUFFERS	256
#define NJ_DETECT_MAX_TRANSFORM 4

/* nj_detect_buffer.flags */
#define NJ_BUFF_TOSERVER  0x01u /* exists in the request direction */
#define NJ_BUFF_TOCLIENT  0x02u /* exists in the response direction */
#define NJ_BUFF_LOWERCASE 0x04u /* data is normalised to lowercase (http.host) */
#define NJ_BUFF_PACKET	  0x08u /* derived from the packet (pkt, ipv4.hdr, tcp.hdr) */
#define NJ_BUFF_MULTI	  0x10u /* several instances per transaction (tls.certs, dns answers) */
#define NJ_BUFF_FILE	  0x20u /* file data / file properties */
/* a signature on it alerts once per direction of a transaction, as Suricata's
 * smb.version and dcerpc keywords (inspected in both directions) do */
#define NJ_BUFF_EACH_DIR 0x40u

struct nj_detect_buffer {
	const char *name;      /* Suricata's sticky-buffer name: "http.uri" */
	const char *app_proto; /* protocol a rule using it implies ("http"), NULL: any */
	uint32_t flags;	       /* NJ_BUFF_* */
	uint16_t id;	       /* assigned at registration */
};

/* Registration from a constructor; returns the id, or -1 if the table is full. */
int nj_detect_buffer_register(struct nj_detect_buffer *b);
#define NJ_DETECT_BUFFER(id_, name_, proto_, flags_)                                     \
	static struct nj_detect_buffer nj_detect_buf_##id_ = {name_, proto_, flags_, 0}; \
	__attribute__((constructor)) static void nj_detect_buf_reg_##id_(void)           \
	{                                                                                \
		nj_detect_buffer_register(&nj_detect_buf_##id_);                         \
	}
/* Id of a registered buffer name, -1 if unknown. */
int nj_detect_buffer_id(const char *name);
const struct nj_detect_buffer *nj_detect_buffer_get(unsigned id);
unsigned nj_detect_buffer_count(void);

/* Transforms applied to a buffer before inspection (dotprefix, to_lowercase, ...). */
enum nj_detect_tf_type {
	NJ_TF_DOTPREFIX = 1,
	NJ_TF_TO_LOWER,
	NJ_TF_TO_UPPER,
	NJ_TF_STRIP_WS,
	NJ_TF_COMPRESS_WS,
	NJ_TF_URL_DECODE,
	NJ_TF_TO_MD5,
	NJ_TF_TO_SHA1,
	NJ_TF_TO_SHA256,
	NJ_TF_XOR,
	NJ_TF_HEADER_LOWER,
	NJ_TF_STRIP_PSEUDO,
	NJ_TF_DOMAIN,	 /* registrable domain (Public Suffix List) */
	NJ_TF_TLD,	 /* public suffix */
	NJ_TF_PCREXFORM, /* the regex's first capture group (re) */
};

struct nj_detect_tf {
	uint8_t type;	 /* enum nj_detect_tf_type */
	uint8_t arg_len; /* xor key length */
	uint8_t arg[32]; /* xor key */
	const void *re;	 /* pcrexform: pcre2_code, owned by the rule set */
};

/*
 * A buffer instance: a base buffer and the transforms applied to it, in
 * order. Rule lists refer to instances; instances are per rule set (ids are
 * dense from 0). Instance i < nj_detect_buffer_count() is never assumed to be
 * base buffer i: use .base.
 */
struct nj_detect_bufinst {
	uint16_t base; /* nj_detect_buffer id */
	uint8_t ntf;
	struct nj_detect_tf tf[NJ_DETECT_MAX_TRANSFORM];
};

/*
 * Applies inst's transforms to in. out must hold at least
 * nj_detect_transform_max(len) bytes. Returns the output length. With no
 * transform the data is copied.
 */
uint32_t nj_detect_transform(const struct nj_detect_bufinst *inst, const uint8_t *in, uint32_t len,
			     uint8_t *out, uint8_t *tmp);
/* domain / tld transforms (tf_domain.c): the output length, 0 when there is none. */
uint32_t nj_detect_tf_domain(const uint8_t *in, uint32_t n, uint8_t *out, bool tld);
/* pcrexform (kw_pcrexform.c): writes the first capture group of re on in to
 * out (at most n bytes), or in unchanged when the regex does not match. */
uint32_t nj_detect_pcrexform(const void *re, const uint8_t *in, uint32_t n, uint8_t *out);
static inline uint32_t nj_detect_transform_max(uint32_t len)
{
	return 2 * len + 64; /* dotprefix adds one byte, hashes are at most 64 */
}

/* ------------------------------------------------------------ keywords */

struct nj_detect_parse; /* one rule being parsed (detect_int.h) */

/* nj_detect_keyword.flags */
#define NJ_KWF_NOVALUE	    0x0001u /* takes no value ("nocase;") */
#define NJ_KWF_VALUE	    0x0002u /* needs a value */
#define NJ_KWF_OPTVALUE	    0x0004u /* value optional */
#define NJ_KWF_STICKY	    0x0008u /* selects the buffer for what follows (http.uri) */
#define NJ_KWF_MODIFIER	    0x0010u /* modifies the previous content (nocase, http_uri) */
#define NJ_KWF_TRANSFORM    0x0020u /* transforms the current sticky buffer */
#define NJ_KWF_QUOTED	    0x0040u /* value must be double quoted (content, pcre) */
#define NJ_KWF_STRIP_QUOTES 0x0080u /* optional quotes around the value are removed */
#define NJ_KWF_ENGINE	    0x0100u /* parsed and stored; evaluated by the engine (flowbits) */
#define NJ_KWF_IGNORED	    0x0200u /* parsed, no effect on matching (tag) */
#define NJ_KWF_UNSUPPORTED  0x0400u /* known but not implemented: the rule is skipped */

struct nj_detect_keyword {
	const char *name;
	const char *const *aliases; /* NULL-terminated list, or NULL */
	uint32_t flags;		    /* NJ_KWF_* */
	/* value: the option value with escapes kept (quotes stripped if
	 * NJ_KWF_QUOTED / STRIP_QUOTES), writable; NULL without value.
	 * Returns 0, or -1 after nj_detect_fail() / nj_detect_unsupported(). */
	int (*parse)(struct nj_detect_parse *ps, const struct nj_detect_keyword *kw, char *value);
	uintptr_t arg; /* for shared parse functions (a buffer name, a mode) */
	const char *doc;
	struct nj_detect_keyword *next;
};

void nj_detect_keyword_register(struct nj_detect_keyword *kw);
#define NJ_DETECT_KEYWORD(id_, ...)                                           \
	static struct nj_detect_keyword nj_detect_kw_##id_ = {__VA_ARGS__};   \
	__attribute__((constructor)) static void nj_detect_kw_reg_##id_(void) \
	{                                                                     \
		nj_detect_keyword_register(&nj_detect_kw_##id_);              \
	}
/* By name or alias; NULL if unknown. */
const struct nj_detect_keyword *nj_detect_keyword_find(const char *name);
/* Every registered keyword (registration order is unspecified). */
void nj_detect_keyword_foreach(void (*fn)(void *arg, const struct nj_detect_keyword *kw),
			       void *arg);

/* ------------------------------------------------------------ header data */

enum nj_detect_action {
	NJ_ACT_ALERT = 0,
	NJ_ACT_DROP,
	NJ_ACT_PASS,
	NJ_ACT_REJECT,
	NJ_ACT_REJECTSRC,
	NJ_ACT_REJECTDST,
	NJ_ACT_REJECTBOTH,
	NJ_ACT_CONFIG,
};
extern const char *const nj_detect_action_names[];

/* Address set: sorted, disjoint, merged ranges per family (host order for v4). */
struct nj_detect_v4range {
	uint32_t lo, hi;
};
struct nj_detect_v6range {
	uint8_t lo[16], hi[16];
};
struct nj_detect_addrs {
	uint32_t n4, n6;
	struct nj_detect_v4range *v4;
	struct nj_detect_v6range *v6;
	bool any; /* every address of both families: no lookup needed */
};
bool nj_detect_addr_match(const struct nj_detect_addrs *a, const uint8_t *addr, unsigned alen);

/* Port set: sorted disjoint ranges. */
struct nj_detect_portrange {
	uint16_t lo, hi;
};
struct nj_detect_ports {
	uint32_t n;
	struct nj_detect_portrange *r;
	bool any;
};
bool nj_detect_port_match(const struct nj_detect_ports *p, uint16_t port);

/* Generic unsigned comparison (ttl, dsize, bsize, itype, ...), Suricata's forms:
 * N, <N, >N, <=N, >=N, !N, N-M and N<>M (exclusive), !N-M. */
enum nj_detect_uop {
	NJ_UOP_EQ = 0,
	NJ_UOP_LT,
	NJ_UOP_LE,
	NJ_UOP_GT,
	NJ_UOP_GE,
	NJ_UOP_NE,
	NJ_UOP_RANGE,	 /* a < v < b */
	NJ_UOP_NOTRANGE, /* !(a < v < b) */
};
struct nj_detect_u64 {
	uint8_t op;
	uint64_t a, b;
};
static inline bool nj_detect_u64_match(const struct nj_detect_u64 *u, uint64_t v)
{
	switch (u->op) {
	case NJ_UOP_EQ: return v == u->a;
	case NJ_UOP_LT: return v < u->a;
	case NJ_UOP_LE: return v <= u->a;
	case NJ_UOP_GT: return v > u->a;
	case NJ_UOP_GE: return v >= u->a;
	case NJ_UOP_NE: return v != u->a;
	case NJ_UOP_RANGE: return v > u->a && v < u->b;
	case NJ_UOP_NOTRANGE: return !(v > u->a && v < u->b);
	}
	return false;
}
/* Parses s into u with values in [0, max]; 0 or -1 (reason in err). */
int nj_detect_u64_parse(const char *s, uint64_t max, struct nj_detect_u64 *u, char *err,
			size_t errlen);
/* Largest value u can match (for "content longer than bsize" checks); -1 unbounded. */
int64_t nj_detect_u64_max(const struct nj_detect_u64 *u);

/* ------------------------------------------------------------ inspection lists */

/* Byte_extract / byte_math variables per signature. */
#define NJ_DETECT_MAX_VARS 16

/* Inspection element types. */
enum nj_detect_el_type {
	NJ_EL_CONTENT = 1,
	NJ_EL_PCRE,
	NJ_EL_BYTE_TEST,
	NJ_EL_BYTE_JUMP,
	NJ_EL_BYTE_EXTRACT,
	NJ_EL_BYTE_MATH,
	NJ_EL_ISDATAAT,
	NJ_EL_BSIZE,
	NJ_EL_URILEN,
	NJ_EL_EXT,	 /* a check implemented outside detect/ (dataset) */
	NJ_EL_B64DECODE, /* base64_decode: decodes into the per-core base64 buffer */
	NJ_EL_B64DATA,	 /* base64_data: the elements after it inspect that buffer */
};

/* base64_decode options (Suricata's: bytes 0 = to the end of the buffer). */
struct nj_detect_b64dec {
	uint32_t bytes, offset;
	bool relative;
};
/* Output bytes kept per decode (per core). */
#define NJ_DETECT_B64_MAX 65536
/*
 * Suricata's lenient base64 for base64_decode: stops at the first character
 * outside the alphabet or at '=', keeps a trailing partial group's whole
 * bytes. Returns the bytes written to out (at most cap).
 */
uint32_t nj_detect_b64_decode(const uint8_t *in, uint32_t len, uint8_t *out, uint32_t cap);

/* An element evaluated by a function: true if buf[0..len) satisfies it.
 * May have side effects (dataset:set); must be safe from every core. */
struct nj_detect_ext {
	bool (*match)(const void *ctx, const uint8_t *buf, uint32_t len);
	const void *ctx;
};

/* content flags */
#define NJ_CF_NOCASE	 0x00001u
#define NJ_CF_NEGATED	 0x00002u
#define NJ_CF_OFFSET	 0x00004u
#define NJ_CF_DEPTH	 0x00008u
#define NJ_CF_DISTANCE	 0x00010u
#define NJ_CF_WITHIN	 0x00020u
#define NJ_CF_STARTSWITH 0x00040u
#define NJ_CF_ENDSWITH	 0x00080u
#define NJ_CF_FP	 0x00100u /* fast_pattern given */
#define NJ_CF_FP_ONLY	 0x00200u /* fast_pattern:only (accepted, treated as fast_pattern) */
#define NJ_CF_FP_CHOP	 0x00400u /* fast_pattern:a,b */
#define NJ_CF_RAWBYTES	 0x00800u
#define NJ_CF_OFFSET_VAR 0x01000u /* offset/depth/distance/within hold a variable index */
#define NJ_CF_DEPTH_VAR	 0x02000u
#define NJ_CF_DIST_VAR	 0x04000u
#define NJ_CF_WITHIN_VAR 0x08000u
#define NJ_CF_RETRY \
	0x10000u		 /* a later element depends on this match: on its failure,
				   * look for the next occurrence (Suricata's WITHIN_NEXT) */
#define NJ_CF_DIST_NEXT 0x20000u /* a later content is relative by distance only */

/* Single-pattern search context: folded pattern and Horspool shift table. */
struct nj_detect_search {
	const uint8_t *pat; /* as written (case-sensitive) or lowercased (nocase) */
	uint32_t len;
	bool nocase;
	uint16_t *shift; /* 256 entries, NULL for short patterns */
};
/* First occurrence of the pattern in buf[0..len), or NULL. */
const uint8_t *nj_detect_search(const struct nj_detect_search *s, const uint8_t *buf, uint32_t len);
int nj_detect_search_init(struct nj_detect_search *s, const uint8_t *pat, uint32_t len,
			  bool nocase);
void nj_detect_search_free(struct nj_detect_search *s);

struct nj_detect_content {
	struct nj_detect_search srch;
	uint8_t *bytes; /* the pattern as written */
	uint32_t len;
	uint32_t flags;				 /* NJ_CF_* */
	int32_t offset, depth, distance, within; /* or variable indexes (NJ_CF_*_VAR) */
	uint16_t chop_off, chop_len;		 /* fast_pattern:off,len */
};

/* pcre flags */
#define NJ_PCRE_NEGATED	 0x01u
#define NJ_PCRE_RELATIVE 0x02u
#define NJ_PCRE_RETRY	 0x04u /* a later relative element depends on this match */
#define NJ_PCRE_CASELESS 0x08u

struct nj_detect_pcre {
	void *code; /* pcre2_code * */
	uint32_t flags;
	char *text; /* the regex as written, for messages */
};

/* byte_* flags */
#define NJ_BF_RELATIVE	 0x0001u
#define NJ_BF_LITTLE	 0x0002u
#define NJ_BF_STRING	 0x0004u
#define NJ_BF_ALIGN	 0x0008u
#define NJ_BF_BEGIN	 0x0010u /* byte_jump from_beginning */
#define NJ_BF_END	 0x0020u /* byte_jump from_end */
#define NJ_BF_BITMASK	 0x0040u
#define NJ_BF_NEGOP	 0x0080u /* byte_test "!op" */
#define NJ_BF_DCE	 0x0100u
#define NJ_BF_OFFSET_VAR 0x0200u
#define NJ_BF_VALUE_VAR	 0x0400u /* byte_test value / byte_math rvalue is a variable */
#define NJ_BF_NBYTES_VAR 0x0800u

enum nj_detect_byteop {
	NJ_BOP_EQ = 0,
	NJ_BOP_LT,
	NJ_BOP_GT,
	NJ_BOP_LE,
	NJ_BOP_GE,
	NJ_BOP_AND,
	NJ_BOP_XOR,
	/* byte_math */
	NJ_BOP_ADD,
	NJ_BOP_SUB,
	NJ_BOP_MUL,
	NJ_BOP_DIV,
	NJ_BOP_SHL,
	NJ_BOP_SHR,
};

struct nj_detect_byte {
	uint16_t flags;	  /* NJ_BF_* */
	uint8_t nbytes;	  /* or variable index (NJ_BF_NBYTES_VAR) */
	uint8_t base;	  /* 8, 10, 16 for string */
	uint8_t op;	  /* enum nj_detect_byteop (byte_test, byte_math) */
	uint8_t var;	  /* byte_extract / byte_math result variable */
	uint8_t shift;	  /* bitmask trailing zeros */
	int32_t offset;	  /* or variable index */
	uint64_t value;	  /* byte_test value / byte_math rvalue, or variable index */
	uint64_t bitmask; /* NJ_BF_BITMASK */
	uint32_t multiplier;
	int32_t post_offset;
	uint32_t align; /* byte_extract align 2/4 */
};

/* isdataat flags */
#define NJ_IDA_RELATIVE 0x1u
#define NJ_IDA_NEGATED	0x2u
#define NJ_IDA_VAR	0x4u

struct nj_detect_isdataat {
	uint32_t flags;
	uint32_t dataat; /* or variable index */
};

struct nj_detect_el {
	uint8_t type; /* enum nj_detect_el_type */
	union {
		struct nj_detect_content *content;
		struct nj_detect_pcre *pcre;
		struct nj_detect_byte *byte;
		struct nj_detect_isdataat *isdataat;
		struct nj_detect_u64 *size; /* bsize, urilen */
		const struct nj_detect_ext *ext;
		const struct nj_detect_b64dec *b64;
		void *ptr;
	} u;
};

/* One inspection list: the elements to evaluate on one buffer instance. */
#define NJ_ABSENT	  1 /* absent: the buffer must not exist (no keywords) */
#define NJ_ABSENT_OR_ELSE 2 /* absent:or_else: missing, or its keywords match */

struct nj_detect_list {
	uint16_t inst;	/* nj_detect_bufinst index in the rule set */
	uint8_t absent; /* NJ_ABSENT* (transaction buffers), 0 = must exist */
	uint16_t n;
	struct nj_detect_el *el;
};

/* The pattern the prefilter should look for in one list. */
struct nj_detect_fp {
	uint16_t inst;	      /* buffer instance (same as the list's) */
	uint16_t list;	      /* index in sig->lists */
	uint16_t el;	      /* element index of the content in that list */
	const uint8_t *bytes; /* pattern (after chop) */
	uint32_t len;
	bool nocase;
	bool negated_only; /* only negated contents: the prefilter cannot help */
	/* Absolute placement when known (offset/depth of a non-relative content),
	 * else offset 0 / depth 0 (anywhere). */
	uint32_t offset, depth;
};

/* ------------------------------------------------------------ packet-level checks */

struct nj_detect_pmatch {
	bool (*fn)(const struct nj_pkt *p, const void *ctx);
	const void *ctx;
	const char *kw; /* keyword name, for diagnostics */
};

/*
 * A check on an app-layer transaction (dns.opcode, tls.version,
 * app-layer-event, ...): implemented next to the parser that owns the
 * transaction type, evaluated by the engine when direction dir of tx is
 * inspected. tx is the parser's transaction (struct nj_al_tx first).
 */
struct nj_al_tx;
struct nj_app_parser;
struct nj_detect_txmatch {
	bool (*fn)(const struct nj_app_parser *p, const struct nj_al_tx *tx, int dir,
		   const void *ctx);
	const void *ctx;
	const char *kw; /* keyword name, for diagnostics */
	/*
	 * The check applies to either direction on its own (Suricata's engines
	 * for both directions, e.g. tls_generic): a rule of only such checks and
	 * buffers, without a direction, alerts once per direction.
	 */
	bool each_dir;
};

/* ------------------------------------------------------------ flow, state, thresholds */

/* sig->flow_flags (the flow keyword) */
#define NJ_FLOW_TOSERVER	0x0001u
#define NJ_FLOW_TOCLIENT	0x0002u
#define NJ_FLOW_ESTABLISHED	0x0004u
#define NJ_FLOW_NOT_ESTABLISHED 0x0008u
#define NJ_FLOW_STATELESS	0x0010u
#define NJ_FLOW_ONLY_STREAM	0x0020u
#define NJ_FLOW_NO_STREAM	0x0040u
#define NJ_FLOW_ONLY_FRAG	0x0080u
#define NJ_FLOW_NO_FRAG		0x0100u

enum nj_detect_bitcmd {
	NJ_BIT_SET = 1,
	NJ_BIT_UNSET,
	NJ_BIT_TOGGLE,
	NJ_BIT_ISSET,
	NJ_BIT_ISNOTSET,
};

/* One flowbits / xbits operation: names[0..n) combined with OR (or AND). */
struct nj_detect_bitop {
	uint8_t cmd;	     /* enum nj_detect_bitcmd */
	uint8_t and_;	     /* names joined with '&' */
	uint8_t xbits_track; /* xbits: 0 flow, 1 ip_src, 2 ip_dst, 3 ip_pair */
	uint8_t n;
	uint32_t expire; /* xbits expire, seconds */
	uint16_t *ids;	 /* interned names (nj_detect_rules.bitnames) */
};

enum nj_detect_intop {
	NJ_INT_SET = 1,
	NJ_INT_ADD,
	NJ_INT_SUB,
	NJ_INT_EQ,
	NJ_INT_NE,
	NJ_INT_LT,
	NJ_INT_LE,
	NJ_INT_GT,
	NJ_INT_GE,
	NJ_INT_ISSET,
	NJ_INT_NOTSET,
};
struct nj_detect_intop_s {
	uint8_t op;	/* enum nj_detect_intop */
	bool value_var; /* value is another flowint (id) */
	uint16_t id;	/* interned name (nj_detect_rules.intnames) */
	uint64_t value;
};

enum nj_detect_track {
	NJ_TRACK_SRC = 1,
	NJ_TRACK_DST,
	NJ_TRACK_RULE,
	NJ_TRACK_BOTH,
	NJ_TRACK_FLOW
};
enum nj_detect_thr_type {
	NJ_THR_LIMIT = 1,
	NJ_THR_THRESHOLD,
	NJ_THR_BOTH,
	NJ_THR_BACKOFF,
	NJ_THR_DETECTION_FILTER,
};
struct nj_detect_threshold {
	uint8_t type;  /* enum nj_detect_thr_type, 0 = none */
	uint8_t track; /* enum nj_detect_track */
	uint32_t count, seconds, multiplier;
};
/* threshold.config suppress: track 0 = every alert of the signature, else
 * NJ_TRACK_SRC / NJ_TRACK_DST / NJ_SUPPRESS_EITHER with the addresses in ip. */
#define NJ_SUPPRESS_EITHER 0x10
struct nj_detect_suppress {
	uint8_t track;
	const struct nj_detect_addrs *ip;
	const struct nj_detect_suppress *next;
};

/* tag: session or host tagging after an alert (Suricata's defaults: 256 packets). */
enum nj_detect_tag_metric {
	NJ_TAG_PACKETS = 0,
	NJ_TAG_BYTES,
	NJ_TAG_SECONDS,
};
struct nj_detect_tag {
	uint8_t host;	/* 0: the alert's flow, 1: a host */
	uint8_t metric; /* enum nj_detect_tag_metric */
	uint8_t dst;	/* host: the alert packet's destination, else its source */
	uint32_t count; /* packets, bytes or seconds */
};

/* A keyword the engine evaluates against app-layer state (ssl_state, tls.version, ...). */
struct nj_detect_deferred {
	const char *kw; /* keyword name (registry's) */
	char *value;	/* as written, unescaped */
};

struct nj_detect_ref {
	char *type; /* "url", "cve" */
	char *value;
	const char *url_prefix; /* from reference.config, or NULL */
};

struct nj_detect_meta {
	char *key, *value;
};

/* sig->flags */
#define NJ_SIG_BIDIR	     0x00001u /* <> */
#define NJ_SIG_NOALERT	     0x00002u
#define NJ_SIG_MATCH_PKT     0x00004u /* payload list applies to packets */
#define NJ_SIG_MATCH_STREAM  0x00008u /* payload list applies to the reassembled stream */
#define NJ_SIG_IPV4_ONLY     0x00010u
#define NJ_SIG_IPV6_ONLY     0x00020u
#define NJ_SIG_SAMEIP	     0x00040u
#define NJ_SIG_TARGET_SRC    0x00080u
#define NJ_SIG_TARGET_DST    0x00100u
#define NJ_SIG_APP_NEG	     0x00200u /* app-layer-protocol:!x */
#define NJ_SIG_NEEDS_FLOW    0x00400u
#define NJ_SIG_APPLAYER	     0x00800u /* has app-layer lists (inspected per transaction) */
#define NJ_SIG_TOSERVER	     0x01000u /* direction implied by flow / buffers */
#define NJ_SIG_TOCLIENT	     0x02000u
#define NJ_SIG_PREFILTER_ALL 0x04000u /* no usable fast pattern: always evaluated */
#define NJ_SIG_ALERT	     0x10000u /* alert keyword: a pass rule alerts too */

/*
 * The packet and byte counters of flow f right after packet p was counted ([0] to
 * server, [1] to client), as Suricata sees them when it inspects p: the flow stage
 * counts a whole burst before detection runs, so the packets of f after p in the burst
 * being inspected are taken back out. p outside that burst (a pseudo packet, a
 * transaction inspected from the app-layer stage): the flow's counters.
 */
struct nj_flow;
void nj_detect_flow_counts_at(const struct nj_flow *f, const struct nj_pkt *p, uint64_t pkts[2],
			      uint64_t bytes[2]);

struct nj_detect_sig {
	uint32_t idx; /* position in rules->sigs */
	uint32_t sid, rev, gid;
	uint8_t action; /* enum nj_detect_action */
	uint8_t priority;
	uint16_t classtype;  /* index in rules->classes, 0 = none */
	uint32_t flags;	     /* NJ_SIG_* */
	uint16_t flow_flags; /* NJ_FLOW_* */

	/* header */
	uint8_t ipproto[32];   /* bit set of IP protocols (ip = all) */
	const char *app_proto; /* "http", NULL for none (interned, owned by the rule set) */
	const struct nj_detect_addrs *src, *dst; /* shared between signatures */
	const struct nj_detect_ports *sp, *dp;

	/* inspection lists: list 0.. in rule order of first use */
	uint16_t nlists;
	struct nj_detect_list *lists;
	uint8_t nvars; /* byte_extract / byte_math variables used */

	/* packet-level checks */
	uint16_t npm;
	struct nj_detect_pmatch *pm;

	/* transaction-level checks (all must hold) */
	uint16_t ntxm;
	struct nj_detect_txmatch *txm;

	struct nj_detect_fp fp; /* fp.len == 0: no fast pattern */

	/* state for the engine */
	uint16_t nbitops, nintops, nxbitops;
	struct nj_detect_bitop *bitops;
	struct nj_detect_intop_s *intops;
	struct nj_detect_bitop *xbitops;
	struct nj_detect_threshold threshold;
	const struct nj_detect_suppress *suppress; /* threshold.config suppress entries */
	const char *app_match;	/* app-layer-protocol:[!]name (NJ_SIG_APP_NEG), NULL none */
	uint8_t app_match_mode; /* 0 either/default, 1 final, 2 original, 3 to_server, 4 to_client */
	uint16_t ndeferred;
	struct nj_detect_deferred *deferred; /* app-layer checks for the engine (tls.version ...) */
	const char *app_event;		     /* app-layer-event name, NULL none */
	const char *stream_event;	     /* stream-event name */
	struct nj_detect_u64 *stream_size;
	uint8_t stream_size_side; /* 0 server, 1 client, 2 both, 3 either */
	uint8_t ntags;
	struct nj_detect_tag *tags; /* tag keywords, applied when the signature alerts */

	/* metadata for alerts */
	char *msg;
	uint16_t nrefs, nmeta;
	struct nj_detect_ref *refs;
	struct nj_detect_meta *meta;
	const char *file; /* rule file (interned) */
	uint32_t line;
	char *raw; /* the rule text */
};

/* ------------------------------------------------------------ rule set and loading */

struct nj_detect_class {
	char *name, *desc;
	uint8_t priority;
};

struct nj_detect_rules {
	uint32_t nsigs;
	struct nj_detect_sig **sigs; /* in load order */
	uint16_t ninst;
	struct nj_detect_bufinst *inst; /* buffer instances referenced by lists */
	uint16_t nclasses;
	struct nj_detect_class *classes; /* [0] is "none" */
	uint16_t nbitnames, nintnames;
	char **bitnames;       /* flowbits / xbits names by id */
	char **intnames;       /* flowint names by id */
	uint32_t max_captures; /* PCRE2 ovector size needed (for per-core match data) */
	uint8_t max_vars;
	void *priv; /* loader internals (interned strings, shared sets, ...) */
};

#define NJ_DETECT_MAX_REASONS 64
struct nj_detect_reason_count {
	char reason[96];
	uint32_t count;
};

struct nj_detect_load_stats {
	uint32_t files, files_missing;
	uint32_t rules; /* rule lines seen (active, not commented) */
	uint32_t loaded;
	uint32_t failed;
	uint32_t skipped; /* unsupported keyword / protocol */
	uint32_t nfailed_reasons, nskipped_reasons;
	struct nj_detect_reason_count failed_by[NJ_DETECT_MAX_REASONS];
	struct nj_detect_reason_count skipped_by[NJ_DETECT_MAX_REASONS];
	uint32_t no_fast_pattern; /* loaded rules without a usable fast pattern */
	uint64_t load_ns;
	uint64_t mem_bytes;   /* heap held by the rule set (approximate) */
	bool threshold_error; /* threshold-file has a line that does not parse */
};

/*
 * Loads rule files. files == NULL: the configuration's rule-files (relative
 * to default-rule-path). Variables come from conf's vars.address-groups and
 * vars.port-groups (Suricata's defaults when absent); classification-file
 * and reference-config-file from conf (falling back to a classification.config
 * next to the first rule file). Every failed rule is reported on err_out (may
 * be NULL) as "file:line: sid N: keyword: reason"; skipped rules are reported
 * only when verbose. Returns the rule set (possibly empty), or NULL on an
 * error that is not a rule's (out of memory, an unreadable variable).
 */
struct nj_detect_load_opts {
	FILE *err_out;
	bool verbose;
	/* loaded after the configuration's rule-files when files == NULL (-s) */
	const char *const *extra;
	unsigned nextra;
};
struct nj_detect_rules *nj_detect_load(const struct nj_conf *conf, const char *const *files,
				       unsigned nfiles, const struct nj_detect_load_opts *opts,
				       struct nj_detect_load_stats *st);
void nj_detect_rules_free(struct nj_detect_rules *r);
/* Does a loaded signature use keyword kw among those the engine evaluates (filestore)? */
bool nj_detect_rules_use(const struct nj_detect_rules *r, const char *kw);
/* "rules: 1234 loaded, 5 failed, 67 skipped (unsupported) in 0.41 s, 12.3 MiB" and
 * one line per reason ("  failed: 3 x pcre: ..."), to out. */
void nj_detect_print_summary(FILE *out, const struct nj_detect_load_stats *st);

/*
 * Parses one rule (for tests and tools). Returns the signature (owned by r)
 * or NULL with the reason in err; *skipped tells an unsupported keyword from
 * an error. r must come from nj_detect_rules_new().
 */
struct nj_detect_rules *nj_detect_rules_new(const struct nj_conf *conf);
struct nj_detect_sig *nj_detect_parse_rule(struct nj_detect_rules *r, const char *text, char *err,
					   size_t errlen, bool *skipped);
/* Runs the checks that need the whole set (flowbits) and finishes r. */
void nj_detect_rules_finish(struct nj_detect_rules *r);

/* ------------------------------------------------------------ evaluation */

struct nj_detect_ctx {
	uint64_t vars[NJ_DETECT_MAX_VARS];
	void *md;   /* pcre2_match_data * */
	void *mctx; /* pcre2_match_context * (match limits as Suricata's defaults) */
	uint32_t recursion;
	uint32_t recursion_limit;
	uint32_t buffer_offset; /* Suricata's det_ctx->buffer_offset */
	uint32_t pcre_start;	/* next pcre search start when retrying */
	uint64_t pcre_errors;	/* match limit hit, counted */
	uint8_t *b64;		/* base64_decode output (NJ_DETECT_B64_MAX) */
	uint32_t b64_len;
};

/* Per-core scratch for evaluating rules of r. */
struct nj_detect_ctx *nj_detect_ctx_new(const struct nj_detect_rules *r);
void nj_detect_ctx_free(struct nj_detect_ctx *c);

/* nj_detect_inspect_buffer flags */
#define NJ_DETECT_EOF 0x1u /* the buffer is complete (bsize may decide on "too short") */

/*
 * Evaluates list l of signature s on buf[0..len): true if every element
 * matches, with Suricata's content semantics (absolute offset/depth,
 * distance/within relative to the previous match, negation,
 * startswith/endswith, backtracking to later occurrences of earlier
 * contents). byte_extract variables are kept in c across the lists of one
 * signature; call nj_detect_sig_begin first.
 */
static inline void nj_detect_sig_begin(struct nj_detect_ctx *c)
{
	c->vars[0] = 0;
}
bool nj_detect_inspect_buffer(struct nj_detect_ctx *c, const struct nj_detect_sig *s,
			      const struct nj_detect_list *l, const uint8_t *buf, uint32_t len,
			      unsigned flags);

/* Packet-level checks of s (ttl, flags, dsize, ...): true if all match. */
static inline bool nj_detect_match_pkt(const struct nj_detect_sig *s, const struct nj_pkt *p)
{
	for (unsigned i = 0; i < s->npm; i++)
		if (!s->pm[i].fn(p, s->pm[i].ctx))
			return false;
	return true;
}

/* Header check: protocol, addresses and ports (both ways for <>). */
bool nj_detect_match_header(const struct nj_detect_sig *s, const struct nj_pkt *p);

#endif
