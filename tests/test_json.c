/* SPDX-License-Identifier: MIT */
/* Unit tests for export/json.c: structure, escaping, numbers, addresses, overflow. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "export/json.h"

#include "tests/nj_test.h"

static char buf[4096];

/* Current output as a NUL-terminated string. */
static const char *out(struct nj_json *j)
{
	buf[j->len < sizeof(buf) ? j->len : sizeof(buf) - 1] = '\0';
	return buf;
}

#define CHECK_OUT(j, want)                                                                       \
	do {                                                                                     \
		const char *got_ = out(j);                                                       \
		if (strcmp(got_, want) != 0) {                                                   \
			fprintf(stderr, "%s:%d: FAIL got  %s\n%*swant %s\n", __FILE__, __LINE__, \
				got_, (int)strlen(__FILE__) + 12, "", want);                     \
			failures++;                                                              \
		}                                                                                \
	} while (0)

static void str_value(const char *in, size_t n, const char *want)
{
	struct nj_json j;

	nj_json_init(&j, buf, sizeof(buf) - 1);
	nj_json_strn(&j, NULL, in, n);
	CHECK(nj_json_ok(&j));
	CHECK_OUT(&j, want);
}

static void test_structure(void)
{
	struct nj_json j;
	json_error_t e;
	json_t *v;

	nj_json_init(&j, buf, sizeof(buf) - 1);
	nj_json_open_obj(&j, NULL);
	nj_json_u64(&j, "a", 1);
	nj_json_str(&j, "b", "x");
	nj_json_open_obj(&j, "c");
	nj_json_bool(&j, "d", true);
	nj_json_null(&j, "e");
	nj_json_bool(&j, "f", false);
	nj_json_close_obj(&j);
	nj_json_open_arr(&j, "g");
	nj_json_u64(&j, NULL, 1);
	nj_json_i64(&j, NULL, -3);
	nj_json_open_obj(&j, NULL);
	nj_json_close_obj(&j);
	nj_json_open_arr(&j, NULL);
	nj_json_close_arr(&j);
	nj_json_close_arr(&j);
	nj_json_raw(&j, "h", "[1,2]", 5);
	nj_json_close_obj(&j);
	CHECK(nj_json_ok(&j));
	CHECK_OUT(&j, "{\"a\":1,\"b\":\"x\",\"c\":{\"d\":true,\"e\":null,\"f\":false},"
		      "\"g\":[1,-3,{},[]],\"h\":[1,2]}");
	v = json_loads(out(&j), 0, &e);
	CHECK(v != NULL);
	CHECK(json_integer_value(json_object_get(v, "a")) == 1);
	json_decref(v);
}

static void test_escaping(void)
{
	static const char ctl[] = "a\"b\\c/d\n\r\t\b\f\x01\x1f\x7f";
	struct nj_json j;

	str_value(ctl, sizeof(ctl) - 1, "\"a\\\"b\\\\c\\/d\\n\\r\\t\\b\\f\\u0001\\u001f\x7f\"");
	/* NUL inside a counted string */
	str_value("a\0b", 3, "\"a\\u0000b\"");
	/* valid UTF-8 (2, 3 and 4 bytes) passes unchanged */
	str_value("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 9,
		  "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"");
	/* invalid: stray byte, truncated sequence, overlong, surrogate, > U+10FFFF */
	str_value("\xff", 1, "\"\\u00ff\"");
	str_value("x\xc3", 2, "\"x\\u00c3\"");
	str_value("\xe2\x82"
		  "A",
		  3, "\"\\u00e2\\u0082A\"");
	str_value("\xc0\xaf", 2, "\"\\u00c0\\u00af\"");
	str_value("\xed\xa0\x80", 3, "\"\\u00ed\\u00a0\\u0080\"");
	str_value("\xf4\x90\x80\x80", 4, "\"\\u00f4\\u0090\\u0080\\u0080\"");
	str_value("\x80", 1, "\"\\u0080\"");
	/* keys are escaped too */
	nj_json_init(&j, buf, sizeof(buf) - 1);
	nj_json_open_obj(&j, NULL);
	nj_json_str(&j, "k\"/", NULL);
	nj_json_close_obj(&j);
	CHECK_OUT(&j, "{\"k\\\"\\/\":\"\"}");

	/* every byte value: output must be valid JSON that decodes to the valid parts */
	{
		char in[256];
		json_error_t e;
		json_t *v;

		for (int i = 0; i < 256; i++)
			in[i] = (char)i;
		nj_json_init(&j, buf, sizeof(buf) - 1);
		nj_json_open_arr(&j, NULL);
		nj_json_strn(&j, NULL, in, sizeof(in));
		nj_json_close_arr(&j);
		CHECK(nj_json_ok(&j));
		v = json_loadb(buf, j.len, JSON_ALLOW_NUL, &e);
		CHECK(v != NULL);
		if (!v)
			fprintf(stderr, "jansson: %s\n", e.text);
		else
			/* 0x80..0xff are each invalid alone: U+0080..U+00FF, two bytes each */
			CHECK(json_string_length(json_array_get(v, 0)) == 128 + 2 * 128);
		json_decref(v);
	}
}

static void test_numbers(void)
{
	struct nj_json j;
	static const double d[] = {0.1, 3.0, -2.5, 1e300, 123456.789, 1.0 / 3.0, 5e-324};

	nj_json_init(&j, buf, sizeof(buf) - 1);
	nj_json_open_arr(&j, NULL);
	nj_json_u64(&j, NULL, 0);
	nj_json_u64(&j, NULL, 9);
	nj_json_u64(&j, NULL, 10);
	nj_json_u64(&j, NULL, 99);
	nj_json_u64(&j, NULL, 100);
	nj_json_u64(&j, NULL, 18446744073709551615ull);
	nj_json_i64(&j, NULL, -9223372036854775807ll - 1);
	nj_json_i64(&j, NULL, 42);
	nj_json_close_arr(&j);
	CHECK_OUT(&j, "[0,9,10,99,100,18446744073709551615,-9223372036854775808,42]");

	for (unsigned i = 0; i < sizeof(d) / sizeof(d[0]); i++) {
		nj_json_init(&j, buf, sizeof(buf) - 1);
		nj_json_dbl(&j, NULL, d[i]);
		CHECK(strtod(out(&j), NULL) == d[i]);
	}
	nj_json_init(&j, buf, sizeof(buf) - 1);
	nj_json_dbl(&j, NULL, 0.1);
	CHECK_OUT(&j, "0.1");
	nj_json_init(&j, buf, sizeof(buf) - 1);
	nj_json_dbl(&j, NULL, 3.0);
	CHECK_OUT(&j, "3");
	nj_json_init(&j, buf, sizeof(buf) - 1);
	nj_json_dbl(&j, NULL, NAN);
	CHECK_OUT(&j, "null");
}

static void test_ip(void)
{
	static const uint8_t v4a[4] = {0, 0, 0, 0}, v4b[4] = {255, 255, 255, 255},
			     v4c[4] = {10, 1, 22, 3};
	static const uint8_t v6[16] = {0xfe, 0x80, 0,	 0,    0,    0,	   0,	 0,
				       0x02, 0x0c, 0x29, 0xff, 0xfe, 0xf3, 0xcf, 0x38};
	static const uint8_t v6one[16] = {[15] = 1};
	char s[64];
	struct nj_json j;

	nj_ip_to_str(v4a, 4, s, sizeof(s));
	CHECK(strcmp(s, "0.0.0.0") == 0);
	nj_ip_to_str(v4b, 4, s, sizeof(s));
	CHECK(strcmp(s, "255.255.255.255") == 0);
	nj_ip_to_str(v4c, 4, s, sizeof(s));
	CHECK(strcmp(s, "10.1.22.3") == 0);
	nj_ip_to_str(v6, 16, s, sizeof(s));
	CHECK(strcmp(s, "fe80:0000:0000:0000:020c:29ff:fef3:cf38") == 0);
	nj_ip_to_str(v6one, 16, s, sizeof(s));
	CHECK(strcmp(s, "0000:0000:0000:0000:0000:0000:0000:0001") == 0);
	/* truncation keeps a terminated string */
	nj_ip_to_str(v4b, 4, s, 4);
	CHECK(strcmp(s, "255") == 0);

	nj_json_init(&j, buf, sizeof(buf) - 1);
	nj_json_open_obj(&j, NULL);
	nj_json_ip(&j, "src_ip", v4c, 4);
	nj_json_ip(&j, "dest_ip", v6, 16);
	nj_json_close_obj(&j);
	CHECK_OUT(&j, "{\"src_ip\":\"10.1.22.3\",\"dest_ip\":\"fe80:0000:0000:0000:020c:29ff:fef3:"
		      "cf38\"}");
}

static void test_overflow(void)
{
	char small[16];
	struct nj_json j;

	/* writes never pass cap; a guard byte after it stays untouched */
	memset(small, 'G', sizeof(small));
	nj_json_init(&j, small, 10);
	nj_json_open_obj(&j, NULL);
	nj_json_str(&j, "key", "a long value that does not fit");
	CHECK(!nj_json_ok(&j));
	CHECK(j.len <= 10);
	CHECK(small[10] == 'G');
	nj_json_u64(&j, "n", 1);
	nj_json_close_obj(&j);
	CHECK(!nj_json_ok(&j));
	CHECK(j.len <= 10);

	/* exactly fitting is not an overflow */
	nj_json_init(&j, small, 7);
	nj_json_open_obj(&j, NULL);
	nj_json_u64(&j, "a", 1);
	nj_json_close_obj(&j);
	CHECK(nj_json_ok(&j));
	CHECK(j.len == 7 && memcmp(small, "{\"a\":1}", 7) == 0);

	/* too deep */
	nj_json_init(&j, buf, sizeof(buf) - 1);
	for (int i = 0; i < NJ_JSON_MAX_DEPTH + 4; i++)
		nj_json_open_arr(&j, NULL);
	CHECK(!nj_json_ok(&j));

	/* zero-sized buffer */
	nj_json_init(&j, NULL, 0);
	nj_json_str(&j, "a", "b");
	CHECK(!nj_json_ok(&j));
}

int main(void)
{
	test_structure();
	test_escaping();
	test_numbers();
	test_ip();
	test_overflow();
	if (failures) {
		fprintf(stderr, "test_json: %d failure(s)\n", failures);
		return 1;
	}
	printf("test_json: ok\n");
	return 0;
}
