/* gvpnctl.c: the operator's command line. Sends one request to the
 * agent's control socket and prints the reply for a person, or as JSON
 * with --json. Exit: 0 ok, 1 the command failed, 2 usage, 3 no agent. */
#include "config.h"
#include "ctl_proto.h"
#include "util.h"

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

static void usage(FILE *to)
{
	fprintf(to,
		"Usage: gvpnctl [-s SOCKET] [--json] COMMAND\n"
		"Commands:\n"
		"  show status               version, uptime, config generation, listeners\n"
		"  show events [--since N]   the agent's recent events (ids above N)\n"
		"  show groups               key server groups, TEKs and registered members\n"
		"  show vpns                 monitored VPNs: settings, state, delay, availability\n"
		"  reload                    reload the configuration (like SIGHUP)\n"
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
	if (cJSON_IsTrue(obj(w, "enabled")))
		printf("Web:             %s://%s/\n", cJSON_IsTrue(obj(w, "https")) ? "https" : "http",
		       str(w, "listen"));
	else
		printf("Web:             disabled\n");
	printf("Events:          %.0f published, %.0f kept (capacity %.0f)\n", num(e, "published"),
	       num(e, "kept"), num(e, "capacity"));
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

static void print_groups(const cJSON *r)
{
	const cJSON *g, *m, *t;
	cJSON_ArrayForEach(g, obj(r, "groups")) {
		printf("Group %s (id %.0f): %.0f member%s, SEQ %.0f\n", str(g, "name"), num(g, "group_id"),
		       num(g, "members"), num(g, "members") == 1 ? "" : "s", num(g, "seq"));
		cJSON_ArrayForEach(t, obj(g, "teks"))
			printf("  TEK %-12s SPI %s %s\n", str(t, "name"), str(t, "spi"), str(t, "proposal"));
		cJSON_ArrayForEach(m, obj(g, "registered_members"))
			printf("  member %-22s %-20s registered %s (%.0fx)\n", str(m, "address"),
			       str(m, "identity"), str(m, "registered"), num(m, "registrations"));
	}
	const cJSON *st = obj(r, "stats");
	printf("Registrations %.0f, refused %.0f, dropped %.0f malformed / %.0f unknown SA / %.0f over "
	       "half-open limits, %.0f expired\n",
	       num(st, "registrations"), num(st, "refused"), num(st, "drop_malformed"),
	       num(st, "drop_unknown_sa"), num(st, "drop_half_open"), num(st, "expired"));
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
	char cmd[128] = "";
	for (int i = optind; i < argc; i++) {
		if (strlen(cmd) + strlen(argv[i]) + 2 > sizeof(cmd)) {
			fprintf(stderr, "gvpnctl: command too long\n");
			return 2;
		}
		if (*cmd)
			strcat(cmd, " ");
		strcat(cmd, argv[i]);
	}
	if (strcmp(cmd, "show status") && strcmp(cmd, "show events") && strcmp(cmd, "show groups") &&
	    strcmp(cmd, "show vpns") && strcmp(cmd, "reload")) {
		if (*cmd)
			fprintf(stderr, "gvpnctl: unknown command '%s'\n", cmd);
		usage(stderr);
		return 2;
	}

	cJSON *req = cJSON_CreateObject();
	cJSON_AddStringToObject(req, "cmd", cmd);
	if (since)
		cJSON_AddNumberToObject(req, "since", (double)since);
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
	} else if (!strcmp(cmd, "show vpns")) {
		print_vpns(obj(rep, "result"));
	} else if (!strcmp(cmd, "reload")) {
		printf("configuration reloaded; generation %.0f\n", num(obj(rep, "result"), "generation"));
	}
	free(answer);
	cJSON_Delete(rep);
	return ok ? 0 : 1;
}
