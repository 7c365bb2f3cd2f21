/* cfg_edit.c: validated changes to the configuration file (see cfg_edit.h). */
#include "config.h"
#include "cfg_edit.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#define CFG_EDIT_MAX_BYTES (4u << 20)

enum { E_BOOL, E_INT, E_STR, E_REMOVE };

struct change {
	char *path;
	int type;
	long i;
	char *s;
};

struct cfg_edit {
	struct change *ch;
	size_t n;
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
	e->ch[e->n++] = (struct change){ xstrdup(path), type, i, s ? xstrdup(s) : NULL };
}

void cfg_edit_bool(struct cfg_edit *e, const char *path, int v) { add(e, path, E_BOOL, !!v, NULL); }
void cfg_edit_int(struct cfg_edit *e, const char *path, long v) { add(e, path, E_INT, v, NULL); }
void cfg_edit_str(struct cfg_edit *e, const char *path, const char *v) { add(e, path, E_STR, 0, v); }
void cfg_edit_remove(struct cfg_edit *e, const char *path) { add(e, path, E_REMOVE, 0, NULL); }
size_t cfg_edit_count(const struct cfg_edit *e) { return e->n; }

/* Walks path from root, creating objects on the way (not array
 * elements); returns the object that holds the last key, and the key. */
static cJSON *resolve(cJSON *root, const char *path, char *key, size_t keylen, char *why, size_t whylen)
{
	char buf[512];
	if (str_copy(buf, path, sizeof(buf)) >= sizeof(buf)) {
		snprintf(why, whylen, "path too long");
		return NULL;
	}
	cJSON *cur = root;
	char *save = NULL, *seg = strtok_r(buf, ".", &save);
	while (seg) {
		char *next = strtok_r(NULL, ".", &save);
		char *br = strchr(seg, '[');
		if (!next && !br) {
			str_copy(key, seg, keylen);
			return cur;
		}
		if (br) {
			char *close = strchr(br, ']');
			if (!close || close[1]) {
				snprintf(why, whylen, "bad path segment \"%s\"", seg);
				return NULL;
			}
			*br = '\0';
			*close = '\0';
			const char *want = br + 1;
			cJSON *arr = cJSON_GetObjectItemCaseSensitive(cur, seg), *el;
			cJSON *hit = NULL;
			cJSON_ArrayForEach(el, arr) {
				const cJSON *nm = cJSON_GetObjectItemCaseSensitive(el, "name");
				if (cJSON_IsString(nm) && !strcmp(nm->valuestring, want))
					hit = el;
			}
			if (!cJSON_IsArray(arr) || !hit) {
				snprintf(why, whylen, "no %s named \"%s\"", !strcmp(seg, "vpns") ? "VPN" : seg, want);
				return NULL;
			}
			cur = hit;
			if (!next) {
				snprintf(why, whylen, "the path names an element, not a setting");
				return NULL;
			}
		} else {
			cJSON *o = cJSON_GetObjectItemCaseSensitive(cur, seg);
			if (!o) {
				o = cJSON_AddObjectToObject(cur, seg);
			} else if (!cJSON_IsObject(o)) {
				snprintf(why, whylen, "\"%s\" is not an object", seg);
				return NULL;
			}
			cur = o;
		}
		seg = next;
	}
	snprintf(why, whylen, "empty path");
	return NULL;
}

struct cfg *cfg_edit_prepare(const struct cfg_edit *e, const char *cfg_path, char **new_text,
			     struct cfg_errors *errs)
{
	*new_text = NULL;
	size_t len;
	char *text = file_read_all(cfg_path, CFG_EDIT_MAX_BYTES, &len);
	if (!text) {
		cfg_errors_add(errs, "%s: %s", cfg_path, strerror(errno));
		return NULL;
	}
	cJSON *root = cJSON_ParseWithLength(text, len);
	free(text);
	if (!cJSON_IsObject(root)) {
		cfg_errors_add(errs, "%s: the file is not a JSON object; fix it and reload first", cfg_path);
		cJSON_Delete(root);
		return NULL;
	}
	for (size_t i = 0; i < e->n; i++) {
		const struct change *c = &e->ch[i];
		char key[128], why[200] = "";
		cJSON *obj = resolve(root, c->path, key, sizeof(key), why, sizeof(why));
		if (!obj) {
			cfg_errors_add(errs, "%s: %s", c->path, why);
			continue;
		}
		cJSON *v = c->type == E_BOOL ? cJSON_CreateBool((cJSON_bool)c->i) :
			   c->type == E_INT ? cJSON_CreateNumber((double)c->i) :
			   c->type == E_STR ? cJSON_CreateString(c->s) : NULL;
		if (cJSON_GetObjectItemCaseSensitive(obj, key)) {
			if (v)
				cJSON_ReplaceItemInObjectCaseSensitive(obj, key, v);
			else
				cJSON_DeleteItemFromObjectCaseSensitive(obj, key);
		} else if (v) {
			cJSON_AddItemToObject(obj, key, v);
		}
	}
	struct cfg *n = NULL;
	if (!errs->n) {
		char *out = cJSON_Print(root);
		*new_text = xasprintf("%s\n", out);
		free(out);
		size_t before = errs->n;
		n = cfg_load_text(cfg_path, *new_text, strlen(*new_text), errs);
		if (!n) {
			/* The loader's messages are about the edited text; say which
			 * change the operator asked for. */
			if (e->n == 1)
				for (size_t i = before; i < errs->n; i++) {
					char *m = xasprintf("%s: %s", e->ch[0].path, errs->msg[i]);
					free(errs->msg[i]);
					errs->msg[i] = m;
				}
			free(*new_text);
			*new_text = NULL;
		}
	}
	cJSON_Delete(root);
	return n;
}

int cfg_edit_commit(const char *cfg_path, const char *new_text)
{
	struct stat st;
	unsigned mode = stat(cfg_path, &st) == 0 ? (unsigned)(st.st_mode & 07777) : 0640;
	return file_write_atomic(cfg_path, new_text, strlen(new_text), mode);
}
