/* SPDX-License-Identifier: MIT */
/*
 * Keyword and buffer registries. Both are filled by constructors before main
 * runs and are read-only afterwards; keyword lookups go through a hash table
 * built on first use (single-threaded: rule loading).
 */
#include <stdlib.h>
#include <string.h>

#include "detect.h"

/* ------------------------------------------------------------ buffers */

static struct nj_detect_buffer buf_pkt = {
	"pkt", NULL, NJ_BUFF_PACKET | NJ_BUFF_TOSERVER | NJ_BUFF_TOCLIENT, NJ_DETECT_BUF_PKT};
static struct nj_detect_buffer buf_stream = {"stream", NULL, NJ_BUFF_TOSERVER | NJ_BUFF_TOCLIENT,
					     NJ_DETECT_BUF_STREAM};
static struct nj_detect_buffer *buffers[NJ_DETECT_MAX_BUFFERS] = {&buf_pkt, &buf_stream};
static unsigned nbuffers = 2;

int nj_detect_buffer_register(struct nj_detect_buffer *b)
{
	int id = nj_detect_buffer_id(b->name);

	if (id >= 0) {
		/* the same name twice (a parser and detect): first one wins */
		b->id = (uint16_t)id;
		return id;
	}
	if (nbuffers >= NJ_DETECT_MAX_BUFFERS)
		return -1;
	b->id = (uint16_t)nbuffers;
	buffers[nbuffers++] = b;
	return b->id;
}

int nj_detect_buffer_id(const char *name)
{
	for (unsigned i = 0; i < nbuffers; i++)
		if (strcmp(buffers[i]->name, name) == 0)
			return (int)i;
	return -1;
}

const struct nj_detect_buffer *nj_detect_buffer_get(unsigned id)
{
	return id < nbuffers ? buffers[id] : NULL;
}

unsigned nj_detect_buffer_count(void)
{
	return nbuffers;
}

/* ------------------------------------------------------------ keywords */

static struct nj_detect_keyword *kw_list;

#define KW_HASH_SIZE 1024u
struct kw_slot {
	const char *name;
	const struct nj_detect_keyword *kw;
};
static struct kw_slot *kw_hash;

void nj_detect_keyword_register(struct nj_detect_keyword *kw)
{
	for (struct nj_detect_keyword *it = kw_list; it; it = it->next)
		if (it == kw)
			return;
	kw->next = kw_list;
	kw_list = kw;
	free(kw_hash); /* rebuilt on next lookup */
	kw_hash = NULL;
}

static uint32_t name_hash(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h;
}

static void kw_hash_put(const char *name, const struct nj_detect_keyword *kw)
{
	uint32_t i = name_hash(name) & (KW_HASH_SIZE - 1);

	while (kw_hash[i].name) {
		if (strcmp(kw_hash[i].name, name) == 0)
			return; /* first registration of a name wins */
		i = (i + 1) & (KW_HASH_SIZE - 1);
	}
	kw_hash[i].name = name;
	kw_hash[i].kw = kw;
}

const struct nj_detect_keyword *nj_detect_keyword_find(const char *name)
{
	if (!kw_hash) {
		kw_hash = calloc(KW_HASH_SIZE, sizeof(*kw_hash));
		if (!kw_hash)
			return NULL;
		for (struct nj_detect_keyword *kw = kw_list; kw; kw = kw->next) {
			kw_hash_put(kw->name, kw);
			for (unsigned a = 0; kw->aliases && kw->aliases[a]; a++)
				kw_hash_put(kw->aliases[a], kw);
		}
	}
	for (uint32_t i = name_hash(name) & (KW_HASH_SIZE - 1); kw_hash[i].name;
	     i = (i + 1) & (KW_HASH_SIZE - 1))
		if (strcmp(kw_hash[i].name, name) == 0)
			return kw_hash[i].kw;
	return NULL;
}

void nj_detect_keyword_foreach(void (*fn)(void *arg, const struct nj_detect_keyword *kw), void *arg)
{
	for (struct nj_detect_keyword *kw = kw_list; kw; kw = kw->next)
		fn(arg, kw);
}
