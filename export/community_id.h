/* SPDX-License-Identifier: MIT */
/*
 * Community ID v1 (corelight/community-id-spec): SHA-1 over seed, ordered
 * addresses, protocol, padding and ordered ports (ICMP: type and mapped
 * counterpart; protocols without ports: no port bytes), base64 or hex.
 */
#ifndef NJ_COMMUNITY_ID_H
#define NJ_COMMUNITY_ID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Writes "1:<base64>" (or "1:<hex>" if !base64) into out (>= 48 bytes).
 * alen is 4 or 16. has_ports false for protocols without ports. For ICMP the
 * caller passes type as sport and the mapped counterpart as dport (see
 * nj_icmp_port_map in dataplane/decode.h). Returns the string length.
 */
size_t nj_community_id(uint16_t seed, const uint8_t *saddr, const uint8_t *daddr, unsigned alen,
		       uint8_t proto, bool has_ports, uint16_t sport, uint16_t dport, bool base64,
		       char *out, size_t outlen);

#endif
