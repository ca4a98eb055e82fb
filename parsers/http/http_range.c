/* SPDX-License-Identifier: MIT */
/*
 * Content-Range on responses (Suricata's HTPFileOpenWithRange and its Rust
 * content-range parser): the response's file gets "start"/"end", and a valid
 * partial range of a known total feeds the core's byte-range container of
 * its host name + file name (parsers/files.h, nj_file_range_*), which logs
 * the whole file once every byte has come, in the transaction that brought
 * the last range.
 */
#include <string.h>

#include "../files.h"
#include "http_priv.h"

/* digits as an i64 (Rust's i64::from_str on digit1): false when none or overflow */
static bool cr_num(const uint8_t *p, uint32_t n, uint32_t *i, int64_t *out)
{
	int64_t v = 0;
	uint32_t s = *i;

	while (*i < n && p[*i] >= '0' && p[*i] <= '9') {
		int d = p[*i] - '0';

		if (v > (INT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
		(*i)++;
	}
	*out = v;
	return *i > s;
}

bool http_content_range_parse(const uint8_t *p, uint32_t n, struct http_crange *r)
{
	uint32_t i = 0;

	r->start = r->end = r->size = -1;
	/* spaces, the unit (up to a space, which must come), spaces */
	while (i < n && p[i] == ' ')
		i++;
	while (i < n && p[i] != ' ')
		i++;
	if (i >= n)
		return false;
	while (i < n && p[i] == ' ')
		i++;
	if (i < n && p[i] == '*') {
		/* "*" "/" size */
		i++;
		if (i >= n || p[i] != '/')
			return false;
		i++;
		return cr_num(p, n, &i, &r->size);
	}
	if (!cr_num(p, n, &i, &r->start) || i >= n || p[i] != '-')
		return false;
	i++;
	if (!cr_num(p, n, &i, &r->end) || i >= n || p[i] != '/')
		return false;
	i++;
	if (i < n && p[i] == '*')
		return true; /* size unknown: -1 */
	return cr_num(p, n, &i, &r->size);
}

void http_range_open(struct http_state *s, struct nj_al_ctx *c, struct nj_http_tx *tx,
		     struct nj_file *file, const uint8_t *name, uint32_t name_len)
{
	struct http_dir *d = &s->d[NJ_DIR_TOCLIENT];
	struct http_crange r;
	const uint8_t *v;
	uint32_t n;

	if (!file || !nj_http_header(tx, NJ_DIR_TOCLIENT, "content-range", &v, &n))
		return;
	if (!http_content_range_parse(v, n, &r)) {
		http_event(c, tx, NJ_DIR_TOCLIENT, "RANGE_INVALID");
		return;
	}
	/* no end or no total: the answer to an unsatisfiable range, or unknown size */
	if (r.end <= 0 || r.size <= 0)
		return;
	/* the whole file: a plain file */
	if (r.start == 0 && r.end == r.size - 1)
		return;
	if (r.start > r.end || r.end > r.size - 1) {
		http_event(c, tx, NJ_DIR_TOCLIENT, "RANGE_INVALID");
		return;
	}
	nj_file_set_range(file, (uint64_t)r.start, (uint64_t)r.end);
	/* as Suricata: no reassembly without a host name */
	if (!nj_http_has(tx->host))
		return;
	nj_file_range_open(nj_al_files(c), &d->rng, nj_al_flow(c), nj_http_ptr(tx, 0, tx->host),
			   tx->host.len, name, name_len, "http", tx->al.id, NJ_DIR_TOCLIENT,
			   (uint64_t)r.start, (uint64_t)r.end, (uint64_t)r.size, nj_al_ts(c));
}
