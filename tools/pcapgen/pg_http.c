/* SPDX-License-Identifier: MIT */
/*
 * HTTP/1.1 conversations: keep-alive series of GET/POST/HEAD requests with
 * realistic headers; responses with Content-Length, chunked and gzip bodies
 * (real deflate data), downloads with a filename, a 404 now and then; and the
 * single large streamed download of --scenario http-file (SHA-256 on stderr).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <zlib.h>

#include "pg.h"
#include "pg_ep.h"

enum { R_HTML = 0, R_JSON, R_BIN, R_DOWNLOAD, R_GZIP, R_CHUNKED, R_404, R_NKINDS };

struct http_st {
	int nreq;
	int i;
	bool resp_next;
	bool conn_close;
	bool is_head;
	int res;
	struct pg_buf req;
	struct pg_buf resp;
	struct pg_buf tmp;
	char path[160];
	/* streamed file (http-file scenario) */
	struct pg_rng file_rng;
	EVP_MD_CTX *sha;
	uint64_t file_left;
};

#define N_GZ 4
static struct pg_buf gz_body[N_GZ]; /* pre-compressed documents */
static struct pg_buf gz_plain[N_GZ];
static const char *gz_type[N_GZ] = {"text/html; charset=utf-8", "application/json", "text/csv",
				    "text/css"};
static char file_sha_hex[65];
static uint64_t file_sha_size;

static const char *const user_agents[] = {
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
	"Chrome/119.0.0.0 Safari/537.36",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
	"Version/17.1 Safari/605.1.15",
	"Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0",
	"Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
	"Gecko) Mobile/15E148",
	"curl/7.88.1",
	"Wget/1.21.3",
	"python-requests/2.31.0",
	"Microsoft-Delivery-Optimization/10.0",
};

static const char *const servers[] = {
	"nginx/1.24.0",	      "Apache/2.4.57 (Debian)",
	"Microsoft-IIS/10.0", "cloudflare",
	"ECAcc (nyb/1D2E)",   "gws",
	"openresty",	      "Caddy",
};

static const char *const dirs[] = {
	"",	  "news/",    "blog/2023/11/", "products/", "static/js/",	"assets/",
	"en-us/", "docs/v2/", "account/",      "search/",   "category/garden/", "support/articles/",
};

static const char *const words[] = {
	"index",   "article",	"pricing",  "overview", "release-notes", "weather", "login",
	"profile", "cart",	"checkout", "gallery",	"contact",	 "about",   "faq",
	"feed",	   "dashboard", "settings", "report",	"summary",	 "archive",
};

static const char *const dl_names[] = {
	"setup-agent", "invoice-2023-11", "firmware",	  "report-q3", "installer",
	"driver-pack", "backup-tool",	  "presentation", "dataset",   "update-kb5032190",
};

static const char *const dl_exts[] = {"exe", "zip", "pdf", "msi", "iso", "bin", "docx", "7z"};

/* ---- content ---- */

static void html_doc(struct pg_buf *b, struct pg_rng *r, size_t body_len, const char *title)
{
	size_t off = pg_range(r, 0, PG_POOL_TEXT - body_len - 1);
	const char *p = strstr(pg_pool_text + off, "<p");

	if (!p || (size_t)(p - pg_pool_text) + body_len > PG_POOL_TEXT)
		p = pg_pool_text;
	pg_buf_printf(b,
		      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
		      "<title>%s</title>\n<link rel=\"stylesheet\" href=\"/static/css/site.css\">\n"
		      "</head>\n<body>\n<h1>%s</h1>\n",
		      title, title);
	pg_buf_put(b, p, body_len);
	pg_buf_puts(b, "\n<script src=\"/static/js/app.js\"></script>\n</body>\n</html>\n");
}

static void json_doc(struct pg_buf *b, struct pg_rng *r, int items)
{
	pg_buf_printf(b, "{\"status\":\"ok\",\"request_id\":\"%016llx\",\"count\":%d,\"items\":[",
		      (unsigned long long)pg_rand(r), items);
	for (int i = 0; i < items; i++)
		pg_buf_printf(b,
			      "%s{\"id\":%llu,\"name\":\"%s\",\"score\":%llu.%02llu,\"active\":%s}",
			      i ? "," : "", (unsigned long long)pg_range(r, 1000, 999999),
			      PG_PICK(r, words), (unsigned long long)pg_range(r, 0, 99),
			      (unsigned long long)pg_range(r, 0, 99),
			      pg_chance(r, 70) ? "true" : "false");
	pg_buf_puts(b, "]}\n");
}

static void csv_doc(struct pg_buf *b, struct pg_rng *r, int rows)
{
	pg_buf_puts(b, "date,region,product,units,revenue\n");
	for (int i = 0; i < rows; i++)
		pg_buf_printf(b, "2023-%02d-%02d,%s,%s,%llu,%llu.%02llu\n", (int)pg_range(r, 1, 12),
			      (int)pg_range(r, 1, 28), pg_chance(r, 50) ? "emea" : "amer",
			      PG_PICK(r, words), (unsigned long long)pg_range(r, 1, 500),
			      (unsigned long long)pg_range(r, 10, 99999),
			      (unsigned long long)pg_range(r, 0, 99));
}

static int gzip_buf(struct pg_buf *dst, const uint8_t *src, size_t n)
{
	z_stream z;
	int rc;

	memset(&z, 0, sizeof(z));
	/* windowBits 31: gzip wrapper; the header has mtime 0, so output is stable */
	if (deflateInit2(&z, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return -1;
	pg_buf_reserve(dst, deflateBound(&z, n) + 64);
	z.next_in = (uint8_t *)src;
	z.avail_in = (uInt)n;
	z.next_out = dst->p + dst->len;
	z.avail_out = (uInt)(dst->cap - dst->len);
	rc = deflate(&z, Z_FINISH);
	dst->len += z.total_out;
	deflateEnd(&z);
	return rc == Z_STREAM_END ? 0 : -1;
}

int pg_http_init(void)
{
	struct pg_rng r;

	pg_rng_seed(&r, pg_opts.seed, 0x677a);
	html_doc(&gz_plain[0], &r, 24000, "Latest news and updates");
	json_doc(&gz_plain[1], &r, 180);
	csv_doc(&gz_plain[2], &r, 1500);
	pg_buf_puts(&gz_plain[3], "body{margin:0;font-family:system-ui,sans-serif}\n");
	for (int i = 0; i < 300; i++)
		pg_buf_printf(&gz_plain[3], ".c-%s-%d{padding:%dpx;color:#%06llx}\n",
			      PG_PICK(&r, words), i, (int)pg_range(&r, 0, 24),
			      (unsigned long long)pg_range(&r, 0, 0xffffff));
	for (int i = 0; i < N_GZ; i++)
		if (gzip_buf(&gz_body[i], gz_plain[i].p, gz_plain[i].len))
			return -1;
	return 0;
}

void pg_http_report(void)
{
	if (file_sha_hex[0])
		fprintf(stderr, "pcapgen: http-file size %llu sha256 %s\n",
			(unsigned long long)file_sha_size, file_sha_hex);
}

static void http_date(struct pg_buf *b, uint64_t ts_us)
{
	time_t t = (time_t)(ts_us / 1000000);
	struct tm tm;
	char s[64];

	gmtime_r(&t, &tm);
	strftime(s, sizeof(s), "%a, %d %b %Y %H:%M:%S GMT", &tm);
	pg_buf_printf(b, "Date: %s\r\n", s);
}

static void chunked(struct pg_buf *b, struct pg_rng *r, const uint8_t *src, size_t n)
{
	while (n) {
		size_t c = pg_range(r, 1024, 8192);

		if (c > n)
			c = n;
		pg_buf_printf(b, "%zx\r\n", c);
		pg_buf_put(b, src, c);
		pg_buf_puts(b, "\r\n");
		src += c;
		n -= c;
	}
	pg_buf_puts(b, "0\r\n\r\n");
}

/* ---- streamed file ---- */

static void file_gen(struct pg_flow *f, uint8_t *dst, size_t n)
{
	struct http_st *s = f->st;

	pg_rand_fill(&s->file_rng, dst, n);
	if (s->sha)
		EVP_DigestUpdate(s->sha, dst, n);
	pg_ep_file_update(f, dst, n);
	s->file_left -= n < s->file_left ? n : s->file_left;
	if (!s->file_left)
		pg_ep_file_end(f);
	if (!s->file_left && s->sha) {
		unsigned char md[32];
		unsigned int mdlen = 0;

		EVP_DigestFinal_ex(s->sha, md, &mdlen);
		for (unsigned int i = 0; i < mdlen && i < 32; i++)
			snprintf(file_sha_hex + 2 * i, 3, "%02x", md[i]);
		EVP_MD_CTX_free(s->sha);
		s->sha = NULL;
	}
}

/* ---- requests and responses ---- */

/* "/files/NAME" with NAME percent-encoded (anything but [A-Za-z0-9._-]). */
static void given_path(char *out, size_t cap, const char *name)
{
	static const char hexd[] = "0123456789ABCDEF";
	size_t n = (size_t)snprintf(out, cap, "/files/");

	for (const unsigned char *p = (const unsigned char *)name; *p && n + 4 < cap; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '.' || *p == '_' || *p == '-') {
			out[n++] = (char)*p;
		} else {
			out[n++] = '%';
			out[n++] = hexd[*p >> 4];
			out[n++] = hexd[*p & 15];
		}
	}
	out[n] = '\0';
}

static void build_request(struct pg_flow *f, struct http_st *s)
{
	struct pg_rng *r = &f->rng;
	const char *host = f->srv->name;
	const char *method = "GET";
	bool post = false;
	int res;

	pg_buf_reset(&s->req);
	pg_buf_reset(&s->tmp);
	s->is_head = false;
	if (f->variant == PG_VAR_HTTP_FILE || f->variant == PG_VAR_GIVEN) {
		res = R_DOWNLOAD;
	} else if (f->variant == PG_VAR_HTTP_CHUNKED_GZIP && s->i == 0) {
		res = R_CHUNKED;
	} else {
		static const unsigned int w[R_NKINDS] = {30, 22, 12, 6, 14, 10, 6};
		uint64_t x = pg_rand(r) % 100;

		res = 0;
		while (res < R_NKINDS - 1 && x >= w[res])
			x -= w[res++];
		if (res == R_DOWNLOAD && f->variant == PG_VAR_BENCH)
			res = R_BIN;
		uint64_t m = pg_rand(r) % 100;

		if (m < 10 && res != R_DOWNLOAD) {
			method = "POST";
			post = true;
			res = R_JSON;
		} else if (m < 16 && res != R_404) {
			method = "HEAD";
			s->is_head = true;
		}
	}
	s->res = res;
	switch (res) {
	case R_DOWNLOAD:
		if (f->given) {
			given_path(s->path, sizeof(s->path), f->given->name);
			break;
		}
		snprintf(s->path, sizeof(s->path), "/downloads/%s-%d.%d.%s", PG_PICK(r, dl_names),
			 (int)pg_range(r, 1, 12), (int)pg_range(r, 0, 40),
			 f->variant == PG_VAR_HTTP_FILE ? "bin" : PG_PICK(r, dl_exts));
		break;
	case R_CHUNKED:
		snprintf(s->path, sizeof(s->path), "/exports/%s-%llu.csv", PG_PICK(r, words),
			 (unsigned long long)pg_range(r, 1000, 99999));
		break;
	case R_JSON:
		if (post)
			snprintf(s->path, sizeof(s->path), "/api/v1/%s", PG_PICK(r, words));
		else
			snprintf(s->path, sizeof(s->path), "/api/v2/%s?page=%d&limit=%d",
				 PG_PICK(r, words), (int)pg_range(r, 1, 9), 20);
		break;
	case R_BIN:
		snprintf(s->path, sizeof(s->path), "/media/%016llx.dat",
			 (unsigned long long)pg_rand(r));
		break;
	case R_GZIP:
		snprintf(s->path, sizeof(s->path), "/%s%s.%s", PG_PICK(r, dirs), PG_PICK(r, words),
			 pg_chance(r, 50) ? "html" : "css");
		break;
	default:
		snprintf(s->path, sizeof(s->path), "/%s%s%s", PG_PICK(r, dirs), PG_PICK(r, words),
			 pg_chance(r, 60) ? ".html" : "");
		break;
	}
	if (post)
		pg_buf_printf(&s->tmp, "{\"user\":\"%s%llu\",\"action\":\"%s\",\"value\":%llu}",
			      PG_PICK(r, words), (unsigned long long)pg_range(r, 1, 999),
			      PG_PICK(r, words), (unsigned long long)pg_range(r, 0, 100000));

	pg_buf_printf(&s->req, "%s %s HTTP/1.1\r\nHost: %s\r\n", method, s->path, host);
	pg_buf_printf(&s->req, "User-Agent: %s\r\n",
		      user_agents[f->id % (sizeof(user_agents) / sizeof(user_agents[0]))]);
	pg_buf_puts(
		&s->req,
		res == R_JSON
			? "Accept: application/json, text/plain, */*\r\n"
			: "Accept: "
			  "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n");
	pg_buf_puts(&s->req,
		    "Accept-Language: en-US,en;q=0.9\r\nAccept-Encoding: gzip, deflate\r\n");
	if (s->i > 0 || pg_chance(r, 40))
		pg_buf_printf(&s->req, "Referer: http://%s/%s\r\n", host, PG_PICK(r, dirs));
	if (pg_chance(r, 70))
		pg_buf_printf(&s->req, "Cookie: sessionid=%016llx%08llx; theme=%s; consent=1\r\n",
			      (unsigned long long)(f->id * 0x9e3779b97f4a7c15ULL),
			      (unsigned long long)(pg_rand(r) & 0xffffffff),
			      pg_chance(r, 50) ? "dark" : "light");
	if (post)
		pg_buf_printf(&s->req, "Content-Type: application/json\r\nContent-Length: %zu\r\n",
			      s->tmp.len);
	s->conn_close = s->i == s->nreq - 1 && pg_chance(r, 30);
	pg_buf_puts(&s->req,
		    s->conn_close ? "Connection: close\r\n\r\n" : "Connection: keep-alive\r\n\r\n");
	if (post)
		pg_buf_put(&s->req, s->tmp.p, s->tmp.len);
}

static void resp_head(struct pg_flow *f, struct http_st *s, const char *status, const char *ctype)
{
	pg_buf_printf(&s->resp, "HTTP/1.1 %s\r\n", status);
	http_date(&s->resp, f->ts);
	pg_buf_printf(&s->resp, "Server: %s\r\nContent-Type: %s\r\n", servers[f->srv->cert_idx % 8],
		      ctype);
	if (pg_chance(&f->rng, 20))
		pg_buf_printf(&s->resp, "Set-Cookie: sid=%016llx; Path=/; HttpOnly\r\n",
			      (unsigned long long)pg_rand(&f->rng));
	pg_buf_puts(&s->resp,
		    s->conn_close ? "Connection: close\r\n" : "Connection: keep-alive\r\n");
}

/* Tell the endpoint side about a download (its body bytes, or NULL if streamed). */
static void ep_file(struct pg_flow *f, struct http_st *s, const char *fn, const uint8_t *p,
		    size_t n)
{
	char url[320];

	if (!f->ep)
		return;
	snprintf(url, sizeof(url), "http://%s%s", f->srv->name, s->path);
	if (p)
		pg_ep_file_mem(f, PG_EP_FILE_HTTP, fn, url, p, n);
	else
		pg_ep_file_begin(f, PG_EP_FILE_HTTP, fn, url);
}

/* Build the response; large binary bodies point into the noise pool (part b). */
static void build_response(struct pg_flow *f, struct http_st *s, struct pg_msg *m)
{
	struct pg_rng *r = &f->rng;
	const uint8_t *body = NULL;
	size_t blen = 0;

	pg_buf_reset(&s->resp);
	pg_buf_reset(&s->tmp);
	m->b = NULL;
	m->blen = 0;
	switch (s->res) {
	case R_HTML:
		html_doc(&s->tmp, r, pg_range(r, 1000, f->variant == PG_VAR_BENCH ? 12000 : 40000),
			 "Welcome");
		resp_head(f, s, "200 OK", "text/html; charset=utf-8");
		body = s->tmp.p;
		blen = s->tmp.len;
		break;
	case R_JSON:
		json_doc(&s->tmp, r, (int)pg_range(r, 1, 30));
		resp_head(f, s, s->req.p[0] == 'P' ? "201 Created" : "200 OK",
			  "application/json; charset=utf-8");
		pg_buf_puts(&s->resp, "Cache-Control: no-store\r\n");
		body = s->tmp.p;
		blen = s->tmp.len;
		break;
	case R_GZIP: {
		int g = strstr(s->path, ".css") ? 3 : (int)(pg_rand(r) % 2);

		resp_head(f, s, "200 OK", gz_type[g]);
		pg_buf_puts(&s->resp, "Content-Encoding: gzip\r\nVary: Accept-Encoding\r\n");
		body = gz_body[g].p;
		blen = gz_body[g].len;
		break;
	}
	case R_CHUNKED: {
		/* a CSV export, gzip-encoded and sent chunked */
		const char *fn = strrchr(s->path, '/') + 1;

		resp_head(f, s, "200 OK", "text/csv");
		pg_buf_printf(&s->resp, "Content-Disposition: attachment; filename=\"%s\"\r\n", fn);
		pg_buf_puts(&s->resp,
			    "Content-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n");
		if (!s->is_head)
			chunked(&s->resp, r, gz_body[2].p, gz_body[2].len);
		m->a = s->resp.p;
		m->alen = s->resp.len;
		return;
	}
	case R_404:
		pg_buf_puts(&s->tmp,
			    "<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head>"
			    "<body><h1>Not Found</h1><p>The requested URL was not found "
			    "on this server.</p></body></html>\n");
		resp_head(f, s, "404 Not Found", "text/html; charset=utf-8");
		body = s->tmp.p;
		blen = s->tmp.len;
		break;
	case R_BIN:
		resp_head(f, s, "200 OK", "application/octet-stream");
		pg_buf_puts(&s->resp, "Cache-Control: max-age=86400\r\n");
		blen = pg_range(r, 2000, f->variant == PG_VAR_BENCH ? 16000 : 64000);
		m->b = pg_pool_rand + pg_range(r, 0, PG_POOL_RAND - blen);
		m->blen = blen;
		break;
	case R_DOWNLOAD: {
		const char *fn = strrchr(s->path, '/') + 1;
		uint64_t size;

		resp_head(f, s, "200 OK", "application/octet-stream");
		pg_buf_printf(&s->resp, "Content-Disposition: attachment; filename=\"%s\"\r\n", fn);
		pg_buf_puts(
			&s->resp,
			"Accept-Ranges: bytes\r\nLast-Modified: Mon, 06 Nov 2023 09:12:44 GMT\r\n");
		if (f->given) {
			/* the given bytes as they are, after the headers (part b) */
			pg_buf_printf(&s->resp, "Content-Length: %zu\r\n\r\n", f->given->len);
			m->a = s->resp.p;
			m->alen = s->resp.len;
			m->b = f->given->data;
			m->blen = f->given->len;
			return;
		}
		if (f->variant == PG_VAR_HTTP_FILE) {
			size = pg_opts.http_file_size;
			pg_buf_printf(&s->resp, "Content-Length: %llu\r\n\r\n",
				      (unsigned long long)size);
			m->a = s->resp.p;
			m->alen = s->resp.len;
			pg_rng_seed(&s->file_rng, pg_opts.seed, 0x66696c65);
			s->sha = EVP_MD_CTX_new();
			if (s->sha && !EVP_DigestInit_ex(s->sha, EVP_sha256(), NULL)) {
				EVP_MD_CTX_free(s->sha);
				s->sha = NULL;
			}
			s->file_left = size;
			file_sha_size = size;
			ep_file(f, s, fn, NULL, 0);
			if (!size && s->sha)
				file_gen(f, NULL, 0);
			m->gen = file_gen;
			m->blen = size;
			return;
		}
		size = pg_range(r, 100000, 2000000);
		m->b = pg_pool_rand + pg_range(r, 0, PG_POOL_RAND - size);
		m->blen = size;
		blen = size;
		break;
	}
	}
	if (s->is_head) {
		m->b = NULL;
		m->blen = 0;
	} else if (s->res == R_DOWNLOAD) {
		ep_file(f, s, strrchr(s->path, '/') + 1, m->b, m->blen);
	}
	pg_buf_printf(&s->resp, "Content-Length: %zu\r\n\r\n", blen);
	if (body && !s->is_head)
		pg_buf_put(&s->resp, body, blen);
	m->a = s->resp.p;
	m->alen = s->resp.len;
}

static bool http_next(struct pg_flow *f, struct pg_msg *m)
{
	struct http_st *s = f->st;
	struct pg_rng *r = &f->rng;

	if (!s->nreq) {
		s->nreq = f->variant == PG_VAR_HTTP_FILE || f->variant == PG_VAR_GIVEN
				  ? 1
				  : (int)pg_range(r, 1, 5);
		if (f->variant == PG_VAR_HTTP_CHUNKED_GZIP)
			s->nreq = 2;
	}
	if (!s->resp_next) {
		if (s->i >= s->nreq) {
			f->close = s->conn_close      ? PG_CLOSE_SFIN
				   : pg_chance(r, 12) ? PG_CLOSE_RST
						      : PG_CLOSE_CFIN;
			return false;
		}
		build_request(f, s);
		m->dir = PG_C2S;
		m->delay_us = s->i == 0 ? pg_range(r, 0, 300) : pg_range(r, 5000, 800000);
		m->a = s->req.p;
		m->alen = s->req.len;
		s->resp_next = true;
		return true;
	}
	m->dir = PG_S2C;
	m->delay_us = pg_range(r, 200, 30000);
	build_response(f, s, m);
	{
		/* method is the request's first word; status from "HTTP/1.1 NNN" */
		int mlen = (int)(strchr((const char *)s->req.p, ' ') - (const char *)s->req.p);

		pg_truth(f,
			 ",\"app\":\"http\",\"tx\":%d,\"method\":\"%.*s\",\"url\":\"%s\","
			 "\"hostname\":\"%s\",\"user_agent\":\"%s\",\"status\":%d",
			 s->i, mlen, (const char *)s->req.p, s->path, f->srv->name,
			 user_agents[f->id % (sizeof(user_agents) / sizeof(user_agents[0]))],
			 atoi((const char *)s->resp.p + 9));
	}
	s->resp_next = false;
	s->i++;
	return true;
}

static void http_fini(struct pg_flow *f)
{
	struct http_st *s = f->st;

	pg_buf_free(&s->req);
	pg_buf_free(&s->resp);
	pg_buf_free(&s->tmp);
	if (s->sha)
		EVP_MD_CTX_free(s->sha);
}

const struct pg_app_ops pg_app_http = {
	.name = "http",
	.proto = PG_TCP,
	.port = 80,
	.state_size = sizeof(struct http_st),
	.next = http_next,
	.fini = http_fini,
};
