/* SPDX-License-Identifier: MIT */
/* Indicator sets: building, value normalisation and the lookups (see intel.h). */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "dset.h"
#include "intel.h"

const char *const nj_intel_kind_names[NJ_IK_MAX] = {
	"ip",	  "domain", "hostname", "url",	     "md5",	    "sha1",
	"sha256", "ja3",    "ja4",	"cert-sha1", "cert-sha256",
};

#define MAX_KEY 4096 /* longest key (URL) kept; longer values are refused */

static _Atomic uint64_t generations;

#define BIG (2u << 20)

/* Zeroed memory; large tables on transparent huge pages: a lookup in a
 * cold table then costs a cache miss, not a TLB miss on top of it. */
static void *zalloc_big(size_t n)
{
	void *p;

	if (n < BIG)
		return calloc(1, n);
	p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	madvise(p, n, MADV_HUGEPAGE);
	return p;
}

static void free_big(void *p, size_t n)
{
	if (!p)
		return;
	if (n < BIG)
		free(p);
	else
		munmap(p, n);
}

struct nj_intel_set *nj_intel_set_new(uint64_t memcap)
{
	struct nj_intel_set *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->memcap = memcap ? memcap : (512ull << 20);
	s->mask = 1023;
	s->slots = zalloc_big((s->mask + 1ull) * sizeof(*s->slots));
	s->blob_cap = 1 << 12;
	s->blob = malloc(s->blob_cap);
	if (!s->slots || !s->blob) {
		nj_intel_set_free(s);
		return NULL;
	}
	s->blob[0] = '\0'; /* offset 0 means "no string" */
	s->blob_len = 1;
	s->generation = atomic_fetch_add(&generations, 1) + 1;
	s->mem = (s->mask + 1ull) * 8 + s->blob_cap;
	return s;
}

void nj_intel_set_free(struct nj_intel_set *s)
{
	if (!s)
		return;
	free_big(s->slots, (s->mask + 1ull) * sizeof(*s->slots));
	free(s->inds);
	free(s->blob);
	free(s->ctxs);
	for (unsigned c = 0; c < NJ_INTEL_NCLASS; c++)
		free_big(s->filt[c], (s->filt_mask[c] + 1ull) / 8);
	free(s);
}

/* Grows a buffer within the memcap. */
static int grow(struct nj_intel_set *s, void **p, uint64_t *cap, uint64_t need, size_t elem)
{
	uint64_t nc = *cap ? *cap : 64;
	void *np;

	if (need <= *cap)
		return 0;
	while (nc < need)
		nc *= 2;
	if (s->mem + (nc - *cap) * elem > s->memcap)
		return -ENOSPC;
	np = realloc(*p, nc * elem);
	if (!np)
		return -ENOMEM;
	s->mem += (nc - *cap) * elem;
	*p = np;
	*cap = nc;
	return 0;
}

static uint32_t blob_put(struct nj_intel_set *s, const void *d, size_t n, bool nul)
{
	uint64_t off = s->blob_len;

	if (off + n + 1 > UINT32_MAX ||
	    grow(s, (void **)&s->blob, &s->blob_cap, off + n + 1, 1) < 0)
		return 0;
	memcpy(s->blob + off, d, n);
	s->blob_len += n;
	if (nul)
		s->blob[s->blob_len++] = '\0';
	return (uint32_t)off;
}

static uint32_t str_put(struct nj_intel_set *s, const char *str)
{
	return str && *str ? blob_put(s, str, strlen(str), true) : 0;
}

uint32_t nj_intel_ctx_add(struct nj_intel_set *s, const char *source, const char *event_id,
			  const char *event_uuid, const char *info, const char *const *tags,
			  unsigned ntags, uint8_t threat_level)
{
	struct nj_intel_ctx c = {0};
	uint64_t cap = s->cap_ctxs;

	if (grow(s, (void **)&s->ctxs, &cap, s->nctxs + 1ull, sizeof(c)) < 0)
		return UINT32_MAX;
	s->cap_ctxs = (uint32_t)cap;
	c.source = str_put(s, source);
	c.event_id = str_put(s, event_id);
	c.event_uuid = str_put(s, event_uuid);
	c.info = str_put(s, info);
	for (unsigned i = 0; i < ntags && i < 64; i++) {
		uint32_t off = blob_put(s, tags[i], strlen(tags[i]), true);

		if (!off)
			return UINT32_MAX;
		if (!c.tags)
			c.tags = off;
		c.ntags++;
	}
	c.threat_level = threat_level >= 1 && threat_level <= 4 ? threat_level : 4;
	s->ctxs[s->nctxs] = c;
	return s->nctxs++;
}

/* ------------------------------------------------------------ table */

static inline uint64_t key_hash(uint8_t kind, uint8_t plen, const void *k, size_t n)
{
	return nj_intel_hash(k, n, ((uint64_t)kind << 8 | plen) * 0x9E3779B97F4A7C15ull + 1);
}

static inline bool ind_eq(const struct nj_intel_set *s, const struct nj_intel_ind *i, uint8_t kind,
			  uint8_t plen, const void *k, size_t n)
{
	return i->kind == kind && i->plen == plen && i->key_len == n &&
	       memcmp(s->blob + i->key_off, k, n) == 0;
}

static inline unsigned pclass(uint8_t kind, uint8_t plen, size_t n)
{
	if (kind != NJ_IK_IP)
		return kind;
	/* keys of 4 (or 5 with a reputation category) bytes are IPv4 */
	return n <= 5 ? NJ_IK_MAX + plen : NJ_IK_MAX + 33 + (plen > 128 ? 128 : plen);
}

static const struct nj_intel_ind *lookup(const struct nj_intel_set *s, uint8_t kind, uint8_t plen,
					 const void *k, size_t n)
{
	uint64_t h = key_hash(kind, plen, k, n);
	uint32_t tag = (uint32_t)(h >> 32), i = (uint32_t)h & s->mask;
	unsigned c = pclass(kind, plen, n);
	const uint64_t *f = s->filt[c];

	if (f) {
		uint32_t b = tag & s->filt_mask[c];

		if (!(f[b >> 6] & (1ull << (b & 63))))
			return NULL;
	}

	for (;;) {
		uint64_t v = s->slots[i];

		if (!v)
			return NULL;
		if ((uint32_t)(v >> 32) == tag) {
			const struct nj_intel_ind *ind = &s->inds[(uint32_t)v - 1];

			if (ind_eq(s, ind, kind, plen, k, n))
				return ind;
		}
		i = (i + 1) & s->mask;
	}
}

static int rehash(struct nj_intel_set *s)
{
	uint32_t nmask = s->mask * 2 + 1;
	uint64_t *ns;

	if (s->mem + (nmask + 1ull) * 8 > s->memcap)
		return -ENOSPC;
	ns = zalloc_big((nmask + 1ull) * sizeof(*ns));
	if (!ns)
		return -ENOMEM;
	for (uint32_t j = 0; j <= s->mask; j++) {
		uint64_t v = s->slots[j];
		const struct nj_intel_ind *ind;
		uint64_t h;
		uint32_t i;

		if (!v)
			continue;
		ind = &s->inds[(uint32_t)v - 1];
		h = key_hash(ind->kind, ind->plen, s->blob + ind->key_off, ind->key_len);
		for (i = (uint32_t)h & nmask; ns[i]; i = (i + 1) & nmask)
			;
		ns[i] = v;
	}
	s->mem += (uint64_t)(nmask - s->mask) * 8;
	free_big(s->slots, (s->mask + 1ull) * sizeof(*s->slots));
	s->slots = ns;
	s->mask = nmask;
	return 0;
}

static int insert(struct nj_intel_set *s, uint8_t kind, uint8_t plen, const void *k, size_t n,
		  const char *val, size_t vlen, uint32_t ctx)
{
	struct nj_intel_ind *ind;
	uint64_t h, cap = s->cap_inds;
	uint32_t i, tag;
	int r;

	/* at most half full: short probe chains on misses, the common case */
	if ((s->ninds + 1ull) * 2 > s->mask + 1ull && (r = rehash(s)) < 0)
		return r;
	/* one probe finds either the same key (duplicate) or the free slot */
	h = key_hash(kind, plen, k, n);
	tag = (uint32_t)(h >> 32);
	for (i = (uint32_t)h & s->mask; s->slots[i]; i = (i + 1) & s->mask) {
		uint64_t v = s->slots[i];

		if ((uint32_t)(v >> 32) == tag &&
		    ind_eq(s, &s->inds[(uint32_t)v - 1], kind, plen, k, n)) {
			s->dups++;
			return 1;
		}
	}
	if ((r = grow(s, (void **)&s->inds, &cap, s->ninds + 1ull, sizeof(*ind))) < 0)
		return r;
	s->cap_inds = (uint32_t)cap;
	ind = &s->inds[s->ninds];
	memset(ind, 0, sizeof(*ind));
	ind->key_off = blob_put(s, k, n, false);
	ind->val_off = blob_put(s, val, vlen, true);
	if (!ind->key_off || !ind->val_off)
		return -ENOSPC;
	ind->key_len = (uint16_t)n;
	ind->val_len = (uint16_t)(vlen > UINT16_MAX ? UINT16_MAX : vlen);
	ind->kind = kind;
	ind->plen = plen;
	ind->ctx = ctx;
	s->slots[i] = (uint64_t)tag << 32 | (s->ninds + 1ull);
	{
		unsigned c = pclass(kind, plen, n);

		if (s->filt[c]) /* added after nj_intel_set_finish */
			s->filt[c][(tag & s->filt_mask[c]) >> 6] |= 1ull
								    << (tag & s->filt_mask[c] & 63);
	}
	s->ninds++;
	s->kinds |= 1u << kind;
	s->count[kind]++;
	return 0;
}

int nj_intel_set_finish(struct nj_intel_set *s)
{
	uint32_t count[NJ_INTEL_NCLASS] = {0};

	for (unsigned c = 0; c < NJ_INTEL_NCLASS; c++) {
		free_big(s->filt[c], (s->filt_mask[c] + 1ull) / 8);
		s->filt[c] = NULL;
	}
	for (uint32_t i = 0; i < s->ninds; i++)
		count[pclass(s->inds[i].kind, s->inds[i].plen, s->inds[i].key_len)]++;
	for (unsigned c = 0; c < NJ_INTEL_NCLASS; c++) {
		uint64_t bits = 512;

		if (!count[c])
			continue;
		while (bits < (uint64_t)count[c] * 16 && bits < (1ull << 32))
			bits <<= 1;
		s->filt[c] = zalloc_big(bits / 8);
		if (!s->filt[c])
			return -ENOMEM;
		s->filt_mask[c] = (uint32_t)(bits - 1);
		s->mem += bits / 8;
	}
	for (uint32_t i = 0; i < s->ninds; i++) {
		const struct nj_intel_ind *ind = &s->inds[i];
		unsigned c = pclass(ind->kind, ind->plen, ind->key_len);
		uint32_t tag = (uint32_t)(key_hash(ind->kind, ind->plen, s->blob + ind->key_off,
						   ind->key_len) >>
					  32) &
			       s->filt_mask[c];

		s->filt[c][tag >> 6] |= 1ull << (tag & 63);
	}
	return 0;
}

void nj_intel_reserve(struct nj_intel_set *s, uint64_t n, uint64_t bytes)
{
	uint64_t cap = s->cap_inds;

	/* sizing up front saves the rehashes and copies of a large load */
	while ((s->mask + 1ull) < n * 2 && s->mask < (1u << 30) && rehash(s) == 0)
		;
	if (grow(s, (void **)&s->inds, &cap, n, sizeof(*s->inds)) == 0)
		s->cap_inds = (uint32_t)cap;
	grow(s, (void **)&s->blob, &s->blob_cap, bytes, 1);
}

/* ------------------------------------------------------------ normalisation */

static int hexv(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Hex (colons allowed between bytes when colons) to binary of exactly want bytes. */
static int unhex(const char *v, size_t n, uint8_t *out, size_t want, bool colons)
{
	size_t o = 0;

	for (size_t i = 0; i < n;) {
		int a, b;

		if (colons && v[i] == ':' && o > 0) {
			i++;
			continue;
		}
		if (i + 1 >= n || o >= want || (a = hexv(v[i])) < 0 || (b = hexv(v[i + 1])) < 0)
			return -1;
		out[o++] = (uint8_t)(a << 4 | b);
		i += 2;
	}
	return o == want ? 0 : -1;
}

static void mask_addr(uint8_t *a, unsigned alen, unsigned plen)
{
	for (unsigned bit = plen; bit < alen * 8; bit++)
		a[bit / 8] &= (uint8_t) ~(0x80u >> (bit % 8));
}

static int parse_ip(const char *v, size_t n, uint8_t *addr, unsigned *alen, unsigned *plen)
{
	char buf[64];
	const char *slash;
	char *end;

	if (n >= sizeof(buf))
		return -1;
	memcpy(buf, v, n);
	buf[n] = '\0';
	slash = strchr(buf, '/');
	if (slash)
		buf[slash - buf] = '\0';
	if (inet_pton(AF_INET, buf, addr) == 1)
		*alen = 4;
	else if (inet_pton(AF_INET6, buf, addr) == 1)
		*alen = 16;
	else
		return -1;
	*plen = *alen * 8;
	if (slash) {
		unsigned long p = strtoul(slash + 1, &end, 10);

		if (end == slash + 1 || *end || p > *alen * 8)
			return -1;
		*plen = (unsigned)p;
	}
	mask_addr(addr, *alen, *plen);
	return 0;
}

/* Lowercased host name without a leading "*." / "." or trailing dot; length or -1. */
static int norm_name(const char *v, size_t n, char *out, size_t cap)
{
	size_t o = 0;

	if (n >= 2 && v[0] == '*' && v[1] == '.') {
		v += 2;
		n -= 2;
	}
	while (n && *v == '.') {
		v++;
		n--;
	}
	while (n && v[n - 1] == '.')
		n--;
	if (n == 0 || n >= cap || n > 253)
		return -1;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];

		if (c <= ' ' || c == '/' || c == '\\' || c == '"' || c >= 0x7f)
			return -1;
		out[o++] = (char)tolower(c);
	}
	return (int)o;
}

/* host[:port] lowercased without the port; length. */
static size_t norm_host(const uint8_t *h, size_t n, char *out, size_t cap)
{
	size_t o = 0;

	if (n && h[0] == '[') { /* [v6]:port */
		const uint8_t *e = memchr(h, ']', n);

		if (e)
			n = (size_t)(e - h) + 1;
	} else {
		const uint8_t *c = memchr(h, ':', n);

		if (c && !memchr(c + 1, ':', n - (size_t)(c - h) - 1))
			n = (size_t)(c - h);
	}
	while (n && h[n - 1] == '.')
		n--;
	for (size_t i = 0; i < n && o < cap; i++)
		out[o++] = (char)tolower(h[i]);
	return o;
}

/* URL indicator -> "host/path?query": scheme, userinfo, port and fragment dropped. */
static int norm_url(const char *v, size_t n, char *out, size_t cap)
{
	const char *p = memchr(v, ':', n), *hs, *he;
	size_t hl, o;

	if (p && p + 2 < v + n && p[1] == '/' && p[2] == '/') {
		n -= (size_t)(p + 3 - v);
		v = p + 3;
	}
	hs = v;
	he = v;
	while (he < v + n && *he != '/' && *he != '?' && *he != '#')
		he++;
	{
		const char *at = memchr(hs, '@', (size_t)(he - hs));

		if (at)
			hs = at + 1;
	}
	hl = norm_host((const uint8_t *)hs, (size_t)(he - hs), out, cap);
	if (hl == 0)
		return -1;
	o = hl;
	if (he == v + n || *he != '/') {
		if (o >= cap)
			return -1;
		out[o++] = '/';
	}
	for (const char *c = he; c < v + n && *c != '#'; c++) {
		if (o >= cap || (unsigned char)*c <= ' ')
			return -1;
		out[o++] = *c;
	}
	return (int)o;
}

/* Marks the /16 blocks a v4 prefix touches: addresses elsewhere skip every CIDR probe. */
static void v4_top_mark(struct nj_intel_set *s, const uint8_t *a, unsigned plen)
{
	uint32_t top = (uint32_t)a[0] << 8 | a[1], n = plen >= 16 ? 1 : 1u << (16 - plen);

	if (plen >= 32)
		return;
	for (uint32_t b = top; b < top + n && b < 65536; b++)
		s->v4_top[b >> 6] |= 1ull << (b & 63);
}

int nj_intel_add(struct nj_intel_set *s, enum nj_intel_kind kind, const char *v, size_t n,
		 uint32_t ctx)
{
	static __thread char key[MAX_KEY];
	uint8_t bin[32];
	unsigned alen, plen;
	int kl;

	while (n && isspace((unsigned char)*v)) {
		v++;
		n--;
	}
	while (n && isspace((unsigned char)v[n - 1]))
		n--;
	if (n == 0)
		return -EINVAL;
	switch (kind) {
	case NJ_IK_IP:
		if (parse_ip(v, n, bin, &alen, &plen) < 0)
			return -EINVAL;
		if (alen == 4) {
			s->v4_plens |= 1ull << plen;
			v4_top_mark(s, bin, plen);
		} else {
			s->v6_plens[plen / 64] |= 1ull << (plen % 64);
		}
		return insert(s, kind, (uint8_t)plen, bin, alen, v, n, ctx);
	case NJ_IK_DOMAIN:
	case NJ_IK_HOST: {
		unsigned labels = 1;

		if ((kl = norm_name(v, n, key, sizeof(key))) < 0)
			return -EINVAL;
		for (int c = 0; c < kl; c++)
			labels += key[c] == '.';
		/* lookups probe only the label counts some indicator has */
		if (kind == NJ_IK_DOMAIN)
			s->dom_labels |= 1ull << (labels > 63 ? 63 : labels);
		else
			s->host_labels |= 1ull << (labels > 63 ? 63 : labels);
		return insert(s, kind, 0, key, (size_t)kl, v, n, ctx);
	}
	case NJ_IK_URL:
		if ((kl = norm_url(v, n, key, sizeof(key))) < 0)
			return -EINVAL;
		return insert(s, kind, 0, key, (size_t)kl, v, n, ctx);
	case NJ_IK_MD5:
	case NJ_IK_SHA1:
	case NJ_IK_SHA256: {
		size_t want = kind == NJ_IK_MD5 ? 16 : kind == NJ_IK_SHA1 ? 20 : 32;

		if (unhex(v, n, bin, want, false) < 0)
			return -EINVAL;
		return insert(s, kind, 0, bin, want, v, n, ctx);
	}
	case NJ_IK_CERT_SHA1:
	case NJ_IK_CERT_SHA256: {
		size_t want = kind == NJ_IK_CERT_SHA1 ? 20 : 32;

		if (unhex(v, n, bin, want, true) < 0)
			return -EINVAL;
		return insert(s, kind, 0, bin, want, v, n, ctx);
	}
	case NJ_IK_JA3:
		/* kept as lowercase text, as ja3.hash offers it */
		if (n != 32 || unhex(v, n, bin, 16, false) < 0)
			return -EINVAL;
		__attribute__((fallthrough));
	case NJ_IK_JA4:
		if (n >= sizeof(key))
			return -EINVAL;
		for (size_t i = 0; i < n; i++)
			key[i] = (char)tolower((unsigned char)v[i]);
		return insert(s, kind, 0, key, n, v, n, ctx);
	default: return -EINVAL;
	}
}

static bool all_hex(const char *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (hexv(v[i]) < 0)
			return false;
	return n > 0;
}

int nj_intel_guess_kind(const char *v, size_t n)
{
	uint8_t a[16];
	unsigned alen, plen;
	char key[256];

	if (parse_ip(v, n, a, &alen, &plen) == 0)
		return NJ_IK_IP;
	if (all_hex(v, n))
		return n == 32 ? NJ_IK_MD5 : n == 40 ? NJ_IK_SHA1 : n == 64 ? NJ_IK_SHA256 : -1;
	if (n == 59 && v[2] == ':' && unhex(v, n, a, 20, true) == 0)
		return NJ_IK_CERT_SHA1;
	if (n > 3 && memmem(v, n, "://", 3))
		return NJ_IK_URL;
	if (n == 36 && v[10] == '_' && v[23] == '_' && (v[0] == 't' || v[0] == 'q' || v[0] == 'd'))
		return NJ_IK_JA4;
	if (memchr(v, '.', n) && !memchr(v, '/', n) && norm_name(v, n, key, sizeof(key)) > 0)
		return NJ_IK_DOMAIN;
	return -1;
}

/* Type names: ours and MISP's; [1] for the second part of a composite ("a|b"). */
static const struct {
	const char *name;
	int kind[2]; /* -1: that part is not an indicator (port, filename) */
} types[] = {
	{"ip", {NJ_IK_IP, -1}},
	{"cidr", {NJ_IK_IP, -1}},
	{"ip-src", {NJ_IK_IP, -1}},
	{"ip-dst", {NJ_IK_IP, -1}},
	{"ip-src|port", {NJ_IK_IP, -1}},
	{"ip-dst|port", {NJ_IK_IP, -1}},
	{"domain", {NJ_IK_DOMAIN, -1}},
	{"domain|ip", {NJ_IK_DOMAIN, NJ_IK_IP}},
	{"hostname", {NJ_IK_HOST, -1}},
	{"hostname|port", {NJ_IK_HOST, -1}},
	{"url", {NJ_IK_URL, -1}},
	{"md5", {NJ_IK_MD5, -1}},
	{"sha1", {NJ_IK_SHA1, -1}},
	{"sha256", {NJ_IK_SHA256, -1}},
	{"filename|md5", {-1, NJ_IK_MD5}},
	{"filename|sha1", {-1, NJ_IK_SHA1}},
	{"filename|sha256", {-1, NJ_IK_SHA256}},
	{"ja3", {NJ_IK_JA3, -1}},
	{"ja3-fingerprint-md5", {NJ_IK_JA3, -1}},
	{"ja4", {NJ_IK_JA4, -1}},
	{"ja4-fingerprint", {NJ_IK_JA4, -1}},
	{"cert-sha1", {NJ_IK_CERT_SHA1, -1}},
	{"x509-fingerprint-sha1", {NJ_IK_CERT_SHA1, -1}},
	{"cert-sha256", {NJ_IK_CERT_SHA256, -1}},
	{"x509-fingerprint-sha256", {NJ_IK_CERT_SHA256, -1}},
};

static int add_counted(struct nj_intel_set *s, int kind, const char *v, size_t n, uint32_t ctx)
{
	int r = nj_intel_add(s, (enum nj_intel_kind)kind, v, n, ctx);

	if (r == -EINVAL)
		s->bad++;
	return r;
}

int nj_intel_add_typed(struct nj_intel_set *s, const char *type, const char *v, uint32_t ctx)
{
	size_t n = strlen(v);
	int kind, r, best = -EINVAL;

	if (!type || !*type) {
		kind = nj_intel_guess_kind(v, n);
		if (kind < 0) {
			s->bad++;
			return -EINVAL;
		}
		r = add_counted(s, kind, v, n, ctx);
		return r > 0 ? 0 : r;
	}
	for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++) {
		const char *bar;

		if (strcasecmp(types[t].name, type) != 0)
			continue;
		bar = strchr(types[t].name, '|') ? strchr(v, '|') : NULL;
		for (int part = 0; part < 2; part++) {
			const char *pv = part == 0 ? v : (bar ? bar + 1 : NULL);
			size_t pn = part == 0 ? (bar ? (size_t)(bar - v) : n)
					      : (bar ? strlen(bar + 1) : 0);

			if (types[t].kind[part] < 0 || !pv)
				continue;
			r = add_counted(s, types[t].kind[part], pv, pn, ctx);
			if (r == -ENOSPC)
				return r;
			if (r >= 0)
				best = 0;
		}
		return best;
	}
	s->unsupported++;
	return -ENOTSUP;
}

/* ------------------------------------------------------------ lookups */

const struct nj_intel_ind *nj_intel_match_ip(const struct nj_intel_set *s, const uint8_t *addr,
					     unsigned alen)
{
	uint8_t a[16];

	if (!(s->kinds & (1u << NJ_IK_IP)))
		return NULL;
	if (alen == 4) {
		uint32_t top = (uint32_t)addr[0] << 8 | addr[1];
		uint64_t m = s->v4_plens;

		if (!(s->v4_top[top >> 6] & (1ull << (top & 63))))
			m &= 1ull << 32; /* no prefix near it: the exact address only */
		/* longest prefix first: the most specific indicator wins */
		while (m) {
			unsigned p = 63 - (unsigned)__builtin_clzll(m);
			uint32_t v, msk = p ? ~0u << (32 - p) : 0;
			const struct nj_intel_ind *i;

			m &= ~(1ull << p);
			memcpy(&v, addr, 4);
			v = htonl(ntohl(v) & msk);
			if ((i = lookup(s, NJ_IK_IP, (uint8_t)p, &v, 4)))
				return i;
		}
		return NULL;
	}
	if (alen != 16)
		return NULL;
	for (int w = 2; w >= 0; w--) {
		uint64_t m = s->v6_plens[w];

		while (m) {
			unsigned p = (unsigned)w * 64 + 63 - (unsigned)__builtin_clzll(m);
			const struct nj_intel_ind *i;

			m &= ~(1ull << (p % 64));
			memcpy(a, addr, 16);
			mask_addr(a, 16, p);
			if ((i = lookup(s, NJ_IK_IP, (uint8_t)p, a, 16)))
				return i;
		}
	}
	return NULL;
}

const struct nj_intel_ind *nj_intel_match_domain(const struct nj_intel_set *s, const uint8_t *name,
						 uint32_t len)
{
	char buf[256];
	const struct nj_intel_ind *i;
	uint32_t n = 0;
	unsigned labels = 1;

	if (!(s->kinds & ((1u << NJ_IK_DOMAIN) | (1u << NJ_IK_HOST))))
		return NULL;
	while (len && name[len - 1] == '.')
		len--;
	if (len == 0 || len >= sizeof(buf))
		return NULL;
	for (; n < len; n++) {
		buf[n] = (char)tolower(name[n]);
		labels += buf[n] == '.';
	}
	if ((s->host_labels & (1ull << (labels > 63 ? 63 : labels))) &&
	    (i = lookup(s, NJ_IK_HOST, 0, buf, n)))
		return i;
	if (!s->dom_labels)
		return NULL;
	/* the name, then each parent: www.a.example, a.example, example; only
	 * the label counts some domain indicator has are probed */
	for (uint32_t off = 0; off < n; labels--) {
		const char *dot;

		if ((s->dom_labels & (1ull << (labels > 63 ? 63 : labels))) &&
		    (i = lookup(s, NJ_IK_DOMAIN, 0, buf + off, n - off)))
			return i;
		if (labels <= 63 && !(s->dom_labels & ((1ull << labels) - 2)))
			break; /* no indicator that short */
		dot = memchr(buf + off, '.', n - off);
		if (!dot)
			break;
		off = (uint32_t)(dot - buf) + 1;
	}
	return NULL;
}

const struct nj_intel_ind *nj_intel_match_url(const struct nj_intel_set *s, const uint8_t *host,
					      uint32_t hlen, const uint8_t *uri, uint32_t ulen)
{
	char buf[MAX_KEY];
	size_t n;
	const struct nj_intel_ind *i;
	const uint8_t *q;

	if (!(s->kinds & (1u << NJ_IK_URL)) || !ulen)
		return NULL;
	/* absolute-form request targets carry their own host */
	if (ulen > 7 && (memcmp(uri, "http://", 7) == 0 || memcmp(uri, "https://", 8) == 0)) {
		const uint8_t *h = uri + (uri[4] == 's' ? 8 : 7);
		const uint8_t *e = memchr(h, '/', ulen - (uint32_t)(h - uri));

		host = h;
		hlen = (uint32_t)((e ? e : uri + ulen) - h);
		ulen -= (uint32_t)((e ? e : uri + ulen) - uri);
		uri = e ? e : uri + ulen;
	}
	n = norm_host(host, hlen, buf, sizeof(buf));
	if (!n || n + ulen + 1 > sizeof(buf))
		return NULL;
	if (ulen == 0)
		buf[n++] = '/';
	memcpy(buf + n, uri, ulen);
	if ((i = lookup(s, NJ_IK_URL, 0, buf, n + ulen)))
		return i;
	/* an indicator without the query string matches every query */
	q = memchr(uri, '?', ulen);
	return q ? lookup(s, NJ_IK_URL, 0, buf, n + (size_t)(q - uri)) : NULL;
}

const struct nj_intel_ind *nj_intel_match_hash(const struct nj_intel_set *s,
					       enum nj_intel_kind kind, const uint8_t *d,
					       uint32_t len)
{
	if (!(s->kinds & (1u << kind)))
		return NULL;
	return lookup(s, (uint8_t)kind, 0, d, len);
}

const struct nj_intel_ind *nj_intel_match_text(const struct nj_intel_set *s,
					       enum nj_intel_kind kind, const uint8_t *d,
					       uint32_t len)
{
	char buf[128];

	if (!(s->kinds & (1u << kind)) || len == 0 || len > sizeof(buf))
		return NULL;
	for (uint32_t i = 0; i < len; i++)
		buf[i] = (char)tolower(d[i]);
	return lookup(s, (uint8_t)kind, 0, buf, len);
}

const struct nj_intel_ind *nj_intel_match_certfp(const struct nj_intel_set *s, const uint8_t *d,
						 uint32_t len)
{
	uint8_t bin[32];

	if (!(s->kinds & (1u << NJ_IK_CERT_SHA1)))
		return NULL;
	if (unhex((const char *)d, len, bin, 20, true) < 0)
		return NULL;
	return lookup(s, NJ_IK_CERT_SHA1, 0, bin, 20);
}

/* ------------------------------------------------------------ reputation */

int nj_intel_add_rep(struct nj_intel_set *s, const char *ip, uint8_t cat, uint8_t score)
{
	uint8_t key[17];
	unsigned alen, plen;
	size_t n = strlen(ip);

	if (parse_ip(ip, n, key, &alen, &plen) < 0)
		return -EINVAL;
	/* the category is part of the key: one address may be in several */
	key[alen] = cat;
	if (alen == 4) {
		s->v4_plens |= 1ull << plen;
		v4_top_mark(s, key, plen);
	} else {
		s->v6_plens[plen / 64] |= 1ull << (plen % 64);
	}
	return insert(s, NJ_IK_IP, (uint8_t)plen, key, alen + 1, ip, n, score);
}

int nj_intel_match_rep(const struct nj_intel_set *s, const uint8_t *addr, unsigned alen,
		       uint8_t cat)
{
	uint8_t key[17];
	const struct nj_intel_ind *i;

	if (!s || !s->ninds || (alen != 4 && alen != 16))
		return -1;
	for (int w = alen == 4 ? 0 : 2; w >= 0; w--) {
		uint64_t m = alen == 4 ? s->v4_plens : s->v6_plens[w];

		if (alen == 4 && !(s->v4_top[(addr[0] << 8 | addr[1]) >> 6] &
				   (1ull << ((addr[0] << 8 | addr[1]) & 63))))
			m &= 1ull << 32;
		while (m) {
			unsigned p = (unsigned)w * 64 + 63 - (unsigned)__builtin_clzll(m);

			m &= ~(1ull << (p % 64));
			if (p > alen * 8)
				continue;
			memcpy(key, addr, alen);
			mask_addr(key, alen, p);
			key[alen] = cat;
			if ((i = lookup(s, NJ_IK_IP, (uint8_t)p, key, alen + 1)))
				return (int)i->ctx;
		}
		if (alen == 4)
			break;
	}
	return -1;
}
