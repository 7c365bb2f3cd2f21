/* SPDX-License-Identifier: BSD-2-Clause */
/* main.c: gvpn-agent, the daemon. Parses the command line, loads the
 * config, starts the subsystems in dependency order on one event loop,
 * and undoes them in reverse on SIGTERM. SIGHUP reloads the config and
 * keeps the old one when the new one is invalid. */
#include "config.h"
#include "agent/agent.h"
#include "core/cfg_edit.h"
#include "core/ev.h"
#include "core/gdoi/gks.h"
#include "core/views/gks_json.h"
#include "core/syslog/syslog_out.h"
#include "core/monitor/mon.h"
#include "core/monitor/mon_icmp.h"
#include "core/monitor/mon_vici.h"
#include "core/log.h"
#include "core/loop.h"
#include "snmp/snmp_agent.h"
#include "agent/svc.h"
#include "core/util.h"
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

struct agent A;

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

/* Where log lines and events go on this machine: each to exactly one
 * place (gvpn-agent(8), LOGGING). */
static struct {
	int foreground;
	int to_stderr_only;  /* --log-stderr */
	int prefix;          /* <N> prefixes on stderr */
} L;

/* Events reach the local log socket with their fields (syslog_out); on
 * stderr they are a line like any other. */
static void log_event(const struct event *e, void *arg GVPN_UNUSED)
{
	log_msg_stderr(e->severity, "event", "%s: %s", ev_kind_msgid(e->kind), e->text);
}

/* systemd connects stderr to the journal and says so in JOURNAL_STREAM
 * ("device:inode" of that stream); a stderr redirected elsewhere since
 * does not count. */
static int stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	if (!js || sscanf(js, "%llu:%llu", &dev, &ino) != 2 || fstat(STDERR_FILENO, &st) < 0)
		return 0;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

/* 1 when log lines and events go to the local log socket. */
static int local_wanted(const struct cfg *c)
{
	return !L.to_stderr_only && (c->syslog.local || !L.foreground);
}

/* stderr gets the lines only when the local socket does not, or when it
 * is a terminal (a person watching: no log has them twice). */
static void apply_stderr(void)
{
	if (!L.foreground && !L.to_stderr_only)
		log_stderr(0); /* daemonized: stderr is /dev/null */
	else
		log_stderr(!syslog_out_local() || isatty(STDERR_FILENO));
}

static void print_errors(const struct cfg_errors *errs)
{
	for (size_t i = 0; i < errs->n; i++)
		fprintf(stderr, "%s%s\n", L.prefix ? "<3>" : "", errs->msg[i]);
}

/* The STATUS= line for the service manager. */
static void svc_report(int ready, const char *what)
{
	size_t groups = A.cfg->gks ? A.cfg->gks->n_groups : 0, vpns = A.cfg->mon ? A.cfg->mon->n_vpns : 0;
	if (ready)
		svc_ready("%sserving %zu group%s, %zu VPN%s", what, groups, groups == 1 ? "" : "s", vpns,
			  vpns == 1 ? "" : "s");
	else
		svc_status("%sserving %zu group%s, %zu VPN%s", what, groups, groups == 1 ? "" : "s", vpns,
			   vpns == 1 ? "" : "s");
}

static void apply_log_settings(const struct cfg *c, int verbose)
{
	log_set_level(verbose ? LOG_DEBUG : c->agent.log_level);
}

/* The version of the file the model in force came from: an edit made
 * by the agent must not overwrite changes made by hand since. */
static struct cfg_edit_stamp loaded;

/* Swaps in a validated model n (from the file or an edit). */
static void apply_model(struct cfg *n, const char *source)
{
	struct event e;
	if (snmp_agent_needs_restart(&A.cfg->snmp, &n->snmp))
		log_warn("config", "snmp settings changed: they take effect when the agent restarts");
	if (web_needs_restart(&A.cfg->web, &n->web))
		log_warn("config", "web settings changed: they take effect when the agent restarts");
	if (strcmp(A.cfg->agent.control_socket, n->agent.control_socket) ||
	    strcmp(A.cfg->agent.state_dir, n->agent.state_dir) ||
	    A.cfg->agent.event_history != n->agent.event_history)
		log_warn("config", "agent paths or event_history changed: they take effect when the agent restarts");
	/* Settings that need a restart keep their running values in the model,
	 * so status and the MIB show what is actually in force. */
	struct cfg_snmp tmp_snmp = n->snmp;
	n->snmp = A.cfg->snmp;
	A.cfg->snmp = tmp_snmp;
	/* ... except the notification switches, which apply at once. */
	memcpy(n->snmp.notify, A.cfg->snmp.notify, sizeof(n->snmp.notify));
	struct cfg_web tmp_web = n->web;
	n->web = A.cfg->web;
	A.cfg->web = tmp_web;
	struct cfg_agent tmp_agent = n->agent;
	n->agent.control_socket = A.cfg->agent.control_socket;
	n->agent.state_dir = A.cfg->agent.state_dir;
	n->agent.event_history = A.cfg->agent.event_history;
	A.cfg->agent.control_socket = tmp_agent.control_socket;
	A.cfg->agent.state_dir = tmp_agent.state_dir;

	if ((A.cfg->gks && n->gks && strcmp(A.cfg->gks->listen, n->gks->listen)) || !A.cfg->gks != !n->gks)
		log_warn("config", "group_vpn_server added, removed or moved: that takes effect when the agent restarts");
	if (A.cfg->gks && !n->gks) { /* the running key server keeps its section until the restart */
		n->gks = A.cfg->gks;
		A.cfg->gks = NULL;
	}
	gks_reconfigure(n);
	int was = syslog_out_local();
	syslog_out_reconfigure(&A.cfg->syslog, &n->syslog, local_wanted(n));
	apply_stderr();
	if (syslog_out_local() != was)
		syslog_out_log_where();
	if (n->mon && A.cfg->mon && strcmp(n->mon->vici_socket, A.cfg->mon->vici_socket))
		log_warn("config", "vpn_monitor.vici_socket changed: that takes effect when the agent restarts");
	if (n->mon && !A.cfg->mon)
		log_warn("config", "vpn_monitor added: it starts when the agent restarts");
	else
		mon_configure(n->mon);
	if (n->mon)
		mon_vici_set_interval((unsigned)n->mon->interval);
	cfg_free(A.cfg);
	A.cfg = n;
	A.generation++;
	clock_gettime(CLOCK_REALTIME, &A.last_reload);
	apply_log_settings(n, A.verbose);
	ev_begin(&e, EV_CONFIG_RELOADED);
	ev_param_str(&e, "file", A.cfg_path);
	ev_param_uint(&e, "generation", A.generation);
	if (strcmp(source, "file")) {
		ev_param_str(&e, "source", source);
		ev_publish(&e, "configuration %s changed through %s; generation %u", A.cfg_path, source,
			   A.generation);
	} else {
		ev_publish(&e, "configuration %s reloaded; generation %u", A.cfg_path, A.generation);
	}
}

int agent_apply_edit(const struct cfg_edit *ed, struct cfg_errors *errs, const char *source, long *fault)
{
	char *text = NULL;
	struct cfg_edit_stamp written;
	if (fault)
		*fault = -1;
	if (!cfg_edit_count(ed))
		return 0;
	struct cfg *n = cfg_edit_prepare_at(ed, A.cfg_path, &loaded, &text, errs, fault);
	if (!n)
		return -1;
	if (!text) { /* the values asked for are in force already */
		cfg_free(n);
		return 0;
	}
	if (cfg_edit_commit(A.cfg_path, text, &written) < 0) {
		cfg_errors_add(errs, "%s: cannot write: %s", A.cfg_path, strerror(errno));
		free(text);
		cfg_free(n);
		return -1;
	}
	free(text);
	loaded = written;
	log_notice("config", "%s: %zu setting%s changed through %s", A.cfg_path, cfg_edit_count(ed),
		   cfg_edit_count(ed) == 1 ? "" : "s", source);
	apply_model(n, source);
	return 0;
}

int agent_reload(struct cfg_errors *errs)
{
	struct cfg_edit_stamp st;
	struct cfg *n = cfg_edit_load(A.cfg_path, &st, errs);
	struct event e;
	if (!n) {
		A.reload_failures++;
		for (size_t i = 0; i < errs->n; i++)
			log_err("config", "%s", errs->msg[i]);
		ev_begin(&e, EV_CONFIG_REJECTED);
		ev_param_str(&e, "file", A.cfg_path);
		ev_param_uint(&e, "errors", errs->n);
		ev_param_uint(&e, "generation", A.generation);
		ev_publish(&e, "configuration %s refused (%zu error%s, first: %s); generation %u stays in force",
			   A.cfg_path, errs->n, errs->n == 1 ? "" : "s", errs->n ? errs->msg[0] : "?",
			   A.generation);
		return -1;
	}
	loaded = st;
	apply_model(n, "file");
	svc_report(0, "");
	return 0;
}

static void on_hup(int signo GVPN_UNUSED, void *arg GVPN_UNUSED)
{
	struct cfg_errors errs;
	cfg_errors_init(&errs);
	log_notice("agent", "SIGHUP: reloading %s", A.cfg_path);
	svc_reloading();
	if (agent_reload(&errs) < 0)
		svc_report(1, "configuration refused, the old one in force; ");
	else
		svc_report(1, "");
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

static cJSON *web_members(long group_id, size_t limit) { return gks_members_json_limit(group_id, limit); }
static int web_apply(const struct cfg_edit *e, struct cfg_errors *errs) { return agent_apply_edit(e, errs, "web", NULL); }
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

/* The VPN monitor: ICMP probes, strongSwan over VICI. */
static int monitor_init(const struct cfg *c)
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

int main(int argc, char **argv)
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
	const char *path = DEFAULT_CONFIG;
	int check = 0, foreground = 0, verbose = 0, opt;
	while ((opt = getopt_long(argc, argv, "c:nfvhV", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c': path = optarg; break;
		case 'n': check = 1; break;
		case 'f': foreground = 1; break;
		case 'v': verbose = 1; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("gvpn-agent %s\n", PACKAGE_VERSION); return 0;
		case 'L': L.to_stderr_only = 1; break;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "gvpn-agent: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}

	log_init("gvpn-agent");
	L.foreground = foreground || L.to_stderr_only;
	L.prefix = L.to_stderr_only || stderr_is_journal();
	log_stderr_prefix(L.prefix);
	struct cfg_errors errs;
	cfg_errors_init(&errs);
	struct cfg *cfg = cfg_edit_load(path, &loaded, &errs);
	if (!cfg) {
		print_errors(&errs);
		fprintf(stderr, "%sgvpn-agent: %s: %zu error%s; configuration refused\n", L.prefix ? "<3>" : "",
			path, errs.n, errs.n == 1 ? "" : "s");
		cfg_errors_free(&errs);
		/* Distinct from other failures: the unit does not restart on it
		 * (RestartPreventExitStatus=78), as a restart cannot help. */
		return EX_CONFIG;
	}
	cfg_errors_free(&errs);
	if (check) {
		printf("%s: configuration OK\n", cfg->path);
		cfg_free(cfg);
		return 0;
	}

	A.cfg = cfg;
	A.cfg_path = xstrdup(cfg->path); /* outlives every reload */
	A.generation = 1;
	A.verbose = verbose;
	apply_log_settings(cfg, verbose);
	if (!L.foreground && daemonize() < 0) {
		fprintf(stderr, "gvpn-agent: cannot daemonize: %s\n", strerror(errno));
		return 1;
	}

	int rc = 1;
	signal(SIGPIPE, SIG_IGN);
	ev_init((size_t)cfg->agent.event_history);
	ev_subscribe(log_event, NULL);
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
	syslog_out_init(&cfg->syslog, local_wanted(cfg));
	apply_stderr();
	syslog_out_log_where();
	if (!L.foreground && cfg->agent.pid_file && write_pid_file(cfg->agent.pid_file) < 0)
		goto out_loop;
	if (snmp_agent_init(&cfg->snmp, cfg->agent.state_dir) < 0)
		goto out_snmp;
	if (web_init(&cfg->web, &web_ops) < 0)
		goto out_web;
	if (gks_init(cfg) < 0)
		goto out_gks;
	if (monitor_init(cfg) < 0)
		goto out_mon;
	if (ctl_init(cfg->agent.control_socket) < 0)
		goto out_ctl;

	struct event e;
	ev_begin(&e, EV_AGENT_STARTED);
	ev_param_str(&e, "version", PACKAGE_VERSION);
	ev_param_int(&e, "pid", getpid());
	ev_publish(&e, "gvpn-agent %s started with %s", PACKAGE_VERSION, A.cfg_path);
	svc_init();
	svc_report(1, "");

	rc = loop_run() < 0 ? 1 : 0;
	svc_fini();

	ev_begin(&e, EV_AGENT_STOPPING);
	ev_publish(&e, "gvpn-agent stopping");
	/* Give the collectors a moment (at most 300 ms) to take the last events. */
	for (int i = 0; i < 15 && syslog_out_pending(); i++)
		loop_run_once(20);
out_ctl:
	ctl_fini();
out_mon:
	mon_fini();
	mon_vici_fini();
	mon_icmp_fini();
out_gks:
	gks_fini();
out_web:
	web_fini();
out_snmp:
	snmp_agent_fini();
	if (!L.foreground && A.cfg->agent.pid_file)
		unlink(A.cfg->agent.pid_file);
out_loop:
	syslog_out_fini();
	loop_fini();
out_ev:
	ev_fini();
	cfg_free(A.cfg);
	free((char *)A.cfg_path);
	log_fini();
	return rc;
}
