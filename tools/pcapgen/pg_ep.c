/* SPDX-License-Identifier: MIT */
/*
 * pcapgen's endpoint side: the events a Sysmon (or osquery) agent on each
 * generated client host would have logged for its traffic. See pg_ep.h and
 * docs/fusion-pcapgen.md for the model; in short:
 *
 *  - a client host is identified by its address (10.0.h.x and the matching
 *    fd00::2:0:h:x), named WS-NNNN, with a user, a clock offset drawn in
 *    [-skew, +skew] and long-lived processes (System, services, explorer, a
 *    browser, the DNS client and time services) whose creations are logged
 *    before the capture starts;
 *  - each TCP/UDP flow gets one network event (Sysmon EID 3, osquery
 *    socket_events) by the process that owns it, stamped with the flow's
 *    first packet time on the host's clock plus a few ms of jitter, but
 *    delivered (record order) only at the host's next network batch flush;
 *  - DNS answers give EID 22 (by the asking process, the browser), HTTP
 *    downloads and SMB copies give EID 11 (file created) and EID 15 (stream
 *    hash of the exact bytes on the wire) by the process that stored them;
 *  - a share of events is lost in transport (record id gap, truth says so).
 *
 * Events are collected in memory (about 400 bytes each, so a few hundred
 * thousand flows are fine) and written once at the end.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "pg_ep.h"

#define EP_MAX_HOSTS 1000
#define EP_MAX_FILES 8
#define EP_MAX_DNS   4
#define EP_MAX_KV    32
/* Hosts 0..63 (10.0.1.2-10.0.1.65) are the branch office behind --endpoint-nat:
 * few enough for a per-address NAT table in the fusion's configuration. */
#define EP_NAT_HOSTS 64

bool pg_ep_on;
struct pg_ep_cfg pg_ep_cfg;

enum {
	R_SYSTEM = 0,
	R_SERVICES,
	R_EXPLORER,
	R_BROWSER,
	R_DNS,
	R_NTP,
	R_NLONG, /* roles above are long-lived, one per host */
	R_DOWNLOADER = R_NLONG,
	R_SMBCLIENT,
};

struct ep_file {
	int kind;
	char name[128];	  /* file name as the server knows it */
	char source[256]; /* URL or UNC path */
	uint64_t t_begin, t_end, size;
	uint8_t md5[16], sha1[20], sha256[32];
};

struct ep_dnsq {
	char qname[128];
	char results[256];
	uint16_t qtype;
	int rcode;
	uint64_t t;
};

struct pg_ep_flow {
	int host;
	uint64_t start_us;
	bool nat;
	struct pg_host inside; /* the client address the endpoint sees */
	uint16_t inside_port;
	struct ep_file files[EP_MAX_FILES];
	int nfiles;
	int cur; /* file being hashed, or -1 */
	EVP_MD_CTX *dig[3];
	struct ep_dnsq dns[EP_MAX_DNS];
	int ndns;
};

struct ep_proc {
	int host;
	int role;
	uint32_t pid;
	int parent; /* index in procs, or -1 */
	uint64_t start_us;
	char guid[40];
	char *cmdline;
};

struct ep_host {
	bool used;
	bool nat; /* some of its flows went through the NAT */
	char name[16];
	char user[24];
	int64_t skew_us;
	int64_t net_skew_us; /* EID 3 only: its clock is not the other events' */
	uint64_t phase_us;
	uint32_t next_pid;
	uint32_t nproc;
	uint32_t guid_hi;
	uint64_t next_record;
	int browser;
	int proc[R_NLONG];
};

/* One endpoint event; strings are owned (strdup). */
struct ep_ev {
	uint64_t deliver_us; /* true time it reached the log */
	uint64_t t_us;	     /* true time of what it records */
	uint64_t seq;
	int64_t utc_us; /* as stamped by the host */
	int host;
	int eid;
	int proc;
	uint64_t flow;
	uint64_t record_id;
	bool lost;
	bool dropped; /* suppressed by Sysmon's per-tuple rate limit: never existed */
	/* network */
	uint8_t proto;
	bool v6, nat;
	struct pg_host src, dst, wire_src;
	uint16_t sport, dport, wire_sport;
	char cid[64];
	/* dns */
	char *qname, *results;
	int qstatus;
	/* file */
	char *target;
	char *source;
	uint64_t create_us, size;
	uint8_t md5[16], sha1[20], sha256[32];
};

static struct ep_host hosts[EP_MAX_HOSTS];
static struct ep_proc *procs;
static size_t nprocs, cap_procs;
static struct ep_ev *evs;
static size_t nevs, cap_evs;
static uint64_t ev_seq;

static void *ep_xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n);

	if (!q) {
		fprintf(stderr, "pcapgen: out of memory (endpoint events)\n");
		exit(2);
	}
	return q;
}

static char *ep_strdup(const char *s)
{
	size_t n = strlen(s) + 1;

	return memcpy(ep_xrealloc(NULL, n), s, n);
}

static bool is_osq(void)
{
	return pg_ep_cfg.format == PG_EP_OSQUERY;
}

/* ---- Community ID v1, seed 0 (written here, not shared with the sensor) ---- */

static void community_id(uint8_t proto, const struct pg_host *a, uint16_t ap,
			 const struct pg_host *b, uint16_t bp, char *out, size_t n)
{
	size_t alen = a->v6 ? 16 : 4;
	uint8_t buf[2 + 32 + 2 + 4], md[20], b64[32];
	const struct pg_host *s = a, *d = b;
	uint16_t sp = ap, dp = bp;
	unsigned int mdlen = 0;
	int c = memcmp(a->ip, b->ip, alen);
	size_t o = 0;

	if (c > 0 || (c == 0 && ap > bp)) {
		s = b;
		d = a;
		sp = bp;
		dp = ap;
	}
	buf[o++] = 0;
	buf[o++] = 0;
	memcpy(buf + o, s->ip, alen);
	o += alen;
	memcpy(buf + o, d->ip, alen);
	o += alen;
	buf[o++] = proto;
	buf[o++] = 0;
	buf[o++] = (uint8_t)(sp >> 8);
	buf[o++] = (uint8_t)sp;
	buf[o++] = (uint8_t)(dp >> 8);
	buf[o++] = (uint8_t)dp;
	EVP_Digest(buf, o, md, &mdlen, EVP_sha1(), NULL);
	EVP_EncodeBlock(b64, md, 20);
	snprintf(out, n, "1:%s", (const char *)b64);
}

/* ---- time and text ---- */

static void fmt_time(char *dst, size_t n, int64_t us, int style)
{
	time_t t = (time_t)(us / 1000000);
	unsigned int ms = (unsigned int)((us % 1000000) / 1000) % 1000;
	struct tm tm;
	char s[24];

	gmtime_r(&t, &tm);
	switch (style) {
	case 0: /* Sysmon UtcTime */
		strftime(s, sizeof(s), "%Y-%m-%d %H:%M:%S", &tm);
		snprintf(dst, n, "%.19s.%03u", s, ms);
		break;
	case 1: /* ISO 8601, ms */
		strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%S", &tm);
		snprintf(dst, n, "%.19s.%03uZ", s, ms);
		break;
	case 2: /* nxlog EventTime, seconds */ strftime(dst, n, "%Y-%m-%d %H:%M:%S", &tm); break;
	default: /* osquery calendarTime */
		strftime(dst, n, "%a %b %e %H:%M:%S %Y UTC", &tm);
		break;
	}
}

static void ip_text(const struct pg_host *h, char *dst, size_t n)
{
	inet_ntop(h->v6 ? AF_INET6 : AF_INET, h->ip, dst, (socklen_t)n);
}

static void hex(char *dst, const uint8_t *p, size_t n, bool upper)
{
	static const char lc[] = "0123456789abcdef", uc[] = "0123456789ABCDEF";
	const char *d = upper ? uc : lc;

	for (size_t i = 0; i < n; i++) {
		dst[2 * i] = d[p[i] >> 4];
		dst[2 * i + 1] = d[p[i] & 15];
	}
	dst[2 * n] = 0;
}

static void jstr(FILE *fp, const char *s)
{
	fputc('"', fp);
	while (*s) {
		size_t n = strcspn(
			s, "\"\\\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f"
			   "\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f");
		unsigned char c;

		fwrite(s, 1, n, fp); /* the plain run at once: paths are long */
		s += n;
		if (!*s)
			break;
		c = (unsigned char)*s++;
		if (c == '"' || c == '\\')
			fprintf(fp, "\\%c", c);
		else
			fprintf(fp, "\\u%04x", c);
	}
	fputc('"', fp);
}

/* ---- hosts and processes ---- */

static const char *const first_names[] = {"alice", "bob",   "carol", "dave",  "emma",
					  "frank", "grace", "henry", "irene", "jack"};
static const char *const last_names[] = {"smith",  "jones", "brown",  "garcia", "miller",
					 "wilson", "moore", "taylor", "khan",	"nguyen"};

static int host_of(const struct pg_host *h)
{
	const uint8_t *b = h->v6 ? h->ip + 14 : h->ip + 2;

	if (h->v6 ? (h->ip[0] != 0xfd || h->ip[1] != 0 || h->ip[13] != 0)
		  : (h->ip[0] != 10 || h->ip[1] != 0))
		return -1;
	if (b[0] < 1 || b[0] > 4 || b[1] < 2 || b[1] > 251)
		return -1;
	return (b[0] - 1) * 250 + (b[1] - 2);
}

int pg_ep_host_name(const struct pg_host *h, char *dst, size_t n)
{
	int hi = host_of(h);

	if (hi < 0)
		return -1;
	snprintf(dst, n, "WS-%04d", hi);
	return 0;
}

static const char *const win_browsers[3][2] = {
	{"C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe",
	 "\"C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe\""},
	{"C:\\Program Files (x86)\\Microsoft\\Edge\\Application\\msedge.exe",
	 "\"C:\\Program Files (x86)\\Microsoft\\Edge\\Application\\msedge.exe\" "
	 "--single-argument"},
	{"C:\\Program Files\\Mozilla Firefox\\firefox.exe",
	 "\"C:\\Program Files\\Mozilla Firefox\\firefox.exe\""},
};

static const char *const lin_browsers[3][2] = {
	{"/opt/google/chrome/chrome", "/opt/google/chrome/chrome"},
	{"/usr/lib/firefox/firefox", "/usr/lib/firefox/firefox"},
	{"/usr/lib/firefox/firefox", "/usr/lib/firefox/firefox -new-window"},
};

static const char *proc_image(const struct ep_proc *p)
{
	const struct ep_host *h = &hosts[p->host];

	if (is_osq()) {
		switch (p->role) {
		case R_SYSTEM: return "/usr/lib/systemd/systemd";
		case R_SERVICES: return "/usr/lib/systemd/systemd";
		case R_EXPLORER: return "/usr/bin/bash";
		case R_BROWSER: return lin_browsers[h->browser][0];
		case R_DNS: return "/usr/lib/systemd/systemd-resolved";
		case R_NTP: return "/usr/sbin/chronyd";
		case R_DOWNLOADER: return "/usr/bin/curl";
		default: return "/usr/bin/smbclient";
		}
	}
	switch (p->role) {
	case R_SYSTEM: return "System";
	case R_SERVICES: return "C:\\Windows\\System32\\services.exe";
	case R_EXPLORER: return "C:\\Windows\\explorer.exe";
	case R_BROWSER: return win_browsers[h->browser][0];
	case R_DNS:
	case R_NTP: return "C:\\Windows\\System32\\svchost.exe";
	case R_DOWNLOADER: return "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe";
	default: return "System";
	}
}

static void proc_user(const struct ep_proc *p, char *dst, size_t n)
{
	const struct ep_host *h = &hosts[p->host];

	if (is_osq()) {
		bool sys = p->role == R_SYSTEM || p->role == R_SERVICES || p->role == R_DNS ||
			   p->role == R_NTP;

		snprintf(dst, n, "%s", sys ? "0" : "1000");
		return;
	}
	switch (p->role) {
	case R_SYSTEM:
	case R_SERVICES: snprintf(dst, n, "NT AUTHORITY\\SYSTEM"); break;
	case R_DNS: snprintf(dst, n, "NT AUTHORITY\\NETWORK SERVICE"); break;
	case R_NTP: snprintf(dst, n, "NT AUTHORITY\\LOCAL SERVICE"); break;
	default: snprintf(dst, n, "CORP\\%s", h->user); break;
	}
}

static int proc_new(int hi, int role, int parent, uint64_t start_us, const char *cmdline)
{
	struct ep_host *h = &hosts[hi];
	struct ep_proc *p;
	uint32_t st = (uint32_t)(start_us / 1000000);
	uint32_t cnt = ++h->nproc;

	if (nprocs == cap_procs) {
		cap_procs = cap_procs ? 2 * cap_procs : 256;
		procs = ep_xrealloc(procs, cap_procs * sizeof(*procs));
	}
	p = &procs[nprocs];
	p->host = hi;
	p->role = role;
	p->parent = parent;
	p->start_us = start_us;
	if (role == R_SYSTEM) {
		p->pid = is_osq() ? 1 : 4;
	} else {
		h->next_pid += 4 + (uint32_t)((start_us / 1000) % 61) * 4;
		p->pid = h->next_pid;
	}
	/* Sysmon's layout: machine part, process start time (low word first), counter */
	snprintf(p->guid, sizeof(p->guid), "{%08x-%04x-%04x-%02x%02x-000000000900}", h->guid_hi,
		 st & 0xffff, st >> 16, cnt & 0xff, (cnt >> 8) & 0xff);
	p->cmdline = ep_strdup(cmdline ? cmdline : "");
	return (int)nprocs++;
}

static struct ep_ev *ev_new(int host, int eid, uint64_t t_us, int64_t utc_us)
{
	struct ep_ev *e;

	if (nevs == cap_evs) {
		cap_evs = cap_evs ? 2 * cap_evs : 1024;
		evs = ep_xrealloc(evs, cap_evs * sizeof(*evs));
	}
	e = &evs[nevs++];
	memset(e, 0, sizeof(*e));
	e->host = host;
	e->eid = eid;
	e->t_us = t_us;
	e->utc_us = utc_us;
	e->deliver_us = t_us;
	e->seq = ev_seq++;
	e->proc = -1;
	return e;
}

/* Process creation (EID 1 / process_events) of procs[pi], logged at its start. */
static void ev_proc_create(int pi, struct pg_rng *r)
{
	struct ep_proc *p = &procs[pi];
	struct ep_ev *e = ev_new(p->host, 1, p->start_us,
				 (int64_t)p->start_us + hosts[p->host].skew_us +
					 (int64_t)pg_range(r, 0, 2000));

	e->proc = pi;
	e->deliver_us = p->start_us + pg_range(r, 1000, 50000);
}

static struct ep_host *host_get(int hi)
{
	struct ep_host *h = &hosts[hi];
	struct pg_rng r;
	uint64_t t0 = pg_opts.start_us;
	char cmd[256];

	if (h->used)
		return h;
	h->used = true;
	pg_rng_seed(&r, pg_opts.seed, 0x6570686f7374ULL + (uint64_t)hi);
	snprintf(h->name, sizeof(h->name), "WS-%04d", hi);
	snprintf(h->user, sizeof(h->user), "%s.%s", PG_PICK(&r, first_names),
		 PG_PICK(&r, last_names));
	h->skew_us = pg_ep_cfg.skew_us ? (int64_t)pg_range(&r, 0, 2 * pg_ep_cfg.skew_us) -
						 (int64_t)pg_ep_cfg.skew_us
				       : 0;
	h->phase_us = pg_ep_cfg.batch_us ? pg_range(&r, 0, pg_ep_cfg.batch_us - 1) : 0;
	h->next_pid = (uint32_t)pg_range(&r, 400, 900) & ~3u;
	h->guid_hi = (uint32_t)pg_rand(&r);
	h->next_record = pg_range(&r, 1000, 5000000);
	h->browser = (int)pg_range(&r, 0, 2);

	/* Long-lived processes: booted hours before the capture, browser later. */
	uint64_t boot = t0 - pg_range(&r, 3600, 86400) * 1000000ULL;

	h->proc[R_SYSTEM] = proc_new(hi, R_SYSTEM, -1, boot, is_osq() ? "/sbin/init" : "");
	h->proc[R_SERVICES] = proc_new(hi, R_SERVICES, -1, boot + 4000000,
				       is_osq() ? "/usr/lib/systemd/systemd --user"
						: "C:\\Windows\\system32\\services.exe");
	h->proc[R_DNS] =
		proc_new(hi, R_DNS, h->proc[R_SERVICES], boot + 9000000,
			 is_osq() ? "/usr/lib/systemd/systemd-resolved"
				  : "C:\\Windows\\system32\\svchost.exe -k NetworkService -p -s "
				    "Dnscache");
	h->proc[R_NTP] = proc_new(hi, R_NTP, h->proc[R_SERVICES], boot + 11000000,
				  is_osq() ? "/usr/sbin/chronyd -F 1"
					   : "C:\\Windows\\system32\\svchost.exe -k LocalService "
					     "-s W32Time");
	h->proc[R_EXPLORER] =
		proc_new(hi, R_EXPLORER, -1, boot + pg_range(&r, 60, 600) * 1000000ULL,
			 is_osq() ? "-bash" : "C:\\Windows\\Explorer.EXE");
	snprintf(cmd, sizeof(cmd), "%s",
		 is_osq() ? lin_browsers[h->browser][1] : win_browsers[h->browser][1]);
	h->proc[R_BROWSER] = proc_new(hi, R_BROWSER, h->proc[R_EXPLORER],
				      t0 - pg_range(&r, 30, 3000) * 1000000ULL, cmd);
	for (int i = 0; i < R_NLONG; i++)
		if (i != R_SYSTEM)
			ev_proc_create(h->proc[i], &r);
	if (pg_ep_cfg.net_skew_us) /* drawn last: other draws stay as without it */
		h->net_skew_us = (int64_t)pg_range(&r, 0, 2 * pg_ep_cfg.net_skew_us) -
				 (int64_t)pg_ep_cfg.net_skew_us;
	return h;
}

/* ---- hooks from the flow engine and the protocols ---- */

static bool is_private_srv(const struct pg_host *h)
{
	return !h->v6 && h->ip[0] == 172 && (h->ip[1] & 0xf0) == 16;
}

void pg_ep_flow_new(struct pg_flow *f, uint64_t ts)
{
	struct pg_ep_flow *e;
	int hi;

	if (!pg_ep_on)
		return;
	hi = host_of(&f->cli_h);
	if (hi < 0)
		return;
	e = calloc(1, sizeof(*e));
	if (!e)
		return;
	e->host = hi;
	e->start_us = ts;
	e->cur = -1;
	e->inside = f->cli_h;
	e->inside_port = f->cport;
	/* Port-translating NAT for the branch office's flows leaving the site: one
	 * public address, ports handed out in flow order (unique for 64000 flows). */
	if (pg_ep_cfg.nat && hi < EP_NAT_HOSTS && !f->v6 &&
	    (f->app->proto == PG_TCP || f->app->proto == PG_UDP) && !is_private_srv(&f->srv_h)) {
		e->nat = true;
		hosts[hi].nat = true;
		f->cli_h.ip[0] = 198;
		f->cli_h.ip[1] = 18;
		f->cli_h.ip[2] = 0;
		f->cli_h.ip[3] = 1;
		f->cport = (uint16_t)(1024 + f->id % 64000);
	}
	f->ep = e;
}

void pg_ep_dns(struct pg_flow *f, const char *qname, uint16_t qtype, int rcode, const char *results)
{
	struct pg_ep_flow *e = f->ep;
	struct ep_dnsq *q;

	if (!e || e->ndns >= EP_MAX_DNS)
		return;
	q = &e->dns[e->ndns++];
	snprintf(q->qname, sizeof(q->qname), "%s", qname);
	snprintf(q->results, sizeof(q->results), "%s", results && *results ? results : "-");
	q->qtype = qtype;
	q->rcode = rcode;
	q->t = f->ts;
}

void pg_ep_file_begin(struct pg_flow *f, int kind, const char *name, const char *source)
{
	struct pg_ep_flow *e = f->ep;
	struct ep_file *x;
	const EVP_MD *md[3] = {EVP_md5(), EVP_sha1(), EVP_sha256()};

	if (!e || e->nfiles >= EP_MAX_FILES || e->cur >= 0)
		return;
	for (int i = 0; i < 3; i++) {
		if (!e->dig[i])
			e->dig[i] = EVP_MD_CTX_new();
		if (!e->dig[i] || !EVP_DigestInit_ex(e->dig[i], md[i], NULL))
			return;
	}
	x = &e->files[e->nfiles];
	memset(x, 0, sizeof(*x));
	x->kind = kind;
	snprintf(x->name, sizeof(x->name), "%s", name);
	snprintf(x->source, sizeof(x->source), "%s", source);
	x->t_begin = f->ts;
	e->cur = e->nfiles;
}

void pg_ep_file_update(struct pg_flow *f, const void *p, size_t n)
{
	struct pg_ep_flow *e = f->ep;

	if (!e || e->cur < 0)
		return;
	for (int i = 0; i < 3; i++)
		EVP_DigestUpdate(e->dig[i], p, n);
	e->files[e->cur].size += n;
}

void pg_ep_file_end(struct pg_flow *f)
{
	struct pg_ep_flow *e = f->ep;
	struct ep_file *x;
	unsigned int l;

	if (!e || e->cur < 0)
		return;
	x = &e->files[e->cur];
	EVP_DigestFinal_ex(e->dig[0], x->md5, &l);
	EVP_DigestFinal_ex(e->dig[1], x->sha1, &l);
	EVP_DigestFinal_ex(e->dig[2], x->sha256, &l);
	x->t_end = f->ts;
	e->cur = -1;
	e->nfiles++;
}

void pg_ep_file_mem(struct pg_flow *f, int kind, const char *name, const char *source,
		    const void *p, size_t n)
{
	struct pg_ep_flow *e = f->ep;
	int i;

	if (!e || e->cur >= 0)
		return;
	pg_ep_file_begin(f, kind, name, source);
	i = e->cur;
	pg_ep_file_update(f, p, n);
	pg_ep_file_end(f);
	if (i >= 0)
		e->files[i].t_end = 0;
}

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '\\');
	const char *t = strrchr(p, '/');

	if (t > s)
		s = t;
	return s ? s + 1 : p;
}

static void file_events(struct ep_host *h, int pi, const struct ep_file *x, uint64_t end_us,
			struct pg_rng *r, uint64_t flow, const char *cid)
{
	char path[320];
	uint64_t t_end = x->t_end ? x->t_end : end_us;
	struct ep_ev *ev;
	int64_t create;

	if (is_osq())
		snprintf(path, sizeof(path), "/home/%s/%s/%s", h->user,
			 x->kind == PG_EP_FILE_HTTP ? "Downloads" : "Documents",
			 base_name(x->name));
	else
		snprintf(path, sizeof(path), "C:\\Users\\%s\\%s\\%s", h->user,
			 x->kind == PG_EP_FILE_HTTP ? "Downloads" : "Documents",
			 base_name(x->name));
	/* EID 11 when the first bytes are stored, EID 15 when the copy is complete
	 * and the Zone.Identifier stream is written. */
	ev = ev_new((int)(h - hosts), 11, x->t_begin,
		    (int64_t)x->t_begin + h->skew_us + (int64_t)pg_range(r, 0, 3000));
	ev->proc = pi;
	ev->flow = flow;
	ev->target = ep_strdup(path);
	snprintf(ev->cid, sizeof(ev->cid), "%s", cid);
	ev->create_us = (uint64_t)ev->utc_us;
	ev->deliver_us = x->t_begin + pg_range(r, 1000, 40000);
	ev->size = x->size;
	memcpy(ev->sha256, x->sha256, 32);
	create = ev->utc_us;

	ev = ev_new((int)(h - hosts), 15, t_end,
		    (int64_t)t_end + h->skew_us + (int64_t)pg_range(r, 1000, 20000));
	ev->proc = pi;
	ev->flow = flow;
	ev->target = ep_strdup(path);
	ev->source = ep_strdup(x->source);
	snprintf(ev->cid, sizeof(ev->cid), "%s", cid);
	ev->create_us = (uint64_t)create;
	ev->deliver_us = t_end + pg_range(r, 20000, 80000);
	ev->size = x->size;
	memcpy(ev->md5, x->md5, 16);
	memcpy(ev->sha1, x->sha1, 20);
	memcpy(ev->sha256, x->sha256, 32);
}

void pg_ep_flow_end(struct pg_flow *f, uint64_t ts)
{
	struct pg_ep_flow *e = f->ep;
	struct ep_host *h;
	struct pg_rng r;
	const char *app = f->app->name;
	int owner = -1, asker;
	char cmd[512], cid[64];

	if (!e)
		return;
	f->ep = NULL;
	community_id((uint8_t)f->app->proto, &f->cli_h, f->cport, &f->srv_h, f->sport, cid,
		     sizeof(cid));
	if (e->cur >= 0)
		pg_ep_file_end(f);
	for (int i = 0; i < 3; i++)
		EVP_MD_CTX_free(e->dig[i]);
	h = host_get(e->host);
	pg_rng_seed(&r, pg_opts.seed, 0x6570666c6f77ULL ^ (f->id * 0x9e3779b97f4a7c15ULL));
	asker = h->proc[R_BROWSER];

	if (!strcmp(app, "http") || !strcmp(app, "tls")) {
		owner = h->proc[R_BROWSER];
		if (e->nfiles) {
			/* a download: a fresh PowerShell (or curl) started just before */
			const struct ep_file *x = &e->files[0];
			uint64_t st = e->start_us - pg_range(&r, 150000, 1500000);

			if (is_osq())
				snprintf(cmd, sizeof(cmd), "curl -sSfLo /home/%s/Downloads/%s %s",
					 h->user, base_name(x->name), x->source);
			else
				snprintf(cmd, sizeof(cmd),
					 "powershell.exe -NoProfile -Command \"Invoke-WebRequest "
					 "-Uri '%s' -OutFile 'C:\\Users\\%s\\Downloads\\%s'\"",
					 x->source, h->user, base_name(x->name));
			owner = proc_new(e->host, R_DOWNLOADER, h->proc[R_EXPLORER], st, cmd);
			ev_proc_create(owner, &r);
		}
	} else if (!strcmp(app, "dns") || !strcmp(app, "dns-tcp")) {
		owner = h->proc[R_DNS];
	} else if (!strcmp(app, "ntp")) {
		owner = h->proc[R_NTP];
	} else if (!strcmp(app, "smb")) {
		if (is_osq()) {
			const char *fn = e->nfiles ? e->files[0].source : "";

			snprintf(cmd, sizeof(cmd), "smbclient //%s/share -c \"get %s\"",
				 f->srv->name, fn);
			owner = proc_new(e->host, R_SMBCLIENT, h->proc[R_EXPLORER],
					 e->start_us - pg_range(&r, 100000, 900000), cmd);
			ev_proc_create(owner, &r);
		} else {
			/* the kernel's SMB client: Sysmon says System (PID 4) */
			owner = h->proc[R_SYSTEM];
		}
	}
	/* ICMP has no network connection event */
	if (owner >= 0 && (f->app->proto == PG_TCP || f->app->proto == PG_UDP)) {
		struct ep_ev *ev = ev_new(e->host, 3, e->start_us,
					  (int64_t)e->start_us + h->skew_us + h->net_skew_us +
						  (int64_t)pg_range(&r, 0, 4000) - 1000);
		uint64_t b = pg_ep_cfg.batch_us;

		ev->proc = owner;
		ev->flow = f->id;
		ev->proto = (uint8_t)f->app->proto;
		ev->v6 = f->v6;
		ev->nat = e->nat;
		ev->src = e->inside;
		ev->sport = e->inside_port;
		ev->dst = f->srv_h;
		ev->dport = f->sport;
		ev->wire_src = f->cli_h;
		ev->wire_sport = f->cport;
		snprintf(ev->cid, sizeof(ev->cid), "%s", cid);
		/* delivered at the host's next network flush */
		if (b) {
			uint64_t k = (e->start_us - h->phase_us + b - 1) / b;

			ev->deliver_us = h->phase_us + k * b + pg_range(&r, 1000, 200000);
		} else {
			ev->deliver_us = e->start_us + pg_range(&r, 1000, 50000);
		}
	}
	for (int i = 0; i < e->ndns && !is_osq(); i++) {
		struct ep_dnsq *q = &e->dns[i];
		struct ep_ev *ev =
			ev_new(e->host, 22, q->t,
			       (int64_t)q->t + h->skew_us + (int64_t)pg_range(&r, 1000, 8000));

		ev->proc = asker;
		ev->flow = f->id;
		snprintf(ev->cid, sizeof(ev->cid), "%s", cid);
		ev->qname = ep_strdup(q->qname);
		ev->results = ep_strdup(q->results);
		ev->qstatus = q->rcode == 3 ? 9003 : q->rcode ? 9002 : 0;
		ev->deliver_us = q->t + pg_range(&r, 2000, 30000);
	}
	for (int i = 0; i < e->nfiles; i++) {
		int pi = owner;

		if (!strcmp(app, "smb") && !is_osq())
			pi = h->proc[R_EXPLORER]; /* the copy is explorer's, not System's */
		if (pi >= 0)
			file_events(h, pi, &e->files[i], ts, &r, f->id, cid);
	}
	free(e);
}

/* ---- output ---- */

struct kv {
	int n;
	const char *k[EP_MAX_KV];
	char *v[EP_MAX_KV];
};

static void kv_add(struct kv *kv, const char *k, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void kv_add(struct kv *kv, const char *k, const char *fmt, ...)
{
	va_list ap;
	char tmp[1024];

	if (kv->n >= EP_MAX_KV)
		return;
	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	kv->k[kv->n] = k;
	kv->v[kv->n++] = ep_strdup(tmp);
}

static void kv_free(struct kv *kv)
{
	for (int i = 0; i < kv->n; i++)
		free(kv->v[i]);
	kv->n = 0;
}

static void kv_write(FILE *fp, const struct kv *kv, bool lead_comma)
{
	for (int i = 0; i < kv->n; i++) {
		if (i || lead_comma)
			fputc(',', fp);
		jstr(fp, kv->k[i]);
		fputc(':', fp);
		jstr(fp, kv->v[i]);
	}
}

static const char *port_name(uint16_t p)
{
	switch (p) {
	case 53: return "domain";
	case 80: return "http";
	case 123: return "ntp";
	case 443: return "https";
	case 445: return "microsoft-ds";
	default: return "-";
	}
}

static const char *category(int eid)
{
	switch (eid) {
	case 1: return "Process Create (rule: ProcessCreate)";
	case 3: return "Network connection detected (rule: NetworkConnect)";
	case 11: return "File created (rule: FileCreate)";
	case 15: return "File stream created (rule: FileCreateStreamHash)";
	default: return "Dns query (rule: DnsQuery)";
	}
}

static int ev_version(int eid)
{
	switch (eid) {
	case 1: return 5;
	case 3: return 5;
	case 22: return 5;
	default: return 2;
	}
}

/* Sysmon's EventData for e, keys and order as Sysmon 15 writes them. */
static void sysmon_data(const struct ep_ev *e, struct kv *kv)
{
	const struct ep_proc *p = &procs[e->proc];
	char t[40], user[64], a[64], b[64], h1[80], h2[80], h3[80];

	fmt_time(t, sizeof(t), e->utc_us, 0);
	proc_user(p, user, sizeof(user));
	kv_add(kv, "RuleName", "-");
	kv_add(kv, "UtcTime", "%s", t);
	kv_add(kv, "ProcessGuid", "%s", p->guid);
	kv_add(kv, "ProcessId", "%u", p->pid);
	kv_add(kv, "Image", "%s", proc_image(p));
	switch (e->eid) {
	case 1: {
		const struct ep_proc *pp = p->parent >= 0 ? &procs[p->parent] : NULL;
		const char *img = proc_image(p);
		const char *cmd = p->cmdline[0] ? p->cmdline : img;

		kv_add(kv, "FileVersion", "10.0.19041.1 (WinBuild.160101.0800)");
		kv_add(kv, "Description", "%s", base_name(img));
		kv_add(kv, "Product", "-");
		kv_add(kv, "Company", "-");
		kv_add(kv, "OriginalFileName", "%s", base_name(img));
		kv_add(kv, "CommandLine", "%s", cmd);
		kv_add(kv, "CurrentDirectory", "C:\\Windows\\system32\\");
		kv_add(kv, "User", "%s", user);
		kv_add(kv, "LogonGuid", "{%08x-0000-0000-0000-000000000000}",
		       hosts[p->host].guid_hi);
		kv_add(kv, "LogonId", "0x3e7");
		kv_add(kv, "TerminalSessionId", "%d", p->role == R_EXPLORER ? 1 : 0);
		kv_add(kv, "IntegrityLevel", "%s", p->role <= R_SERVICES ? "System" : "Medium");
		kv_add(kv, "Hashes", "SHA256=%016llX%016llX%016llX%016llX",
		       (unsigned long long)p->pid * 0x9e3779b97f4a7c15ULL,
		       (unsigned long long)p->role, (unsigned long long)hosts[p->host].guid_hi,
		       (unsigned long long)p->start_us);
		kv_add(kv, "ParentProcessGuid", "%s",
		       pp ? pp->guid : "{00000000-0000-0000-0000-000000000000}");
		kv_add(kv, "ParentProcessId", "%u", pp ? pp->pid : 0);
		kv_add(kv, "ParentImage", "%s", pp ? proc_image(pp) : "-");
		kv_add(kv, "ParentCommandLine", "%s",
		       pp ? (pp->cmdline[0] ? pp->cmdline : proc_image(pp)) : "-");
		if (pp) {
			char pu[64];

			proc_user(pp, pu, sizeof(pu));
			kv_add(kv, "ParentUser", "%s", pu);
		} else {
			kv_add(kv, "ParentUser", "-");
		}
		break;
	}
	case 3:
		ip_text(&e->src, a, sizeof(a));
		ip_text(&e->dst, b, sizeof(b));
		kv_add(kv, "User", "%s", user);
		kv_add(kv, "Protocol", "%s", e->proto == PG_TCP ? "tcp" : "udp");
		kv_add(kv, "Initiated", "true");
		kv_add(kv, "SourceIsIpv6", "%s", e->v6 ? "true" : "false");
		kv_add(kv, "SourceIp", "%s", a);
		kv_add(kv, "SourceHostname", "-");
		kv_add(kv, "SourcePort", "%u", e->sport);
		kv_add(kv, "SourcePortName", "-");
		kv_add(kv, "DestinationIsIpv6", "%s", e->v6 ? "true" : "false");
		kv_add(kv, "DestinationIp", "%s", b);
		kv_add(kv, "DestinationHostname", "-");
		kv_add(kv, "DestinationPort", "%u", e->dport);
		kv_add(kv, "DestinationPortName", "%s", port_name(e->dport));
		break;
	case 22:
		kv_add(kv, "QueryName", "%s", e->qname);
		kv_add(kv, "QueryStatus", "%d", e->qstatus);
		kv_add(kv, "QueryResults", "%s", e->results);
		kv_add(kv, "User", "%s", user);
		break;
	case 11:
		fmt_time(a, sizeof(a), (int64_t)e->create_us, 0);
		kv_add(kv, "TargetFilename", "%s", e->target);
		kv_add(kv, "CreationUtcTime", "%s", a);
		kv_add(kv, "User", "%s", user);
		break;
	case 15:
		fmt_time(a, sizeof(a), (int64_t)e->create_us, 0);
		hex(h1, e->sha1, 20, true);
		hex(h2, e->md5, 16, true);
		hex(h3, e->sha256, 32, true);
		kv_add(kv, "TargetFilename", "%s:Zone.Identifier", e->target);
		kv_add(kv, "CreationUtcTime", "%s", a);
		kv_add(kv, "Hash",
		       "SHA1=%s,MD5=%s,SHA256=%s,IMPHASH=00000000000000000000000000000000", h1, h2,
		       h3);
		kv_add(kv, "Contents", "[ZoneTransfer]  ZoneId=3  HostUrl=%s  ", e->source);
		kv_add(kv, "User", "%s", user);
		break;
	}
}

static void write_winlogbeat(FILE *fp, const struct ep_ev *e, struct kv *kv)
{
	const struct ep_host *h = &hosts[e->host];
	char ts[40], created[40], lname[16];

	/* Beats report host.name in lower case; computer_name is Windows' own */
	for (size_t i = 0; i <= strlen(h->name); i++)
		lname[i] = (char)(h->name[i] >= 'A' && h->name[i] <= 'Z' ? h->name[i] + 32
									 : h->name[i]);

	fmt_time(ts, sizeof(ts), (int64_t)e->deliver_us + h->skew_us, 1);
	fmt_time(created, sizeof(created), (int64_t)e->deliver_us + 1500000, 1);
	fprintf(fp,
		"{\"@timestamp\":\"%s\",\"agent\":{\"type\":\"winlogbeat\",\"version\":\"8.11.1\","
		"\"name\":\"%s\"},\"ecs\":{\"version\":\"8.0.0\"},\"host\":{\"name\":\"%s\","
		"\"hostname\":\"%s\",\"os\":{\"family\":\"windows\",\"platform\":\"windows\"}},"
		"\"event\":{\"code\":\"%d\",\"kind\":\"event\",\"provider\":"
		"\"Microsoft-Windows-Sysmon\",\"created\":\"%s\",\"action\":\"%s\"},"
		"\"log\":{\"level\":\"information\"},\"winlog\":{\"channel\":"
		"\"Microsoft-Windows-Sysmon/"
		"Operational\",\"computer_name\":\"%s.corp.example.com\","
		"\"event_id\":\"%d\",\"record_id\":%llu,\"provider_name\":"
		"\"Microsoft-Windows-Sysmon\",\"provider_guid\":"
		"\"{5770385f-c22a-43e0-bf4c-06f5698ffbd9}\",\"api\":\"wineventlog\",\"version\":%d,"
		"\"opcode\":\"Info\",\"task\":\"%s\",\"process\":{\"pid\":3172,\"thread\":{\"id\":"
		"4012}},\"user\":{\"identifier\":\"S-1-5-18\",\"domain\":\"NT AUTHORITY\",\"name\":"
		"\"SYSTEM\",\"type\":\"User\"},\"event_data\":{",
		ts, lname, lname, lname, e->eid, created, category(e->eid), h->name, e->eid,
		(unsigned long long)e->record_id, ev_version(e->eid), category(e->eid));
	kv_write(fp, kv, false);
	fputs("}}}\n", fp);
}

static void write_sysmon_json(FILE *fp, const struct ep_ev *e, struct kv *kv)
{
	const struct ep_host *h = &hosts[e->host];
	char ts[40], et[40], rt[40];

	fmt_time(ts, sizeof(ts), (int64_t)e->deliver_us + 2500000, 1);
	fmt_time(et, sizeof(et), (int64_t)e->deliver_us + h->skew_us, 2);
	fmt_time(rt, sizeof(rt), (int64_t)e->deliver_us + 2400000, 2);
	fprintf(fp,
		"{\"@timestamp\":\"%s\",\"@version\":\"1\",\"EventID\":%d,\"Hostname\":"
		"\"%s.corp.example.com\",\"RecordNumber\":%llu,\"EventRecordID\":%llu,"
		"\"SourceName\":\"Microsoft-Windows-Sysmon\",\"ProviderGuid\":"
		"\"{5770385F-C22A-43E0-BF4C-06F5698FFBD9}\",\"Channel\":"
		"\"Microsoft-Windows-Sysmon/Operational\",\"Category\":\"%s\",\"Task\":%d,"
		"\"Version\":%d,\"Severity\":\"INFO\",\"SeverityValue\":2,\"EventType\":\"INFO\","
		"\"Opcode\":\"Info\",\"EventTime\":\"%s\",\"EventReceivedTime\":\"%s\","
		"\"ExecutionProcessID\":3172,\"ThreadID\":4012,\"UserID\":\"S-1-5-18\","
		"\"AccountName\":\"SYSTEM\",\"Domain\":\"NT AUTHORITY\",\"AccountType\":\"User\","
		"\"SourceModuleName\":\"eventlog\",\"SourceModuleType\":\"im_msvistalog\","
		"\"host\":\"wec.corp.example.com\",\"tags\":[\"pcapgen\"]",
		ts, e->eid, h->name, (unsigned long long)e->record_id,
		(unsigned long long)e->record_id, category(e->eid), e->eid, ev_version(e->eid), et,
		rt);
	kv_write(fp, kv, true);
	fputs("}\n", fp);
}

/* osquery results log (event tables, "added" rows); all column values are strings. */
static void write_osquery(FILE *fp, const struct ep_ev *e)
{
	const struct ep_host *h = &hosts[e->host];
	const struct ep_proc *p = &procs[e->proc];
	int64_t qt = (int64_t)e->deliver_us + h->skew_us;
	long long tsec = (long long)(e->utc_us / 1000000);
	char cal[64], lname[16], a[64], b[64], user[16];
	const char *name;
	struct kv kv = {0};

	for (size_t i = 0; i <= strlen(h->name); i++)
		lname[i] = (char)(h->name[i] >= 'A' && h->name[i] <= 'Z' ? h->name[i] + 32
									 : h->name[i]);
	fmt_time(cal, sizeof(cal), qt, 3);
	proc_user(p, user, sizeof(user));
	switch (e->eid) {
	case 1: {
		const struct ep_proc *pp = p->parent >= 0 ? &procs[p->parent] : NULL;

		name = "process_events";
		kv_add(&kv, "pid", "%u", p->pid);
		kv_add(&kv, "path", "%s", proc_image(p));
		kv_add(&kv, "cmdline", "%s", p->cmdline[0] ? p->cmdline : proc_image(p));
		kv_add(&kv, "parent", "%u", pp ? pp->pid : 0);
		kv_add(&kv, "uid", "%s", user);
		kv_add(&kv, "euid", "%s", user);
		kv_add(&kv, "auid", "%s", user);
		kv_add(&kv, "cwd", "%s", p->role >= R_EXPLORER ? "/home" : "/");
		kv_add(&kv, "syscall", "execve");
		break;
	}
	case 3:
		name = "socket_events";
		ip_text(&e->src, a, sizeof(a));
		ip_text(&e->dst, b, sizeof(b));
		kv_add(&kv, "action", "connect");
		kv_add(&kv, "pid", "%u", p->pid);
		kv_add(&kv, "path", "%s", proc_image(p));
		kv_add(&kv, "fd", "%u", 20 + (unsigned int)(e->seq % 80));
		kv_add(&kv, "auid", "%s", user);
		kv_add(&kv, "success", "1");
		kv_add(&kv, "family", "%d", e->v6 ? 10 : 2);
		kv_add(&kv, "protocol", "%d", e->proto);
		kv_add(&kv, "local_address", "%s", a);
		kv_add(&kv, "local_port", "%u", e->sport);
		kv_add(&kv, "remote_address", "%s", b);
		kv_add(&kv, "remote_port", "%u", e->dport);
		kv_add(&kv, "socket", "%s", "");
		break;
	case 11:
		name = "process_file_events";
		kv_add(&kv, "operation", "write");
		kv_add(&kv, "pid", "%u", p->pid);
		kv_add(&kv, "ppid", "%u", p->parent >= 0 ? procs[p->parent].pid : 0);
		kv_add(&kv, "executable", "%s", proc_image(p));
		kv_add(&kv, "partial", "0");
		kv_add(&kv, "cwd", "/home/%s", h->user);
		kv_add(&kv, "path", "%s", e->target);
		kv_add(&kv, "dest_path", "%s", "");
		kv_add(&kv, "uid", "%s", user);
		kv_add(&kv, "auid", "%s", user);
		break;
	default: /* 15: file_events with its hashes */
		name = "file_events";
		kv_add(&kv, "target_path", "%s", e->target);
		kv_add(&kv, "category", "downloads");
		kv_add(&kv, "action", "CREATED");
		kv_add(&kv, "transaction_id", "0");
		kv_add(&kv, "inode", "%llu", (unsigned long long)(e->seq * 7919 + 1048576));
		kv_add(&kv, "uid", "%s", user);
		kv_add(&kv, "gid", "%s", user);
		kv_add(&kv, "mode", "0644");
		kv_add(&kv, "size", "%llu", (unsigned long long)e->size);
		hex(a, e->md5, 16, false);
		kv_add(&kv, "md5", "%s", a);
		{
			char s1[48], s2[72];

			hex(s1, e->sha1, 20, false);
			hex(s2, e->sha256, 32, false);
			kv_add(&kv, "sha1", "%s", s1);
			kv_add(&kv, "sha256", "%s", s2);
		}
		kv_add(&kv, "hashed", "1");
		break;
	}
	kv_add(&kv, "time", "%lld", tsec);
	kv_add(&kv, "uptime", "%lld",
	       (long long)((e->utc_us - (int64_t)procs[h->proc[R_SYSTEM]].start_us) / 1000000));
	kv_add(&kv, "eid", "%010llu", (unsigned long long)e->record_id);
	fprintf(fp,
		"{\"name\":\"%s\",\"hostIdentifier\":\"%s\",\"calendarTime\":\"%s\","
		"\"unixTime\":%lld,\"epoch\":0,\"counter\":%llu,\"numerics\":false,"
		"\"decorations\":{\"host_uuid\":\"%08X-0000-4000-8000-%012llX\",\"hostname\":\"%"
		"s\"},"
		"\"columns\":{",
		name, lname, cal, (long long)(qt / 1000000), (unsigned long long)e->record_id,
		h->guid_hi, (unsigned long long)e->host, lname);
	kv_write(fp, &kv, false);
	fputs("},\"action\":\"added\"}\n", fp);
	kv_free(&kv);
}

static int cmp_deliver(const void *a, const void *b)
{
	const struct ep_ev *x = a, *y = b;

	if (x->deliver_us != y->deliver_us)
		return x->deliver_us < y->deliver_us ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int cmp_tuple(const void *a, const void *b)
{
	const struct ep_ev *const *px = a, *const *py = b;
	const struct ep_ev *x = *px, *y = *py;
	int c;

	if (x->host != y->host)
		return x->host < y->host ? -1 : 1;
	if (x->proc != y->proc)
		return x->proc < y->proc ? -1 : 1;
	if (x->proto != y->proto)
		return x->proto < y->proto ? -1 : 1;
	c = memcmp(x->dst.ip, y->dst.ip, 16);
	if (c)
		return c;
	if (x->sport != y->sport)
		return x->sport < y->sport ? -1 : 1;
	if (x->dport != y->dport)
		return x->dport < y->dport ? -1 : 1;
	if (x->t_us != y->t_us)
		return x->t_us < y->t_us ? -1 : 1;
	return x->seq < y->seq ? -1 : 1;
}

/* Sysmon reports one network event per process and tuple per batch period. */
static void rate_limit(void)
{
	struct ep_ev **v;
	size_t n = 0;

	if (!pg_ep_cfg.batch_us)
		return;
	v = ep_xrealloc(NULL, (nevs + 1) * sizeof(*v));
	for (size_t i = 0; i < nevs; i++)
		if (evs[i].eid == 3)
			v[n++] = &evs[i];
	qsort(v, n, sizeof(*v), cmp_tuple);
	for (size_t i = 1, keep = 0; i < n; i++) {
		const struct ep_ev *k = v[keep];

		if (k->host == v[i]->host && k->proc == v[i]->proc && k->proto == v[i]->proto &&
		    !memcmp(k->dst.ip, v[i]->dst.ip, 16) && k->sport == v[i]->sport &&
		    k->dport == v[i]->dport && v[i]->t_us - k->t_us < pg_ep_cfg.batch_us)
			v[i]->dropped = true;
		else
			keep = i;
	}
	free(v);
}

static void write_truth(FILE *fp, const struct ep_ev *e)
{
	const struct ep_host *h = &hosts[e->host];
	const struct ep_proc *p = e->proc >= 0 ? &procs[e->proc] : NULL;
	char a[64], b[64], c[64], s[72];

	fprintf(fp, "{\"record_id\":%llu,\"host\":\"%s\",\"event_id\":%d,\"lost\":%s",
		(unsigned long long)e->record_id, h->name, e->eid, e->lost ? "true" : "false");
	if (p)
		fprintf(fp, ",\"process_guid\":\"%s\",\"pid\":%u,\"image\":", p->guid, p->pid);
	if (p)
		jstr(fp, proc_image(p));
	switch (e->eid) {
	case 3:
		ip_text(&e->src, a, sizeof(a));
		ip_text(&e->dst, b, sizeof(b));
		ip_text(&e->wire_src, c, sizeof(c));
		fprintf(fp,
			",\"flow\":%llu,\"community_id\":\"%s\",\"nat\":%s,\"proto\":%u,"
			"\"src_ip\":\"%s\",\"src_port\":%u,\"dest_ip\":\"%s\",\"dest_port\":%u,"
			"\"wire_src_ip\":\"%s\",\"wire_src_port\":%u,\"flow_start\":%.6f,"
			"\"utc_offset_s\":%.6f,\"skew_s\":%.6f,\"net_skew_s\":%.6f,"
			"\"delivery_delay_s\":%.6f",
			(unsigned long long)e->flow, e->cid, e->nat ? "true" : "false", e->proto, a,
			e->sport, b, e->dport, c, e->wire_sport, e->t_us / 1e6,
			((double)e->utc_us - (double)e->t_us) / 1e6, h->skew_us / 1e6,
			h->net_skew_us / 1e6, ((double)e->deliver_us - (double)e->t_us) / 1e6);
		break;
	case 22:
		fprintf(fp, ",\"flow\":%llu,\"community_id\":\"%s\",\"query\":",
			(unsigned long long)e->flow, e->cid);
		jstr(fp, e->qname);
		fprintf(fp, ",\"query_status\":%d,\"results\":", e->qstatus);
		jstr(fp, e->results);
		break;
	case 11:
	case 15:
		hex(s, e->sha256, 32, false);
		fprintf(fp,
			",\"flow\":%llu,\"community_id\":\"%s\",\"sha256\":\"%s\",\"size\":%llu,"
			"\"path\":",
			(unsigned long long)e->flow, e->cid, s, (unsigned long long)e->size);
		jstr(fp, e->target);
		break;
	default:
		if (p)
			fprintf(fp, ",\"parent_guid\":\"%s\"",
				p->parent >= 0 ? procs[p->parent].guid : "");
		break;
	}
	fprintf(fp, ",\"utc_time\":%.6f,\"t\":%.6f}\n", e->utc_us / 1e6, e->t_us / 1e6);
}

static int write_nat_map(void)
{
	FILE *fp = fopen(pg_ep_cfg.nat_map, "w");

	if (!fp)
		return -errno;
	fputs("# Written by pcapgen --endpoint-nat, for nightjar-fuse -c: each NAT'd endpoint's\n"
	      "# inside address=the outside address on the wire (source ports are translated;\n"
	      "# the endpoint truth has each flow's mapping).\n"
	      "fuse:\n"
	      "  nat:\n",
	      fp);
	for (int i = 0; i < EP_NAT_HOSTS; i++)
		if (hosts[i].nat)
			fprintf(fp, "    - \"10.0.%d.%d=198.18.0.1\"\n", 1 + i / 250, 2 + i % 250);
	return fclose(fp) ? -errno : 0;
}

int pg_ep_finish(void)
{
	FILE *out, *truth = NULL;
	struct pg_rng r;
	uint64_t written = 0, lost = 0;
	int rc = 0;

	if (!pg_ep_on)
		return 0;
	rate_limit();
	qsort(evs, nevs, sizeof(*evs), cmp_deliver);
	pg_rng_seed(&r, pg_opts.seed, 0x65706c6f7373ULL);
	out = fopen(pg_ep_cfg.out, "w");
	if (!out) {
		fprintf(stderr, "pcapgen: %s: %s\n", pg_ep_cfg.out, strerror(errno));
		return -errno;
	}
	if (pg_ep_cfg.truth) {
		truth = fopen(pg_ep_cfg.truth, "w");
		if (!truth) {
			fprintf(stderr, "pcapgen: %s: %s\n", pg_ep_cfg.truth, strerror(errno));
			fclose(out);
			return -errno;
		}
	}
	for (size_t i = 0; i < nevs; i++) {
		struct ep_ev *e = &evs[i];
		struct kv kv = {0};

		if (e->dropped)
			continue;
		e->record_id = hosts[e->host].next_record++;
		/* a drawn number per event, lost or not, so the loss pattern is stable */
		e->lost = pg_rand(&r) % 1000000 < pg_ep_cfg.loss_ppm;
		if (truth)
			write_truth(truth, e);
		if (e->lost) {
			lost++;
			continue;
		}
		written++;
		if (is_osq()) {
			write_osquery(out, e);
			continue;
		}
		sysmon_data(e, &kv);
		if (pg_ep_cfg.format == PG_EP_WINLOGBEAT)
			write_winlogbeat(out, e, &kv);
		else
			write_sysmon_json(out, e, &kv);
		kv_free(&kv);
	}
	if (fclose(out))
		rc = -errno;
	if (truth && fclose(truth))
		rc = -errno;
	if (pg_ep_cfg.nat_map && write_nat_map())
		rc = -EIO;
	fprintf(stderr, "pcapgen: endpoint: %llu events written, %llu lost\n",
		(unsigned long long)written, (unsigned long long)lost);
	for (size_t i = 0; i < nevs; i++) {
		free(evs[i].qname);
		free(evs[i].results);
		free(evs[i].target);
		free(evs[i].source);
	}
	for (size_t i = 0; i < nprocs; i++)
		free(procs[i].cmdline);
	free(evs);
	free(procs);
	return rc;
}
