/* SPDX-License-Identifier: BSD-2-Clause */
/* mon_vici.c: see mon_vici.h. VICI's answers are never taken as proof
 * that a tunnel works: they only feed the counters and the destination;
 * the monitor's probes decide up and down. */
#include "config.h"
#include "core/monitor/mon_vici.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/util.h"

#include <stdlib.h>
#include <string.h>

#define MON_VICI_TIMEOUT_MS 10000

static struct {
	struct vici_conn *c;
	struct loop_timer poll;
	unsigned interval_s;
	int polling;                 /* a list-sas is in flight */
	struct vici_sa_list sas;     /* our copy of the last answer */
	uint64_t terminates, initiates, failures;
} V;

static void copy_list(struct vici_sa_list *dst, const struct vici_sa_list *src)
{
	vici_sa_list_clear(dst);
	dst->n = src->n;
	dst->ike = xcalloc(src->n ? src->n : 1, sizeof(*dst->ike));
	for (size_t i = 0; i < src->n; i++) {
		dst->ike[i] = src->ike[i];
		size_t n = src->ike[i].nchild;
		dst->ike[i].child = xcalloc(n ? n : 1, sizeof(struct vici_child_sa));
		memcpy(dst->ike[i].child, src->ike[i].child, n * sizeof(struct vici_child_sa));
	}
}

static void on_sas(int status, const struct vici_sa_list *sas, void *arg GVPN_UNUSED)
{
	V.polling = 0;
	if (status != VICI_OK) {
		log_debug("mon", "list-sas: %s", vici_strerror(status));
		return;
	}
	copy_list(&V.sas, sas);
}

static void poll_now(void)
{
	if (V.polling || !V.c)
		return;
	if (vici_list_sas(V.c, NULL, on_sas, NULL) == 0)
		V.polling = 1;
}

static void on_poll(struct loop_timer *t, void *arg GVPN_UNUSED)
{
	poll_now();
	loop_timer_arm_ms(t, (uint64_t)V.interval_s * 1000u);
}

/* child-updown: "up = yes" at the root when up; the IKE SA below. */
static void on_child_updown(const char *name GVPN_UNUSED, const struct vici_msg *m, void *arg GVPN_UNUSED)
{
	const char *upv = vici_get_str(m, 0, "up");
	int up = upv && !strcmp(upv, "yes");
	struct vici_sa_list ev = { 0 };
	const char *why = NULL;
	if (vici_sa_list_add(&ev, m, &why) == 0) {
		for (size_t i = 0; i < ev.n; i++)
			for (size_t k = 0; k < ev.ike[i].nchild; k++) {
				log_info("mon", "strongSwan: child SA %s %s", ev.ike[i].child[k].name,
					 up ? "up" : "down");
				mon_child_updown(ev.ike[i].child[k].name, up);
			}
	} else {
		log_debug("mon", "child-updown event not understood: %s", why ? why : "?");
	}
	vici_sa_list_clear(&ev);
	poll_now();
}

/* ike-updown: logged; the child SAs it carries come with child-updown. */
static void on_ike_updown(const char *name GVPN_UNUSED, const struct vici_msg *m, void *arg GVPN_UNUSED)
{
	const char *upv = vici_get_str(m, 0, "up");
	struct vici_sa_list ev = { 0 };
	const char *why = NULL;
	if (vici_sa_list_add(&ev, m, &why) == 0)
		for (size_t i = 0; i < ev.n; i++)
			log_info("mon", "strongSwan: IKE SA %s (%s) %s", ev.ike[i].name, ev.ike[i].remote_host,
				 upv && !strcmp(upv, "yes") ? "up" : "down");
	vici_sa_list_clear(&ev);
	poll_now();
}

static void on_state(int up, void *arg GVPN_UNUSED)
{
	log_info("mon", "VICI %s", up ? "connected" : "connection lost; reconnecting");
	if (up)
		poll_now();
}

int mon_vici_init(const char *uri, unsigned interval_s)
{
	V.interval_s = interval_s ? interval_s : 10;
	V.c = vici_connect(uri, on_state, NULL);
	if (!V.c)
		return -1;
	vici_register(V.c, "child-updown", on_child_updown, NULL);
	vici_register(V.c, "ike-updown", on_ike_updown, NULL);
	loop_timer_init(&V.poll, on_poll, NULL);
	loop_timer_arm_ms(&V.poll, 0);
	return 0;
}

void mon_vici_fini(void)
{
	if (!V.c)
		return;
	loop_timer_cancel(&V.poll);
	vici_close(V.c);
	vici_sa_list_clear(&V.sas);
	memset(&V, 0, sizeof(V));
}

void mon_vici_set_interval(unsigned interval_s)
{
	V.interval_s = interval_s ? interval_s : 10;
}

int mon_vici_connected(void)
{
	return V.c && vici_connected(V.c);
}

int mon_vici_child(const char *child, struct vici_child_sa *c, struct vici_ike_sa *ike)
{
	for (size_t i = 0; i < V.sas.n; i++) {
		const struct vici_ike_sa *s = &V.sas.ike[i];
		for (size_t k = 0; k < s->nchild; k++) {
			if (strcmp(s->child[k].name, child) || strcmp(s->child[k].state, "INSTALLED"))
				continue;
			if (c)
				*c = s->child[k];
			if (ike) {
				*ike = *s;
				ike->child = NULL;
				ike->nchild = 0;
			}
			return 0;
		}
	}
	return -1;
}

int mon_vici_counters(void *arg GVPN_UNUSED, struct mon_vpn *v, uint64_t *in, uint64_t *out)
{
	struct vici_child_sa c;
	if (mon_vici_child(mon_vpn_name(v), &c, NULL) < 0)
		return -1;
	*in = c.bytes_in;
	*out = c.bytes_out;
	return 0;
}

static void on_ctl(int status, const char *errmsg, void *arg)
{
	char *what = arg;
	if (status != VICI_OK) {
		V.failures++;
		log_warn("mon", "%s: %s", what, errmsg ? errmsg : vici_strerror(status));
	} else {
		log_info("mon", "%s: done", what);
	}
	free(what);
	poll_now();
}

void mon_vici_terminate(void *arg GVPN_UNUSED, struct mon_vpn *v)
{
	const char *name = mon_vpn_name(v);
	char *what = xasprintf("deactivating the phase 2 SA of %s (VICI terminate)", name);
	log_notice("mon", "%s", what);
	V.terminates++;
	if (!V.c || vici_terminate_child(V.c, name, 0, MON_VICI_TIMEOUT_MS, on_ctl, what) < 0) {
		log_warn("mon", "%s: not sent (no VICI connection)", what);
		free(what);
	}
}

/* The child SA's SPIs and lifetimes as of the last list-sas. */
void mon_vici_annotate(void *arg GVPN_UNUSED, struct mon_vpn *v, struct event *e)
{
	struct vici_child_sa c;
	struct vici_ike_sa ike;
	if (mon_vici_child(mon_vpn_name(v), &c, &ike) < 0)
		return;
	ev_param(e, "spi_in", "%08x", c.spi_in);
	ev_param(e, "spi_out", "%08x", c.spi_out);
	ev_param_int(e, "child_rekey_in", c.rekey_time);
	ev_param_int(e, "child_expires_in", c.life_time);
	ev_param_int(e, "ike_rekey_in", ike.rekey_time);
	ev_param_str(e, "remote", ike.remote_host);
}

int mon_vici_rekey(const char *child)
{
	if (!V.c || !mon_vici_connected())
		return -1;
	struct vici_child_sa c;
	struct vici_ike_sa ike;
	char *what = xasprintf("rekeying %s on request", child);
	int rc = mon_vici_child(child, &c, &ike) == 0 ? vici_rekey_child(V.c, child, c.uniqueid, on_ctl, what)
						      : vici_initiate(V.c, child, NULL, 0, on_ctl, what);
	if (rc < 0)
		free(what);
	else
		log_notice("mon", "%s (VICI %s)", what, mon_vici_child(child, &c, &ike) == 0 ? "rekey" : "initiate");
	return rc < 0 ? -1 : 0;
}

void mon_vici_initiate(void *arg GVPN_UNUSED, struct mon_vpn *v)
{
	const char *name = mon_vpn_name(v);
	char *what = xasprintf("renegotiating %s (VICI initiate)", name);
	V.initiates++;
	/* timeout 0: charon answers at once; the probes tell whether it worked */
	if (!V.c || vici_initiate(V.c, name, NULL, 0, on_ctl, what) < 0) {
		log_warn("mon", "%s: not sent (no VICI connection)", what);
		free(what);
	}
}
