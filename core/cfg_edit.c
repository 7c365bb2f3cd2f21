/* SPDX-License-Identifier: BSD-2-Clause */
/* cfg_edit.c: validated changes to the configuration file (see cfg_edit.h). */
#include "config.h"
#include "core/cfg_edit.h"
#include "core/crypto.h"
#include "core/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#define CFG_EDIT_MAX_BYTES (16u * 1024 * 1024) /* as cfg_load() */

enum { E_BOOL, E_INT, E_STR, E_REMOVE };

struct change {
	char *path;
	int type;
	long i;
	char *s;
	long tag;               /* the caller's, from cfg_edit_tag() */
};

struct cfg_edit {
	struct change *ch;
	size_t n;
	long tag;               /* for the changes added next */
};

struct cfg_edit *cfg_edit_new(void)
{
	return xcalloc(1, sizeof(struct cfg_edit));
}

void cfg_edit_free(struct cfg_edit *e)
{
	if (!e)
		return;
	for (size_t i = 0; i < e->n; i++) {
		free(e->ch[i].path);
		free(e->ch[i].s);
	}
	free(e->ch);
	free(e);
}

static void add(struct cfg_edit *e, const char *path, int type, long i, const char *s)
{
	e->ch = xrealloc(e->ch, (e->n + 1) * sizeof(*e->ch));
	e->ch[e->n++] = (struct change){ xstrdup(path), type, i, s ? xstrdup(s) : NULL, e->tag };
}

void cfg_edit_tag(struct cfg_edit *e, long tag) { e->tag = tag; }

void cfg_edit_bool(struct cfg_edit *e, const char *path, int v) { add(e, path, E_BOOL, !!v, NULL); }
void cfg_edit_int(struct cfg_edit *e, const char *path, long v) { add(e, path, E_INT, v, NULL); }
void cfg_edit_str(struct cfg_edit *e, const char *path, const char *v) { add(e, path, v ? E_STR : E_REMOVE, 0, v); }
void cfg_edit_remove(struct cfg_edit *e, const char *path) { add(e, path, E_REMOVE, 0, NULL); }
size_t cfg_edit_count(const struct cfg_edit *e) { return e->n; }

/* ---- stamps ------------------------------------------------------------- */

static void stamp_text(struct cfg_edit_stamp *st, const char *text, size_t len)
{
	struct crypto_iov iov = { text, len };
	if (crypto_hash(CRYPTO_HASH_SHA256, &iov, 1, st->digest) < 0)
		memset(st->digest, 0, sizeof(st->digest)); /* compares unequal to any real text */
}

static char *read_file(const char *path, size_t *len, struct cfg_errors *errs)
{
	char *text = file_read_all(path, CFG_EDIT_MAX_BYTES, len);
	if (!text) {
		if (errno == EFBIG)
			cfg_errors_add(errs, "%s: the file is larger than %u bytes", path, CFG_EDIT_MAX_BYTES);
		else
			cfg_errors_add(errs, "%s: cannot read: %s", path, strerror(errno));
	}
	return text;
}

struct cfg *cfg_edit_load(const char *cfg_path, struct cfg_edit_stamp *loaded, struct cfg_errors *errs)
{
	size_t len;
	char *text = read_file(cfg_path, &len, errs);
	if (!text)
		return NULL;
	struct cfg *c = cfg_load_text(cfg_path, text, len, errs);
	if (c)
		stamp_text(loaded, text, len);
	free(text);
	return c;
}

/* ---- paths -------------------------------------------------------------- */

/* One step of a path: an object key, and the NAME of "key[NAME]". */
struct seg {
	char *key;
	char *name;
};

static void segs_free(struct seg *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(s[i].key);
		free(s[i].name);
	}
	free(s);
}

/* Splits "a.b[NAME].c". NAME runs to the "]" that ends the segment, so
 * it may hold dots and brackets (strongSwan allows them in names). */
static struct seg *parse_path(const char *path, size_t *n, char *why, size_t whylen)
{
	struct seg *s = NULL;
	const char *p = path;
	*n = 0;
	for (;;) {
		size_t k = strcspn(p, ".[");
		if (k == 0) {
			snprintf(why, whylen, "malformed path (an empty key)");
			goto bad;
		}
		s = xrealloc(s, (*n + 1) * sizeof(*s));
		s[*n] = (struct seg){ xstrndup(p, k), NULL };
		(*n)++;
		p += k;
		if (*p == '[') {
			const char *q = p + 1;
			while (*q && !(q[0] == ']' && (q[1] == '.' || q[1] == '\0')))
				q++;
			if (!*q || q == p + 1) {
				snprintf(why, whylen, "malformed path (\"[NAME]\" expected after \"%s\")", s[*n - 1].key);
				goto bad;
			}
			s[*n - 1].name = xstrndup(p + 1, (size_t)(q - p - 1));
			p = q + 1;
		}
		if (*p == '\0')
			break;
		p++; /* '.' */
	}
	if (s[*n - 1].name) {
		snprintf(why, whylen, "the path names an element of \"%s\", not a setting", s[*n - 1].key);
		goto bad;
	}
	return s;
bad:
	segs_free(s, *n);
	*n = 0;
	return NULL;
}

static cJSON *find_named(const cJSON *arr, const char *name)
{
	cJSON *el;
	cJSON_ArrayForEach(el, arr) {
		const cJSON *nm = cJSON_GetObjectItemCaseSensitive(el, "name");
		if (cJSON_IsString(nm) && !strcmp(nm->valuestring, name))
			return el;
	}
	return NULL;
}

/* The element "key[NAME]" of cur; NULL with why and *kind when there is
 * none (NOT_FOUND: an array without it; INVALID: key is no array). */
static cJSON *element(cJSON *cur, const struct seg *s, enum cfg_edit_err *kind, char *why, size_t whylen)
{
	cJSON *arr = cJSON_GetObjectItemCaseSensitive(cur, s->key);
	cJSON *el = cJSON_IsArray(arr) ? find_named(arr, s->name) : NULL;
	if (el)
		return el;
	*kind = cJSON_IsArray(arr) ? CFG_EDIT_NOT_FOUND : CFG_EDIT_INVALID;
	if (!strcmp(s->key, "vpns"))
		snprintf(why, whylen, "no VPN named \"%s\"", s->name);
	else
		snprintf(why, whylen, "no element of \"%s\" named \"%s\"", s->key, s->name);
	return NULL;
}

/* The object that holds the path's last key. Missing objects on the way
 * are created when create is set; otherwise *absent is set and NULL
 * returned (nothing to remove). NULL with why and *kind on an error. */
static cJSON *walk(cJSON *root, const struct seg *s, size_t n, int create, int *absent, enum cfg_edit_err *kind,
		   char *why, size_t whylen)
{
	cJSON *cur = root;
	*absent = 0;
	for (size_t i = 0; i + 1 < n; i++) {
		cJSON *o = cJSON_GetObjectItemCaseSensitive(cur, s[i].key);
		if (s[i].name) {
			if (!(o = element(cur, &s[i], kind, why, whylen)))
				return NULL;
		} else if (!o) {
			if (!create) {
				*absent = 1;
				return NULL;
			}
			o = cJSON_AddObjectToObject(cur, s[i].key);
		}
		if (!cJSON_IsObject(o)) {
			*kind = CFG_EDIT_INVALID;
			snprintf(why, whylen, "\"%s\" is not an object", s[i].key);
			return NULL;
		}
		cur = o;
	}
	return cur;
}

/* Sets (or adds) obj's key to the change's value. */
static enum cfg_edit_err set_value(cJSON *obj, const char *key, const struct change *c, char *why, size_t whylen)
{
	cJSON *v = c->type == E_BOOL ? cJSON_CreateBool((cJSON_bool)c->i) :
		   c->type == E_INT ? cJSON_CreateNumber((double)c->i) : cJSON_CreateString(c->s);
	if (!v) {
		snprintf(why, whylen, "out of memory");
		return CFG_EDIT_IO;
	}
	if (cJSON_GetObjectItemCaseSensitive(obj, key))
		cJSON_ReplaceItemInObjectCaseSensitive(obj, key, v); /* keeps the key's place */
	else
		cJSON_AddItemToObject(obj, key, v);
	return CFG_EDIT_OK;
}

static enum cfg_edit_err apply_change(cJSON *root, const struct change *c, char *why, size_t whylen)
{
	size_t n;
	struct seg *s = parse_path(c->path, &n, why, whylen);
	if (!s)
		return CFG_EDIT_INVALID;
	int absent;
	enum cfg_edit_err kind = CFG_EDIT_OK;
	cJSON *obj = walk(root, s, n, c->type != E_REMOVE, &absent, &kind, why, whylen);
	const char *key = s[n - 1].key;
	if (obj && c->type == E_REMOVE)
		cJSON_DeleteItemFromObjectCaseSensitive(obj, key);
	else if (obj)
		kind = set_value(obj, key, c, why, whylen);
	/* else: an error (kind set), or nothing to remove (absent) */
	segs_free(s, n);
	return kind;
}

/* ---- errors --------------------------------------------------------------- */

/* The loader's key path ("vpn_monitor.vpns[0].rekey") with positions
 * replaced by the elements' names where they have one, as edits name
 * them. */
static char *named_path(const cJSON *root, const char *field)
{
	char *out = xstrdup("");
	const cJSON *cur = root;
	const char *p = field;
	while (*p) {
		size_t k = strcspn(p, ".[");
		char *key = xstrndup(p, k);
		char *t = xasprintf("%s%s%s", out, *out ? "." : "", key);
		free(out);
		out = t;
		cur = cJSON_GetObjectItemCaseSensitive(cur, key);
		free(key);
		p += k;
		while (*p == '[') {
			char *end;
			unsigned long i = strtoul(p + 1, &end, 10);
			if (*end != ']')
				break;
			cur = cJSON_GetArrayItem(cur, (int)i);
			const cJSON *nm = cJSON_GetObjectItemCaseSensitive(cur, "name");
			t = cJSON_IsString(nm) ? xasprintf("%s[%s]", out, nm->valuestring) :
						 xasprintf("%s[%lu]", out, i);
			free(out);
			out = t;
			p = end + 1;
		}
		if (*p == '.')
			p++;
		else if (*p) /* not a path after all: leave it as the loader wrote it */
			break;
	}
	return out;
}

/* Parent object of a path: "a.b[x].c" -> length of "a.b[x]". */
static size_t parent_len(const char *path)
{
	const char *dot = strrchr(path, '.');
	return dot ? (size_t)(dot - path) : 0;
}

/* The change that an error about field (named) is most likely due to:
 * that setting itself, else a setting of the same object (monitor off
 * refuses the rekey beside it), else the only change there is; NULL when
 * none can be told. */
static const struct change *at_fault(const struct cfg_edit *e, const char *field)
{
	for (size_t i = 0; i < e->n; i++)
		if (!strcmp(e->ch[i].path, field))
			return &e->ch[i];
	size_t pl = parent_len(field);
	for (size_t i = 0; i < e->n && pl; i++)
		if (parent_len(e->ch[i].path) == pl && !strncmp(e->ch[i].path, field, pl))
			return &e->ch[i];
	return e->n == 1 ? &e->ch[0] : NULL;
}

/* The loader writes "FILE:LINE:COL: FIELD: message" about the edited
 * text. That text was never written, so its positions would send a
 * reader to the wrong line of the file on disk: say instead which
 * setting of the edit is at fault, then the loader's own message. */
static char *edit_message(const struct cfg_edit *e, const cJSON *root, const char *cfg_path, const char *msg,
			  const struct change **fault)
{
	size_t pl = strlen(cfg_path);
	if (strncmp(msg, cfg_path, pl) || msg[pl] != ':')
		return NULL; /* about another file (the secrets) */
	char *end;
	const char *p = msg + pl + 1;
	strtoul(p, &end, 10);
	if (end == p || *end != ':')
		return NULL;
	p = end + 1;
	strtoul(p, &end, 10);
	if (end == p || strncmp(end, ": ", 2))
		return NULL;
	const char *field = end + 2;
	size_t fl = strspn(field, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.[]");
	if (!fl || strncmp(field + fl, ": ", 2))
		return NULL; /* a message without a key path */
	char *raw = xstrndup(field, fl);
	char *named = named_path(root, raw);
	free(raw);
	const char *what = field + fl + 2;
	const struct change *c = at_fault(e, named);
	char *out = !c || !strcmp(c->path, named) ? xasprintf("%s: %s", named, what) :
						    xasprintf("%s: %s: %s", c->path, named, what);
	free(named);
	*fault = c;
	return out;
}

/* Rewrites the loader's messages from index from on; *fault: the change
 * the first of them that can be told is about (else left as it is). */
static void name_errors(const struct cfg_edit *e, const cJSON *root, const char *cfg_path,
			struct cfg_errors *errs, size_t from, const struct change **fault)
{
	for (size_t i = from; i < errs->n; i++) {
		const struct change *c = NULL;
		char *m = edit_message(e, root, cfg_path, errs->msg[i], &c);
		if (c && !*fault)
			*fault = c;
		if (m) {
			free(errs->msg[i]);
			errs->msg[i] = m;
		}
	}
}

/* ---- prepare, commit -------------------------------------------------------- */

/* The file's JSON, when it is still the text loaded was stamped from. */
static cJSON *parse_current(const char *cfg_path, const char *text, size_t len,
			    const struct cfg_edit_stamp *loaded, struct cfg_errors *errs)
{
	if (loaded) {
		struct cfg_edit_stamp now;
		stamp_text(&now, text, len);
		if (memcmp(now.digest, loaded->digest, sizeof(now.digest))) {
			cfg_errors_add(errs, "%s: the configuration file changed on disk since it was loaded; "
					     "reload it first (gvpnctl reload), then make the change again", cfg_path);
			return NULL;
		}
	}
	cJSON *root = cJSON_ParseWithLength(text, len);
	if (!cJSON_IsObject(root)) {
		cfg_errors_add(errs, "%s: the file is not a JSON object; fix it and reload first", cfg_path);
		cJSON_Delete(root);
		return NULL;
	}
	return root;
}

/* Applies every change to root; errors (each change's own) go to errs,
 * the first one's kind and change to *f. */
static void apply_all(const struct cfg_edit *e, cJSON *root, struct cfg_errors *errs, struct cfg_edit_fault *f,
		      const struct change **fault)
{
	for (size_t i = 0; i < e->n; i++) {
		char why[300] = "";
		enum cfg_edit_err k = apply_change(root, &e->ch[i], why, sizeof(why));
		if (k == CFG_EDIT_OK)
			continue;
		cfg_errors_add(errs, "%s: %s", e->ch[i].path, why);
		if (!*fault) {
			*fault = &e->ch[i];
			f->kind = k;
		}
	}
}

/* The model root loads to (NULL: invalid, errors named after the edit's
 * changes), and in *new_text its text when it differs from orig. */
static struct cfg *validate(const struct cfg_edit *e, const cJSON *root, const cJSON *orig, const char *cfg_path,
			    char **new_text, struct cfg_errors *errs, struct cfg_edit_fault *f,
			    const struct change **fault)
{
	size_t before = errs->n;
	char *out = cJSON_Print(root);
	if (!out) {
		cfg_errors_add(errs, "%s: out of memory", cfg_path);
		f->kind = CFG_EDIT_IO;
		return NULL;
	}
	char *t = xasprintf("%s\n", out);
	free(out);
	struct cfg *n = cfg_load_text(cfg_path, t, strlen(t), errs);
	if (!n) {
		name_errors(e, root, cfg_path, errs, before, fault);
		f->kind = CFG_EDIT_INVALID;
		free(t);
	} else if (cJSON_Compare(root, orig, 1)) {
		free(t); /* the values asked for are there already */
	} else {
		*new_text = t;
	}
	return n;
}

struct cfg *cfg_edit_prepare(const struct cfg_edit *e, const char *cfg_path, const struct cfg_edit_stamp *loaded,
			     char **new_text, struct cfg_errors *errs, struct cfg_edit_fault *fault)
{
	struct cfg_edit_fault f = { CFG_EDIT_OK, -1 };
	const struct change *at = NULL;
	struct cfg *n = NULL;
	cJSON *root = NULL, *orig = NULL;
	size_t len, before = errs->n;
	*new_text = NULL;
	char *text = read_file(cfg_path, &len, errs);
	if (!text) {
		f.kind = CFG_EDIT_IO;
		goto done;
	}
	root = parse_current(cfg_path, text, len, loaded, errs);
	if (!root) {
		f.kind = CFG_EDIT_CONFLICT;
		goto done;
	}
	orig = cJSON_Duplicate(root, 1);
	apply_all(e, root, errs, &f, &at);
	if (errs->n == before)
		n = validate(e, root, orig, cfg_path, new_text, errs, &f, &at);
done:
	f.tag = at ? at->tag : -1;
	if (fault)
		*fault = f;
	cJSON_Delete(orig);
	cJSON_Delete(root);
	free(text);
	return n;
}

int cfg_edit_commit(const char *cfg_path, const char *new_text, struct cfg_edit_stamp *written)
{
	/* Renaming over a symbolic link would replace the link itself. */
	char *real = realpath(cfg_path, NULL);
	const char *path = real ? real : cfg_path;
	struct stat st;
	int have = stat(path, &st) == 0;
	size_t len = strlen(new_text);
	int rc = file_write_atomic(path, new_text, len, have ? (unsigned)(st.st_mode & 07777) : 0640);
	if (rc == 0 && have && (st.st_uid != geteuid() || st.st_gid != getegid())) {
		/* Best effort: an unprivileged agent keeps the file as its own. */
		if (chown(path, st.st_uid, st.st_gid) < 0 && chown(path, (uid_t)-1, st.st_gid) < 0)
			errno = 0;
	}
	if (rc == 0 && written)
		stamp_text(written, new_text, len);
	free(real);
	return rc;
}

/* ---- the settings the agent changes itself ------------------------------------ */

/* Ranges as the loader's (cfg.c, vpn_monitor): test_cfg_edit checks both ends. */
const struct cfg_setting cfg_settings[CFG_SETTING_COUNT] = {
	[CFG_SETTING_VPN_MONITOR] = { "monitor", CFG_SCOPE_VPN, CFG_SETTING_BOOL, 0, 0 },
	[CFG_SETTING_VPN_OPTIMIZED] = { "optimized", CFG_SCOPE_VPN, CFG_SETTING_BOOL, 0, 0 },
	[CFG_SETTING_VPN_REKEY] = { "rekey", CFG_SCOPE_VPN, CFG_SETTING_BOOL, 0, 0 },
	[CFG_SETTING_VPN_SOURCE_INTERFACE] = { "source_interface", CFG_SCOPE_VPN, CFG_SETTING_STR, 0, 0 },
	[CFG_SETTING_VPN_DESTINATION_IP] = { "destination_ip", CFG_SCOPE_VPN, CFG_SETTING_STR, 0, 0 },
	[CFG_SETTING_MON_INTERVAL] = { "interval", CFG_SCOPE_MONITOR, CFG_SETTING_INT, 2, 3600 },
	[CFG_SETTING_MON_THRESHOLD] = { "threshold", CFG_SCOPE_MONITOR, CFG_SETTING_INT, 1, 65536 },
};

int cfg_setting_find(enum cfg_setting_scope scope, const char *key)
{
	for (int i = 0; i < CFG_SETTING_COUNT; i++)
		if (cfg_settings[i].scope == scope && !strcmp(cfg_settings[i].key, key))
			return i;
	return -1;
}

char *cfg_setting_path(enum cfg_setting_id id, const char *vpn)
{
	const struct cfg_setting *s = &cfg_settings[id];
	if (s->scope == CFG_SCOPE_VPN)
		return xasprintf("vpn_monitor.vpns[%s].%s", vpn, s->key);
	return xasprintf("vpn_monitor.%s", s->key);
}
