/* SPDX-License-Identifier: MIT */
/*
 * FTP (control channel) and FTP-DATA (the data connections it announces).
 *
 * Control: commands and replies are lines (LF or CRLF), parsed
 * incrementally; a line longer than app-layer.protocols.ftp.max-line-length
 * is cut there (anomaly request_command_too_long / response_command_too_long,
 * "command_truncated" / "reply_truncated") and the rest of it skipped. Each
 * command is a transaction that collects its reply lines (multi-line "NNN-"
 * ... "NNN " replies, preliminary 1xx replies keep it open); a reply with no
 * command waiting (the 220 greeting) is a transaction of its own. PORT / EPRT
 * (active) and the 227 / 229 replies to PASV / EPSV (passive) give the data
 * port; a RETR or STOR then announces the data connection to the app-layer
 * framework (nj_al_expect) with the command and the file name.
 *
 * FTP-DATA: the announced connection is parsed as "ftp-data" without
 * probing; its bytes in the direction the command implies (RETR: from the
 * FTP server, STOR: to it) are one file (parsers/files.h) named by the
 * command's argument. The file ends CLOSED at the end of that direction,
 * TRUNCATED when reassembly stopped at a depth or bytes were missing.
 */
#ifndef NJ_FTP_H
#define NJ_FTP_H

#include <stdbool.h>
#include <stdint.h>

#include "../applayer.h"

#define NJ_FTP_MAX_LINE_DEFAULT 4096u /* Suricata's max-line-length */
#define NJ_FTP_MAX_TX		1024u /* transactions kept per flow */
#define NJ_FTP_REPLY_MAX	4096u /* reply bytes kept per transaction */
#define NJ_FTP_CMD_MAX		15u   /* command verb bytes */
#define NJ_FTP_NAME_MAX		448u  /* file name bytes handed to the data connection */

struct nj_ftp_tx {
	struct nj_al_tx al;
	char cmd[NJ_FTP_CMD_MAX + 1]; /* Suricata's command name ("RETR", "UNKNOWN"), "" for none */
	uint8_t *arg;		      /* what follows the command and a space */
	uint32_t arg_len;
	bool has_arg;
	bool cmd_truncated;
	bool reply_truncated;
	bool reply_received;
	uint8_t mode; /* 0, 1 active (PORT/EPRT), 2 passive */
	uint16_t dyn_port;
	uint16_t nlines;
	uint8_t *reply; /* reply lines, each ending with '\n' */
	uint32_t reply_len;
};

/* Detection getters (buffers ftp.command and ftp.command_data). */
bool nj_ftp_get_command(const struct nj_al_tx *tx, const uint8_t **d, uint32_t *len);
bool nj_ftp_get_command_data(const struct nj_al_tx *tx, const uint8_t **d, uint32_t *len);

#endif
