/* SPDX-License-Identifier: MIT */
/*
 * Certificate decode cache. Decoding a certificate with OpenSSL costs tens of
 * microseconds, and most TLS sessions show a server certificate already seen
 * (the same sites and CDNs over and over: on the bench capture 319 first
 * certificates are 140 distinct ones). Each worker thread keeps a
 * direct-mapped table of fixed-size slots holding the DER bytes and what
 * nj_tls_x509_decode made of them; a slot is used only when its DER is
 * byte-for-byte the one being decoded, so a hit gives exactly the fields a
 * decode would. The table is allocated on a thread's first certificate and
 * bounded by app-layer.protocols.tls.certificate-cache (0: no cache).
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tls_priv.h"

#define SLOT_SIZE 4096u

struct slot {
	uint64_t hash;
	uint32_t der_len; /* 0: empty */
	uint16_t max_sans;
	uint16_t nsans;
	int32_t err;
	uint32_t subject_len, issuer_len, serial_len;
	int64_t not_before, not_after;
	char fingerprint[60];
	/* then: DER, subject, issuer, serial (serial_len + 1 bytes, NUL), per SAN a uint32_t
	 * length and its bytes */
	uint8_t data[];
};

#define SLOT_DATA (SLOT_SIZE - sizeof(struct slot))

struct cache {
	uint32_t nslots;
	uint8_t *slots; /* nslots * SLOT_SIZE */
};

static __thread struct cache *tcache;
static __thread bool tcache_off; /* allocation failed or cache disabled */
static __thread uint64_t tcache_hits;
static pthread_key_t tcache_key;
static pthread_once_t tcache_once = PTHREAD_ONCE_INIT;

static void cache_free(void *p)
{
	struct cache *c = p;

	if (c)
		free(c->slots);
	free(c);
}

static void key_init(void)
{
	if (pthread_key_create(&tcache_key, cache_free) != 0)
		tcache_key = (pthread_key_t)-1;
}

static struct cache *cache_get(void)
{
	const struct nj_tls_config *cfg = nj_tls_config_get();
	struct cache *c;
	uint64_t n;

	if (tcache || tcache_off)
		return tcache;
	n = cfg->cert_cache / SLOT_SIZE;
	if (n == 0 || pthread_once(&tcache_once, key_init) != 0 ||
	    tcache_key == (pthread_key_t)-1) {
		tcache_off = true;
		return NULL;
	}
	if (n > (1u << 20))
		n = 1u << 20;
	c = calloc(1, sizeof(*c));
	if (c)
		c->slots = calloc(n, SLOT_SIZE);
	if (!c || !c->slots || pthread_setspecific(tcache_key, c) != 0) {
		cache_free(c);
		tcache_off = true;
		return NULL;
	}
	c->nslots = (uint32_t)n;
	tcache = c;
	return c;
}

/* FNV-1a, 64 bits, eight bytes at a time for the bulk: cheap next to a decode. */
static uint64_t der_hash(const uint8_t *p, uint32_t n)
{
	uint64_t h = 0xcbf29ce484222325ull ^ n;
	uint32_t i = 0;

	for (; i + 8 <= n; i += 8) {
		uint64_t w;

		memcpy(&w, p + i, 8);
		h = (h ^ w) * 0x100000001b3ull;
		h ^= h >> 29;
	}
	for (; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

/* The allocator of a decode that is being cached: notes any failure. */
struct alloc_watch {
	nj_tls_alloc_fn alloc;
	void *arg;
	bool failed;
};

static void *watch_alloc(void *arg, size_t n)
{
	struct alloc_watch *w = arg;
	void *p = w->alloc(w->arg, n);

	if (!p)
		w->failed = true;
	return p;
}

static bool put(uint8_t **o, const uint8_t *end, const void *src, uint32_t n)
{
	if ((size_t)(end - *o) < n)
		return false;
	if (n)
		memcpy(*o, src, n);
	*o += n;
	return true;
}

static void store(struct slot *s, uint64_t h, const uint8_t *der, uint32_t len, unsigned max_sans,
		  enum nj_tls_x509_err err, const struct nj_tls_cert *c)
{
	uint8_t *o = s->data;
	const uint8_t *end = s->data + SLOT_DATA;
	bool ok;

	s->der_len = 0;
	ok = put(&o, end, der, len);
	if (ok && err == NJ_TLS_X509_OK) {
		ok = put(&o, end, c->subject, c->subject_len) &&
		     put(&o, end, c->issuer, c->issuer_len) &&
		     put(&o, end, c->serial, c->serial_len + 1);
		for (unsigned i = 0; ok && i < c->nsans; i++)
			ok = put(&o, end, &c->san_len[i], sizeof(uint32_t)) &&
			     put(&o, end, c->sans[i], c->san_len[i]);
	}
	if (!ok)
		return; /* too big for a slot: not cached */
	s->hash = h;
	s->max_sans = (uint16_t)max_sans;
	s->err = (int32_t)err;
	if (err == NJ_TLS_X509_OK) {
		s->subject_len = c->subject_len;
		s->issuer_len = c->issuer_len;
		s->serial_len = c->serial_len;
		s->nsans = c->nsans;
		s->not_before = c->not_before;
		s->not_after = c->not_after;
		memcpy(s->fingerprint, c->fingerprint, sizeof(s->fingerprint));
	}
	s->der_len = len;
}

static char *dup_str(nj_tls_alloc_fn alloc, void *arg, const uint8_t *src, uint32_t n)
{
	char *p = alloc(arg, (size_t)n + 1);

	if (!p)
		return NULL;
	if (n)
		memcpy(p, src, n);
	p[n] = 0;
	return p;
}

/* Fills out from a slot, allocating as nj_tls_x509_decode does. */
static enum nj_tls_x509_err load(const struct slot *s, struct nj_tls_cert *out,
				 nj_tls_alloc_fn alloc, void *arg)
{
	const uint8_t *p = s->data + s->der_len;
	unsigned k = 0;

	memset(out, 0, sizeof(*out));
	if (s->err != NJ_TLS_X509_OK)
		return (enum nj_tls_x509_err)s->err;
	out->subject = dup_str(alloc, arg, p, s->subject_len);
	out->subject_len = s->subject_len;
	p += s->subject_len;
	out->issuer = dup_str(alloc, arg, p, s->issuer_len);
	out->issuer_len = s->issuer_len;
	p += s->issuer_len;
	if (!out->subject || !out->issuer)
		goto nomem;
	if (s->nsans) {
		const uint8_t *q = p + s->serial_len + 1;

		out->sans = alloc(arg, s->nsans * sizeof(char *));
		out->san_len = alloc(arg, s->nsans * sizeof(uint32_t));
		if (out->sans && out->san_len) {
			for (; k < s->nsans; k++) {
				uint32_t l;

				memcpy(&l, q, sizeof(l));
				q += sizeof(l);
				out->sans[k] = dup_str(alloc, arg, q, l);
				if (!out->sans[k])
					break;
				out->san_len[k] = l;
				q += l;
			}
		}
	}
	out->nsans = (uint16_t)k;
	out->serial = alloc(arg, (size_t)s->serial_len + 1);
	if (!out->serial)
		goto nomem;
	memcpy(out->serial, p, (size_t)s->serial_len + 1);
	out->serial_len = s->serial_len;
	out->not_before = s->not_before;
	out->not_after = s->not_after;
	memcpy(out->fingerprint, s->fingerprint, sizeof(out->fingerprint));
	out->present = true;
	return NJ_TLS_X509_OK;
nomem:
	out->subject = out->issuer = out->serial = NULL;
	out->nsans = 0;
	return NJ_TLS_X509_NOMEM;
}

enum nj_tls_x509_err nj_tls_x509_decode_cached(const uint8_t *der, uint32_t len,
					       struct nj_tls_cert *out, nj_tls_alloc_fn alloc,
					       void *arg, unsigned max_sans)
{
	struct cache *c = cache_get();
	struct alloc_watch w = {alloc, arg, false};
	enum nj_tls_x509_err err;
	struct slot *s;
	uint64_t h;

	if (!c || !len || len > SLOT_DATA)
		return nj_tls_x509_decode(der, len, out, alloc, arg, max_sans);
	h = der_hash(der, len);
	s = (struct slot *)(void *)(c->slots + (size_t)(h % c->nslots) * SLOT_SIZE);
	if (s->der_len == len && s->hash == h && s->max_sans == max_sans &&
	    memcmp(s->data, der, len) == 0) {
		tcache_hits++;
		return load(s, out, alloc, arg);
	}
	err = nj_tls_x509_decode(der, len, out, watch_alloc, &w, max_sans);
	if (err != NJ_TLS_X509_NOMEM && !w.failed)
		store(s, h, der, len, max_sans, err, out);
	return err;
}

uint64_t nj_tls_x509_cache_hits(void)
{
	return tcache_hits;
}
