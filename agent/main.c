/* SPDX-License-Identifier: BSD-2-Clause */
/* main.c: gvpn-agent, the daemon's start and stop. Parses the command
 * line, loads the config, starts the subsystems in dependency order on
 * one event loop (the optional ones through the parts table, with the
 * ops tables that connect SNMP and the web server to the agent), and
 * undoes them in reverse on SIGTERM. SIGHUP reloads the config
 * (reload.c), keeping the old one when the new one is invalid. */
#include "config.h"
#include "agent/agent.h"
#include "agent/logdest.h"
#include "agent/reload.h"
#include "agent/svc.h"
#include "core/cfg_edit.h"
#include "core/ev.h"
#include "core/gdoi/gks.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/views/gks_json.h"
#include "core/syslog/syslog_out.h"
#include "core/monitor/mon.h"
#include "core/monitor/mon_icmp.h"
#include "core/monitor/mon_vici.h"
#include "core/syslog/syslog_out.h"
#include "core/util.h"
#include "snmp/snmp_agent.h"
#include "web/web.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#define DEFAULT_CONFIG SYSCONFDIR "/gvpn-agent/gvpn-agent.json"

static void usage(FILE *to)
{
	fprintf(to,
		"Usage: gvpn-agent [-c FILE] [-n] [-f] [--log-stderr] [-v]\n"
		"Group VPN key server and VPN monitor with SNMP, syslog and web exports.\n"
		"\n"
		"  -c, --config FILE  configuration file (default " DEFAULT_CONFIG ")\n"
		"  -n, --check        check the configuration and the secrets file, then exit:\n"
		"                     0 when valid, 78 with every error listed\n"
		"  -f, --foreground   do not daemonize; log to stderr unless the local log\n"
		"                     socket has the messages (syslog.local: on a terminal,\n"
		"                     a copy on stderr too)\n"
		"      --log-stderr   log lines and events to stderr only, each line with a\n"
		"                     <N> priority prefix (sd-daemon(3)); the local log\n"
		"                     socket gets nothing (the remote collectors are kept)\n"
		"  -v, --verbose      log debug messages\n"
		"  -h, --help         show this help\n"
		"  -V, --version      show the version\n"
		"\n"
		"Signals: SIGHUP reloads the configuration, SIGTERM and SIGINT stop.\n"
		"Exit status: 78 (EX_CONFIG) when the configuration or the secrets file is\n"
		"refused (with -n or at start), 2 on a usage error, 1 when the agent cannot\n"
		"start for another reason or fails while running.\n"
		"See gvpn-agent(8), gvpn-agent.json(5) and gvpnctl(8).\n");
}

static void on_hup(int signo GVPN_UNUSED, void *arg GVPN_UNUSED)
{
	struct cfg_errors errs;
	cfg_errors_init(&errs);
	log_notice("agent", "SIGHUP: reloading %s", A.cfg_path);
	svc_reloading();
	if (agent_reload(&errs) < 0)
		agent_report(1, "configuration refused, the old one in force; ");
	else
		agent_report(1, "");
	cfg_errors_free(&errs);
}

static void on_term(int signo, void *arg GVPN_UNUSED)
{
	log_notice("agent", "%s: shutting down", strsignal(signo));
	svc_stopping();
	loop_stop();
}

static int daemonize(void)
{
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid > 0)
		_exit(0);
	if (setsid() < 0)
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid > 0)
		_exit(0);
	if (chdir("/") < 0)
		return -1;
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -1;
	dup2(fd, 0);
	dup2(fd, 1);
	dup2(fd, 2);
	if (fd > 2)
		close(fd);
	return 0;
}

static int write_pid_file(const char *path)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (file_write_atomic(path, buf, (size_t)n, 0644) < 0) {
		log_err("agent", "cannot write pid file %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

static int ensure_dir(const char *path)
{
	if (mkdir(path, 0700) < 0 && errno != EEXIST) {
		log_err("agent", "cannot create state directory %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* ---- the optional parts: each started and stopped through one entry of
 * parts[] below and reconfigured by one function in reload.c; their ops
 * tables are how they reach the agent. */

/* SNMP */
static const struct cfg *snmp_cfg(void) { return A.cfg; }
static unsigned snmp_generation(void) { return A.generation; }
static unsigned snmp_reload_failures(void) { return A.reload_failures; }
static enum cfg_edit_err snmp_apply(const struct cfg_edit *e, struct cfg_errors *errs, struct cfg_edit_fault *fault)
{
	return agent_apply_edit(e, errs, "snmp", fault);
}

static const struct snmp_ops snmp_ops = {
	.cfg = snmp_cfg, .generation = snmp_generation, .reload_failures = snmp_reload_failures,
	.uptime = agent_uptime_seconds, .apply_edit = snmp_apply,
};

static int snmp_start(const struct cfg *c)
{
	return snmp_agent_init(&c->snmp, c->agent.state_dir, &snmp_ops);
}

/* The web server */
static cJSON *web_members(long group_id, size_t limit) { return gks_members_json_limit(group_id, limit); }
static enum cfg_edit_err web_apply(const struct cfg_edit *e, struct cfg_errors *errs, struct cfg_edit_fault *fault)
{
	return agent_apply_edit(e, errs, "web", fault);
}

static const char *web_user_hash(const char *user)
{
	const struct cfg_secrets *s = &A.cfg->secrets;
	for (size_t i = 0; i < s->n_web_users; i++)
		if (!strcmp(s->web_users[i].name, user))
			return s->web_users[i].value;
	return NULL;
}

static int web_rekey_vpn(const char *name)
{
	struct mon_vpn_status st;
	if (!A.cfg->mon || mon_status(name, &st) < 0)
		return -2;
	return mon_vici_rekey(name);
}

static const struct web_ops web_ops = {
	.status = status_json, .groups = gks_status_json, .sa = gks_sa_json, .members = web_members, .vpns = status_vpns_json,
	.events = status_events_json, .rekey_group = gks_rekey_group, .apply_edit = web_apply,
	.user_hash = web_user_hash, .rekey_vpn = web_rekey_vpn,
	.metrics = metrics_text, .metrics_token = metrics_token_name,
};

static int web_start(const struct cfg *c)
{
	return web_init(&c->web, &web_ops);
}

/* The VPN monitor: ICMP probes, strongSwan over VICI. */
static int monitor_start(const struct cfg *c)
{
	static const struct mon_ops ops = {
		.probe = mon_icmp_probe,
		.counters = mon_vici_counters,
		.terminate = mon_vici_terminate,
		.initiate = mon_vici_initiate,
		.annotate = mon_vici_annotate,
	};
	if (!c->mon)
		return 0;
	if (mon_icmp_init() < 0 || mon_vici_init(c->mon->vici_socket, (unsigned)c->mon->interval) < 0)
		return -1;
	mon_init(&ops, NULL);
	mon_configure(c->mon);
	return 0;
}

static void monitor_stop(void)
{
	mon_fini();
	mon_vici_fini();
	mon_icmp_fini();
}

static int ctl_start(const struct cfg *c)
{
	return ctl_init(c->agent.control_socket);
}

/* The subsystems after the loop and the log destinations, in dependency
 * order: started in this order, stopped in reverse. A part that fails to
 * start is stopped too (it may have done half its work). */
static const struct part {
	int (*start)(const struct cfg *c);
	void (*stop)(void);
} parts[] = {
	{ snmp_start, snmp_agent_fini },
	{ web_start, web_fini },
	{ gks_init, gks_fini },
	{ monitor_start, monitor_stop },
	{ ctl_start, ctl_fini },
};

/* ---- the command line --------------------------------------------------------------- */

struct opts {
	const char *path;
	int check, foreground, verbose, to_stderr_only;
};

/* -1 to go on, else the exit status. */
static int parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check", no_argument, NULL, 'n' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "log-stderr", no_argument, NULL, 'L' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;
	*o = (struct opts){ .path = DEFAULT_CONFIG };
	while ((opt = getopt_long(argc, argv, "c:nfvhV", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c': o->path = optarg; break;
		case 'n': o->check = 1; break;
		case 'f': o->foreground = 1; break;
		case 'v': o->verbose = 1; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("gvpn-agent %s\n", PACKAGE_VERSION); return 0;
		case 'L': o->to_stderr_only = 1; break;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "gvpn-agent: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	o->foreground |= o->to_stderr_only;
	return -1;
}

/* The model at start; NULL when refused (every error on stderr). */
static struct cfg *load_config(const char *path)
{
	struct cfg_errors errs;
	cfg_errors_init(&errs);
	struct cfg *cfg = agent_load(path, &errs);
	if (!cfg) {
		logdest_print_errors(&errs);
		fprintf(stderr, "%sgvpn-agent: %s: %zu error%s; configuration refused\n", logdest_prefix() ? "<3>" : "",
			path, errs.n, errs.n == 1 ? "" : "s");
	}
	cfg_errors_free(&errs);
	return cfg;
}

/* ---- running ------------------------------------------------------------------------ */

/* The loop with every part up, until SIGTERM; its exit status. */
static int serve(void)
{
	struct event e;
	ev_begin(&e, EV_AGENT_STARTED);
	ev_param_str(&e, "version", PACKAGE_VERSION);
	ev_param_int(&e, "pid", getpid());
	ev_publish(&e, "gvpn-agent %s started with %s", PACKAGE_VERSION, A.cfg_path);
	svc_init();
	agent_report(1, "");

	int rc = loop_run() < 0 ? 1 : 0;
	svc_fini();

	ev_begin(&e, EV_AGENT_STOPPING);
	ev_publish(&e, "gvpn-agent stopping");
	/* Give the collectors a moment (at most 300 ms) to take the last events. */
	for (int i = 0; i < 15 && syslog_out_pending(); i++)
		loop_run_once(20);
	return rc;
}

/* The parts started, served, and stopped in reverse; the exit status. */
static int run_parts(const struct cfg *cfg, int foreground)
{
	size_t started = 0;
	int rc = 1;
	while (started < ARRAY_SIZE(parts))
		if (parts[started++].start(cfg) < 0)
			goto stop;
	rc = serve();
stop:
	while (started)
		parts[--started].stop();
	if (!foreground && A.cfg->agent.pid_file)
		unlink(A.cfg->agent.pid_file);
	return rc;
}

/* The loop, the signals and the log destinations around the parts; the
 * exit status. */
static int run(const struct cfg *cfg, int foreground)
{
	int rc = 1;
	signal(SIGPIPE, SIG_IGN);
	ev_init((size_t)cfg->agent.event_history);
	logdest_events();
	if (loop_init() < 0)
		goto out_ev;
	A.start_us = loop_now_us();
	clock_gettime(CLOCK_REALTIME, &A.started);
	A.last_reload = A.started;
	if (loop_signal_add(SIGHUP, on_hup, NULL) < 0 || loop_signal_add(SIGTERM, on_term, NULL) < 0 ||
	    loop_signal_add(SIGINT, on_term, NULL) < 0)
		goto out_loop;
	if (ensure_dir(cfg->agent.state_dir) < 0)
		goto out_loop;
	logdest_start(cfg);
	if (foreground || !cfg->agent.pid_file || write_pid_file(cfg->agent.pid_file) == 0)
		rc = run_parts(cfg, foreground);
	logdest_stop();
out_loop:
	loop_fini();
out_ev:
	ev_fini();
	return rc;
}

int main(int argc, char **argv)
{
	struct opts o;
	int rc = parse_args(argc, argv, &o);
	if (rc >= 0)
		return rc;
	log_init("gvpn-agent");
	logdest_init(o.foreground, o.to_stderr_only);
	struct cfg *cfg = load_config(o.path);
	if (!cfg)
		/* Distinct from other failures: the unit does not restart on it
		 * (RestartPreventExitStatus=78), as a restart cannot help. */
		return EX_CONFIG;
	if (o.check) {
		printf("%s: configuration OK\n", cfg->path);
		cfg_free(cfg);
		return 0;
	}

	A.cfg = cfg;
	A.cfg_path = xstrdup(cfg->path); /* outlives every reload */
	A.generation = 1;
	A.verbose = o.verbose;
	logdest_level(cfg, o.verbose);
	if (!o.foreground && daemonize() < 0) {
		fprintf(stderr, "gvpn-agent: cannot daemonize: %s\n", strerror(errno));
		return 1;
	}
	rc = run(cfg, o.foreground);
	cfg_free(A.cfg);
	free((char *)A.cfg_path);
	log_fini();
	return rc;
}
