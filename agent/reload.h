/* SPDX-License-Identifier: BSD-2-Clause */
/* reload.h: how the model in force changes while the agent runs. A
 * reload (SIGHUP, gvpnctl reload) re-reads the file; an edit (SNMP SET,
 * the web page) changes the file first. Either way the new model is
 * validated whole and swapped in: the subsystems are reconfigured, the
 * settings that take a restart keep their running values (with a
 * warning), CONFIG_RELOADED is published and the generation goes up. An
 * invalid model changes nothing. */
#ifndef GVPN_RELOAD_H
#define GVPN_RELOAD_H

#include "core/cfg.h"
#include "core/cfg_edit.h"

/* The model at start (or for -n): cfg_load() that also remembers which
 * text it came from, so that an edit never overwrites a change made by
 * hand since (cfg_edit.h, stamps). */
struct cfg *agent_load(const char *path, struct cfg_errors *errs);

/* Reloads the config file: on success swaps it in; on failure keeps the
 * old one, fills errs and publishes CONFIG_REJECTED. 0 or -1. */
int agent_reload(struct cfg_errors *errs);

/* A change made through SNMP or the web page (source "snmp", "web"):
 * validated like the file, written to it atomically, then applied like a
 * reload (CONFIG_RELOADED with source=...). Refused, with the file and
 * the model untouched and no event (the caller reports), when invalid or
 * when the file changed on disk since it was loaded. An edit that
 * changes nothing writes nothing. CFG_EDIT_OK, or why it was refused
 * with errs filled; fault (may be NULL) gets the kind and the tag of the
 * change at fault (cfg_edit_prepare()). A file that cannot be written is
 * CFG_EDIT_IO. */
enum cfg_edit_err agent_apply_edit(const struct cfg_edit *e, struct cfg_errors *errs, const char *source,
				   struct cfg_edit_fault *fault);

#endif
