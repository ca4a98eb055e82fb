/* SPDX-License-Identifier: MIT */
/*
 * Engine skeleton: the run-time interface of engine.h wired into the worker,
 * counting what it is given. Signature evaluation (Hyperscan prefilter, full
 * checks, alerts) replaces this file.
 */
#include <stdlib.h>

#include "../dataplane/pkt.h"
#include "detect.h"
#include "engine.h"

struct nj_detect_engine {
	const struct nj_detect_rules *rules;
};

struct nj_detect_thread {
	const struct nj_detect_engine *e;
	struct nj_detect_stats st;
};

struct nj_detect_engine *nj_detect_engine_build(const struct nj_detect_rules *rules,
						const struct nj_conf *conf)
{
	struct nj_detect_engine *e = calloc(1, sizeof(*e));

	(void)conf;
	if (e)
		e->rules = rules;
	return e;
}

void nj_detect_engine_free(struct nj_detect_engine *e)
{
	free(e);
}

unsigned nj_detect_engine_sig_count(const struct nj_detect_engine *e)
{
	(void)e;
	return 0;
}

struct nj_detect_thread *nj_detect_thread_create(const struct nj_detect_engine *e,
						 struct nj_eve_worker *eve)
{
	struct nj_detect_thread *t = calloc(1, sizeof(*t));

	(void)eve;
	if (t)
		t->e = e;
	return t;
}

void nj_detect_thread_free(struct nj_detect_thread *t)
{
	free(t);
}

const struct nj_detect_stats *nj_detect_thread_stats(const struct nj_detect_thread *t)
{
	return &t->st;
}

void nj_detect_burst(struct nj_detect_thread *t, struct nj_pkt *pkts, uint16_t n)
{
	(void)pkts;
	t->st.pkts_inspected += n;
}

void nj_detect_stream(struct nj_detect_thread *t, struct nj_flow *f, int dir, const uint8_t *data,
		      uint32_t len, const struct nj_pkt *p)
{
	(void)f;
	(void)dir;
	(void)data;
	(void)p;
	t->st.stream_bytes += len;
}

void nj_detect_tx(void *thread, struct nj_flow *f, const struct nj_app_parser *parser,
		  struct nj_al_tx *tx, int dir)
{
	struct nj_detect_thread *t = thread;

	(void)f;
	(void)parser;
	(void)tx;
	(void)dir;
	t->st.txs_inspected++;
}

void nj_detect_flow_end(struct nj_detect_thread *t, struct nj_flow *f)
{
	(void)t;
	(void)f;
}
