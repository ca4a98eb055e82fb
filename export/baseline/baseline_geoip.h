/* SPDX-License-Identifier: MIT */
/*
 * The baseline's geo hook answered by GeoIP: country and ASN of a peer from
 * the worker's GeoIP cache (export/geoip.h), so the baseline learns and judges
 * countries and ASNs from real MaxMind databases (docs/baseline.md).
 */
#ifndef NJ_BASELINE_GEOIP_H
#define NJ_BASELINE_GEOIP_H

struct nj_baseline;
struct nj_geoip_cache;

/*
 * Makes b ask gc (the same core's cache, e.g. nj_eve_worker_geoip()) for the
 * peer's country and ASN; replaces baseline.geo-static. Addresses GeoIP does
 * not know (HOME_NET, private, absent) stay unknown. 0, or -EINVAL.
 */
int nj_baseline_use_geoip(struct nj_baseline *b, struct nj_geoip_cache *gc);

#endif
