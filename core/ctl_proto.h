/* SPDX-License-Identifier: BSD-2-Clause */
/* ctl_proto.h: gvpnctl <-> gvpn-agent over a unix stream socket. The
 * client sends one JSON object on one line, {"cmd": "show status", ...};
 * the agent answers one JSON object, {"ok": true, "result": ...} or
 * {"ok": false, "error": "...", "details": [...]}, and closes. */
#ifndef GVPN_CTL_PROTO_H
#define GVPN_CTL_PROTO_H

#define CTL_DEFAULT_SOCKET RUNSTATEDIR "/gvpn-agent/gvpnctl.sock"
#define CTL_MAX_REQUEST 4096
#define CTL_MAX_REPLY (64u * 1024 * 1024)
#define CTL_TIMEOUT_MS 5000

#endif
