/* SPDX-License-Identifier: BSD-2-Clause */
/* cfg_schema.c: the generic JSON-to-struct walker behind cfg.c.
 *
 * cJSON does not record where a value came from, so after cJSON accepts
 * the text, a small scanner walks the text and the cJSON tree side by side
 * (cJSON keeps members and elements in document order) and records each
 * item's byte offset. Errors then name line:col exactly. */
#include "config.h"
#include "core/cfg_schema.h"
#include "core/cfg_errors.h"
#include "core/util.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PATH_MAX_LEN 512

/* Key paths for messages: "a.b", "a[3]". Truncation only shortens a
 * message, so it is accepted. */
static void path_key(char *buf, const char *path, const char *key)
{
	if (snprintf(buf, PATH_MAX_LEN, "%s%s%s", path, *path ? "." : "", key) >= PATH_MAX_LEN)
		memcpy(buf + PATH_MAX_LEN - 4, "...", 4);
}

static void path_idx(char *buf, const char *path, size_t i)
{
	if (snprintf(buf, PATH_MAX_LEN, "%s[%zu]", path, i) >= PATH_MAX_LEN)
		memcpy(buf + PATH_MAX_LEN - 4, "...", 4);
}

void cfg_linecol(const char *text, size_t len, size_t off, unsigned *line, unsigned *col)
{
	unsigned l = 1, c = 1;
	for (size_t i = 0; i < off && i < len; i++) {
		if (text[i] == '\n') {
			l++;
			c = 1;
		} else {
			c++;
		}
	}
	*line = l;
	*col = c;
}

static const struct cfg_pos *find_pos(const struct cfg_ctx *ctx, const cJSON *item)
{
	for (size_t i = 0; i < ctx->npos; i++)
		if (ctx->pos[i].item == item)
			return &ctx->pos[i];
	return NULL;
}

void cfg_err(struct cfg_ctx *ctx, const cJSON *node, int at_key, const char *path,
	     const char *fmt, ...)
{
	size_t off = 0;
	const struct cfg_pos *p = node ? find_pos(ctx, node) : NULL;
	if (p)
		off = at_key ? p->key_off : p->value_off;
	unsigned line, col;
	cfg_linecol(ctx->text, ctx->len, off, &line, &col);
	va_list ap;
	va_start(ap, fmt);
	char *msg = xvasprintf(fmt, ap);
	va_end(ap);
	if (ctx->nerrs == ctx->caperrs) {
		ctx->caperrs = ctx->caperrs ? ctx->caperrs * 2 : 16;
		ctx->err_idx = xrealloc(ctx->err_idx, ctx->caperrs * sizeof(*ctx->err_idx));
		ctx->err_off = xrealloc(ctx->err_off, ctx->caperrs * sizeof(*ctx->err_off));
	}
	ctx->err_idx[ctx->nerrs] = ctx->errs->n;
	ctx->err_off[ctx->nerrs++] = off;
	if (path && *path)
		cfg_errors_add(ctx->errs, "%s:%u:%u: %s: %s", ctx->file, line, col, path, msg);
	else
		cfg_errors_add(ctx->errs, "%s:%u:%u: %s", ctx->file, line, col, msg);
	free(msg);
}

/* ---- position index ------------------------------------------------------ */

static void add_pos(struct cfg_ctx *ctx, const cJSON *item, size_t value_off, size_t key_off)
{
	if (ctx->npos == ctx->cappos) {
		ctx->cappos = ctx->cappos ? ctx->cappos * 2 : 64;
		ctx->pos = xrealloc(ctx->pos, ctx->cappos * sizeof(*ctx->pos));
	}
	ctx->pos[ctx->npos++] = (struct cfg_pos){ item, value_off, key_off };
}

static size_t skip_ws(const struct cfg_ctx *ctx, size_t p)
{
	while (p < ctx->len && strchr(" \t\r\n", ctx->text[p]) && ctx->text[p])
		p++;
	return p;
}

static size_t skip_string(const struct cfg_ctx *ctx, size_t p)
{
	p++; /* opening quote */
	while (p < ctx->len && ctx->text[p] != '"') {
		if (ctx->text[p] == '\\')
			p++;
		p++;
	}
	return p + 1;
}

static size_t scan_value(struct cfg_ctx *ctx, size_t p, const cJSON *item, size_t key_off,
			 const char *path);

static void check_duplicate(struct cfg_ctx *ctx, const cJSON *obj, const cJSON *child,
			    const char *path)
{
	for (const cJSON *o = obj->child; o && o != child; o = o->next) {
		if (!o->string || !child->string || strcmp(o->string, child->string))
			continue;
		char sub[PATH_MAX_LEN];
		unsigned line = 1, col = 1;
		const struct cfg_pos *first = find_pos(ctx, o);
		if (first)
			cfg_linecol(ctx->text, ctx->len, first->key_off, &line, &col);
		path_key(sub, path, child->string);
		cfg_err(ctx, child, 1, sub, "duplicate key (first given at line %u)", line);
		return;
	}
}

static size_t scan_value(struct cfg_ctx *ctx, size_t p, const cJSON *item, size_t key_off,
			 const char *path)
{
	p = skip_ws(ctx, p);
	if (!item || p >= ctx->len)
		return p;
	add_pos(ctx, item, p, key_off == (size_t)-1 ? p : key_off);
	char c = ctx->text[p];
	if (c == '{' || c == '[') {
		char close = c == '{' ? '}' : ']';
		const cJSON *child = item->child;
		size_t idx = 0;
		p++;
		for (;;) {
			p = skip_ws(ctx, p);
			if (p >= ctx->len || ctx->text[p] == close)
				return p + 1;
			char sub[PATH_MAX_LEN];
			size_t koff = (size_t)-1;
			if (c == '{') {
				koff = p;
				p = skip_string(ctx, p);
				p = skip_ws(ctx, p);
				p++; /* ':' */
				path_key(sub, path, child && child->string ? child->string : "?");
			} else {
				path_idx(sub, path, idx);
			}
			p = scan_value(ctx, p, child, koff, sub);
			if (c == '{' && child)
				check_duplicate(ctx, item, child, path);
			if (child)
				child = child->next;
			idx++;
			p = skip_ws(ctx, p);
			if (p < ctx->len && ctx->text[p] == ',')
				p++;
		}
	}
	if (c == '"')
		return skip_string(ctx, p);
	while (p < ctx->len && !strchr(",]} \t\r\n", ctx->text[p]))
		p++;
	return p;
}

/* 2 when text stops inside a string, 1 inside an unclosed object or
 * array, else 0. cJSON then points at the string's start or at the last
 * byte, never past the end. */
static int doc_incomplete(const char *text, size_t len)
{
	int depth = 0, in_str = 0;
	for (size_t i = 0; i < len; i++) {
		char ch = text[i];
		if (in_str) {
			if (ch == '\\')
				i++;
			else if (ch == '"')
				in_str = 0;
		} else if (ch == '"') {
			in_str = 1;
		} else if (ch == '{' || ch == '[') {
			depth++;
		} else if (ch == '}' || ch == ']') {
			depth--;
		}
	}
	return in_str ? 2 : depth > 0;
}

static void doc_error(struct cfg_ctx *ctx, size_t off, const char *what)
{
	unsigned l, c;
	cfg_linecol(ctx->text, ctx->len, off, &l, &c);
	cfg_errors_add(ctx->errs, "%s:%u:%u: invalid JSON%s", ctx->file, l, c, what);
}

static int is_json_ws(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

int cfg_doc_parse(struct cfg_ctx *ctx, const char *file, const char *text, size_t len,
		  int redact, struct cfg_errors *errs, cJSON **root)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->file = file;
	ctx->text = text;
	ctx->len = len;
	ctx->errs = errs;
	ctx->redact = redact;
	*root = NULL;

	/* RFC 8259 allows no raw control characters (cJSON skips them as
	 * white space). */
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)text[i];
		if (ch < 0x20 && !is_json_ws((char)ch)) {
			char what[64];
			if (ch)
				snprintf(what, sizeof(what), ": control character 0x%02x", ch);
			else
				snprintf(what, sizeof(what), ": NUL byte in the file");
			doc_error(ctx, i, what);
			return -1;
		}
	}
	const char *end = NULL;
	cJSON *doc = cJSON_ParseWithLengthOpts(text, len, &end, 0);
	if (doc) {
		size_t off = (size_t)(end - text);
		while (off < len && is_json_ws(text[off]))
			off++;
		if (off < len) {
			doc_error(ctx, off, ": unexpected text after the document");
			cJSON_Delete(doc);
			return -1;
		}
	} else {
		size_t off = end && end >= text && end <= text + len ? (size_t)(end - text) : 0;
		size_t rest = off;
		while (rest < len && is_json_ws(text[rest]))
			rest++;
		int inc = doc_incomplete(text, len);
		if (rest == len || inc == 2 || (off + 1 >= len && inc)) {
			doc_error(ctx, len, ": unexpected end of file");
			return -1;
		}
		char near[40] = " near '";
		size_t n = strlen(near);
		for (size_t i = off; i < len && n < 23 && text[i] != '\n'; i++)
			near[n++] = text[i];
		near[n++] = '\'';
		near[n] = '\0';
		/* In a file of secrets the text near an error may be one. */
		doc_error(ctx, off, redact ? ": syntax error" : near);
		return -1;
	}
	size_t start = 0;
	if (len >= 3 && !memcmp(text, "\xEF\xBB\xBF", 3))
		start = 3;
	scan_value(ctx, start, doc, (size_t)-1, "");
	*root = doc;
	return 0;
}

/* Errors come out in document order, whatever order the checks ran in. */
void cfg_doc_sort_errors(struct cfg_ctx *ctx)
{
	size_t n = ctx->nerrs;
	for (size_t i = 1; i < n; i++) {
		for (size_t j = i; j > 0 && ctx->err_off[j - 1] > ctx->err_off[j]; j--) {
			size_t a = ctx->err_idx[j - 1], b = ctx->err_idx[j];
			char *tmp = ctx->errs->msg[a];
			ctx->errs->msg[a] = ctx->errs->msg[b];
			ctx->errs->msg[b] = tmp;
			size_t o = ctx->err_off[j - 1];
			ctx->err_off[j - 1] = ctx->err_off[j];
			ctx->err_off[j] = o;
		}
	}
}

void cfg_doc_free(struct cfg_ctx *ctx)
{
	free(ctx->pos);
	free(ctx->err_idx);
	free(ctx->err_off);
	ctx->pos = NULL;
	ctx->err_idx = ctx->err_off = NULL;
	ctx->npos = ctx->cappos = ctx->nerrs = ctx->caperrs = 0;
}

/* ---- the walker -------------------------------------------------------- */

const cJSON *cfg_member(const cJSON *obj, const char *key)
{
	if (!cJSON_IsObject(obj))
		return NULL;
	for (const cJSON *c = obj->child; c; c = c->next)
		if (c->string && !strcmp(c->string, key))
			return c;
	return NULL;
}

/* "string \"abc\"", "number 1.5", "an object", ... for error messages. */
static void describe(const cJSON *v, int redact, char *buf, size_t n)
{
	if (redact) {
		snprintf(buf, n, "%s", cJSON_IsString(v) ? "a string" : cJSON_IsNumber(v) ? "a number" :
			 cJSON_IsBool(v) ? "a boolean" : cJSON_IsArray(v) ? "an array" :
			 cJSON_IsObject(v) ? "an object" : "null");
	} else if (cJSON_IsString(v)) {
		const char *s = v->valuestring;
		if (strlen(s) > 40)
			snprintf(buf, n, "string \"%.37s...\"", s);
		else
			snprintf(buf, n, "string \"%s\"", s);
	} else if (cJSON_IsNumber(v)) {
		snprintf(buf, n, "number %.15g", v->valuedouble);
	} else if (cJSON_IsBool(v)) {
		snprintf(buf, n, "%s", cJSON_IsTrue(v) ? "true" : "false");
	} else if (cJSON_IsArray(v)) {
		snprintf(buf, n, "an array");
	} else if (cJSON_IsObject(v)) {
		snprintf(buf, n, "an object");
	} else {
		snprintf(buf, n, "null");
	}
}

static void wrong_type(struct cfg_ctx *ctx, const cJSON *v, const char *path, const char *want)
{
	char d[80];
	describe(v, ctx->redact, d, sizeof(d));
	cfg_err(ctx, v, 0, path, "expected %s, got %s", want, d);
}

static char *enum_list(const char *const *names)
{
	size_t len = 1;
	for (size_t i = 0; names[i]; i++)
		len += strlen(names[i]) + 2;
	char *s = xmalloc(len);
	s[0] = '\0';
	for (size_t i = 0; names[i]; i++) {
		if (i)
			strcat(s, ", ");
		strcat(s, names[i]);
	}
	return s;
}

static void *at(void *obj, size_t off)
{
	return (char *)obj + off;
}

static int get_string(struct cfg_ctx *ctx, const cJSON *v, const char *path,
		      const struct cfg_field *f, char **out)
{
	if (!cJSON_IsString(v)) {
		wrong_type(ctx, v, path, "a string");
		return -1;
	}
	if (!*v->valuestring) {
		cfg_err(ctx, v, 0, path, "must not be empty");
		return -1;
	}
	if (f->check) {
		char why[160] = "";
		if (f->check(v->valuestring, why, sizeof(why)) < 0) {
			if (f->flags & CF_SECRET)
				cfg_err(ctx, v, 0, path, "%s", why);
			else
				cfg_err(ctx, v, 0, path, "\"%s\" %s", v->valuestring, why);
			return -1;
		}
	}
	*out = xstrdup(v->valuestring);
	return 0;
}

static void apply_default(const struct cfg_field *f, void *out)
{
	if (!(f->flags & CF_HASDEF))
		return;
	switch (f->type) {
	case CF_BOOL:
	case CF_ENUM:
		*(int *)at(out, f->off) = (int)f->def;
		break;
	case CF_INT:
		*(long *)at(out, f->off) = f->def;
		break;
	case CF_STR:
		if (f->defstr)
			*(char **)at(out, f->off) = xstrdup(f->defstr);
		break;
	case CF_STRLIST:
		if (f->defstr) {
			char **list = xcalloc(1, sizeof(char *));
			list[0] = xstrdup(f->defstr);
			*(char ***)at(out, f->off) = list;
			*(size_t *)at(out, f->count_off) = 1;
		}
		break;
	default:
		break;
	}
}

static void apply_field(struct cfg_ctx *ctx, const struct cfg_field *f, const cJSON *v,
			void *out, const char *path)
{
	char sub[PATH_MAX_LEN];
	switch (f->type) {
	case CF_BOOL:
		if (!cJSON_IsBool(v))
			wrong_type(ctx, v, path, "true or false");
		else
			*(int *)at(out, f->off) = cJSON_IsTrue(v);
		break;
	case CF_INT: {
		if (!cJSON_IsNumber(v)) {
			wrong_type(ctx, v, path, "an integer");
			break;
		}
		double d = v->valuedouble;
		if (d != floor(d) || !isfinite(d)) {
			cfg_err(ctx, v, 0, path, "%.15g is not an integer (allowed %ld..%ld)", d, f->min, f->max);
		} else if (d < (double)f->min || d > (double)f->max) {
			cfg_err(ctx, v, 0, path, "%.0f is out of range (allowed %ld..%ld)", d, f->min, f->max);
		} else {
			*(long *)at(out, f->off) = (long)d;
		}
		break;
	}
	case CF_STR: {
		char *s = NULL;
		if (get_string(ctx, v, path, f, &s) == 0) {
			char **slot = at(out, f->off);
			free(*slot);
			*slot = s;
		}
		break;
	}
	case CF_ENUM: {
		if (!cJSON_IsString(v)) {
			wrong_type(ctx, v, path, "a string");
			break;
		}
		int found = -1;
		for (int i = 0; f->names[i]; i++)
			if (!strcmp(f->names[i], v->valuestring))
				found = i;
		if (found < 0) {
			char *list = enum_list(f->names);
			cfg_err(ctx, v, 0, path, "\"%s\" is not one of: %s", v->valuestring, list);
			free(list);
		} else {
			*(int *)at(out, f->off) = found;
		}
		break;
	}
	case CF_STRLIST: {
		if (!cJSON_IsArray(v)) {
			wrong_type(ctx, v, path, "an array of strings");
			break;
		}
		size_t n = (size_t)cJSON_GetArraySize(v), i = 0;
		char **list = xcalloc(n ? n : 1, sizeof(char *));
		size_t got = 0;
		for (const cJSON *e = v->child; e; e = e->next, i++) {
			path_idx(sub, path, i);
			if (get_string(ctx, e, sub, f, &list[got]) == 0)
				got++;
		}
		*(char ***)at(out, f->off) = list;
		*(size_t *)at(out, f->count_off) = got;
		break;
	}
	case CF_OBJ:
		cfg_schema_apply(ctx, f->sub, v, at(out, f->off), path);
		break;
	case CF_OPTOBJ: {
		if (!cJSON_IsObject(v)) {
			wrong_type(ctx, v, path, "an object");
			break;
		}
		void *o = xcalloc(1, f->sub->size);
		cfg_schema_apply(ctx, f->sub, v, o, path);
		*(void **)at(out, f->off) = o;
		break;
	}
	case CF_ARRAY: {
		if (!cJSON_IsArray(v)) {
			wrong_type(ctx, v, path, "an array of objects");
			break;
		}
		size_t n = (size_t)cJSON_GetArraySize(v), i = 0;
		char *arr = xcalloc(n ? n : 1, f->sub->size);
		*(void **)at(out, f->off) = arr;
		*(size_t *)at(out, f->count_off) = n;
		for (const cJSON *e = v->child; e; e = e->next, i++) {
			path_idx(sub, path, i);
			cfg_schema_apply(ctx, f->sub, e, arr + i * f->sub->size, sub);
		}
		break;
	}
	case CF_OBJMAP:
	case CF_STRMAP: {
		if (!cJSON_IsObject(v)) {
			wrong_type(ctx, v, path, "an object");
			break;
		}
		size_t esz = f->type == CF_OBJMAP ? f->sub->size : sizeof(struct cfg_secret);
		size_t n = (size_t)cJSON_GetArraySize(v), i = 0;
		char *arr = xcalloc(n ? n : 1, esz);
		*(void **)at(out, f->off) = arr;
		*(size_t *)at(out, f->count_off) = n;
		for (const cJSON *e = v->child; e; e = e->next, i++) {
			char *elem = arr + i * esz;
			path_key(sub, path, e->string);
			*(char **)elem = xstrdup(e->string);
			if (f->type == CF_OBJMAP) {
				cfg_schema_apply(ctx, f->sub, e, elem, sub);
			} else if (!cJSON_IsString(e)) {
				wrong_type(ctx, e, sub, "a string");
			} else if (!*e->valuestring) {
				cfg_err(ctx, e, 0, sub, "must not be empty");
			} else {
				((struct cfg_secret *)elem)->value = xstrdup(e->valuestring);
			}
		}
		break;
	}
	}
}

void cfg_schema_apply(struct cfg_ctx *ctx, const struct cfg_schema *s, const cJSON *node,
		      void *out, const char *path)
{
	char sub[PATH_MAX_LEN];
	if (!cJSON_IsObject(node)) {
		wrong_type(ctx, node, path, "an object");
		return;
	}
	for (const cJSON *c = node->child; c; c = c->next) {
		const struct cfg_field *f = s->fields;
		while (f->key && strcmp(f->key, c->string))
			f++;
		if (f->key)
			continue;
		size_t len = 1;
		for (f = s->fields; f->key; f++)
			len += strlen(f->key) + 2;
		char *known = xmalloc(len);
		known[0] = '\0';
		for (f = s->fields; f->key; f++) {
			if (f != s->fields)
				strcat(known, ", ");
			strcat(known, f->key);
		}
		path_key(sub, path, c->string);
		cfg_err(ctx, c, 1, sub, "unknown key (known keys in %s: %s)", s->what, known);
		free(known);
	}
	for (const struct cfg_field *f = s->fields; f->key; f++) {
		const cJSON *v = cfg_member(node, f->key);
		path_key(sub, path, f->key);
		if (!v || cJSON_IsNull(v)) {
			if (f->flags & CF_REQUIRED) {
				cfg_err(ctx, node, 0, sub, "required key is missing");
			} else if (f->type == CF_OBJ) {
				/* An absent section still gets its defaults. */
				cJSON *empty = cJSON_CreateObject();
				cfg_schema_apply(ctx, f->sub, empty, at(out, f->off), sub);
				cJSON_Delete(empty);
			} else {
				apply_default(f, out);
			}
			continue;
		}
		apply_field(ctx, f, v, out, sub);
	}
	if (s->validate)
		s->validate(ctx, out, node, path);
}

static void free_str(char *s, unsigned flags)
{
	if (flags & CF_SECRET)
		secret_free(s);
	else
		free(s);
}

void cfg_schema_free(const struct cfg_schema *s, void *obj)
{
	if (!obj)
		return;
	for (const struct cfg_field *f = s->fields; f->key; f++) {
		switch (f->type) {
		case CF_STR:
			free_str(*(char **)at(obj, f->off), f->flags);
			break;
		case CF_STRLIST: {
			char **list = *(char ***)at(obj, f->off);
			size_t n = *(size_t *)at(obj, f->count_off);
			for (size_t i = 0; list && i < n; i++)
				free_str(list[i], f->flags);
			free(list);
			break;
		}
		case CF_OBJ:
			cfg_schema_free(f->sub, at(obj, f->off));
			break;
		case CF_OPTOBJ: {
			void *o = *(void **)at(obj, f->off);
			cfg_schema_free(f->sub, o);
			free(o);
			break;
		}
		case CF_ARRAY:
		case CF_OBJMAP:
		case CF_STRMAP: {
			char *arr = *(char **)at(obj, f->off);
			size_t n = *(size_t *)at(obj, f->count_off);
			size_t esz = f->type == CF_STRMAP ? sizeof(struct cfg_secret) : f->sub->size;
			for (size_t i = 0; arr && i < n; i++) {
				char *elem = arr + i * esz;
				if (f->type != CF_ARRAY)
					free(*(char **)elem);
				if (f->type == CF_STRMAP)
					secret_free(((struct cfg_secret *)elem)->value);
				else
					cfg_schema_free(f->sub, elem);
			}
			free(arr);
			break;
		}
		default:
			break;
		}
	}
}
