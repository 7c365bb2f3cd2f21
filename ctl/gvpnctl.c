/* SPDX-License-Identifier: BSD-2-Clause */
/* gvpnctl.c: the operator's command line. Sends one request to the
 * agent's control socket and prints the reply for a person, or as JSON
 * with --json. Exit: 0 ok, 1 the command failed, 2 usage, 3 no agent. */
#include "config.h"
#include "core/ctl_proto.h"
#include "core/util.h"
#include "core/passwd.h"

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

static void usage(FILE *to)
{
	fprintf(to,
		"Usage: gvpnctl [-s SOCKET] [--json] COMMAND\n"
		"Commands:\n"
		"  show status               version, uptime, config generation, listeners, counters\n"
		"  show events [--since N]   the agent's recent events (ids above N)\n"
		"  show groups               key server groups: KEK, TEKs, SEQ, next rekey, counters\n"
		"  show sa                   the groups' KEK and TEKs, old TEKs included\n"
		"  show registered-members [group ID]\n"
		"                            members of every group, or of group ID\n"
		"  show rekeys               the last rekey pushes: targeted, acknowledged, removed\n"
		"  show vpns                 monitored VPNs: settings, state, delay, availability\n"
		"  rekey group ID            new keys for group ID now, pushed to its members\n"
		"  reload                    reload the configuration (like SIGHUP)\n"
		"  passwd                    read a password (twice on a terminal) and print its\n"
		"                            hash for the secrets file's \"web_users\" (no agent needed)\n"
		"Options:\n"
		"  -s, --socket PATH  control socket (default " CTL_DEFAULT_SOCKET ")\n"
		"  -j, --json         print the agent's JSON reply\n"
		"  -h, --help         this help;  -V, --version  the version\n"
		"See gvpnctl(8).\n");
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sends req, returns the reply text (malloc'd) or NULL with a message. */
static char *transact(const char *path, const char *req)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "gvpnctl: socket path too long: %s\n", path);
		return NULL;
	}
	str_copy(sa.sun_path, path, sizeof(sa.sun_path));
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "gvpnctl: cannot reach the agent at %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	size_t len = strlen(req);
	if (send(fd, req, len, MSG_NOSIGNAL) != (ssize_t)len) {
		fprintf(stderr, "gvpnctl: cannot send to %s: %s\n", path, strerror(errno));
		close(fd);
		return NULL;
	}
	size_t cap = 65536, got = 0;
	char *buf = xmalloc(cap + 1);
	int64_t deadline = now_ms() + 30000;
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int64_t left = deadline - now_ms();
		if (left <= 0 || poll(&p, 1, (int)left) <= 0) {
			fprintf(stderr, "gvpnctl: no complete answer from the agent within 30 s\n");
			goto fail;
		}
		if (got == cap) {
			if (cap >= CTL_MAX_REPLY) {
				fprintf(stderr, "gvpnctl: reply larger than %u bytes\n", CTL_MAX_REPLY);
				goto fail;
			}
			cap *= 2;
			buf = xrealloc(buf, cap + 1);
		}
		ssize_t r = recv(fd, buf + got, cap - got, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			fprintf(stderr, "gvpnctl: read: %s\n", strerror(errno));
			goto fail;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	buf[got] = '\0';
	return buf;
fail:
	close(fd);
	free(buf);
	return NULL;
}

static const char *str(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) ? v->valuestring : "";
}

static double num(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

static const cJSON *obj(const cJSON *o, const char *k)
{
	return cJSON_GetObjectItemCaseSensitive(o, k);
}

static void print_status(const cJSON *r)
{
	const cJSON *cf = obj(r, "config"), *s = obj(r, "snmp"), *w = obj(r, "web"), *e = obj(r, "events");
	printf("gvpn-agent %s, pid %.0f, up %.0f s (since %s)\n", str(r, "version"), num(r, "pid"),
	       num(r, "uptime_seconds"), str(r, "started"));
	printf("Configuration:   %s\n", str(cf, "file"));
	printf("  generation:    %.0f (loaded %s)\n", num(cf, "generation"), str(cf, "loaded"));
	printf("  reload failures: %.0f\n", num(cf, "reload_failures"));
	printf("SNMP:            ");
	if (cJSON_IsTrue(obj(s, "enabled"))) {
		printf("%s", str(s, "mode"));
		const cJSON *l;
		int first = 1;
		cJSON_ArrayForEach(l, obj(s, "listen")) {
			printf("%s%s", first ? " on " : ", ", cJSON_IsString(l) ? l->valuestring : "?");
			first = 0;
		}
		printf("\n");
	} else {
		printf("disabled\n");
	}
	const cJSON *nt;
	cJSON_ArrayForEach(nt, obj(s, "notification_targets")) {
		int inform = !strcmp(str(nt, "type"), "inform");
		printf("  notifications: %s, %ss (%s): %.0f sent", str(nt, "address"), str(nt, "type"),
		       !strcmp(str(nt, "version"), "v2c") ? "SNMPv2c" : "SNMPv3", num(nt, "sent"));
		if (inform)
			printf(", %.0f acknowledged, %.0f retried", num(nt, "acknowledged"), num(nt, "retried"));
		printf(", %.0f dropped", num(nt, "dropped"));
		if (inform)
			printf(", %.0f queued", num(nt, "queued"));
		if (*str(nt, "engine_id"))
			printf("; engine ID %s (%.0f change%s)", str(nt, "engine_id"), num(nt, "engine_changes"),
			       num(nt, "engine_changes") == 1 ? "" : "s");
		printf("\n");
	}
	if (cJSON_IsTrue(obj(w, "enabled")))
		printf("Web:             %s://%s/\n", cJSON_IsTrue(obj(w, "https")) ? "https" : "http",
		       str(w, "listen"));
	else
		printf("Web:             disabled\n");
	printf("Events:          %.0f published, %.0f kept (capacity %.0f)\n", num(e, "published"),
	       num(e, "kept"), num(e, "capacity"));
	const cJSON *k = obj(r, "key_server");
	if (cJSON_IsObject(k)) {
		printf("Key server:      udp %s, %.0f group%s, %.0f member%s; %.0f registrations, %.0f refused, "
		       "%.0f dropped, %.0f half-open\n",
		       str(k, "listen"), num(k, "groups"), num(k, "groups") == 1 ? "" : "s", num(k, "members"),
		       num(k, "members") == 1 ? "" : "s", num(k, "registrations"), num(k, "refused"),
		       num(k, "drops"), num(k, "half_open"));
		printf("  pushes:        %.0f rekeys, %.0f retransmissions, %.0f heartbeats, %.0f ACKs "
		       "(%.0f dropped), %.0f members removed, %.0f send errors, %.0f SEQ save errors, "
		       "%.0f held\n",
		       num(k, "rekeys_sent"), num(k, "retransmissions"), num(k, "heartbeats"), num(k, "acks"),
		       num(k, "ack_drops"), num(k, "members_removed"), num(k, "send_errors"),
		       num(k, "seq_save_errors"), num(k, "pushes_held"));
	}
	const cJSON *c;
	cJSON_ArrayForEach(c, obj(r, "syslog")) {
		char where[320];
		if (num(c, "port") > 0)
			snprintf(where, sizeof(where), "%s:%.0f", str(c, "host"), num(c, "port"));
		else
			snprintf(where, sizeof(where), "%s", str(c, "host"));
		printf("Syslog:          %s %s %s: %.0f sent, %.0f dropped (%.0f queue full), "
		       "%.0f reconnects, %.0f queued\n",
		       str(c, "transport"), where, cJSON_IsTrue(obj(c, "connected")) ? "up" : "down",
		       num(c, "sent"), num(c, "dropped"), num(c, "dropped_queue"), num(c, "reconnects"),
		       num(c, "queued"));
	}
}

static void print_events(const cJSON *r)
{
	const cJSON *e;
	cJSON_ArrayForEach(e, r) {
		printf("%6.0f %s %-7s %-20s %s\n", num(e, "id"), str(e, "time"), str(e, "severity"),
		       str(e, "msgid"), str(e, "text"));
	}
}

static int is_true(const cJSON *o, const char *k)
{
	return cJSON_IsTrue(obj(o, k));
}

static void print_kek(const cJSON *k)
{
	printf("  KEK SPI %s %s, signed %s RSA %.0f, lifetime %.0f s, remaining %.0f s, next rekey in %.0f s\n",
	       str(k, "spi"), str(k, "algorithm"), str(k, "sig_hash"), num(k, "sig_key_bits"),
	       num(k, "lifetime"), num(k, "remaining"), num(k, "next_rekey"));
}

static void print_tek(const cJSON *t)
{
	printf("  TEK %-12s SPI %s %s %s, lifetime %.0f s, remaining %.0f s", str(t, "name"), str(t, "spi"),
	       str(t, "proposal"), str(t, "status"), num(t, "lifetime"), num(t, "remaining"));
	if (cJSON_IsNumber(obj(t, "next_rekey")))
		printf(", next rekey in %.0f s", num(t, "next_rekey"));
	printf("\n");
}

static void print_sas(const cJSON *g)
{
	const cJSON *t;
	if (cJSON_IsObject(obj(g, "kek")))
		print_kek(obj(g, "kek"));
	cJSON_ArrayForEach(t, obj(g, "teks"))
		print_tek(t);
}

/* "communication unicast", "communication multicast 239.1.1.1:848". */
static void print_comm(const cJSON *g)
{
	printf("communication %s", str(g, "communication"));
	if (*str(g, "multicast_group"))
		printf(" %s:%.0f", str(g, "multicast_group"), num(g, "multicast_port"));
}

static void print_groups(const cJSON *r)
{
	const cJSON *g;
	cJSON_ArrayForEach(g, obj(r, "groups")) {
		printf("Group %s (id %.0f): %.0f member%s, ", str(g, "name"), num(g, "group_id"),
		       num(g, "members"), num(g, "members") == 1 ? "" : "s");
		print_comm(g);
		printf(", SEQ %.0f, ", num(g, "seq"));
		if (num(g, "next_rekey") >= 0)
			printf("next rekey in %.0f s", num(g, "next_rekey"));
		else
			printf("no rekey scheduled");
		if (cJSON_IsNumber(obj(g, "heartbeat")))
			printf(", heartbeat %.0f s", num(g, "heartbeat"));
		printf("\n");
		print_sas(g);
		const cJSON *f = obj(g, "rekey_in_flight");
		if (cJSON_IsObject(f))
			printf("  rekey in flight: SEQ %.0f (%s), %.0f targeted, %.0f acknowledged, %.0f outstanding, "
			       "copy %.0f\n", num(f, "seq"), str(f, "reason"), num(f, "targeted"), num(f, "acked"),
			       num(f, "outstanding"), num(f, "sends"));
		printf("  rekeys %.0f, pushes %.0f, heartbeats %.0f, retransmissions %.0f, members removed %.0f",
		       num(g, "rekeys"), num(g, "pushes"), num(g, "heartbeats"), num(g, "retransmissions"),
		       num(g, "members_removed"));
		if (*str(g, "last_rekey"))
			printf(", last rekey %s", str(g, "last_rekey"));
		printf("\n");
	}
	const cJSON *st = obj(r, "stats");
	printf("Registrations %.0f, refused %.0f, dropped %.0f malformed / %.0f unknown SA / %.0f over "
	       "half-open limits, %.0f expired, %.0f embryonic evicted\n",
	       num(st, "registrations"), num(st, "refused"), num(st, "drop_malformed"),
	       num(st, "drop_unknown_sa"), num(st, "drop_half_open"), num(st, "expired"),
	       num(st, "embryonic_evicted"));
	printf("Pushes: %.0f rekeys, %.0f retransmissions, %.0f heartbeats; ACKs %.0f (%.0f duplicate), "
	       "dropped %.0f from no member / %.0f bad HASH; %.0f members removed; %.0f send errors, "
	       "%.0f SEQ save errors, %.0f pushes held; %.0f registrations caught up after a rekey\n",
	       num(st, "rekeys_sent"), num(st, "retransmissions"), num(st, "heartbeats"), num(st, "acks"),
	       num(st, "acks_duplicate"), num(st, "drop_ack_unknown"), num(st, "drop_ack_bad"),
	       num(st, "members_removed"), num(st, "send_errors"), num(st, "seq_save_errors"),
	       num(st, "pushes_held"), num(st, "catch_ups"));
	printf("Socket: receive buffer %.0f bytes, %.0f datagrams dropped by the kernel (buffer full); "
	       "%.0f fan-out pauses\n",
	       num(st, "rcvbuf_bytes"), num(st, "rx_kernel_drops"), num(st, "fan_pauses"));
}

static void print_sa(const cJSON *r)
{
	const cJSON *g;
	cJSON_ArrayForEach(g, obj(r, "groups")) {
		printf("Group %s (id %.0f): ", str(g, "name"), num(g, "group_id"));
		print_comm(g);
		printf(", SEQ %.0f, activation_time_delay %.0f s\n", num(g, "seq"),
		       num(g, "activation_time_delay"));
		print_sas(g);
	}
}

static void print_members(const cJSON *r)
{
	const cJSON *m;
	size_t n = 0;
	cJSON_ArrayForEach(m, obj(r, "members")) {
		if (!n++)
			printf("%-5s %-21s %-20s %-11s %-20s %8s %11s %5s\n", "group", "member", "identity",
			       "state", "registered", "last ACK", "sent/acked", "retx");
		char addr[80], acked[16] = "-";
		snprintf(addr, sizeof(addr), "%s:%.0f", str(m, "address"), num(m, "port"));
		/* SEQ 0 is never pushed: 0 means no ACK since it registered. */
		if (num(m, "last_acked_seq") > 0)
			snprintf(acked, sizeof(acked), "%.0f", num(m, "last_acked_seq"));
		printf("%-5.0f %-21s %-20s %-11s %-20s %8s %5.0f/%-5.0f %5.0f\n", num(m, "group_id"), addr,
		       str(m, "identity"), str(m, "state"), str(m, "registered"), acked,
		       num(m, "rekeys_sent"), num(m, "rekeys_acked"), num(m, "retransmissions"));
	}
	printf("%zu member%s\n", n, n == 1 ? "" : "s");
}

static void print_rekeys(const cJSON *r)
{
	const cJSON *h;
	size_t n = 0;
	cJSON_ArrayForEach(h, r) {
		if (!n++)
			printf("%6s %-20s %5s %-18s %10s %22s %11s %4s\n", "index", "time", "group", "reason",
			       "SEQ", "targeted/acked/removed", "duration ms", "done");
		char tar[64];
		snprintf(tar, sizeof(tar), "%.0f/%.0f/%.0f", num(h, "targeted"), num(h, "acked"), num(h, "removed"));
		printf("%6.0f %-20s %5.0f %-18s %10.0f %22s %11.1f %4s\n", num(h, "index"), str(h, "time"),
		       num(h, "group_id"), str(h, "reason"), num(h, "seq"), tar, num(h, "duration_ms"),
		       is_true(h, "done") ? "yes" : "no");
	}
	if (!n)
		printf("no rekey pushed yet\n");
}

static void print_rekey(const cJSON *r)
{
	if (is_true(r, "pushed"))
		printf("group %.0f: rekey SEQ %.0f pushed\n", num(r, "group_id"), num(r, "seq"));
	else
		printf("group %.0f: keys replaced (no server-member communication: nothing pushed)\n",
		       num(r, "group_id"));
}

static void print_vpns(const cJSON *r)
{
	const cJSON *v;
	printf("VPN monitor: interval %.0f s, threshold %.0f\n", num(r, "interval"), num(r, "threshold"));
	printf("%-16s %-16s %-3s %-3s %-3s %-16s %6s %5s %9s %9s %7s\n", "name", "state", "mon", "opt",
	       "rky", "destination", "misses", "avail", "delay ms", "avg ms", "rekeys");
	cJSON_ArrayForEach(v, obj(r, "vpns")) {
		printf("%-16s %-16s %-3s %-3s %-3s %-16s %6.0f %4.0f%% %9.1f %9.1f %3.0f/%-3.0f\n",
		       str(v, "name"), str(v, "state"), cJSON_IsTrue(obj(v, "monitor")) ? "on" : "off",
		       cJSON_IsTrue(obj(v, "optimized")) ? "on" : "off",
		       cJSON_IsTrue(obj(v, "rekey")) ? "on" : "off", str(v, "destination_ip"),
		       num(v, "consecutive_misses"), num(v, "availability"), num(v, "delay_last_ms"),
		       num(v, "delay_avg_ms"), num(v, "rekey_successes"), num(v, "rekey_attempts"));
		const cJSON *c = obj(v, "child_sa"), *i = obj(v, "ike_sa");
		if (cJSON_IsObject(c) && cJSON_IsObject(i))
			printf("  IKE SA %s %s %s -> %s, rekey in %.0f s; CHILD SA SPIs %s/%s, %.0f/%.0f bytes "
			       "in/out, rekey in %.0f s, expires in %.0f s\n",
			       str(i, "name"), str(i, "state"), str(i, "local"), str(i, "remote"),
			       num(i, "rekey_in"), str(c, "spi_in"), str(c, "spi_out"), num(c, "bytes_in"),
			       num(c, "bytes_out"), num(c, "rekey_in"), num(c, "expires_in"));
		else
			printf("  no installed CHILD SA\n");
	}
}

/* A group ID from the command line: 1..65535. */
static int parse_group(const char *arg, long *id)
{
	char *end;
	errno = 0;
	long v = strtol(arg, &end, 10);
	if (errno || end == arg || *end || v < 1 || v > 65535) {
		fprintf(stderr, "gvpnctl: group ID must be a number from 1 to 65535, not '%s'\n", arg);
		return -1;
	}
	*id = v;
	return 0;
}

/* The words of the command into the request's "cmd" (and "group").
 * Prints the reason and returns -1 on a usage error. */
static int parse_command(int n, char **w, char *cmd, size_t len, long *group)
{
	static const char *const simple[] = { "show status", "show events", "show groups", "show sa",
					      "show rekeys", "show vpns", "reload" };
	char two[64] = "";
	if (n >= 1)
		snprintf(two, sizeof(two), "%s%s%s", w[0], n >= 2 ? " " : "", n >= 2 ? w[1] : "");
	for (size_t i = 0; i < sizeof(simple) / sizeof(simple[0]); i++)
		if (!strcmp(two, simple[i]) && n == (strchr(simple[i], ' ') ? 2 : 1)) {
			str_copy(cmd, simple[i], len);
			return 0;
		}
	if (!strcmp(two, "show registered-members") && (n == 2 || n == 4)) {
		if (n == 4 && strcmp(w[2], "group")) {
			fprintf(stderr, "gvpnctl: usage: show registered-members [group ID]\n");
			return -1;
		}
		if (n == 4 && parse_group(w[3], group) < 0)
			return -1;
		str_copy(cmd, "show registered-members", len);
		return 0;
	}
	if (!strcmp(two, "show registered-members")) {
		fprintf(stderr, "gvpnctl: usage: show registered-members [group ID]\n");
		return -1;
	}
	if (!strcmp(two, "rekey group") || (n == 1 && !strcmp(w[0], "rekey"))) {
		if (n != 3) {
			fprintf(stderr, "gvpnctl: usage: rekey group ID (ID from 1 to 65535)\n");
			return -1;
		}
		if (parse_group(w[2], group) < 0)
			return -1;
		str_copy(cmd, "rekey group", len);
		return 0;
	}
	if (n) {
		fprintf(stderr, "gvpnctl: unknown command '");
		for (int i = 0; i < n; i++)
			fprintf(stderr, "%s%s", i ? " " : "", w[i]);
		fprintf(stderr, "'\n");
	}
	usage(stderr);
	return -1;
}

/* Reads one line; without echo when stdin is a terminal. */
static char *read_secret(const char *prompt)
{
	struct termios old, quiet;
	int tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &old) == 0;
	if (tty) {
		fputs(prompt, stderr);
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	}
	char buf[512];
	char *got = fgets(buf, sizeof(buf), stdin);
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		fputc('\n', stderr);
	}
	if (!got)
		return NULL;
	buf[strcspn(buf, "\r\n")] = '\0';
	char *s = xstrdup(buf);
	explicit_bzero(buf, sizeof(buf));
	return s;
}

static int do_passwd(void)
{
	char *a = read_secret("Password: ");
	if (!a || strlen(a) < 8) {
		fprintf(stderr, "gvpnctl: the password must have at least 8 characters\n");
		secret_free(a);
		return 2;
	}
	if (isatty(STDIN_FILENO)) {
		char *b = read_secret("Again: ");
		int same = b && !strcmp(a, b);
		secret_free(b);
		if (!same) {
			fprintf(stderr, "gvpnctl: the two passwords differ\n");
			secret_free(a);
			return 2;
		}
	}
	char *h = passwd_hash(a, PASSWD_ITERATIONS);
	secret_free(a);
	if (!h)
		return 1;
	printf("%s\n", h);
	free(h);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "since", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *sock = CTL_DEFAULT_SOCKET;
	int json = 0, opt;
	long since = 0;
	while ((opt = getopt_long(argc, argv, "s:jhV", longopts, NULL)) != -1) {
		switch (opt) {
		case 's': sock = optarg; break;
		case 'j': json = 1; break;
		case 'S': {
			char *end;
			since = strtol(optarg, &end, 10);
			if (*end || since < 0) {
				fprintf(stderr, "gvpnctl: --since needs a non-negative number\n");
				return 2;
			}
			break;
		}
		case 'h': usage(stdout); return 0;
		case 'V': printf("gvpnctl %s\n", PACKAGE_VERSION); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc && !strcmp(argv[optind], "passwd"))
		return optind + 1 == argc ? do_passwd() : (usage(stderr), 2);
	char cmd[64];
	long group = 0;
	if (parse_command(argc - optind, argv + optind, cmd, sizeof(cmd), &group) < 0)
		return 2;

	cJSON *req = cJSON_CreateObject();
	cJSON_AddStringToObject(req, "cmd", cmd);
	if (since)
		cJSON_AddNumberToObject(req, "since", (double)since);
	if (group)
		cJSON_AddNumberToObject(req, "group", (double)group);
	char *text = cJSON_PrintUnformatted(req);
	cJSON_Delete(req);
	char *line = xasprintf("%s\n", text);
	free(text);
	char *answer = transact(sock, line);
	free(line);
	if (!answer)
		return 3;

	cJSON *rep = cJSON_Parse(answer);
	if (!cJSON_IsObject(rep)) {
		fprintf(stderr, "gvpnctl: the agent sent something that is not JSON\n");
		free(answer);
		cJSON_Delete(rep);
		return 1;
	}
	int ok = cJSON_IsTrue(obj(rep, "ok"));
	if (json) {
		fputs(answer, stdout);
	} else if (!ok) {
		fprintf(stderr, "gvpnctl: %s\n", str(rep, "error"));
		const cJSON *d;
		cJSON_ArrayForEach(d, obj(rep, "details"))
			if (cJSON_IsString(d))
				fprintf(stderr, "  %s\n", d->valuestring);
	} else if (!strcmp(cmd, "show status")) {
		print_status(obj(rep, "result"));
	} else if (!strcmp(cmd, "show events")) {
		print_events(obj(rep, "result"));
	} else if (!strcmp(cmd, "show groups")) {
		print_groups(obj(rep, "result"));
	} else if (!strcmp(cmd, "show sa")) {
		print_sa(obj(rep, "result"));
	} else if (!strcmp(cmd, "show registered-members")) {
		print_members(obj(rep, "result"));
	} else if (!strcmp(cmd, "show rekeys")) {
		print_rekeys(obj(rep, "result"));
	} else if (!strcmp(cmd, "rekey group")) {
		print_rekey(obj(rep, "result"));
	} else if (!strcmp(cmd, "show vpns")) {
		print_vpns(obj(rep, "result"));
	} else if (!strcmp(cmd, "reload")) {
		printf("configuration reloaded; generation %.0f\n", num(obj(rep, "result"), "generation"));
	}
	free(answer);
	cJSON_Delete(rep);
	return ok ? 0 : 1;
}
