/* SPDX-License-Identifier: MIT */
/* Datasets: the lock-free set under concurrent writers, value formats, save/load round trip. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "detect/intel/dataset.h"
#include "detect/intel/dset.h"
#include "nj_test.h"

static struct nj_dset *shared;
static int added[4];

static void *writer(void *arg)
{
	int id = (int)(intptr_t)arg;

	/* every thread adds the same 20000 keys: each must be added exactly once overall */
	for (uint32_t i = 0; i < 20000; i++)
		if (nj_dset_add(shared, (const uint8_t *)&i, sizeof(i)) == 1)
			added[id]++;
	return NULL;
}

static void test_dset(void)
{
	struct nj_dset *s = nj_dset_new(100, 1 << 20);
	pthread_t th[4];
	int total = 0;

	CHECK(s != NULL);
	CHECK(nj_dset_add(s, (const uint8_t *)"abc", 3) == 1);
	CHECK(nj_dset_add(s, (const uint8_t *)"abc", 3) == 0);
	CHECK(nj_dset_has(s, (const uint8_t *)"abc", 3));
	CHECK(!nj_dset_has(s, (const uint8_t *)"abd", 3));
	CHECK(!nj_dset_has(s, (const uint8_t *)"ab", 2));
	CHECK(nj_dset_remove(s, (const uint8_t *)"abc", 3) == 1);
	CHECK(nj_dset_remove(s, (const uint8_t *)"abc", 3) == 0);
	CHECK(!nj_dset_has(s, (const uint8_t *)"abc", 3));
	CHECK(nj_dset_add(s, (const uint8_t *)"abc", 3) == 1); /* revived */
	CHECK(nj_dset_count(s) == 1);
	nj_dset_free(s);

	/* bounded: a tiny memcap refuses adds, counted */
	s = nj_dset_new(64, 4096);
	int full = 0;

	for (uint32_t i = 0; i < 5000; i++)
		full += nj_dset_add(s, (const uint8_t *)&i, sizeof(i)) < 0;
	CHECK(full > 0);
	CHECK(s->full == (uint64_t)full);
	nj_dset_free(s);

	shared = nj_dset_new(40000, 64 << 20);
	for (int i = 0; i < 4; i++)
		pthread_create(&th[i], NULL, writer, (void *)(intptr_t)i);
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		total += added[i];
	}
	CHECK(total == 20000);
	CHECK(nj_dset_count(shared) == 20000);
	nj_dset_free(shared);
}

static void test_values(void)
{
	uint8_t out[64];

	CHECK(nj_dataset_parse_value(NJ_DS_STRING, "Y3VybC83LjQzLjA=\n", out, sizeof(out)) == 11);
	CHECK(memcmp(out, "curl/7.43.0", 11) == 0);
	CHECK(nj_dataset_parse_value(NJ_DS_STRING, "Y3V*", out, sizeof(out)) < 0);
	CHECK(nj_dataset_parse_value(NJ_DS_MD5, "d41d8cd98f00b204e9800998ecf8427e", out,
				     sizeof(out)) == 16);
	CHECK(out[0] == 0xd4 && out[15] == 0x7e);
	CHECK(nj_dataset_parse_value(NJ_DS_MD5, "d41d8cd98f00b204e9800998ecf8427", out,
				     sizeof(out)) < 0);
	CHECK(nj_dataset_parse_value(NJ_DS_IPV4, "1.2.3.4,5", out, sizeof(out)) == 4);
	CHECK(out[0] == 1 && out[3] == 4);
	CHECK(nj_dataset_parse_value(NJ_DS_IPV4, "1.2.3", out, sizeof(out)) < 0);
	/* type ip: IPv4 and v4-mapped both land in the first 4 bytes */
	CHECK(nj_dataset_parse_value(NJ_DS_IP, "::ffff:82.165.177.154", out, sizeof(out)) == 16);
	CHECK(out[0] == 82 && out[3] == 154 && out[4] == 0 && out[15] == 0);
	CHECK(nj_dataset_parse_value(NJ_DS_IP, "82.165.177.154", out, sizeof(out)) == 16);
	CHECK(out[0] == 82 && out[15] == 0);
	CHECK(nj_dataset_parse_value(NJ_DS_IP, "2001:db8::1", out, sizeof(out)) == 16);
	CHECK(out[0] == 0x20 && out[15] == 1);
}

static void test_roundtrip(void)
{
	char dir[] = "/tmp/nj_ds_XXXXXX", path[256], line[256];
	struct nj_dataset *ds;
	char err[256];
	FILE *f;

	CHECK(mkdtemp(dir) != NULL);
	nj_datasets_set_data_dir(dir);
	snprintf(path, sizeof(path), "%s/s.lst", dir);
	f = fopen(path, "w");
	fputs("YQ==\nYmM=\nnot base64 !\n", f);
	fclose(f);
	ds = nj_dataset_get("rt", NJ_DS_STRING, path, path, 0, 0, err, sizeof(err));
	CHECK(ds != NULL);
	CHECK(ds && ds->loaded == 2 && ds->bad_lines == 1);
	CHECK(nj_dataset_get("rt", NJ_DS_MD5, NULL, NULL, 0, 0, err, sizeof(err)) == NULL);
	CHECK(nj_dataset_get("rt", NJ_DS_NOTSET, NULL, NULL, 0, 0, err, sizeof(err)) == ds);
	CHECK(nj_dataset_get("nope", NJ_DS_NOTSET, NULL, NULL, 0, 0, err, sizeof(err)) == NULL);
	nj_dset_add(ds->set, (const uint8_t *)"xyz", 3);
	nj_dset_remove(ds->set, (const uint8_t *)"a", 1);
	CHECK(nj_datasets_save_all() == 1);
	f = fopen(path, "r");
	CHECK(f && fgets(line, sizeof(line), f) && strcmp(line, "YmM=\n") == 0);
	CHECK(f && fgets(line, sizeof(line), f) && strcmp(line, "eHl6\n") == 0);
	CHECK(f && !fgets(line, sizeof(line), f));
	if (f)
		fclose(f);
	/* a load file that does not exist fails; a state file that does not exist is fine */
	CHECK(nj_dataset_get("missing", NJ_DS_STRING, "/nonexistent/x", NULL, 0, 0, err,
			     sizeof(err)) == NULL);
	CHECK(nj_dataset_get("st", NJ_DS_STRING, "/nonexistent/y", "/nonexistent/y", 0, 0, err,
			     sizeof(err)) != NULL);
	nj_datasets_free_all();
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	test_dset();
	test_values();
	test_roundtrip();
	printf("dataset: %s\n", failures ? "FAIL" : "ok");
	return failures ? 1 : 0;
}
