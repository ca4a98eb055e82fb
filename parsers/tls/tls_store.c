/* SPDX-License-Identifier: MIT */
/*
 * tls.store and Suricata's tls-store output: when a rule with tls.store
 * matches a transaction, the certificate chains seen (the server's, then a
 * client's) are written once each as PEM to certs-log-dir, named
 * SECONDS.MICROS-N.pem (client-SECONDS.MICROS-N.pem for the client's) after
 * the time of the Certificate message, with a .meta text file next to it. N
 * counts stored chains in the process, from 1.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/evp.h>

#include "../../common/nj_common.h"
#include "../../config/config.h"
#include "detect/detect_int.h"
#include "tls_priv.h"

NJ_CONF_KEY(tlsstore_en, "outputs.*.tls-store.enabled", NJ_CT_BOOL, "no",
	    "Write the certificate chains of transactions matched by tls.store rules as PEM.")
NJ_CONF_KEY(tlsstore_dir, "outputs.*.tls-store.certs-log-dir", NJ_CT_STR, "certs",
	    "tls-store directory; relative to the log directory unless absolute.")

static struct {
	bool enabled;
	char dir[4096];
} store_cfg;

static uint32_t store_seq; /* chains stored (file name suffix) */

int nj_tls_store_configure(const struct nj_conf *conf)
{
	const struct nj_conf_node *outs = conf ? nj_conf_get(conf, "outputs") : NULL;

	store_cfg.enabled = false;
	for (const struct nj_conf_node *o = outs ? outs->child : NULL; o; o = o->next) {
		const struct nj_conf_node *s = nj_conf_node_get(o, "tls-store");
		const char *dir = "certs";
		bool en = true;

		if (!s || s->kind != NJ_CONF_MAP)
			continue;
		if (nj_conf_bool(conf, s, "enabled", &en) < 0 ||
		    nj_conf_str(conf, s, "certs-log-dir", &dir) < 0)
			return -1;
		if (!en)
			continue;
		if (dir[0] == '/')
			snprintf(store_cfg.dir, sizeof(store_cfg.dir), "%s", dir);
		else
			snprintf(store_cfg.dir, sizeof(store_cfg.dir), "%s/%s", nj_al_log_dir(),
				 dir);
		if (mkdir(store_cfg.dir, 0755) < 0 && errno != EEXIST) {
			NJ_ERR("tls-store: cannot create %s: %s", store_cfg.dir, strerror(errno));
			return -1;
		}
		store_cfg.enabled = true;
		break;
	}
	return 0;
}

static void pem_write(FILE *f, const uint8_t *der, uint32_t len)
{
	unsigned char line[80];

	fputs("-----BEGIN CERTIFICATE-----\n", f);
	for (uint32_t o = 0; o < len; o += 48) {
		int n = EVP_EncodeBlock(line, der + o, (int)(len - o < 48 ? len - o : 48));

		fwrite(line, 1, (size_t)n, f);
		fputc('\n', f);
	}
	fputs("-----END CERTIFICATE-----\n", f);
}

/* Writes the chain of direction dir: 0, or -1 (counted by the caller). */
static int store_chain(const struct nj_tls_tx *tx, int dir)
{
	const uint8_t *c = tx->chain[dir];
	uint32_t len = tx->chain_len[dir], o = 0, n;
	uint64_t ts = tx->cert_ts[dir];
	const struct nj_tls_cert *cert = &tx->cert[dir];
	char path[4200], ts_s[40];
	FILE *f;

	n = __atomic_add_fetch(&store_seq, 1, __ATOMIC_RELAXED);
	snprintf(path, sizeof(path), "%s/%s%" PRIu64 ".%06u-%u.pem", store_cfg.dir,
		 dir ? "" : "client-", ts / 1000000u, (unsigned)(ts % 1000000u), n);
	f = fopen(path, "w");
	if (!f)
		return -1;
	while (o + 3 <= len) {
		uint32_t cl = (uint32_t)c[o] << 16 | (uint32_t)c[o + 1] << 8 | c[o + 2];

		o += 3;
		if (cl > len - o)
			break;
		pem_write(f, c + o, cl);
		o += cl;
	}
	fclose(f);
	/* the .meta next to it: what identifies the certificate */
	memcpy(path + strlen(path) - 3, "meta", 5);
	f = fopen(path, "w");
	if (!f)
		return -1;
	nj_eve_format_ts(ts_s, ts);
	fprintf(f, "TIME:              %s\n", ts_s);
	if (cert->present) {
		fprintf(f, "TLS SUBJECT:       %.*s\n", (int)cert->subject_len, cert->subject);
		fprintf(f, "TLS ISSUERDN:      %.*s\n", (int)cert->issuer_len, cert->issuer);
		fprintf(f, "TLS FINGERPRINT:   %s\n", cert->fingerprint);
		fprintf(f, "TLS SERIAL:        %s\n", cert->serial);
	}
	fclose(f);
	return 0;
}

/* tls.store: always true; on a match, stores the chains not stored yet (an output action). */
static bool store_match(const struct nj_app_parser *p, const struct nj_al_tx *t, int dir,
			const void *ctx)
{
	struct nj_tls_tx *tx = (struct nj_tls_tx *)(uintptr_t)t; /* the stored marks only */

	(void)p;
	(void)dir;
	(void)ctx;
	if (!store_cfg.enabled)
		return true;
	for (int d = 1; d >= 0; d--) {
		if (!tx->chain[d] || (tx->stored & (1u << d)))
			continue;
		tx->stored |= (uint8_t)(1u << d);
		store_chain(tx, d);
	}
	return true;
}

static int kw_store(struct nj_detect_parse *ps, const struct nj_detect_keyword *kw, char *v)
{
	(void)kw;
	(void)v;
	return nj_detect_add_txm(ps, store_match, NULL, "tls");
}
NJ_DETECT_KEYWORD(tls_store, .name = "tls.store",
		  .aliases = (const char *const[]){"tls_store", NULL}, .flags = NJ_KWF_NOVALUE,
		  .parse = kw_store,
		  .doc = "store the certificate chains (tls-store output) when the rule matches")
