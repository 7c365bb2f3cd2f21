/* cfg_edit.h: changes to the configuration file made by the agent itself
 * (SNMP SET, the web page). An edit is a list of (path, value) changes;
 * cfg_edit_prepare() applies them to the file's JSON, validates the new
 * text with the same loader as the file (so every rule of the file holds,
 * e.g. rekey needs monitor) and returns the new model and text; only then
 * does the caller write it with cfg_edit_commit() (atomically). The text
 * is re-printed by cJSON: formatting is normalized, key order is kept.
 *
 * Paths: dot-separated object keys; "name[KEY]" selects the element of
 * the array "name" whose "name" member is KEY, e.g.
 * "vpn_monitor.vpns[site-b].rekey". */
#ifndef GVPN_CFG_EDIT_H
#define GVPN_CFG_EDIT_H

#include "cfg.h"

struct cfg_edit;

struct cfg_edit *cfg_edit_new(void);
void cfg_edit_free(struct cfg_edit *e);
void cfg_edit_bool(struct cfg_edit *e, const char *path, int v);
void cfg_edit_int(struct cfg_edit *e, const char *path, long v);
void cfg_edit_str(struct cfg_edit *e, const char *path, const char *v);
/* Deletes the key, so its default applies. */
void cfg_edit_remove(struct cfg_edit *e, const char *path);
size_t cfg_edit_count(const struct cfg_edit *e);

/* The model the file at cfg_path would load to with the edit applied
 * (new_text: that file's text, for cfg_edit_commit), or NULL with every
 * problem in errs (each prefixed with the edit's path when it names one). */
struct cfg *cfg_edit_prepare(const struct cfg_edit *e, const char *cfg_path, char **new_text,
			     struct cfg_errors *errs);
/* Writes new_text over cfg_path atomically, keeping the file's mode. */
int cfg_edit_commit(const char *cfg_path, const char *new_text);

#endif
