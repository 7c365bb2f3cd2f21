/* SPDX-License-Identifier: BSD-2-Clause */
/* cfg_edit.h: changes to the configuration file made by the agent itself
 * (SNMP SET, the web page). The file stays the one source of truth: an
 * edit is applied to the file's JSON, the new text is validated by the
 * same loader as the file (every rule holds, e.g. rekey needs monitor),
 * and only a valid result is written back, atomically. The caller then
 * swaps the returned model in exactly like a reload.
 *
 * An edit is a list of (path, value) changes, applied in order. A path
 * names a setting in the file: dot-separated object keys, and "key[NAME]"
 * for the element of the array "key" whose "name" member is NAME:
 *   vpn_monitor.interval   vpn_monitor.vpns[site-b].rekey
 * Setting a key that is not there adds it (at the end of its object, and
 * creating missing objects on the way); removing a key lets its default
 * apply, and removing one that is not there changes nothing. An element
 * is never created: a NAME that no element has is an error.
 *
 * The text is printed back by cJSON: key order is kept, formatting
 * (indentation, spacing, escapes) is normalized. The format is plain
 * JSON, so there are no comments to lose. The secrets file is read (to
 * validate) but never written.
 *
 * Ownership: a struct cfg_edit belongs to its creator (cfg_edit_free);
 * the setters copy path and value. */
#ifndef GVPN_CFG_EDIT_H
#define GVPN_CFG_EDIT_H

#include <stddef.h>
#include "core/cfg.h"

struct cfg_edit;

struct cfg_edit *cfg_edit_new(void);
void cfg_edit_free(struct cfg_edit *e);
/* Syntax errors in a path are reported by cfg_edit_prepare(). A NULL
 * string is cfg_edit_remove(). */
void cfg_edit_bool(struct cfg_edit *e, const char *path, int v);
void cfg_edit_int(struct cfg_edit *e, const char *path, long v);
void cfg_edit_str(struct cfg_edit *e, const char *path, const char *v);
void cfg_edit_remove(struct cfg_edit *e, const char *path);
size_t cfg_edit_count(const struct cfg_edit *e);
/* A number of the caller's (e.g. the SNMP varbind a change comes from)
 * attached to the changes added from now on; 0 until set. A refused
 * edit names the change at fault by it (struct cfg_edit_fault). */
void cfg_edit_tag(struct cfg_edit *e, long tag);

/* The version of the file a model was loaded from (a digest of its
 * text). An edit made against a file that has changed since would throw
 * away a change made by hand and not yet reloaded: it is refused. */
struct cfg_edit_stamp {
	unsigned char digest[32];
};

/* cfg_load() that also records the stamp of the text it loaded (from
 * the same read: no window between loading and stamping). */
struct cfg *cfg_edit_load(const char *cfg_path, struct cfg_edit_stamp *loaded, struct cfg_errors *errs);

/* Why an edit was refused. */
enum cfg_edit_err {
	CFG_EDIT_OK = 0,
	CFG_EDIT_CONFLICT,  /* the file is not the text the model in force was
			       loaded from (changed on disk since, or no longer a
			       JSON object): reload it first */
	CFG_EDIT_NOT_FOUND, /* a path names an element that is not there
			       ("no VPN named ...") */
	CFG_EDIT_INVALID,   /* a malformed path, or a result that is not valid
			       (the loader's rules, the secrets file) */
	CFG_EDIT_IO,        /* the file could not be read or written, or memory
			       ran out: nothing wrong with the edit itself */
};

/* A refused edit: its kind (that of the first error), and the tag of the
 * change the first error that can be told is about; -1 when no one
 * change can be told (the file changed on disk or is unreadable; a
 * secrets file error). */
struct cfg_edit_fault {
	enum cfg_edit_err kind;
	long tag;
};

/* The model the file at cfg_path would load to with the edit applied,
 * and in *new_text the text to write (for cfg_edit_commit; the caller
 * frees it). *new_text is NULL when the edit changes nothing: the file
 * needs no rewrite. Returns NULL, with *new_text NULL and every problem
 * in errs, when the file differs from loaded (NULL: not checked), a path
 * is malformed or names no element, or the result is not valid. Each
 * error is "FIELD: message" with FIELD the edit's path at fault when one
 * can be told, array positions shown as names ("vpns[site-b]"). Nothing
 * is written. fault (may be NULL) gets what went wrong: {CFG_EDIT_OK, -1}
 * when the edit is valid. */
struct cfg *cfg_edit_prepare(const struct cfg_edit *e, const char *cfg_path, const struct cfg_edit_stamp *loaded,
			     char **new_text, struct cfg_errors *errs, struct cfg_edit_fault *fault);

/* Writes new_text over cfg_path (through a symbolic link, to its target)
 * atomically: temp file, fsync, rename. The mode is kept, and the owner
 * and group when the agent may set them. written (may be NULL) gets the
 * stamp of the new text. 0, or -1 with errno set and the file untouched. */
int cfg_edit_commit(const char *cfg_path, const char *new_text, struct cfg_edit_stamp *written);

/* ---- the settings the agent changes itself ------------------------------
 *
 * The one list of what SNMP SET and the web page may change, with each
 * setting's key in the file and its type. A VPN's settings are at
 * vpn_monitor.vpns[NAME].KEY, the monitor's at vpn_monitor.KEY. An INT's
 * range is the loader's (which checks it again); a STR set to nothing is
 * removed from the file, so that its default applies. */
enum cfg_setting_id {
	CFG_SETTING_VPN_MONITOR,
	CFG_SETTING_VPN_OPTIMIZED,
	CFG_SETTING_VPN_REKEY,
	CFG_SETTING_VPN_SOURCE_INTERFACE,
	CFG_SETTING_VPN_DESTINATION_IP,
	CFG_SETTING_MON_INTERVAL,
	CFG_SETTING_MON_THRESHOLD,
	CFG_SETTING_COUNT
};

enum cfg_setting_scope { CFG_SCOPE_VPN, CFG_SCOPE_MONITOR };
enum cfg_setting_type { CFG_SETTING_BOOL, CFG_SETTING_INT, CFG_SETTING_STR };

struct cfg_setting {
	const char *key;
	enum cfg_setting_scope scope;
	enum cfg_setting_type type;
	long min, max;               /* CFG_SETTING_INT */
};

/* Indexed by enum cfg_setting_id. */
extern const struct cfg_setting cfg_settings[CFG_SETTING_COUNT];

/* The id of the setting of scope whose key is key; -1 when the agent
 * does not change that one. */
int cfg_setting_find(enum cfg_setting_scope scope, const char *key);
/* The path of setting id in an edit ("vpn_monitor.vpns[site-b].rekey",
 * "vpn_monitor.interval"; vpn is only used for a VPN's). Caller frees. */
char *cfg_setting_path(enum cfg_setting_id id, const char *vpn);

#endif
