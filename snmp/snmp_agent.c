/* SPDX-License-Identifier: BSD-2-Clause */
/* snmp_agent.c: Net-SNMP embedded in the agent's event loop, and the
 * GVPN-AGENT-MIB scalar group.
 *
 * Before each wait the prepare hook asks Net-SNMP for its descriptors and
 * next timeout (snmp_select_info2), keeps the loop's watch list in step
 * and arms one timer; readable descriptors go to snmp_read2, the timer to
 * snmp_timeout and run_alarms. This mirrors agent_check_and_process()
 * without its blocking select. Access control and USM users are fed to
 * Net-SNMP as config lines in memory, so passphrases never hit the disk
 * in clear (Net-SNMP persists only the localized keys). */
#include "config.h"
#include "snmp/snmp_agent.h"
#include "snmp/snmp_tables.h"
#include "snmp/snmp_notify.h"
#include "snmp/snmp_target.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/agent/net-snmp-agent-includes.h>
#include <net-snmp/library/large_fd_set.h>

/* From Net-SNMP's MIB module library; not in its installed headers. */
void init_vacm_conf(void);
void init_vacm_config_tokens(void);
void init_vacm_snmpd_easy_tokens(void);
void init_usmConf(void);
void init_system_mib(void);
void init_sysORTable(void);
void init_vacm_vars(void);
void init_usmUser(void);
void init_snmpEngine(void);
void init_snmpMPDStats(void);
void init_usmStats(void);
void init_snmp_mib(void);

#define SNMP_APP "gvpn-agent"
#define SNMP_MAX_FDS 64
#define GVPN_AGENTX_PING_S 15     /* AgentX: seconds between pings, and reconnects */

/* GVPN-AGENT-MIB::gvpnAgent, 1.3.6.1.4.1.32473.1.1.1 */
static const oid gvpn_agent_oid[] = { 1, 3, 6, 1, 4, 1, GVPN_PEN, 1, 1, 1 };

enum scalar_id {
	SC_VERSION = 1,
	SC_UPTIME = 2,
	SC_CONFIG_GENERATION = 3,
	SC_RELOAD_FAILURES = 4,
};

static struct {
	int up;
	const struct snmp_ops *ops;
	struct loop_timer timer;
	struct {
		int fd;
		struct loop_fd *h;
		int seen;
	} fds[SNMP_MAX_FDS];
	size_t nfds;
} S;

/* ---- Net-SNMP's log into ours ------------------------------------------ */

/* Net-SNMP's "Failed to connect to the agentx master agent (X): " has
 * no reason in it, and comes again at every retry: this finds the reason
 * (a connect of our own to a Unix socket), says what to check, and says
 * it again only when the reason changes. */
static int agentx_last_err = -1;

static void agentx_failed(void)
{
	const char *where = netsnmp_ds_get_string(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_X_SOCKET);
	const char *path = where ? where : "/var/agentx/master";
	if (!strncmp(path, "unix:", 5))
		path += 5;
	int err = 0;
	if (path[0] == '/') {
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		str_copy(sa.sun_path, path, sizeof(sa.sun_path));
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd >= 0) {
			err = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ? errno : 0;
			close(fd);
		}
	}
	if (err == agentx_last_err) {
		log_debug("snmp", "AgentX master agent at %s still unreachable", path);
		return;
	}
	agentx_last_err = err;
	const char *hint = err == ENOENT || err == ECONNREFUSED ?
		"; is snmpd running with \"master agentx\" and this agentXSocket?" :
		err == EACCES || err == EPERM ?
		"; snmpd's agentXPerms must let the agent's user or group write the socket (see \"Deploying\" in the README)" :
		"";
	log_warn("snmp", "AgentX: cannot connect to the master agent at %s: %s%s (retrying every %d s)", path,
		 err ? strerror(err) : "refused", hint, GVPN_AGENTX_PING_S);
}

static int snmp_log_cb(int major GVPN_UNUSED, int minor GVPN_UNUSED, void *serverarg, void *clientarg GVPN_UNUSED)
{
	const struct snmp_log_message *m = serverarg;
	char buf[512];
	str_copy(buf, m->msg ? m->msg : "", sizeof(buf));
	size_t n = strlen(buf);
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	if (strstr(buf, "Failed to connect to the agentx master agent")) {
		agentx_failed();
		return SNMP_ERR_NOERROR;
	}
	if (strstr(buf, "AgentX subagent connected"))
		agentx_last_err = -1;
	if (n)
		log_msg(m->priority, "snmp", "%s", buf);
	return SNMP_ERR_NOERROR;
}

/* ---- the scalars -------------------------------------------------------- */

static int scalar_handler(netsnmp_mib_handler *handler, netsnmp_handler_registration *reg GVPN_UNUSED,
			  netsnmp_agent_request_info *reqinfo, netsnmp_request_info *requests)
{
	enum scalar_id id = (enum scalar_id)(uintptr_t)handler->myvoid;
	if (reqinfo->mode != MODE_GET)
		return SNMP_ERR_NOERROR;
	for (netsnmp_request_info *r = requests; r; r = r->next) {
		u_long v;
		switch (id) {
		case SC_VERSION:
			snmp_set_var_typed_value(r->requestvb, ASN_OCTET_STR, PACKAGE_VERSION,
						 strlen(PACKAGE_VERSION));
			continue;
		case SC_UPTIME:
			v = S.ops->uptime();
			snmp_set_var_typed_value(r->requestvb, ASN_GAUGE, &v, sizeof(v));
			continue;
		case SC_CONFIG_GENERATION:
			v = S.ops->generation();
			snmp_set_var_typed_value(r->requestvb, ASN_GAUGE, &v, sizeof(v));
			continue;
		case SC_RELOAD_FAILURES:
			v = S.ops->reload_failures();
			snmp_set_var_typed_value(r->requestvb, ASN_COUNTER, &v, sizeof(v));
			continue;
		}
		netsnmp_set_request_error(reqinfo, r, SNMP_NOSUCHOBJECT);
	}
	return SNMP_ERR_NOERROR;
}

static int register_scalar(const char *name, enum scalar_id id)
{
	oid o[MAX_OID_LEN];
	size_t len = ARRAY_SIZE(gvpn_agent_oid);
	memcpy(o, gvpn_agent_oid, sizeof(gvpn_agent_oid));
	o[len++] = (oid)id;
	netsnmp_mib_handler *h = netsnmp_create_handler(name, scalar_handler);
	h->myvoid = (void *)(uintptr_t)id;
	netsnmp_handler_registration *reg =
		netsnmp_handler_registration_create(name, h, o, len, HANDLER_CAN_RONLY);
	if (netsnmp_register_read_only_scalar(reg) != MIB_REGISTERED_OK) {
		log_err("snmp", "cannot register %s", name);
		return -1;
	}
	return 0;
}

/* ---- access control and users, as in-memory config lines ------------------ */

/* Net-SNMP's config parser splits on white space and honours quotes;
 * passphrases with a quote or backslash cannot be passed through it. */
static int quotable(const char *s)
{
	return !strpbrk(s, "\"\\\n\r");
}

static void remember(const char *fmt, ...) GVPN_PRINTF(1, 2);
static void remember(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *line = xvasprintf(fmt, ap);
	va_end(ap);
	netsnmp_config_remember(line); /* keeps its own copy */
	secret_free(line);
}

static int feed_access(const struct cfg_snmp *s)
{
	for (size_t i = 0; i < s->n_v3_users; i++) {
		const struct cfg_snmp_user *u = &s->v3_users[i];
		const char *priv = snmp_priv_token(u->priv);
		if (!quotable(u->auth_passphrase) || (u->priv_passphrase && !quotable(u->priv_passphrase))) {
			log_err("snmp", "user %s: passphrases must not contain quotes, backslashes or newlines",
				u->name);
			return -1;
		}
		if (priv)
			remember("createUser %s %s \"%s\" %s \"%s\"", u->name, snmp_auth_token(u->auth),
				 u->auth_passphrase, priv, u->priv_passphrase);
		else
			remember("createUser %s %s \"%s\"", u->name, snmp_auth_token(u->auth), u->auth_passphrase);
		remember("%s %s %s", u->access == CFG_ACCESS_RW ? "rwuser" : "rouser", u->name,
			 priv ? "priv" : "auth");
		if (u->auth == CFG_AUTH_MD5 || u->auth == CFG_AUTH_SHA1 || u->priv == CFG_PRIV_DES)
			log_warn("snmp", "user %s uses a weak algorithm (%s/%s)", u->name,
				 snmp_auth_token(u->auth), priv ? priv : "no privacy");
	}
	/* A community line without "-v" would serve SNMPv1 too: each
	 * serves only the versions its "versions" lists. */
	size_t v1 = 0, v2c = 0;
	for (size_t i = 0; i < s->n_communities; i++) {
		const struct cfg_snmp_community *c = &s->communities[i];
		remember("%s %s%s %s", c->access == CFG_ACCESS_RW ? "rwcommunity" : "rocommunity",
			 c->v1 && c->v2c ? "" : c->v1 ? "-v 1 " : "-v 2c ", c->name, c->source);
		v1 += c->v1 != 0;
		v2c += c->v2c != 0;
	}
	/* And no SNMPv1 message is even looked at unless a community asks. */
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_V1, !v1);
	if (v2c)
		log_notice("snmp", "SNMPv2c is enabled (%zu communit%s): community strings travel in clear",
			   v2c, v2c == 1 ? "y" : "ies");
	if (v1)
		log_notice("snmp", "SNMPv1 is enabled (%zu communit%s): community strings travel in clear",
			   v1, v1 == 1 ? "y" : "ies");
	return 0;
}

/* ---- the loop glue ------------------------------------------------------------- */

static void after_io(void)
{
	netsnmp_check_outstanding_agent_requests();
}

static void on_snmp_fd(int fd, uint32_t revents GVPN_UNUSED, void *arg GVPN_UNUSED)
{
	netsnmp_large_fd_set set;
	netsnmp_large_fd_set_init(&set, fd + 1);
	NETSNMP_LARGE_FD_SET(fd, &set);
	snmp_read2(&set);
	netsnmp_large_fd_set_cleanup(&set);
	after_io();
}

static void on_snmp_timer(struct loop_timer *t GVPN_UNUSED, void *arg GVPN_UNUSED)
{
	snmp_timeout();
	run_alarms();
	after_io();
}

static void snmp_prepare(void *arg GVPN_UNUSED)
{
	netsnmp_large_fd_set set;
	int maxfd = 0, block = 1;
	struct timeval tv = { 0, 0 };

	netsnmp_large_fd_set_init(&set, FD_SETSIZE);
	snmp_select_info2(&maxfd, &set, &tv, &block);

	for (size_t i = 0; i < S.nfds; i++)
		S.fds[i].seen = 0;
	for (int fd = 0; fd < maxfd; fd++) {
		if (!NETSNMP_LARGE_FD_ISSET(fd, &set))
			continue;
		size_t i;
		for (i = 0; i < S.nfds && S.fds[i].fd != fd; i++)
			;
		if (i < S.nfds) {
			S.fds[i].seen = 1;
			loop_fd_modify(S.fds[i].h, EPOLLIN);
			continue;
		}
		if (S.nfds == SNMP_MAX_FDS) {
			log_err("snmp", "more than %d Net-SNMP descriptors; descriptor %d ignored",
				SNMP_MAX_FDS, fd);
			continue;
		}
		struct loop_fd *h = loop_fd_add(fd, EPOLLIN, on_snmp_fd, NULL);
		if (h) {
			S.fds[S.nfds].fd = fd;
			S.fds[S.nfds].h = h;
			S.fds[S.nfds].seen = 1;
			S.nfds++;
		}
	}
	for (size_t i = 0; i < S.nfds;) {
		if (S.fds[i].seen) {
			i++;
			continue;
		}
		loop_fd_del(S.fds[i].h);
		S.fds[i] = S.fds[--S.nfds];
	}
	netsnmp_large_fd_set_cleanup(&set);

	if (block)
		loop_timer_cancel(&S.timer);
	else
		loop_timer_arm_us(&S.timer, (uint64_t)tv.tv_sec * 1000000u + (uint64_t)tv.tv_usec);
}

/* ---- init / fini ------------------------------------------------------------------ */

static char *join_listen(const struct cfg_snmp *s)
{
	size_t len = 1;
	for (size_t i = 0; i < s->n_listen; i++)
		len += strlen(s->listen[i]) + 1;
	char *out = xmalloc(len);
	out[0] = '\0';
	for (size_t i = 0; i < s->n_listen; i++) {
		if (i)
			strcat(out, ",");
		strcat(out, s->listen[i]);
	}
	return out;
}

/* Net-SNMP's files: only our own. No /etc/snmp, no ~/.snmp, no MIB
 * loading. The persistent file (engine ID, boots, localized user keys)
 * lives in the state dir; the config path points at a directory we never
 * create, so Net-SNMP reads no configuration file at all: everything
 * comes from the lines fed in feed_access(). */
static int set_dirs(const char *state_dir)
{
	char *dir = xasprintf("%s/snmp", state_dir);
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		log_err("snmp", "cannot create %s: %s", dir, strerror(errno));
		free(dir);
		return -1;
	}
	char *confdir = xasprintf("%s/none", dir);
	setenv("MIBS", "", 1);
	/* These would override the directories set below (seen: the engine
	 * ID not found again after a restart). */
	unsetenv("SNMPCONFPATH");
	unsetenv("SNMP_PERSISTENT_DIR");
	netsnmp_ds_set_string(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_CONFIGURATION_DIR, confdir);
	netsnmp_ds_set_string(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_PERSISTENT_DIR, dir);
	free(confdir);
	free(dir);
	return 0;
}

/* Net-SNMP's settings that never change, and its log into ours. */
static void set_defaults(void)
{
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_LOAD_HOST_FILES, 1);
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_ALARM_DONT_USE_SIG, 1);
	netsnmp_ds_set_boolean(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_NO_ROOT_ACCESS, 1);
	netsnmp_ds_set_boolean(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_DONT_LOG_TCPWRAPPERS_CONNECTS, 1);
	snmp_disable_log();
	snmp_enable_calllog();
	snmp_register_callback(SNMP_CALLBACK_LIBRARY, SNMP_CALLBACK_LOGGING, snmp_log_cb, NULL);
}

/* The role: master agent on the listen addresses (*ports, the caller
 * frees), or AgentX subagent. */
static void set_role(const struct cfg_snmp *s, char **ports)
{
	*ports = NULL;
	if (s->mode == CFG_SNMP_AGENTX) {
		netsnmp_ds_set_boolean(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_ROLE, 1);
		netsnmp_ds_set_string(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_X_SOCKET, s->agentx_socket);
		/* Reconnect when the master agent was not up yet, or restarted. */
		netsnmp_ds_set_int(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_AGENTX_PING_INTERVAL, GVPN_AGENTX_PING_S);
	} else {
		*ports = join_listen(s);
		netsnmp_ds_set_string(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_PORTS, *ports);
	}
}

/* The MIB modules of Net-SNMP's own a master agent serves. */
static void init_mib_modules(const struct cfg_snmp *s)
{
	init_vacm_config_tokens();
	init_vacm_snmpd_easy_tokens();
	init_vacm_conf();
	if (s->mode != CFG_SNMP_MASTER)
		return;
	init_system_mib();
	init_sysORTable();
	init_snmp_mib();
	init_vacm_vars();
	init_usmUser();
	init_snmpEngine();
	init_snmpMPDStats();
	init_usmStats();
}

/* Ours: the scalars, the tables, the notifications. */
static int register_gvpn_mib(void)
{
	if (register_scalar("gvpnAgentVersion", SC_VERSION) < 0 ||
	    register_scalar("gvpnAgentUptime", SC_UPTIME) < 0 ||
	    register_scalar("gvpnAgentConfigGeneration", SC_CONFIG_GENERATION) < 0 ||
	    register_scalar("gvpnAgentConfigReloadFailures", SC_RELOAD_FAILURES) < 0 ||
	    snmp_tables_init(S.ops) < 0 || snmp_notify_init(S.ops) < 0)
		return -1;
	return 0;
}

/* After init_snmp(): a master agent listens on ports; a subagent
 * connects (and reconnects) to its master by itself. */
static int listen_or_connect(const struct cfg_snmp *s, const char *ports)
{
	if (s->mode != CFG_SNMP_MASTER) {
		log_info("snmp", "AgentX subagent of %s", s->agentx_socket);
		return 0;
	}
	/* No SMUX listener (tcp 0.0.0.0:199): nothing asks for one. */
	static char no_smux[] = "-smux";
	add_to_init_list(no_smux);
	if (init_master_agent() != 0) {
		log_err("snmp", "cannot listen on %s (in use, or a privileged port?)", ports);
		return -1;
	}
	log_info("snmp", "master agent listening on %s", ports);
	return 0;
}

int snmp_agent_init(const struct cfg_snmp *s, const char *state_dir, const struct snmp_ops *ops)
{
	if (!s->enabled) {
		log_info("snmp", "SNMP is disabled in the configuration");
		return 0;
	}
	if (set_dirs(state_dir) < 0)
		return -1;
	S.ops = ops;
	set_defaults();
	char *ports;
	int rc = -1;
	set_role(s, &ports);
	if (init_agent(SNMP_APP) != 0) {
		log_err("snmp", "init_agent failed");
		goto done;
	}
	init_mib_modules(s);
	if (feed_access(s) < 0 || snmp_notify_config(s) < 0 || register_gvpn_mib() < 0)
		goto done;
	init_snmp(SNMP_APP);
	S.up = 1;
	snmp_notify_start(s);
	if (listen_or_connect(s, ports) < 0)
		goto done;
	loop_timer_init(&S.timer, on_snmp_timer, NULL);
	loop_prepare_add(snmp_prepare, NULL);
	rc = 0;
done:
	free(ports);
	return rc;
}

void snmp_agent_fini(void)
{
	if (!S.up)
		return;
	snmp_notify_fini();
	loop_prepare_remove(snmp_prepare, NULL);
	loop_timer_cancel(&S.timer);
	for (size_t i = 0; i < S.nfds; i++)
		loop_fd_del(S.fds[i].h);
	snmp_shutdown(SNMP_APP);
	shutdown_agent();
	snmp_tables_fini();
	snmp_unregister_callback(SNMP_CALLBACK_LIBRARY, SNMP_CALLBACK_LOGGING, snmp_log_cb, NULL, 1);
	memset(&S, 0, sizeof(S));
}

static int strlists_differ(char **a, size_t na, char **b, size_t nb)
{
	if (na != nb)
		return 1;
	for (size_t i = 0; i < na; i++)
		if (strcmp(a[i], b[i]))
			return 1;
	return 0;
}

int snmp_agent_needs_restart(const struct cfg_snmp *a, const struct cfg_snmp *b)
{
	if (a->enabled != b->enabled || a->mode != b->mode ||
	    strlists_differ(a->listen, a->n_listen, b->listen, b->n_listen) ||
	    strcmp(a->agentx_socket, b->agentx_socket) || a->n_v3_users != b->n_v3_users ||
	    a->n_communities != b->n_communities || snmp_notify_targets_differ(a, b))
		return 1;
	for (size_t i = 0; i < a->n_v3_users; i++) {
		const struct cfg_snmp_user *x = &a->v3_users[i], *y = &b->v3_users[i];
		if (strcmp(x->name, y->name) || x->access != y->access || x->auth != y->auth ||
		    x->priv != y->priv || strcmp(x->auth_passphrase, y->auth_passphrase) ||
		    (x->priv_passphrase && y->priv_passphrase && strcmp(x->priv_passphrase, y->priv_passphrase)))
			return 1;
	}
	for (size_t i = 0; i < a->n_communities; i++)
		if (strcmp(a->communities[i].name, b->communities[i].name) ||
		    a->communities[i].access != b->communities[i].access ||
		    strcmp(a->communities[i].source, b->communities[i].source) ||
		    a->communities[i].v1 != b->communities[i].v1 || a->communities[i].v2c != b->communities[i].v2c)
			return 1;
	return 0;
}
