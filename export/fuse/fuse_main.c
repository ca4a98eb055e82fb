/* SPDX-License-Identifier: MIT */
/*
 * nightjar-fuse: the streaming process. Reads every input in time order (a
 * k-way merge on the events' own times, so one slow source does not make the
 * others' events look late), feeds the join state, writes fusion events and
 * checkpoints the inputs' positions with the output's size.
 *
 * Restart without loss or duplicates: the checkpoint holds, per input, where
 * reading stopped and an earlier "replay" position that covers everything the
 * join state still held. A restart re-reads from the replay position to
 * rebuild that state, and a join between two events that were both read
 * before the checkpoint is not written again; the output is first cut back
 * to the size it had at the checkpoint.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fuse.h"
#include "fuse_io.h"

#define MAX_INPUTS  64
#define SAMPLES_MAX 4096

struct sample {
	double t;
	struct nj_fuse_pos pos;
};

struct input {
	char path[1024];
	bool eve;
	enum nj_fuse_fmt fmt;
	struct nj_fuse_reader *r;
	bool has_peek;
	double peek_t;
	json_t *peek_ev;
	struct nj_fuse_ep peek_ep;
	struct nj_fuse_pos peek_pos; /* position of the peeked line */
	uint64_t peek_line;
	uint64_t ck_line; /* lines up to this one were read before the checkpoint */
	struct sample *samples;
	unsigned n_samples;
	bool done;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int out_line(void *arg, const char *line, size_t len)
{
	return nj_fuse_writer_line(arg, line, len);
}

static void usage(FILE *o)
{
	fprintf(o, "usage: nightjar-fuse -e EVE_FILE [-e ...] -i FORMAT:FILE [-i ...] -o OUT_FILE\n"
		   "         [-c CONFIG.yaml] [--once] [--checkpoint FILE] [--set key=value]\n"
		   "FORMAT: auto, winlogbeat, sysmon-json, sentinel, azure-syslog-xml, osquery\n");
}

static double wall(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void pos_to_json(json_t *o, const char *k, const struct nj_fuse_pos *p)
{
	json_t *j = json_object();

	json_object_set_new(j, "frame", json_integer((json_int_t)p->frame));
	json_object_set_new(j, "skip", json_integer((json_int_t)p->skip));
	json_object_set_new(j, "line_no", json_integer((json_int_t)p->line_no));
	json_object_set_new(o, k, j);
}

static void pos_from_json(json_t *j, struct nj_fuse_pos *p)
{
	p->frame = (uint64_t)json_integer_value(json_object_get(j, "frame"));
	p->skip = (uint64_t)json_integer_value(json_object_get(j, "skip"));
	p->line_no = (uint64_t)json_integer_value(json_object_get(j, "line_no"));
}

/* Where reading stopped: the peeked line is not consumed yet. */
static void read_pos(struct input *in, struct nj_fuse_pos *p)
{
	if (in->has_peek) {
		*p = in->peek_pos;
		return;
	}
	nj_fuse_reader_pos(in->r, p);
}

/* The latest sample at or before the horizon (or the earliest one). */
static void replay_pos(struct input *in, double horizon, struct nj_fuse_pos *p)
{
	read_pos(in, p);
	for (unsigned i = in->n_samples; i-- > 0;) {
		if (in->samples[i].t <= horizon) {
			*p = in->samples[i].pos;
			return;
		}
	}
	if (in->n_samples)
		*p = in->samples[0].pos;
}

static int checkpoint(const char *path, struct input *ins, unsigned n, struct nj_fuse *f,
		      struct nj_fuse_writer *w, const char *out_path, const struct nj_fuse_cfg *cfg)
{
	json_t *o = json_object(), *arr = json_array(), *cn = json_object();
	const struct nj_fuse_counters *c = nj_fuse_counters(f);
	double horizon = nj_fuse_oldest(f) - cfg->window - 60;
	int64_t size = nj_fuse_writer_flush(w);
	char tmp[1100];
	int rc;

	if (size < 0)
		return (int)size;
	for (unsigned i = 0; i < n; i++) {
		json_t *j = json_object();
		struct nj_fuse_pos p;

		json_object_set_new(j, "path", json_string(ins[i].path));
		read_pos(&ins[i], &p);
		pos_to_json(j, "read", &p);
		replay_pos(&ins[i], horizon, &p);
		pos_to_json(j, "replay", &p);
		json_array_append_new(arr, j);
	}
	json_object_set_new(o, "version", json_integer(1));
	json_object_set_new(o, "now", json_real(isfinite(nj_fuse_now(f)) ? nj_fuse_now(f) : 0));
	json_object_set_new(o, "output",
			    json_pack("{s:s,s:I}", "path", out_path, "size", (json_int_t)size));
	json_object_set_new(o, "inputs", arr);
#define NJ_X(k) json_object_set_new(cn, #k, json_integer((json_int_t)c->k));
	NJ_FUSE_COUNTERS(NJ_X)
#undef NJ_X
	json_object_set_new(o, "counters", cn);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	rc = json_dump_file(o, tmp, JSON_INDENT(1));
	json_decref(o);
	if (rc || rename(tmp, path))
		return -EIO;
	return 0;
}

/* Reads the next usable line of an input into its peek slot. */
static int fill_peek(struct nj_fuse *f, struct input *in, bool at_end)
{
	struct nj_fuse_counters *c = nj_fuse_counters_mut(f);

	while (!in->has_peek && !in->done) {
		const char *line;
		size_t len;
		struct nj_fuse_pos pos;
		int rc;

		nj_fuse_reader_pos(in->r, &pos);
		rc = nj_fuse_reader_next(in->r, at_end, &line, &len);
		if (rc < 0) {
			fprintf(stderr, "nightjar-fuse: %s: read error %d\n", in->path, rc);
			in->done = true;
			return rc;
		}
		if (rc == 0) {
			if (at_end && nj_fuse_reader_finished(in->r))
				in->done = true;
			return 0;
		}
		in->peek_pos = pos;
		in->peek_line = pos.line_no + 1;
		if (in->eve) {
			json_t *ev = json_loadb(line, len, 0, NULL);
			const char *ts = json_string_value(json_object_get(ev, "timestamp"));

			c->eve_lines++;
			if (!json_is_object(ev)) {
				json_decref(ev);
				c->eve_bad++;
				continue;
			}
			in->peek_t = -INFINITY;
			if (ts)
				nj_fuse_parse_time(ts, &in->peek_t);
			in->peek_ev = ev;
		} else {
			int pr;

			memset(&in->peek_ep, 0, sizeof(in->peek_ep));
			pr = nj_fuse_parse_line(in->fmt, line, len, in->peek_line, &in->peek_ep);
			c->ep_lines++;
			switch (pr) {
			case NJ_FUSE_OK: c->ep_ok++; break;
			case NJ_FUSE_PARTIAL: c->ep_partial++; break;
			case NJ_FUSE_SKIP_OTHER: c->ep_skip++; continue;
			case NJ_FUSE_BAD_JSON: c->ep_bad_json++; continue;
			case NJ_FUSE_BAD_XML: c->ep_bad_xml++; continue;
			default: c->ep_bad_shape++; continue;
			}
			in->peek_t = in->peek_ep.time;
		}
		in->has_peek = true;
		if (isfinite(in->peek_t) &&
		    (!in->n_samples || in->peek_t >= in->samples[in->n_samples - 1].t + 1)) {
			if (in->n_samples == SAMPLES_MAX) {
				/* full: keep every other sample (coarser, still covering all) */
				for (unsigned k = 0; k < SAMPLES_MAX / 2; k++)
					in->samples[k] = in->samples[2 * k];
				in->n_samples = SAMPLES_MAX / 2;
			}
			in->samples[in->n_samples].t = in->peek_t;
			in->samples[in->n_samples].pos = pos;
			in->n_samples++;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {{"eve", required_argument, NULL, 'e'},
					     {"input", required_argument, NULL, 'i'},
					     {"output", required_argument, NULL, 'o'},
					     {"config", required_argument, NULL, 'c'},
					     {"once", no_argument, NULL, 'O'},
					     {"checkpoint", required_argument, NULL, 'k'},
					     {"set", required_argument, NULL, 's'},
					     {"help", no_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	static struct input ins[MAX_INPUTS];
	const char *sets[128], *cfg_path = NULL, *out_path = NULL, *ck_path = NULL;
	unsigned n_in = 0, n_sets = 0;
	struct nj_fuse_cfg cfg;
	struct nj_fuse_writer *w = NULL;
	struct nj_fuse *f = NULL;
	json_t *ck = NULL;
	int64_t trunc_to = -1;
	bool once = false;
	double last_ck = wall();
	int opt, rc = 1;

	while ((opt = getopt_long(argc, argv, "e:i:o:c:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'e':
		case 'i':
			if (n_in == MAX_INPUTS) {
				fprintf(stderr, "nightjar-fuse: at most %d inputs\n", MAX_INPUTS);
				return 2;
			}
			ins[n_in].eve = opt == 'e';
			if (opt == 'i') {
				const char *colon = strchr(optarg, ':');
				char fmt[32];

				if (!colon || (size_t)(colon - optarg) >= sizeof(fmt)) {
					fprintf(stderr, "nightjar-fuse: -i wants FORMAT:FILE\n");
					return 2;
				}
				memcpy(fmt, optarg, (size_t)(colon - optarg));
				fmt[colon - optarg] = '\0';
				if (nj_fuse_fmt_parse(fmt, &ins[n_in].fmt)) {
					fprintf(stderr, "nightjar-fuse: unknown format '%s'\n",
						fmt);
					usage(stderr);
					return 2;
				}
				snprintf(ins[n_in].path, sizeof(ins[n_in].path), "%s", colon + 1);
			} else {
				snprintf(ins[n_in].path, sizeof(ins[n_in].path), "%s", optarg);
			}
			n_in++;
			break;
		case 'o': out_path = optarg; break;
		case 'c': cfg_path = optarg; break;
		case 'O': once = true; break;
		case 'k': ck_path = optarg; break;
		case 's':
			if (n_sets < sizeof(sets) / sizeof(sets[0]))
				sets[n_sets++] = optarg;
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!out_path || !n_in || optind != argc) {
		usage(stderr);
		return 2;
	}
	nj_fuse_cfg_default(&cfg);
	if ((cfg_path || n_sets) && nj_fuse_cfg_load(&cfg, cfg_path, sets, n_sets))
		return 2;
	if (ck_path && !access(ck_path, F_OK)) {
		ck = json_load_file(ck_path, 0, NULL);
		if (!json_is_object(ck)) {
			fprintf(stderr, "nightjar-fuse: %s: not a checkpoint\n", ck_path);
			return 2;
		}
		trunc_to = (int64_t)json_integer_value(
			json_object_get(json_object_get(ck, "output"), "size"));
	}
	for (unsigned i = 0; i < n_in; i++) {
		json_t *ci = json_array_get(json_object_get(ck, "inputs"), i);
		struct nj_fuse_pos from = {0}, rd = {0};

		/* a socket cannot be rewound: its lines are always new */
		if (ci && strncmp(ins[i].path, "unix:", 5) &&
		    !strcmp(json_string_value(json_object_get(ci, "path")) ?: "", ins[i].path)) {
			pos_from_json(json_object_get(ci, "replay"), &from);
			pos_from_json(json_object_get(ci, "read"), &rd);
			ins[i].ck_line = rd.line_no;
		} else if (ck) {
			fprintf(stderr,
				"nightjar-fuse: checkpoint has no entry for %s: from start\n",
				ins[i].path);
		}
		ins[i].samples = calloc(SAMPLES_MAX, sizeof(*ins[i].samples));
		ins[i].r = nj_fuse_reader_open(ins[i].path, &from);
		if (!ins[i].r || !ins[i].samples) {
			fprintf(stderr, "nightjar-fuse: cannot open %s\n", ins[i].path);
			goto out;
		}
	}
	w = nj_fuse_writer_open(out_path, trunc_to);
	if (!w) {
		fprintf(stderr, "nightjar-fuse: cannot open %s\n", out_path);
		goto out;
	}
	f = nj_fuse_create(&cfg, out_line, w);
	if (!f) {
		fprintf(stderr, "nightjar-fuse: out of memory\n");
		goto out;
	}
	if (ck)
		nj_fuse_set_resume(f, json_number_value(json_object_get(ck, "now")));
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);

	while (!stop) {
		struct input *best = NULL;

		for (unsigned i = 0; i < n_in; i++)
			fill_peek(f, &ins[i], once);
		for (unsigned i = 0; i < n_in; i++)
			if (ins[i].has_peek && (!best || ins[i].peek_t < best->peek_t))
				best = &ins[i];
		if (!best) {
			bool all_done = true;

			for (unsigned i = 0; i < n_in; i++)
				all_done &= ins[i].done;
			if (once && all_done)
				break;
			if (ck_path && wall() - last_ck > 2) {
				checkpoint(ck_path, ins, n_in, f, w, out_path, &cfg);
				last_ck = wall();
			}
			usleep(200000);
			continue;
		}
		{
			bool replayed = best->peek_line <= best->ck_line;

			if (best->eve) {
				nj_fuse_add_eve(f, best->peek_ev, replayed);
				json_decref(best->peek_ev);
				best->peek_ev = NULL;
			} else {
				nj_fuse_add_endpoint(f, &best->peek_ep, replayed);
				nj_fuse_ep_free(&best->peek_ep);
			}
			best->has_peek = false;
			if (isfinite(best->peek_t))
				nj_fuse_advance(f, best->peek_t);
		}
		if (ck_path && !once && wall() - last_ck > 2) {
			checkpoint(ck_path, ins, n_in, f, w, out_path, &cfg);
			last_ck = wall();
		}
	}
	/* end of input (--once) or shutdown: nothing is left undecided */
	nj_fuse_flush(f);
	if (ck_path && checkpoint(ck_path, ins, n_in, f, w, out_path, &cfg)) {
		fprintf(stderr, "nightjar-fuse: cannot write checkpoint %s\n", ck_path);
		goto out;
	}
	{
		const struct nj_fuse_counters *c = nj_fuse_counters(f);

		fprintf(stderr, "nightjar-fuse:");
#define NJ_X(k) fprintf(stderr, " %s=%llu", #k, (unsigned long long)c->k);
		NJ_FUSE_COUNTERS(NJ_X)
#undef NJ_X
		fputc('\n', stderr);
	}
	rc = 0;
out:
	if (w && nj_fuse_writer_close(w))
		rc = 1;
	nj_fuse_destroy(f);
	for (unsigned i = 0; i < n_in; i++) {
		nj_fuse_reader_close(ins[i].r);
		json_decref(ins[i].peek_ev);
		nj_fuse_ep_free(&ins[i].peek_ep);
		free(ins[i].samples);
	}
	json_decref(ck);
	return rc;
}
