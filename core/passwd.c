/* SPDX-License-Identifier: BSD-2-Clause */
/* passwd.c: PBKDF2 password hashes (see passwd.h). */
#include "config.h"
#include "core/passwd.h"
#include "core/crypto.h"
#include "core/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#define SALT_LEN 16
#define HASH_LEN 32
#define PREFIX "pbkdf2-sha256$"

static int derive(const char *pw, const unsigned char *salt, size_t salt_len, unsigned iter, unsigned char *out)
{
	return PKCS5_PBKDF2_HMAC(pw, (int)strlen(pw), salt, (int)salt_len, (int)iter, EVP_sha256(), HASH_LEN,
				 out) == 1 ? 0 : -1;
}

char *passwd_hash(const char *pw, unsigned iterations)
{
	unsigned char salt[SALT_LEN], h[HASH_LEN];
	char s64[64], h64[64];
	if (!iterations || crypto_random(salt, sizeof(salt)) < 0 || derive(pw, salt, sizeof(salt), iterations, h) < 0)
		return NULL;
	EVP_EncodeBlock((unsigned char *)s64, salt, sizeof(salt));
	EVP_EncodeBlock((unsigned char *)h64, h, sizeof(h));
	OPENSSL_cleanse(h, sizeof(h));
	return xasprintf(PREFIX "%u$%s$%s", iterations, s64, h64);
}

/* Decodes base64 text of exactly want bytes. */
static int decode(const char *b64, size_t len, unsigned char *out, size_t want)
{
	unsigned char buf[96];
	if (len == 0 || len % 4 || len / 4 * 3 > sizeof(buf))
		return -1;
	int n = EVP_DecodeBlock(buf, (const unsigned char *)b64, (int)len);
	if (n < 0)
		return -1;
	size_t pad = (b64[len - 1] == '=') + (len > 1 && b64[len - 2] == '=');
	if ((size_t)n - pad != want)
		return -1;
	memcpy(out, buf, want);
	return 0;
}

int passwd_verify(const char *pw, const char *stored)
{
	if (!pw || !stored || strncmp(stored, PREFIX, strlen(PREFIX)))
		return 0;
	const char *p = stored + strlen(PREFIX);
	char *end;
	unsigned long iter = strtoul(p, &end, 10);
	if (end == p || *end != '$' || iter < 1000 || iter > 10000000)
		return 0;
	const char *salt = end + 1, *d = strchr(salt, '$');
	if (!d)
		return 0;
	unsigned char s[SALT_LEN], want[HASH_LEN], got[HASH_LEN];
	if (decode(salt, (size_t)(d - salt), s, SALT_LEN) < 0 || decode(d + 1, strlen(d + 1), want, HASH_LEN) < 0 ||
	    derive(pw, s, SALT_LEN, (unsigned)iter, got) < 0)
		return 0;
	int ok = CRYPTO_memcmp(want, got, HASH_LEN) == 0;
	OPENSSL_cleanse(got, sizeof(got));
	return ok;
}
