/* SPDX-License-Identifier: MIT */
/*
 * Detection buffers: the sticky-buffer keywords (http.uri; content:...),
 * their older underscore spellings, the legacy content modifiers that move
 * the previous content into a buffer (content:...; http_uri;), pkt_data,
 * the legacy filename/filemagic keywords, and the transforms (dotprefix,
 * to_lowercase, ...). Each row registers the buffer (name -> id) and its
 * keywords; parsers offering a buffer use the same name.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "detect_int.h"
#include "parsers/files.h"

#define TS  NJ_BUFF_TOSERVER
#define TC  NJ_BUFF_TOCLIENT
#define TSC (NJ_BUFF_TOSERVER | NJ_BUFF_TOCLIENT)

static int kw_sticky(struct nj_detect_parse *ps, const struct nj_detect_keyword *kw, char *v)
{
	const char *name = (const char *)kw->arg;
	int id = nj_detect_buffer_id(name);

	(void)v;
	if (id < 0)
		return nj_detect_unsupported(ps, "buffer %s not registered", name);
	return nj_detect_set_sticky(ps, id);
}

/*
 * absent[:or_else] right after a sticky buffer (Suricata 8): the rule needs the
 * buffer not to exist; with or_else, the buffer's keywords are evaluated when
 * it exists.
 */
static int kw_absent(struct nj_detect_parse *ps, const struct nj_detect_keyword *kw, char *v)
{
	int list;

	(void)kw;
	v = v ? nj_detect_trim(v) : NULL;
	if (ps->sticky < 0)
		return nj_detect_fail(ps, "absent needs a sticky buffer before it");
	if (v && *v && strcmp(v, "or_else") != 0)
		return nj_detect_fail(ps, "absent: unknown option '%s'", v);
	if (ps->sticky_list >= 0)
		return nj_detect_fail(ps, "absent must come right after its buffer");
	list = nj_detect_sticky_list(ps);
	if (list < 0)
		return -1;
	ps->list_absent[list] = v && *v ? NJ_ABSENT_OR_ELSE : NJ_ABSENT;
	return 0;
}
NJ_DETECT_KEYWORD(absent, .name = "absent", .flags = NJ_KWF_OPTVALUE, .parse = kw_absent,
		  .doc = "[or_else]: the sticky buffer does not exist (or_else: or its keywords "
			 "match)")

static int kw_modifier(struct nj_detect_parse *ps, const struct nj_detect_keyword *kw, char *v)
{
	const char *name = (const char *)kw->arg;
	int id = nj_detect_buffer_id(name);

	(void)v;
	if (id < 0)
		return nj_detect_unsupported(ps, "buffer %s not registered", name);
	return nj_detect_move_last_content(ps, id);
}

/* One buffer with its sticky keyword (name and aliases) and, optionally, its
 * legacy content modifier. */
#define BUFFER(id_, name_, proto_, flags_, ...)                                        \
	NJ_DETECT_BUFFER(id_, name_, proto_, flags_)                                   \
	NJ_DETECT_KEYWORD(sticky_##id_, .name = name_,                                 \
			  .aliases = (const char *const[]){__VA_ARGS__},               \
			  .flags = NJ_KWF_NOVALUE | NJ_KWF_STICKY, .parse = kw_sticky, \
			  .arg = (uintptr_t)name_, .doc = "sticky buffer")
#define MODIFIER(id_, kwname_, buf_)                                                             \
	NJ_DETECT_KEYWORD(mod_##id_, .name = kwname_, .flags = NJ_KWF_NOVALUE | NJ_KWF_MODIFIER, \
			  .parse = kw_modifier, .arg = (uintptr_t)buf_,                          \
			  .doc = "legacy content modifier for " buf_)

/* HTTP */
BUFFER(http_uri, "http.uri", "http", TS, NULL)
MODIFIER(http_uri, "http_uri", "http.uri")
BUFFER(http_uri_raw, "http.uri.raw", "http", TS, NULL)
MODIFIER(http_raw_uri, "http_raw_uri", "http.uri.raw")
BUFFER(http_method, "http.method", "http", TS, NULL)
MODIFIER(http_method, "http_method", "http.method")
BUFFER(http_request_line, "http.request_line", "http", TS, "http_request_line", NULL)
BUFFER(http_request_body, "http.request_body", "http", TS, NULL)
MODIFIER(http_client_body, "http_client_body", "http.request_body")
BUFFER(http_header, "http.header", "http", TSC, NULL)
MODIFIER(http_header, "http_header", "http.header")
BUFFER(http_header_raw, "http.header.raw", "http", TSC, NULL)
MODIFIER(http_raw_header, "http_raw_header", "http.header.raw")
BUFFER(http_cookie, "http.cookie", "http", TSC, NULL)
MODIFIER(http_cookie, "http_cookie", "http.cookie")
BUFFER(http_user_agent, "http.user_agent", "http", TS, NULL)
MODIFIER(http_user_agent, "http_user_agent", "http.user_agent")
BUFFER(http_host, "http.host", "http", TS | NJ_BUFF_LOWERCASE, NULL)
MODIFIER(http_host, "http_host", "http.host")
BUFFER(http_host_raw, "http.host.raw", "http", TS, NULL)
MODIFIER(http_raw_host, "http_raw_host", "http.host.raw")
BUFFER(http_accept, "http.accept", "http", TS, "http_accept", NULL)
BUFFER(http_accept_enc, "http.accept_enc", "http", TS, "http_accept_enc", NULL)
BUFFER(http_accept_lang, "http.accept_lang", "http", TS, "http_accept_lang", NULL)
BUFFER(http_connection, "http.connection", "http", TSC, "http_connection", NULL)
BUFFER(http_content_len, "http.content_len", "http", TSC, "http_content_len", NULL)
BUFFER(http_content_type, "http.content_type", "http", TSC, "http_content_type", NULL)
BUFFER(http_header_names, "http.header_names", "http", TSC, "http_header_names", NULL)
BUFFER(http_referer, "http.referer", "http", TS, "http_referer", NULL)
BUFFER(http_start, "http.start", "http", TSC, "http_start", NULL)
BUFFER(http_protocol, "http.protocol", "http", TSC, "http_protocol", NULL)
BUFFER(http_location, "http.location", "http", TC, NULL)
BUFFER(http_server, "http.server", "http", TC, NULL)
BUFFER(http_response_line, "http.response_line", "http", TC, "http_response_line", NULL)
BUFFER(http_response_body, "http.response_body", "http", TC, NULL)
MODIFIER(http_server_body, "http_server_body", "http.response_body")
BUFFER(http_stat_code, "http.stat_code", "http", TC, NULL)
MODIFIER(http_stat_code, "http_stat_code", "http.stat_code")
BUFFER(http_stat_msg, "http.stat_msg", "http", TC, NULL)
MODIFIER(http_stat_msg, "http_stat_msg", "http.stat_msg")
BUFFER(http_request_header, "http.request_header", "http", TS | NJ_BUFF_MULTI, NULL)
BUFFER(http_response_header, "http.response_header", "http", TC | NJ_BUFF_MULTI, NULL)

/* Files (HTTP bodies, SMB, SMTP, ... : no protocol implied) */
BUFFER(file_data, "file.data", NULL, TSC | NJ_BUFF_FILE, "file_data", NULL)
BUFFER(file_name, "file.name", NULL, TSC | NJ_BUFF_FILE, NULL)
NJ_DETECT_BUFFER(file_magic, "file.magic", NULL, TSC | NJ_BUFF_FILE)

/* file.magic: libmagic's description, computed for every file once a rule asks for it. */
static int need_magic(struct nj_detect_parse *ps)
{
#ifdef NJ_HAVE_MAGIC
	(void)ps;
	nj_files_require_magic();
	return 0;
#else
	return nj_detect_unsupported(ps, "file.magic: this build has no libmagic");
#endif
}
static int kw_file_magic(struct nj_detect_parse *ps, const struct nj_detect_keyword *kw, char *v)
{
	int r = need_magic(ps);

	return r ? r : kw_sticky(ps, kw, v);
}
NJ_DETECT_KEYWORD(sticky_file_magic, .name = "file.magic", .aliases = (const char *const[]){NULL},
		  .flags = NJ_KWF_NOVALUE | NJ_KWF_STICKY, .parse = kw_file_magic,
		  .arg = (uintptr_t) "file.magic", .doc = "sticky buffer")

/* DNS */
BUFFER(dns_query, "dns.query", "dns", TS | NJ_BUFF_MULTI, "dns_query", NULL)
BUFFER(dns_queries_rrname, "dns.queries.rrname", "dns", TSC | NJ_BUFF_MULTI, NULL)
BUFFER(dns_answers_rrname, "dns.answers.rrname", "dns", TSC | NJ_BUFF_MULTI, NULL)
BUFFER(dns_answer_name, "dns.answer.name", "dns", TSC | NJ_BUFF_MULTI, NULL)
BUFFER(dns_authorities_rrname, "dns.authorities.rrname", "dns", TSC | NJ_BUFF_MULTI, NULL)
BUFFER(dns_additionals_rrname, "dns.additionals.rrname", "dns", TSC | NJ_BUFF_MULTI, NULL)
BUFFER(dns_response_rrname, "dns.response.rrname", "dns", TC | NJ_BUFF_MULTI, NULL)

/* FTP */
BUFFER(ftp_command, "ftp.command", "ftp", TS, NULL)
BUFFER(ftp_command_data, "ftp.command_data", "ftp", TS, NULL)

/* TLS */
BUFFER(tls_sni, "tls.sni", "tls", TS, "tls_sni", NULL)
BUFFER(tls_cert_subject, "tls.cert_subject", "tls", TSC, "tls_cert_subject", NULL)
BUFFER(tls_cert_issuer, "tls.cert_issuer", "tls", TSC, "tls_cert_issuer", NULL)
BUFFER(tls_cert_serial, "tls.cert_serial", "tls", TSC, "tls_cert_serial", NULL)
BUFFER(tls_cert_fingerprint, "tls.cert_fingerprint", "tls", TSC, "tls_cert_fingerprint", NULL)
BUFFER(tls_certs, "tls.certs", "tls", TC | NJ_BUFF_MULTI, NULL)
BUFFER(tls_subjectaltname, "tls.subjectaltname", "tls", TC | NJ_BUFF_MULTI, NULL)
BUFFER(tls_alpn, "tls.alpn", "tls", TSC | NJ_BUFF_MULTI, NULL)
BUFFER(ja3_hash, "ja3.hash", "tls", TS, "ja3_hash", NULL)
BUFFER(ja3_string, "ja3.string", "tls", TS, "ja3_string", NULL)
BUFFER(ja3s_hash, "ja3s.hash", "tls", TC, "ja3s_hash", NULL)
BUFFER(ja3s_string, "ja3s.string", "tls", TC, "ja3s_string", NULL)
BUFFER(ja4_hash, "ja4.hash", "tls", TS, NULL)

/* SMB */
BUFFER(smb_share, "smb.share", "smb", TS, "smb_share", NULL)
BUFFER(smb_named_pipe, "smb.named_pipe", "smb", TS, "smb_named_pipe", NULL)
BUFFER(smb_ntlmssp_user, "smb.ntlmssp_user", "smb", TS, NULL)
BUFFER(smb_ntlmssp_domain, "smb.ntlmssp_domain", "smb", TS, NULL)
BUFFER(dce_stub_data, "dce_stub_data", "smb", TSC, "dcerpc.stub_data", NULL)

/* SSH (no parser yet: rules load, never match) */
BUFFER(ssh_proto, "ssh.proto", "ssh", TSC, "ssh_proto", NULL)
BUFFER(ssh_software, "ssh.software", "ssh", TSC, "ssh_software", NULL)

/* Packet headers */
BUFFER(ipv4_hdr, "ipv4.hdr", NULL, TSC | NJ_BUFF_PACKET, NULL)
BUFFER(ipv6_hdr, "ipv6.hdr", NULL, TSC | NJ_BUFF_PACKET, NULL)
BUFFER(tcp_hdr, "tcp.hdr", NULL, TSC | NJ_BUFF_PACKET, NULL)
BUFFER(udp_hdr, "udp.hdr", NULL, TSC | NJ_BUFF_PACKET, NULL)
BUFFER(icmpv4_hdr, "icmpv4.hdr", NULL, TSC | NJ_BUFF_PACKET, NULL)
BUFFER(icmpv6_hdr, "icmpv6.hdr", NULL, TSC | NJ_BUFF_PACKET, NULL)

static int kw_pkt_data(struct nj_detect_parse *ps, const struct nj_detect_keyword *kw, char *v)
{
	(void)kw;
	(void)v;
	ps->sticky = -1;
	ps->sticky_list = -1;
	ps->pend_ntf = 0;
	return 0;
}
NJ_DETECT_KEYWORD(pkt_data, .name = "pkt_data", .flags = NJ_KWF_NOVALUE | NJ_KWF_STICKY,
		  .parse = kw_pkt_data, .doc = "back to the packet payload")

/* filename:"x" / filemagic:"x": a content in file.name / file.magic. */
static int kw_file_legacy(struct nj_detect_parse *ps, const struct nj_detect_keyword *kw, char *v)
{
	const struct nj_detect_keyword *content = nj_detect_keyword_find("content");
	int id = nj_detect_buffer_id((const char *)kw->arg);
	int saved = ps->sticky, saved_list = ps->sticky_list;

	if (id < 0 || !content)
		return nj_detect_unsupported(ps, "buffer %s not registered", (const char *)kw->arg);
	if (strcmp((const char *)kw->arg, "file.magic") == 0 && need_magic(ps))
		return -1;
	ps->sticky = id;
	ps->sticky_list = -1;
	int r = content->parse(ps, content, v);

	ps->sticky = saved;
	ps->sticky_list = saved_list;
	if (r == 0 && kw->arg && strcmp((const char *)kw->arg, "file.magic") == 0)
		nj_detect_last_content(ps)->flags |= NJ_CF_NOCASE;
	return r;
}
NJ_DETECT_KEYWORD(filename, .name = "filename", .flags = NJ_KWF_VALUE | NJ_KWF_QUOTED,
		  .parse = kw_file_legacy, .arg = (uintptr_t) "file.name",
		  .doc = "legacy: content in file.name")
NJ_DETECT_KEYWORD(filemagic, .name = "filemagic", .flags = NJ_KWF_VALUE | NJ_KWF_QUOTED,
		  .parse = kw_file_legacy, .arg = (uintptr_t) "file.magic",
		  .doc = "legacy: nocase content in file.magic")

/* ------------------------------------------------------------ transforms */

static int kw_transform(struct nj_detect_parse *ps, const struct nj_detect_keyword *kw, char *v)
{
	struct nj_detect_tf tf;

	memset(&tf, 0, sizeof(tf)); /* lists compare transforms with memcmp */
	tf.type = (uint8_t)kw->arg;

	if (ps->sticky < 0)
		return nj_detect_fail(ps, "transforms must directly follow stickybuffers");
	if (ps->sticky_list >= 0)
		return nj_detect_fail(ps, "transforms must directly follow stickybuffers");
	if (ps->pend_ntf >= NJ_DETECT_MAX_TRANSFORM)
		return nj_detect_fail(ps, "too many transforms");
	if ((tf.type == NJ_TF_DOMAIN || tf.type == NJ_TF_TLD) && nj_detect_psl_load() < 0)
		return nj_detect_unsupported(ps, "no Public Suffix List (publicsuffix package)");
	if (tf.type == NJ_TF_XOR) {
		size_t n;

		if (!v)
			return nj_detect_fail(ps, "xor needs a hex key");
		if (*v == '"') {
			n = strlen(v);
			if (n < 2 || v[n - 1] != '"')
				return nj_detect_fail(ps, "invalid xor key %s", v);
			v[n - 1] = '\0';
			v++;
		}
		n = strlen(v);
		if (n == 0 || n % 2 || n / 2 > sizeof(tf.arg))
			return nj_detect_fail(ps, "xor key must be 1..%zu hex bytes: %s",
					      sizeof(tf.arg), v);
		for (size_t i = 0; i < n; i += 2) {
			unsigned x;

			if (!isxdigit((unsigned char)v[i]) || !isxdigit((unsigned char)v[i + 1]) ||
			    sscanf(v + i, "%2x", &x) != 1)
				return nj_detect_fail(ps, "invalid xor key %s", v);
			tf.arg[i / 2] = (uint8_t)x;
		}
		tf.arg_len = (uint8_t)(n / 2);
	}
	ps->pend_tf[ps->pend_ntf++] = tf;
	return 0;
}

#define TRANSFORM(id_, name_, type_, flags_, doc_)                                       \
	NJ_DETECT_KEYWORD(tf_##id_, .name = name_, .flags = (flags_) | NJ_KWF_TRANSFORM, \
			  .parse = kw_transform, .arg = type_, .doc = doc_)
TRANSFORM(dotprefix, "dotprefix", NJ_TF_DOTPREFIX, NJ_KWF_NOVALUE, "prepend a '.'")
TRANSFORM(to_lowercase, "to_lowercase", NJ_TF_TO_LOWER, NJ_KWF_NOVALUE, "lowercase")
TRANSFORM(to_uppercase, "to_uppercase", NJ_TF_TO_UPPER, NJ_KWF_NOVALUE, "uppercase")
TRANSFORM(strip_whitespace, "strip_whitespace", NJ_TF_STRIP_WS, NJ_KWF_NOVALUE, "remove whitespace")
TRANSFORM(compress_whitespace, "compress_whitespace", NJ_TF_COMPRESS_WS, NJ_KWF_NOVALUE,
	  "collapse whitespace runs to one space")
TRANSFORM(url_decode, "url_decode", NJ_TF_URL_DECODE, NJ_KWF_NOVALUE, "%XX and + decoding")
TRANSFORM(to_md5, "to_md5", NJ_TF_TO_MD5, NJ_KWF_NOVALUE, "MD5 of the buffer (binary)")
TRANSFORM(to_sha1, "to_sha1", NJ_TF_TO_SHA1, NJ_KWF_NOVALUE, "SHA-1 of the buffer (binary)")
TRANSFORM(to_sha256, "to_sha256", NJ_TF_TO_SHA256, NJ_KWF_NOVALUE, "SHA-256 of the buffer (binary)")
TRANSFORM(xor, "xor", NJ_TF_XOR, NJ_KWF_VALUE, "xor with a hex key")
TRANSFORM(header_lowercase, "header_lowercase", NJ_TF_HEADER_LOWER, NJ_KWF_NOVALUE,
	  "lowercase header names")
TRANSFORM(domain, "domain", NJ_TF_DOMAIN, NJ_KWF_NOVALUE,
	  "registrable domain of a host name (Public Suffix List)")
TRANSFORM(tld, "tld", NJ_TF_TLD, NJ_KWF_NOVALUE, "public suffix of a host name")
TRANSFORM(strip_pseudo_headers, "strip_pseudo_headers", NJ_TF_STRIP_PSEUDO, NJ_KWF_NOVALUE,
	  "drop HTTP/2 pseudo headers")
