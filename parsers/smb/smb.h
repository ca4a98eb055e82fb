/* SPDX-License-Identifier: MIT */
/*
 * SMB1/2/3 over NetBIOS session service (TCP 139, 445, any port once
 * detected): the app-layer parser, its configuration, and what the detection
 * engine reads from a transaction. EVE `smb` events follow Suricata's layout;
 * files read and written go through parsers/files.h.
 *
 * Keywords that are not sticky buffers get small getters here:
 *   smb.version   -> nj_smb_tx_version()
 *   dce_opnum     -> nj_smb_tx_dce_opnum()
 *   dce_iface     -> nj_smb_tx_dce_ifaces() / nj_smb_tx_dce_iface_match()
 * The sticky buffers (smb.share, smb.named_pipe, smb.ntlmssp_user,
 * smb.ntlmssp_domain, dce_stub_data) are in nj_smb_parser.buffers.
 */
#ifndef NJ_SMB_H
#define NJ_SMB_H

#include <stdbool.h>
#include <stdint.h>

#include "../applayer.h"

extern struct nj_app_parser nj_smb_parser;

/* EVE smb "types" filter (Suricata's eve-log smb.types); 0 logs everything. */
#define NJ_SMB_LOG_FILE	       (1u << 0)
#define NJ_SMB_LOG_TREECONNECT (1u << 1)
#define NJ_SMB_LOG_NEGOTIATE   (1u << 2)
#define NJ_SMB_LOG_DCERPC      (1u << 3)
#define NJ_SMB_LOG_CREATE      (1u << 4)
#define NJ_SMB_LOG_SESSION     (1u << 5)
#define NJ_SMB_LOG_IOCTL       (1u << 6)
#define NJ_SMB_LOG_RENAME      (1u << 7)
#define NJ_SMB_LOG_SETINFO     (1u << 8)
#define NJ_SMB_LOG_GENERIC     (1u << 9)

struct nj_smb_config {
	uint32_t max_tx;	 /* transactions kept per flow (app-layer.protocols.smb.max-tx) */
	uint32_t max_files;	 /* files carved at once per flow */
	uint32_t max_read_size;	 /* READ larger than this: event, data skipped (0: no limit) */
	uint32_t max_write_size; /* WRITE likewise */
	uint32_t max_read_queue_size, max_read_queue_cnt;   /* out-of-order READ data per file */
	uint32_t max_write_queue_size, max_write_queue_cnt; /* out-of-order WRITE data per file */
	uint32_t max_record; /* largest record held whole when it cannot be streamed */
	uint32_t max_stub;   /* DCE/RPC stub bytes kept per transaction and direction */
	uint32_t log_types;  /* NJ_SMB_LOG_* mask, 0 = all */
};

void nj_smb_config_defaults(struct nj_smb_config *c);
/* Installs c (start-up only, before workers run). */
void nj_smb_config_set(const struct nj_smb_config *c);
const struct nj_smb_config *nj_smb_config_get(void);

/* The SMB major version of a transaction: 1, 2 (SMB2 and SMB3), or 0 when not known. */
int nj_smb_tx_version(const struct nj_al_tx *tx);

/* A DCE/RPC REQUEST transaction's operation number. */
bool nj_smb_tx_dce_opnum(const struct nj_al_tx *tx, uint16_t *opnum);

/*
 * Interfaces bound on the flow (the last BIND), in the order of the BIND's
 * context items. uuid is in the order of its text form (the bytes of
 * "12345678-1234-abcd-ef00-0123456789ab" are 12 34 56 78 12 34 ab cd ...).
 */
struct nj_smb_dce_iface {
	uint8_t uuid[16];
	uint16_t ver, ver_minor;
	uint16_t ctx_id;
	bool acked;	     /* a BIND_ACK result was seen for it */
	uint16_t ack_result; /* 0: acceptance */
};

/*
 * For a DCE/RPC REQUEST transaction: the flow's bound interfaces (*out points
 * into the flow state, valid while the transaction is), else 0. Suricata's
 * dce_iface matches any accepted (acked, result 0) interface of the flow.
 */
unsigned nj_smb_tx_dce_ifaces(const struct nj_al_tx *tx, const struct nj_smb_dce_iface **out);
/* dce_iface without a version condition: an accepted interface with this uuid. */
bool nj_smb_tx_dce_iface_match(const struct nj_al_tx *tx, const uint8_t uuid[16]);

/* Per-flow counters (state from nj_smb_parser.state_new). */
struct nj_smb_flow_stats {
	uint64_t records[2]; /* NBSS session messages by direction */
	uint64_t smb1, smb2; /* SMB1 and SMB2/3 messages (compound parts counted) */
	uint64_t encrypted;  /* SMB3 transform (0xfd 'SMB') records: not decryptable */
	uint64_t compressed; /* SMB3 compression transform (0xfc 'SMB') records */
	uint64_t resyncs;    /* times a direction found a record start again */
	uint64_t gaps;	     /* gap() calls */
	uint64_t skipped;    /* record bytes skipped (limits, unusable records) */
	uint64_t file_bytes; /* READ/WRITE data passed to files */
	uint64_t txs;	     /* transactions created */
	uint64_t forced;     /* transactions completed early by max_tx */
};
const struct nj_smb_flow_stats *nj_smb_state_stats(const void *state);

#endif
