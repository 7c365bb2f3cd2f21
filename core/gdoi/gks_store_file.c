/* SPDX-License-Identifier: BSD-2-Clause */
/* gks_store_file.c: the key server's store in the state directory
 * (gks_store.h). <state_dir>/gks-seq.json holds {"<group id>": N}: per
 * group a number no push has gone above, written (the file and the
 * directory fsynced) before any SEQ up to it is used. After a restart, a
 * crash included, SEQ continues above the saved number, so none is ever
 * used twice. A file that does not parse would lose that bound: the
 * agent refuses to start rather than guess (a floor from the clock is
 * not provably above what was sent). Keys are not kept: a restart makes
 * new ones and members reregister. */
#include "config.h"
#include "core/gdoi/gks_store.h"
#include "core/log.h"
#include "core/util.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GKS_SEQ_FILE "gks-seq.json"

struct file_store {
	struct gks_store base;
	char *path;
	cJSON *doc;                      /* {"<group id>": last SEQ reserved} as saved */
};

static struct file_store *fs_of(struct gks_store *s)
{
	return (struct file_store *)s;
}

static const char *fs_where(const struct gks_store *s)
{
	return ((const struct file_store *)s)->path;
}

static int fs_seq_load(struct gks_store *s, long group_id, uint32_t *upto)
{
	char k[16];
	snprintf(k, sizeof(k), "%ld", group_id);
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(fs_of(s)->doc, k);
	*upto = cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble < 4294967296.0
			? (uint32_t)v->valuedouble : 0;
	return 0;
}

/* Saves upto as the group's reservation; 0, or -1 with the document as
 * it was. */
static int fs_save(struct file_store *f, long group_id, uint32_t upto)
{
	char k[16];
	snprintf(k, sizeof(k), "%ld", group_id);
	cJSON *v = cJSON_GetObjectItemCaseSensitive(f->doc, k);
	double was = v ? v->valuedouble : -1;
	if (v)
		cJSON_SetNumberValue(v, upto);
	else
		v = cJSON_AddNumberToObject(f->doc, k, upto);
	char *text = cJSON_Print(f->doc);
	int rc = file_write_atomic(f->path, text, strlen(text), 0600);
	free(text);
	if (rc < 0) {
		int e = errno;
		if (was >= 0)
			cJSON_SetNumberValue(v, was);
		else
			cJSON_DeleteItemFromObjectCaseSensitive(f->doc, k);
		errno = e;
		return -1;
	}
	return 0;
}

static int fs_seq_reserve(struct gks_store *s, long group_id, uint32_t used, uint32_t block, uint32_t *first,
			  uint32_t *last)
{
	uint32_t upto = used > UINT32_MAX - block ? UINT32_MAX : used + block;
	if (fs_save(fs_of(s), group_id, upto) < 0)
		return -1;
	*first = used + 1;
	*last = upto;
	return 0;
}

static int fs_keys_load(struct gks_store *s GVPN_UNUSED, long group_id GVPN_UNUSED,
			struct gks_keyset *out GVPN_UNUSED)
{
	return 0;
}

static int fs_keys_save(struct gks_store *s GVPN_UNUSED, long group_id GVPN_UNUSED,
			const struct gks_keyset *ks GVPN_UNUSED)
{
	return 0;
}

static void fs_close(struct gks_store *s)
{
	struct file_store *f = fs_of(s);
	free(f->path);
	cJSON_Delete(f->doc);
	free(f);
}

static const struct gks_store_ops file_ops = {
	.name = "file",
	.where = fs_where,
	.seq_load = fs_seq_load,
	.seq_reserve = fs_seq_reserve,
	.keys_load = fs_keys_load,
	.keys_save = fs_keys_save,
	.close = fs_close,
};

struct gks_store *gks_store_file_open(const char *state_dir)
{
	struct file_store *f = xcalloc(1, sizeof(*f));
	f->base.ops = &file_ops;
	f->path = xasprintf("%s/%s", state_dir ? state_dir : ".", GKS_SEQ_FILE);
	size_t len = 0;
	errno = 0;
	char *text = file_read_all(f->path, 1 << 20, &len);
	int missing = !text && errno == ENOENT;
	f->doc = text ? cJSON_ParseWithLength(text, len) : NULL;
	free(text);
	if (cJSON_IsObject(f->doc))
		return &f->base;
	cJSON_Delete(f->doc);
	f->doc = NULL;
	if (!missing) {
		log_err("gks", "%s is unreadable or not a JSON object: the last SEQ of each group is lost, "
			       "and starting over could reuse SEQ numbers members would refuse. Restore the file, "
			       "or write {\"<group_id>\": N} with N above the group's last SEQ (gvpnGroupSeq, "
			       "'gvpnctl show groups' or the REKEY_SENT/HEARTBEAT_SENT log lines), then start again",
			f->path);
		fs_close(&f->base);
		return NULL;
	}
	f->doc = cJSON_CreateObject();
	return &f->base;
}
