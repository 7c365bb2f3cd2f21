/* SPDX-License-Identifier: BSD-2-Clause */
/* cfg_schema.h: a table-driven JSON-to-struct loader. Each struct of the
 * config model is described by a cfg_schema (its fields: key, type,
 * offset, range, default); one generic walker fills the struct, applies
 * defaults and collects every error with its file:line:col and key path.
 * Used by cfg.c for the config and the secrets file. */
#ifndef GVPN_CFG_SCHEMA_H
#define GVPN_CFG_SCHEMA_H

#include <stddef.h>
#include <cjson/cJSON.h>
#include "core/cfg.h"

enum cfg_ftype {
	CF_BOOL,     /* int */
	CF_INT,      /* long, min..max */
	CF_STR,      /* char *, optional check() */
	CF_ENUM,     /* int index into names[] */
	CF_STRLIST,  /* char **, count at count_off */
	CF_OBJ,      /* embedded struct of sub */
	CF_OPTOBJ,   /* pointer to struct of sub, NULL when absent */
	CF_ARRAY,    /* array of struct of sub, count at count_off */
	CF_OBJMAP,   /* JSON object NAME -> object of sub; the struct's first
	                member is char *name */
	CF_STRMAP,   /* JSON object NAME -> string, into struct cfg_secret[] */
};

#define CF_REQUIRED 1u
#define CF_SECRET   2u  /* wiped when freed, never printed */
#define CF_HASDEF   4u  /* def/defstr apply when absent */

struct cfg_ctx;

typedef int (*cfg_check_fn)(const char *value, char *why, size_t whylen);
typedef void (*cfg_validate_fn)(struct cfg_ctx *ctx, void *obj, const cJSON *node, const char *path);

struct cfg_schema;

struct cfg_field {
	const char *key;
	enum cfg_ftype type;
	size_t off;
	unsigned flags;
	long min, max, def;
	const char *defstr;
	const char *const *names;       /* CF_ENUM: NULL-terminated */
	const struct cfg_schema *sub;   /* CF_OBJ, CF_OPTOBJ, CF_ARRAY, CF_OBJMAP */
	size_t count_off;               /* CF_STRLIST, CF_ARRAY, CF_OBJMAP, CF_STRMAP */
	cfg_check_fn check;             /* CF_STR, CF_STRLIST */
};

struct cfg_schema {
	const char *what;
	size_t size;
	const struct cfg_field *fields; /* ends with key == NULL */
	cfg_validate_fn validate;       /* cross-field checks, after fields */
};

struct cfg_pos {
	const cJSON *item;
	size_t value_off;
	size_t key_off;     /* for object members; else = value_off */
};

struct cfg_ctx {
	const char *file;
	const char *text;
	size_t len;
	struct cfg_pos *pos;
	size_t npos, cappos;
	struct cfg_errors *errs;
	int redact;             /* never quote values (a secrets file) */
	size_t *err_idx, *err_off; /* errors reported through cfg_err */
	size_t nerrs, caperrs;
};

/* Parses text into *root and indexes every value's position. Malformed
 * JSON (with line:col) gives -1 and no tree; duplicate keys are reported
 * but the tree is returned so every other error is found too. With
 * redact, messages never quote the text (secrets). */
int cfg_doc_parse(struct cfg_ctx *ctx, const char *file, const char *text, size_t len,
		  int redact, struct cfg_errors *errs, cJSON **root);
/* Puts the errors reported through cfg_err in document order. */
void cfg_doc_sort_errors(struct cfg_ctx *ctx);
void cfg_doc_free(struct cfg_ctx *ctx);

/* Fills out (sizeof schema->size, zeroed by the caller) from node. */
void cfg_schema_apply(struct cfg_ctx *ctx, const struct cfg_schema *s, const cJSON *node,
		      void *out, const char *path);
void cfg_schema_free(const struct cfg_schema *s, void *obj);

/* An error located at node (its key when at_key, else its value); node
 * NULL means the whole file (line 1, column 1). */
void cfg_err(struct cfg_ctx *ctx, const cJSON *node, int at_key, const char *path,
	     const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* line and column (1-based) of a byte offset. */
void cfg_linecol(const char *text, size_t len, size_t off, unsigned *line, unsigned *col);

/* Finds the member of an object node by key (case-sensitive), or NULL. */
const cJSON *cfg_member(const cJSON *obj, const char *key);

#endif
