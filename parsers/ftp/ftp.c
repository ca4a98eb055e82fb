/* SPDX-License-Identifier: MIT */
/*
 * FTP control channel and FTP-DATA: see ftp.h for what is parsed and how the
 * data connections are found.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../../common/nj_common.h"
#include "../../config/config.h"
#include "../../dataplane/flow.h"
#include "../files.h"
#include "ftp.h"

NJ_CONF_KEY(ftp_maxline, "app-layer.protocols.ftp.max-line-length", NJ_CT_SIZE, "4kb",
	    "Longest FTP command or reply line kept (64 bytes to 128kb); longer ones are cut "
	    "(events request_command_too_long / response_command_too_long, command_truncated / "
	    "reply_truncated).")
NJ_CONF_KEY(ftp_maxtx, "app-layer.protocols.ftp.max-tx", NJ_CT_INT, "1024",
	    "FTP transactions kept per flow; commands beyond it are not recorded (event "
	    "too_many_transactions).")
NJ_CONF_KEY(ftp_memcap, "app-layer.protocols.ftp.memcap", NJ_CT_SIZE, "0",
	    "Suricata's FTP memcap: accepted; FTP memory is bounded by max-tx and "
	    "max-line-length per flow.")

static uint32_t ftp_max_line = NJ_FTP_MAX_LINE_DEFAULT;
static uint32_t ftp_max_tx = NJ_FTP_MAX_TX;

/* ------------------------------------------------------------------ commands */

/* Suricata's FTP command table (names logged as "command"). */
static const char *const ftp_commands[] = {
	"ABOR", "ACCT", "ADAT", "ALLO", "APPE", "AUTH", "AVBL", "CCC",	"CDUP", "CONF",
	"CSID", "CWD",	"DELE", "DSIZ", "ENC",	"EPRT", "EPSV", "FEAT", "HELP", "HOST",
	"LANG", "LIST", "LPRT", "LPSV", "MDTM", "MFCT", "MFF",	"MFMT", "MIC",	"MKD",
	"MLSD", "MLST", "MODE", "NLST", "NOOP", "OPTS", "PASS", "PASV", "PBSZ", "PORT",
	"PROT", "PWD",	"QUIT", "REIN", "REST", "RETR", "RMD",	"RNFR", "RNTO", "SITE",
	"SIZE", "SMNT", "SPSV", "STAT", "STOR", "STOU", "STRU", "SYST", "THMB", "TYPE",
	"USER", "XCUP", "XCWD", "XMKD", "XPWD", "XRCP", "XRMD", "XRSQ", "XSEM", "XSEN",
};

/* The table's name for verb (case-insensitive), or "UNKNOWN". */
static const char *command_name(const uint8_t *v, uint32_t n)
{
	for (size_t i = 0; i < sizeof(ftp_commands) / sizeof(ftp_commands[0]); i++) {
		const char *c = ftp_commands[i];

		if (strlen(c) == n && strncasecmp(c, (const char *)v, n) == 0)
			return c;
	}
	return "UNKNOWN";
}

/* ------------------------------------------------------------------ state */

#define FTP_CMD_RETR 1
#define FTP_CMD_STOR 2

struct ftp_dir {
	uint8_t skip; /* discarding the rest of a line cut at max_line (or after a gap) */
};

struct ftp_state {
	struct nj_al_txq q;
	struct ftp_dir d[2];
	char ml_code[3]; /* multi-line reply in progress: its code */
	uint8_t in_ml;
	uint8_t encrypted;	    /* AUTH TLS accepted: nothing more is parsed */
	uint8_t active;		    /* last PORT/EPRT (1) or PASV/EPSV (0) */
	uint16_t dyn_port;	    /* from the last PORT/EPRT/PASV/EPSV, 0 = none */
	struct nj_ftp_tx *reply_tx; /* transaction a multi-line reply belongs to */
};

/* What an announced data connection carries (nj_al_expect data). */
struct ftp_expect {
	uint8_t cmd;	    /* FTP_CMD_RETR / FTP_CMD_STOR */
	uint8_t ipv6;	    /* the FTP server's address family */
	uint8_t server[16]; /* the FTP server's address */
	uint16_t name_len;  /* bytes of name */
	uint8_t name[NJ_FTP_NAME_MAX];
};

static void *ftp_state_new(void)
{
	return calloc(1, sizeof(struct ftp_state));
}

static void ftp_tx_free_one(struct nj_ftp_tx *tx)
{
	free(tx->arg);
	free(tx->reply);
	free(tx);
}

static void ftp_state_free(void *st)
{
	struct ftp_state *s = st;
	struct nj_al_tx *t = s->q.head;

	while (t) {
		struct nj_al_tx *n = t->next;

		ftp_tx_free_one((struct nj_ftp_tx *)t);
		t = n;
	}
	free(s);
}

static struct nj_al_txq *ftp_txq(void *st)
{
	return &((struct ftp_state *)st)->q;
}

static void ftp_tx_free(void *st, struct nj_al_tx *tx)
{
	struct ftp_state *s = st;

	if (s->reply_tx == (struct nj_ftp_tx *)tx)
		s->reply_tx = NULL;
	ftp_tx_free_one((struct nj_ftp_tx *)tx);
}

static struct nj_ftp_tx *tx_new(struct ftp_state *s, struct nj_al_ctx *c)
{
	struct nj_ftp_tx *tx;

	if (s->q.count >= ftp_max_tx) {
		nj_al_event(c, NJ_DIR_TOSERVER, "too_many_transactions");
		return NULL;
	}
	tx = calloc(1, sizeof(*tx));
	if (!tx)
		return NULL;
	nj_al_tx_add(&s->q, &tx->al);
	return tx;
}

/* ------------------------------------------------------------------ helpers */

/* Parses a decimal number of at most 5 digits at *p; -1 if none. */
static long num_at(const uint8_t **p, const uint8_t *end)
{
	long v = 0;
	int n = 0;

	while (*p < end && **p == ' ')
		(*p)++;
	while (*p < end && isdigit(**p) && n < 6) {
		v = v * 10 + (**p - '0');
		(*p)++;
		n++;
	}
	return n ? v : -1;
}

/* "h1,h2,h3,h4,p1,p2" (PORT, or inside a 227 reply): the port, 0 if malformed. */
static uint16_t port_from_tuple(const uint8_t *p, const uint8_t *end)
{
	long v[6];

	for (int i = 0; i < 6; i++) {
		v[i] = num_at(&p, end);
		if (v[i] < 0 || v[i] > 255)
			return 0;
		while (p < end && *p == ' ')
			p++;
		if (i < 5) {
			if (p >= end || *p != ',')
				return 0;
			p++;
		}
	}
	return (uint16_t)(v[4] * 256 + v[5]);
}

/* "|proto|addr|port|" (EPRT) or "|||port|" (a 229 reply): the port, 0 if malformed. */
static uint16_t port_from_ext(const uint8_t *p, const uint8_t *end)
{
	uint8_t delim;
	long port;

	while (p < end && *p == ' ')
		p++;
	if (p >= end)
		return 0;
	delim = *p;
	if (delim < 33 || delim > 126)
		return 0;
	/* skip two fields */
	for (int k = 0; k < 3; k++) {
		p = memchr(p, delim, (size_t)(end - p));
		if (!p)
			return 0;
		p++;
	}
	port = num_at(&p, end);
	if (port <= 0 || port > 65535 || p >= end || *p != delim)
		return 0;
	return (uint16_t)port;
}

/* ------------------------------------------------------------------ requests */

static void announce(struct ftp_state *s, struct nj_al_ctx *c, struct nj_ftp_tx *tx, uint8_t cmd)
{
	const struct nj_flow *f = nj_al_flow(c);
	struct ftp_expect e;
	uint32_t n = tx->arg_len < NJ_FTP_NAME_MAX ? tx->arg_len : NJ_FTP_NAME_MAX;

	if (!s->dyn_port || !f)
		return;
	memset(&e, 0, offsetof(struct ftp_expect, name));
	e.cmd = cmd;
	e.ipv6 = f->ipv6;
	/* the control flow's server is the FTP server */
	memcpy(e.server, f->addr[!f->client], 16);
	e.name_len = (uint16_t)n;
	if (n)
		memcpy(e.name, tx->arg, n);
	nj_al_expect(c, "ftp-data", s->dyn_port, &e,
		     (uint32_t)offsetof(struct ftp_expect, name) + n);
}

static void request_line(struct ftp_state *s, struct nj_al_ctx *c, const uint8_t *l, uint32_t n,
			 bool truncated)
{
	struct nj_ftp_tx *tx;
	uint32_t v = 0;
	const char *name;

	while (v < n && l[v] != ' ')
		v++;
	if (n == 0)
		return; /* empty line: nothing to record */
	tx = tx_new(s, c);
	if (!tx)
		return;
	name = command_name(l, v);
	snprintf(tx->cmd, sizeof(tx->cmd), "%s", name);
	if (v < n) {
		uint32_t alen = n - v - 1;

		tx->has_arg = true;
		tx->cmd_truncated = truncated;
		if (alen) {
			tx->arg = malloc(alen);
			if (tx->arg) {
				memcpy(tx->arg, l + v + 1, alen);
				tx->arg_len = alen;
			}
		}
	}
	tx->al.done[NJ_DIR_TOSERVER] = 1;
	tx->al.progress[NJ_DIR_TOSERVER] = 1;
	if (!strcmp(name, "PORT") || !strcmp(name, "EPRT")) {
		const uint8_t *a = tx->arg, *e = tx->arg + tx->arg_len;
		uint16_t port =
			tx->arg ? (name[0] == 'P' ? port_from_tuple(a, e) : port_from_ext(a, e))
				: 0;

		tx->mode = 1;
		if (port) {
			tx->dyn_port = port;
			s->dyn_port = port;
			s->active = 1;
		}
	} else if (!strcmp(name, "RETR")) {
		announce(s, c, tx, FTP_CMD_RETR);
	} else if (!strcmp(name, "STOR")) {
		announce(s, c, tx, FTP_CMD_STOR);
	}
}

/* ------------------------------------------------------------------ replies */

static bool is_code(const uint8_t *l, uint32_t n)
{
	return n >= 3 && isdigit(l[0]) && isdigit(l[1]) && isdigit(l[2]);
}

static void reply_store(struct nj_ftp_tx *tx, const uint8_t *l, uint32_t n, bool truncated)
{
	if (truncated)
		tx->reply_truncated = true;
	if (tx->reply_len + n + 1 > NJ_FTP_REPLY_MAX) {
		tx->reply_truncated = true;
		return;
	}
	if (!tx->reply) {
		tx->reply = malloc(NJ_FTP_REPLY_MAX);
		if (!tx->reply)
			return;
	}
	memcpy(tx->reply + tx->reply_len, l, n);
	tx->reply_len += n;
	tx->reply[tx->reply_len++] = '\n';
	tx->nlines++;
}

/* The oldest transaction still waiting for its reply, or a new one (a greeting). */
static struct nj_ftp_tx *reply_target(struct ftp_state *s, struct nj_al_ctx *c)
{
	struct nj_ftp_tx *tx;

	for (struct nj_al_tx *t = s->q.head; t; t = t->next)
		if (!t->done[NJ_DIR_TOCLIENT])
			return (struct nj_ftp_tx *)t;
	tx = tx_new(s, c);
	if (tx) {
		tx->al.done[NJ_DIR_TOSERVER] = 1;
		tx->al.progress[NJ_DIR_TOSERVER] = 1;
	}
	return tx;
}

/* The final line of a reply with code l[0..2] ended: complete tx unless 1xx. */
static void reply_end(struct ftp_state *s, struct nj_ftp_tx *tx, const uint8_t *l, uint32_t n)
{
	s->in_ml = 0;
	s->reply_tx = NULL;
	if (!tx)
		return;
	if (l[0] == '1')
		return; /* positive preliminary: the final reply follows */
	if (!strcmp(tx->cmd, "PASV") && !memcmp(l, "227", 3)) {
		const uint8_t *o = memchr(l, '(', n);
		const uint8_t *p = o ? o + 1 : l + 4;
		uint16_t port = 0;

		if (!o) {
			/* no parenthesis: the first digit after the code starts the tuple */
			while (p < l + n && !isdigit(*p))
				p++;
		}
		if (p < l + n)
			port = port_from_tuple(p, l + n);
		if (port) {
			tx->dyn_port = port;
			s->dyn_port = port;
			s->active = 0;
		}
	} else if (!strcmp(tx->cmd, "EPSV") && !memcmp(l, "229", 3)) {
		const uint8_t *o = memchr(l, '(', n);
		uint16_t port = o ? port_from_ext(o + 1, l + n) : 0;

		if (port) {
			tx->dyn_port = port;
			s->dyn_port = port;
			s->active = 0;
		}
	} else if (!strcmp(tx->cmd, "AUTH") && !memcmp(l, "234", 3)) {
		s->encrypted = 1; /* TLS from here on */
	}
	tx->reply_received = true;
	tx->al.done[NJ_DIR_TOCLIENT] = 1;
	tx->al.progress[NJ_DIR_TOCLIENT] = 1;
}

static void reply_line(struct ftp_state *s, struct nj_al_ctx *c, const uint8_t *l, uint32_t n,
		       bool truncated)
{
	struct nj_ftp_tx *tx;

	if (s->in_ml) {
		tx = s->reply_tx;
		if (tx)
			reply_store(tx, l, n, truncated);
		if (n >= 4 && !memcmp(l, s->ml_code, 3) && l[3] == ' ')
			reply_end(s, tx, l, n);
		else if (n == 3 && !memcmp(l, s->ml_code, 3))
			reply_end(s, tx, l, n);
		return;
	}
	if (n == 0)
		return;
	tx = reply_target(s, c);
	if (tx)
		reply_store(tx, l, n, truncated);
	if (is_code(l, n) && n >= 4 && l[3] == '-') {
		memcpy(s->ml_code, l, 3);
		s->in_ml = 1;
		s->reply_tx = tx;
		return;
	}
	if (is_code(l, n))
		reply_end(s, tx, l, n);
	else if (tx) {
		/* not a reply line: taken as one without a code (Suricata logs it as text) */
		tx->reply_received = true;
		tx->al.done[NJ_DIR_TOCLIENT] = 1;
		tx->al.progress[NJ_DIR_TOCLIENT] = 1;
	}
}

/* ------------------------------------------------------------------ parsing */

static void line(struct ftp_state *s, struct nj_al_ctx *c, int dir, const uint8_t *l, uint32_t n,
		 bool truncated)
{
	if (truncated)
		nj_al_event(c, dir,
			    dir == NJ_DIR_TOSERVER ? "request_command_too_long"
						   : "response_command_too_long");
	if (dir == NJ_DIR_TOSERVER)
		request_line(s, c, l, n, truncated);
	else
		reply_line(s, c, l, n, truncated);
}

static int32_t ftp_parse(void *st, struct nj_al_ctx *c, int dir, const uint8_t *data, uint32_t len)
{
	struct ftp_state *s = st;
	struct ftp_dir *d = &s->d[dir & 1];
	uint32_t off = 0;

	while (off < len) {
		const uint8_t *p = data + off;
		uint32_t n = len - off;
		const uint8_t *lf;
		uint32_t ll;

		if (s->encrypted)
			return (int32_t)len;
		lf = memchr(p, '\n', n);
		if (d->skip) {
			if (!lf)
				return (int32_t)len;
			d->skip = 0;
			off += (uint32_t)(lf - p) + 1;
			continue;
		}
		if (!lf) {
			/* a line longer than max_line whatever follows (a CR may end it) */
			if (n > ftp_max_line + 1) {
				line(s, c, dir, p, ftp_max_line, true);
				d->skip = 1;
				return (int32_t)len;
			}
			break;
		}
		ll = (uint32_t)(lf - p);
		if (ll && p[ll - 1] == '\r')
			ll--;
		if (ll > ftp_max_line)
			line(s, c, dir, p, ftp_max_line, true);
		else
			line(s, c, dir, p, ll, false);
		off += (uint32_t)(lf - p) + 1;
	}
	return (int32_t)off;
}

static void ftp_gap(void *st, struct nj_al_ctx *c, int dir, uint32_t len)
{
	struct ftp_state *s = st;

	(void)c;
	(void)len;
	s->d[dir & 1].skip = 1; /* resynchronise at the next line */
	if (dir == NJ_DIR_TOCLIENT) {
		s->in_ml = 0;
		s->reply_tx = NULL;
	}
}

static void ftp_close(void *st, struct nj_al_ctx *c, int dir)
{
	(void)st;
	(void)c;
	(void)dir;
}

/* ------------------------------------------------------------------ probing */

static bool starts_ci(const uint8_t *d, uint32_t len, const char *s)
{
	size_t n = strlen(s);

	return len >= n && strncasecmp((const char *)d, s, n) == 0;
}

static int ftp_probe(const uint8_t *d, uint32_t len, int dir)
{
	if (dir == NJ_DIR_TOSERVER) {
		static const char *const pats[] = {"USER ",    "PASS ",	   "PORT ",
						   "AUTH TLS", "AUTH SSL", "FEAT"};

		for (size_t i = 0; i < sizeof(pats) / sizeof(pats[0]); i++) {
			size_t n = strlen(pats[i]);

			if (starts_ci(d, len, pats[i]))
				return NJ_PROBE_YES;
			if (len < n && strncasecmp((const char *)d, pats[i], len) == 0)
				return NJ_PROBE_MORE;
		}
		return NJ_PROBE_NO;
	}
	/* a 220 greeting is FTP's, but also SMTP's: the client's first command decides */
	if (len < 4)
		return memcmp(d, "220", len < 3 ? len : 3) == 0 ? NJ_PROBE_MORE : NJ_PROBE_NO;
	if (!memcmp(d, "220", 3) && (d[3] == ' ' || d[3] == '-'))
		return NJ_PROBE_MORE;
	return NJ_PROBE_NO;
}

/* ------------------------------------------------------------------ EVE */

static void log_ftp(struct nj_al_log *lg, const struct nj_flow *f, const struct nj_al_tx *t)
{
	const struct nj_ftp_tx *tx = (const struct nj_ftp_tx *)t;
	struct nj_json *j = nj_al_log_begin(lg, t, NJ_DIR_TOSERVER);

	(void)f;
	nj_json_open_obj(j, "ftp");
	if (tx->cmd[0])
		nj_json_str(j, "command", tx->cmd);
	if (tx->has_arg && tx->arg_len) {
		nj_json_strn(j, "command_data", (const char *)tx->arg, tx->arg_len);
		nj_json_bool(j, "command_truncated", tx->cmd_truncated);
	}
	if (tx->reply_len) {
		const uint8_t *p = tx->reply, *end = tx->reply + tx->reply_len;
		bool any_code = false;

		for (const uint8_t *l = p; l < end;) {
			const uint8_t *e = memchr(l, '\n', (size_t)(end - l));

			if (is_code(l, (uint32_t)(e - l))) {
				if (!any_code)
					nj_json_open_arr(j, "completion_code");
				any_code = true;
				nj_json_strn(j, NULL, (const char *)l, 3);
			}
			l = e + 1;
		}
		if (any_code)
			nj_json_close_arr(j);
		nj_json_open_arr(j, "reply");
		for (const uint8_t *l = p; l < end;) {
			const uint8_t *e = memchr(l, '\n', (size_t)(end - l));
			uint32_t n = (uint32_t)(e - l), o = is_code(l, n) ? 4 : 0;

			if (n >= o)
				nj_json_strn(j, NULL, (const char *)l + o, n - o);
			l = e + 1;
		}
		nj_json_close_arr(j);
	}
	if (tx->dyn_port)
		nj_json_u64(j, "dynamic_port", tx->dyn_port);
	if (tx->mode)
		nj_json_str(j, "mode", tx->mode == 1 ? "active" : "passive");
	nj_json_str(j, "reply_received", tx->reply_received ? "yes" : "no");
	nj_json_bool(j, "reply_truncated", tx->reply_truncated);
	nj_json_close_obj(j);
	nj_al_log_commit(lg);
}

/* ------------------------------------------------------------------ detection */

bool nj_ftp_get_command(const struct nj_al_tx *t, const uint8_t **d, uint32_t *len)
{
	const struct nj_ftp_tx *tx = (const struct nj_ftp_tx *)t;

	if (!tx->cmd[0])
		return false;
	*d = (const uint8_t *)tx->cmd;
	*len = (uint32_t)strlen(tx->cmd);
	return true;
}

bool nj_ftp_get_command_data(const struct nj_al_tx *t, const uint8_t **d, uint32_t *len)
{
	const struct nj_ftp_tx *tx = (const struct nj_ftp_tx *)t;

	if (!tx->has_arg || !tx->arg_len)
		return false;
	*d = tx->arg;
	*len = tx->arg_len;
	return true;
}

static const struct nj_al_buffer ftp_buffers[] = {
	{"ftp.command", NJ_DIR_TOSERVER, nj_ftp_get_command},
	{"ftp.command_data", NJ_DIR_TOSERVER, nj_ftp_get_command_data},
	{NULL, 0, NULL},
};

/* ------------------------------------------------------------------ config */

static int ftp_configure(const struct nj_conf *conf)
{
	uint64_t ml = NJ_FTP_MAX_LINE_DEFAULT;
	int64_t mt = NJ_FTP_MAX_TX;

	if (!conf)
		return 0;
	if (nj_conf_size(conf, NULL, "app-layer.protocols.ftp.max-line-length", &ml) < 0 ||
	    nj_conf_int(conf, NULL, "app-layer.protocols.ftp.max-tx", 1, 1 << 20, &mt) < 0)
		return -1;
	/* the framework keeps a partial line: stay well below nightjar.app-layer.max-buffer */
	if (ml < 64 || ml > (128u << 10)) {
		NJ_ERR("app-layer.protocols.ftp.max-line-length: must be 64 bytes to 128kb");
		return -1;
	}
	ftp_max_line = (uint32_t)ml;
	ftp_max_tx = (uint32_t)mt;
	return 0;
}

static struct nj_app_parser nj_ftp_parser = {
	.name = "ftp",
	.ipproto_mask = NJ_AL_TCP,
	.ports = {21},
	.probe_min = 1,
	.eve = NJ_EVE_FTP,
	.probe = ftp_probe,
	.state_new = ftp_state_new,
	.state_free = ftp_state_free,
	.parse = ftp_parse,
	.gap = ftp_gap,
	.close = ftp_close,
	.txq = ftp_txq,
	.tx_free = ftp_tx_free,
	.log_tx = log_ftp,
	.buffers = ftp_buffers,
	.configure = ftp_configure,
	.server_first = true,
};

NJ_APP_PARSER_REGISTER(nj_ftp_parser)

/* ================================================================== FTP-DATA */

struct ftpdata_tx {
	struct nj_al_tx al;
	uint8_t cmd; /* FTP_CMD_RETR / FTP_CMD_STOR, 0 = unknown */
	uint16_t name_len;
	uint8_t name[NJ_FTP_NAME_MAX];
};

struct ftpdata_state {
	struct nj_al_txq q;
	struct ftpdata_tx *tx; /* the flow's one transaction (until logged) */
	struct nj_file *file;
	int8_t fdir;   /* direction carrying the file, -1 until known */
	uint8_t gaps;  /* bytes were missing */
	uint8_t ended; /* the file's direction ended */
	uint8_t cmd;
	uint16_t name_len;
	uint8_t name[NJ_FTP_NAME_MAX];
};

static void *ftpdata_state_new(void)
{
	struct ftpdata_state *s = calloc(1, sizeof(*s));

	if (s)
		s->fdir = -1;
	return s;
}

static void ftpdata_meta(struct nj_json *j, const void *arg)
{
	const struct ftpdata_state *s = arg;

	nj_json_open_obj(j, "ftp_data");
	if (s->name_len)
		nj_json_strn(j, "filename", (const char *)s->name, s->name_len);
	if (s->cmd)
		nj_json_str(j, "command", s->cmd == FTP_CMD_RETR ? "RETR" : "STOR");
	nj_json_close_obj(j);
}

static void ftpdata_finish(struct ftpdata_state *s, struct nj_al_ctx *c, bool truncated)
{
	if (s->file) {
		nj_file_close(s->file, truncated ? NJ_FILE_TRUNCATED : NJ_FILE_CLOSED,
			      c ? nj_al_ts(c) : 0, ftpdata_meta, s);
		s->file = NULL;
	}
	if (s->tx) {
		s->tx->al.done[0] = s->tx->al.done[1] = 1;
		s->tx->al.progress[0] = s->tx->al.progress[1] = 1;
		s->tx = NULL;
	}
	s->ended = 1;
}

static void ftpdata_state_free(void *st)
{
	struct ftpdata_state *s = st;
	struct nj_al_tx *t = s->q.head;

	if (s->file)
		nj_file_close(s->file, NJ_FILE_TRUNCATED, 0, ftpdata_meta, s);
	while (t) {
		struct nj_al_tx *n = t->next;

		free(t);
		t = n;
	}
	free(s);
}

static void ftpdata_expect_start(void *st, struct nj_al_ctx *c, const void *data, uint32_t len,
				 uint64_t parent_flow_id)
{
	struct ftpdata_state *s = st;
	struct ftp_expect e;
	const struct nj_flow *f = nj_al_flow(c);
	bool server_is_client;

	(void)parent_flow_id;
	memset(&e, 0, sizeof(e));
	if (len < offsetof(struct ftp_expect, name) || len > sizeof(e))
		return;
	memcpy(&e, data, len);
	if (e.name_len > len - offsetof(struct ftp_expect, name))
		return;
	s->cmd = e.cmd;
	s->name_len = e.name_len;
	memcpy(s->name, e.name, e.name_len);
	/* RETR: the FTP server sends; STOR: the FTP client does */
	server_is_client = f && memcmp(f->addr[f->client], e.server, 16) == 0;
	if (e.cmd == FTP_CMD_RETR)
		s->fdir = server_is_client ? NJ_DIR_TOSERVER : NJ_DIR_TOCLIENT;
	else if (e.cmd == FTP_CMD_STOR)
		s->fdir = server_is_client ? NJ_DIR_TOCLIENT : NJ_DIR_TOSERVER;
}

static struct ftpdata_tx *ftpdata_tx(struct ftpdata_state *s)
{
	struct ftpdata_tx *tx;

	if (s->tx || s->ended || s->q.next_id)
		return s->tx;
	tx = calloc(1, sizeof(*tx));
	if (!tx)
		return NULL;
	tx->cmd = s->cmd;
	tx->name_len = s->name_len;
	memcpy(tx->name, s->name, s->name_len);
	nj_al_tx_add(&s->q, &tx->al);
	s->tx = tx;
	return tx;
}

static int32_t ftpdata_parse(void *st, struct nj_al_ctx *c, int dir, const uint8_t *data,
			     uint32_t len)
{
	struct ftpdata_state *s = st;

	if (s->fdir < 0)
		s->fdir = (int8_t)dir; /* not announced with a direction: the first to send */
	if (dir != s->fdir || s->ended)
		return (int32_t)len; /* not the file's direction (Suricata ignores it) */
	if (!ftpdata_tx(s))
		return (int32_t)len;
	if (!s->file && nj_al_files(c))
		s->file = nj_file_open(nj_al_files(c), nj_al_flow(c), "ftp-data", s->name,
				       s->name_len, 0, dir);
	if (s->file)
		nj_file_append(s->file, data, len);
	return (int32_t)len;
}

static void ftpdata_gap(void *st, struct nj_al_ctx *c, int dir, uint32_t len)
{
	struct ftpdata_state *s = st;

	(void)c;
	if (dir != s->fdir || s->ended)
		return;
	s->gaps = 1;
	if (s->file)
		nj_file_gap(s->file, len);
}

static void ftpdata_close(void *st, struct nj_al_ctx *c, int dir)
{
	struct ftpdata_state *s = st;

	if (s->ended || (s->fdir >= 0 && dir != s->fdir))
		return;
	if (s->fdir < 0) {
		/* nothing was sent: the transaction ends with the flow */
		if (dir == NJ_DIR_TOCLIENT)
			ftpdata_tx(s);
		else
			return;
	}
	ftpdata_finish(s, c, nj_al_depth_reached(c, dir));
}

static struct nj_al_txq *ftpdata_txq(void *st)
{
	return &((struct ftpdata_state *)st)->q;
}

static void ftpdata_tx_free(void *st, struct nj_al_tx *tx)
{
	struct ftpdata_state *s = st;

	if (s->tx == (struct ftpdata_tx *)tx)
		s->tx = NULL;
	free(tx);
}

static void log_ftpdata(struct nj_al_log *lg, const struct nj_flow *f, const struct nj_al_tx *t)
{
	const struct ftpdata_tx *tx = (const struct ftpdata_tx *)t;
	struct nj_json *j = nj_al_log_begin(lg, t, NJ_DIR_TOSERVER);

	(void)f;
	nj_json_open_obj(j, "ftp_data");
	if (tx->name_len)
		nj_json_strn(j, "filename", (const char *)tx->name, tx->name_len);
	if (tx->cmd)
		nj_json_str(j, "command", tx->cmd == FTP_CMD_RETR ? "RETR" : "STOR");
	nj_json_close_obj(j);
	nj_al_log_commit(lg);
}

static struct nj_app_parser nj_ftpdata_parser = {
	.name = "ftp-data",
	.ipproto_mask = NJ_AL_TCP,
	.eve = NJ_EVE_FTP_DATA,
	.probe = NULL, /* only announced connections (nj_al_expect) */
	.state_new = ftpdata_state_new,
	.state_free = ftpdata_state_free,
	.parse = ftpdata_parse,
	.gap = ftpdata_gap,
	.close = ftpdata_close,
	.txq = ftpdata_txq,
	.tx_free = ftpdata_tx_free,
	.log_tx = log_ftpdata,
	.expect_start = ftpdata_expect_start,
};

NJ_APP_PARSER_REGISTER(nj_ftpdata_parser)
