/* SPDX-License-Identifier: BSD-2-Clause */
/* passwd.h: password hashes for the web page's users (secrets file,
 * "web_users": { "name": "<hash>" }). The format is
 *   pbkdf2-sha256$<iterations>$<salt, base64>$<hash, base64>
 * PBKDF2-HMAC-SHA-256 (OpenSSL), 16-byte random salt, 32-byte hash.
 * "gvpnctl passwd" makes one. */
#ifndef GVPN_PASSWD_H
#define GVPN_PASSWD_H

#define PASSWD_ITERATIONS 100000

/* A new hash of pw (malloc'd), or NULL. */
char *passwd_hash(const char *pw, unsigned iterations);
/* 1 when pw matches stored, 0 when not (or stored is malformed). */
int passwd_verify(const char *pw, const char *stored);

#endif
