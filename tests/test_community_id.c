/* SPDX-License-Identifier: MIT */
/*
 * Community ID v1 against the spec's vectors: the synthetic tables of
 * corelight/community-id-spec baseline/README.md (transcribed below: seed 0,
 * seed 1, no base64) and, when the corpus is present, every entry of the
 * baseline JSON files taken from its captures.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "dataplane/decode.h"
#include "export/community_id.h"

#ifndef NJ_SRC_DIR
#define NJ_SRC_DIR "."
#endif
#define CORPUS NJ_SRC_DIR "/../shared/corpus"

#include "tests/nj_test.h"

static int checked;

struct vec {
	uint8_t proto;
	const char *src, *dst;
	int sport, dport; /* ICMP: type and code as on the wire; -1: no ports */
	const char *seed0, *seed1, *hex;
};

#define V6A "fe80:0001:0203:0405:0607:0809:0A0B:0C0D"
#define V6B "fe80:1011:1213:1415:1617:1819:1A1B:1C1D"

static const struct vec vecs[] = {
	{6, "1.2.3.4", "5.6.7.8", 1122, 3344, "1:wCb3OG7yAFWelaUydu0D+125CLM=",
	 "1:HhA1B+6CoLbiKPEs5nhNYN4XWfk=", "1:c026f7386ef200559e95a53276ed03fb5db908b3"},
	{6, "5.6.7.8", "1.2.3.4", 3344, 1122, "1:wCb3OG7yAFWelaUydu0D+125CLM=",
	 "1:HhA1B+6CoLbiKPEs5nhNYN4XWfk=", "1:c026f7386ef200559e95a53276ed03fb5db908b3"},
	{17, "1.2.3.4", "5.6.7.8", 1122, 3344, "1:0Mu9InQx6z4ZiCZM/7HXi2WMhOg=",
	 "1:OShq+iKDAMVouh/4bMxB9Sz4amw=", "1:d0cbbd227431eb3e1988264cffb1d78b658c84e8"},
	{17, "5.6.7.8", "1.2.3.4", 3344, 1122, "1:0Mu9InQx6z4ZiCZM/7HXi2WMhOg=",
	 "1:OShq+iKDAMVouh/4bMxB9Sz4amw=", "1:d0cbbd227431eb3e1988264cffb1d78b658c84e8"},
	{132, "1.2.3.4", "5.6.7.8", 1122, 3344, "1:EKt4MsxuyaE6mL+hmrEkQ9csDD8=",
	 "1:uitchpn5MMGAQKBJh7bIr/bAr7s=", "1:10ab7832cc6ec9a13a98bfa19ab12443d72c0c3f"},
	{132, "5.6.7.8", "1.2.3.4", 3344, 1122, "1:EKt4MsxuyaE6mL+hmrEkQ9csDD8=",
	 "1:uitchpn5MMGAQKBJh7bIr/bAr7s=", "1:10ab7832cc6ec9a13a98bfa19ab12443d72c0c3f"},
	{1, "1.2.3.4", "5.6.7.8", 8, 0, "1:crodRHL2FEsHjbv3UkRrfbs4bZ0=",
	 "1:9pr4ZGTICiuZoIh90RRYE2RyXpU=", "1:72ba1d4472f6144b078dbbf752446b7dbb386d9d"},
	{1, "5.6.7.8", "1.2.3.4", 0, 0, "1:crodRHL2FEsHjbv3UkRrfbs4bZ0=",
	 "1:9pr4ZGTICiuZoIh90RRYE2RyXpU=", "1:72ba1d4472f6144b078dbbf752446b7dbb386d9d"},
	{1, "1.2.3.4", "5.6.7.8", 11, 0, "1:f/YiSyWqczrTgfUCZlBUnvHRcPk=",
	 "1:1DD7cWGC/Yg91YGsQeni8du3pIA=", "1:7ff6224b25aa733ad381f5026650549ef1d170f9"},
	{58, V6A, V6B, 128, 0, "1:0bf7hyMJUwt3fMED7z8LIfRpBeo=", "1:IO27GQzPuCtNnwFvjWALMHu5tJE=",
	 "1:d1b7fb872309530b777cc103ef3f0b21f46905ea"},
	{58, V6B, V6A, 129, 0, "1:0bf7hyMJUwt3fMED7z8LIfRpBeo=", "1:IO27GQzPuCtNnwFvjWALMHu5tJE=",
	 "1:d1b7fb872309530b777cc103ef3f0b21f46905ea"},
	{58, V6A, V6B, 146, 0, "1:fYC8+pz24E+EhANP1EZhpX0Dw10=", "1:Cv4IKJe56BNkF0MBW2YxQ3Nwc3s=",
	 "1:7d80bcfa9cf6e04f8484034fd44661a57d03c35d"},
	{46, "1.2.3.4", "5.6.7.8", -1, -1, "1:ikv3kmf89luf73WPz1jOs49S768=",
	 "1:/buhqeOmaRCopOZFy9HnoJd5XW8=", "1:8a4bf79267fcf65b9fef758fcf58ceb38f52efaf"},
	{46, "5.6.7.8", "1.2.3.4", -1, -1, "1:ikv3kmf89luf73WPz1jOs49S768=",
	 "1:/buhqeOmaRCopOZFy9HnoJd5XW8=", "1:8a4bf79267fcf65b9fef758fcf58ceb38f52efaf"},
	{46, V6A, V6B, -1, -1, "1:wQ/2mwrnXP4lmJcHdGL5ePjR+e0=", "1:j6EyyfBzL4vWKHFXgUqb5Az3OxM=",
	 "1:c10ff69b0ae75cfe259897077462f978f8d1f9ed"},
	{46, V6B, V6A, -1, -1, "1:wQ/2mwrnXP4lmJcHdGL5ePjR+e0=", "1:j6EyyfBzL4vWKHFXgUqb5Az3OxM=",
	 "1:c10ff69b0ae75cfe259897077462f978f8d1f9ed"},
};

static unsigned parse_addr(const char *s, uint8_t *a)
{
	if (inet_pton(AF_INET, s, a) == 1)
		return 4;
	if (inet_pton(AF_INET6, s, a) == 1)
		return 16;
	return 0;
}

static void one(uint16_t seed, uint8_t proto, const char *src, const char *dst, bool ports,
		uint16_t sp, uint16_t dp, bool b64, const char *want)
{
	uint8_t sa[16], da[16];
	unsigned alen = parse_addr(src, sa);
	char got[64];
	size_t n;

	CHECK(alen && alen == parse_addr(dst, da));
	n = nj_community_id(seed, sa, da, alen, proto, ports, sp, dp, b64, got, sizeof(got));
	checked++;
	if (n != strlen(want) || strcmp(got, want) != 0) {
		fprintf(stderr, "FAIL seed %u proto %u %s:%u -> %s:%u %s: got %s want %s\n", seed,
			proto, src, sp, dst, dp, b64 ? "base64" : "hex", got, want);
		failures++;
	}
}

static void test_tables(void)
{
	for (size_t i = 0; i < sizeof(vecs) / sizeof(vecs[0]); i++) {
		const struct vec *v = &vecs[i];
		bool ports = v->sport >= 0;
		uint16_t sp = 0, dp = 0;

		if (v->proto == 1 || v->proto == 58)
			nj_icmp_port_map(v->proto == 58, (uint8_t)v->sport, (uint8_t)v->dport, &sp,
					 &dp);
		else if (ports) {
			sp = (uint16_t)v->sport;
			dp = (uint16_t)v->dport;
		}
		one(0, v->proto, v->src, v->dst, ports, sp, dp, true, v->seed0);
		one(1, v->proto, v->src, v->dst, ports, sp, dp, true, v->seed1);
		one(0, v->proto, v->src, v->dst, ports, sp, dp, false, v->hex);
	}
}

static void test_small_buffer(void)
{
	static const uint8_t a[4] = {1, 2, 3, 4}, b[4] = {5, 6, 7, 8};
	char out[8] = "xxxxxxx";

	CHECK(nj_community_id(0, a, b, 4, 6, true, 1, 2, true, out, sizeof(out)) == 0);
	CHECK(out[0] == '\0');
	CHECK(nj_community_id(0, a, b, 5, 6, true, 1, 2, true, out, sizeof(out)) == 0);
}

/* The baseline files list mapped ICMP ports already, null ports for port-less protocols. */
static void test_baseline_file(const char *path, uint16_t seed, bool b64)
{
	json_error_t e;
	json_t *arr = json_load_file(path, 0, &e), *it;
	size_t i;

	if (!arr) {
		printf("test_community_id: SKIP %s (corpus absent)\n", path);
		return;
	}
	CHECK(json_array_size(arr) >= 20);
	json_array_foreach(arr, i, it)
	{
		json_t *sp = json_object_get(it, "sport"), *dp = json_object_get(it, "dport");
		bool ports = json_is_integer(sp) && json_is_integer(dp);

		one(seed, (uint8_t)json_integer_value(json_object_get(it, "proto")),
		    json_string_value(json_object_get(it, "saddr")),
		    json_string_value(json_object_get(it, "daddr")), ports,
		    (uint16_t)json_integer_value(sp), (uint16_t)json_integer_value(dp), b64,
		    json_string_value(json_object_get(it, "communityid")));
	}
	json_decref(arr);
}

int main(void)
{
	test_tables();
	test_small_buffer();
	test_baseline_file(CORPUS "/community-id/baseline/baseline_deflt.json", 0, true);
	test_baseline_file(CORPUS "/community-id/baseline/baseline_seed1.json", 1, true);
	test_baseline_file(CORPUS "/community-id/baseline/baseline_nob64.json", 0, false);
	if (failures) {
		fprintf(stderr, "test_community_id: %d failure(s) of %d\n", failures, checked);
		return 1;
	}
	printf("test_community_id: ok (%d vectors)\n", checked);
	return 0;
}
