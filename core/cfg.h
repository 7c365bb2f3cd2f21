/* SPDX-License-Identifier: BSD-2-Clause */
/* cfg.h: the configuration model. One JSON file is the source of truth;
 * cfg_load() validates it into these typed structs and reports every
 * error at once as "file:line:col: key.path: what is wrong (allowed ...)".
 * Secrets (PSKs, SNMPv3 passphrases, web password hashes, metrics tokens)
 * live in a second JSON file that must not be readable by group or others.
 *
 * Ownership: a struct cfg and everything under it belongs to whoever
 * cfg_load() returned it to; cfg_free() releases it (wiping secrets). The
 * model is immutable once loaded: reload builds a new one and swaps. */
#ifndef GVPN_CFG_H
#define GVPN_CFG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "core/cfg_errors.h" /* the list cfg_load() fills */

/* ---- agent ---------------------------------------------------------- */
struct cfg_agent {
	char *state_dir;       /* persistent state (SNMP engine boots, SEQ) */
	char *control_socket;  /* gvpnctl's unix socket */
	char *secrets_file;    /* default: secrets.json beside the config */
	char *pid_file;        /* only written when daemonized; may be NULL */
	int log_level;         /* syslog(3) level */
	long event_history;    /* events kept in the history ring */
};

/* ---- SNMP ----------------------------------------------------------- */
enum cfg_snmp_mode { CFG_SNMP_MASTER, CFG_SNMP_AGENTX };
enum cfg_access { CFG_ACCESS_RO, CFG_ACCESS_RW };
enum cfg_snmp_auth { CFG_AUTH_SHA256, CFG_AUTH_SHA384, CFG_AUTH_SHA512, CFG_AUTH_SHA1, CFG_AUTH_MD5 };
enum cfg_snmp_priv { CFG_PRIV_AES128, CFG_PRIV_AES192, CFG_PRIV_AES256, CFG_PRIV_DES, CFG_PRIV_NONE };

struct cfg_snmp_user {
	char *name;
	int access;            /* enum cfg_access */
	int auth;              /* enum cfg_snmp_auth */
	int priv;              /* enum cfg_snmp_priv */
	/* filled from the secrets file */
	char *auth_passphrase;
	char *priv_passphrase;
};

struct cfg_snmp_community {
	char *name;
	int access;            /* enum cfg_access */
	char *source;          /* "127.0.0.1", "10.0.0.0/8", "default" */
	char **versions; size_t n_versions;      /* "v1", "v2c"; default "v2c" */
	int v1, v2c;           /* from versions */
};

/* Notification kinds (GVPN-AGENT-MIB gvpnNotifications 1-8), in order. */
enum cfg_notify_kind {
	CFG_NOTIFY_MEMBER_REGISTERED, CFG_NOTIFY_MEMBER_REMOVED, CFG_NOTIFY_REKEY_SENT,
	CFG_NOTIFY_KEK_REPLACED, CFG_NOTIFY_TEK_REPLACED, CFG_NOTIFY_TUNNEL_UP, CFG_NOTIFY_TUNNEL_DOWN,
	CFG_NOTIFY_TUNNEL_REKEY_RESULT, CFG_NOTIFY_COUNT
};
extern const char *const cfg_notify_names[]; /* "member_registered", ... */

struct cfg_snmp_target {
	char *address;         /* "udp:127.0.0.1:162" */
	int inform;            /* 0 trap, 1 inform */
	int v2c;               /* 0 SNMPv3 (user), 1 SNMPv2c (community) */
	char *user;            /* a v3_users name */
	char *community;
	long timeout;          /* informs: seconds before a retransmission */
	long retries;          /* informs: retransmissions before the inform is dropped */
	long queue;            /* informs: waiting or unacknowledged at most */
};

struct cfg_snmp {
	int enabled;
	int mode;              /* enum cfg_snmp_mode */
	char **listen; size_t n_listen;          /* "udp:127.0.0.1:1161" */
	char *agentx_socket;
	struct cfg_snmp_user *v3_users; size_t n_v3_users;
	struct cfg_snmp_community *communities; size_t n_communities;
	char **trap_sinks; size_t n_trap_sinks;
	struct cfg_snmp_target *targets; size_t n_targets;
	int notify[CFG_NOTIFY_COUNT];  /* enables (snmp.notifications) */
};

/* ---- syslog ----------------------------------------------------------- */
enum cfg_transport { CFG_TRANSPORT_UDP, CFG_TRANSPORT_TCP, CFG_TRANSPORT_TLS };

struct cfg_collector {
	int transport;         /* enum cfg_transport */
	char *host;
	long port;
	char *ca_file;         /* TLS: CA that signed the collector's certificate */
	long queue;            /* messages queued while the collector is slow */
};

struct cfg_syslog {
	int local;
	int facility;          /* facility code 0..23 (RFC 5424); LOG_DAEMON == 3 << 3 */
	struct cfg_collector *collectors; size_t n_collectors;
};

/* ---- web ---------------------------------------------------------------- */
struct cfg_web {
	int enabled;
	char *listen;          /* "127.0.0.1:8080" */
	char *cert_file;
	char *key_file;
	long session_timeout;  /* seconds */
};

/* ---- group VPN server (GDOI key server) ----------------------------------- */
enum cfg_comm_type { CFG_COMM_UNICAST, CFG_COMM_MULTICAST };
enum cfg_enc { CFG_ENC_3DES_CBC, CFG_ENC_AES128_CBC, CFG_ENC_AES192_CBC, CFG_ENC_AES256_CBC, CFG_ENC_DES_CBC };
enum cfg_hash { CFG_HASH_MD5, CFG_HASH_SHA1, CFG_HASH_SHA256, CFG_HASH_SHA384, CFG_HASH_SHA512 };

struct cfg_smc {               /* server-member communication */
	int communication_type;     /* enum cfg_comm_type */
	int encryption_algorithm;   /* enum cfg_enc; no default */
	int sig_hash_algorithm;     /* enum cfg_hash; no default */
	long lifetime_seconds;      /* KEK lifetime, 300-86400, 3600 */
	long heartbeat;             /* seconds, 300 */
	long number_of_retransmission; /* 0-60, 2 */
	long retransmission_period; /* 2-60 s, 10 */
	char *multicast_group;      /* required for multicast */
	long multicast_port;
	char *multicast_interface;
	long multicast_ttl;
	int membership_rekey;       /* rekey when membership changes (default on) */
	long membership_rekey_delay; /* seconds of quiet before that rekey, 1-3600, 10 */
	long membership_rekey_max_delay; /* ... but no later than this after the first change (6 x delay) */
};

struct cfg_match {
	char *source;          /* prefix "10.0.0.0/8" */
	char *destination;
	long protocol;         /* 0 = any */
	long source_port;      /* 0 = any */
	long destination_port;
};

struct cfg_ipsec_sa {
	char *name;
	long lifetime_seconds;      /* TEK lifetime */
	int proposal;               /* index into cfg_proposal_names */
	struct cfg_match match;
};

struct cfg_member {
	char *address;         /* peer address or prefix, or NULL */
	char *identity;        /* IKE identity, or NULL */
	char *psk;             /* secret name */
	char *psk_value;       /* filled from the secrets file */
};

/* Wire profiles (gdoi.h enum gdoi_profile has the same values). */
enum cfg_wire_profile { CFG_WIRE_RFC6407, CFG_WIRE_GDOID };
enum cfg_byte_order { CFG_BIG_ENDIAN, CFG_LITTLE_ENDIAN };

struct cfg_group {
	char *name;
	long group_id;                  /* 1-65535 */
	int wire_profile;               /* enum cfg_wire_profile */
	int key_id_byte_order;          /* enum cfg_byte_order: group_id in a KEY_ID */
	int selector_byte_order;        /* enum cfg_byte_order: SA TEK addresses and ports */
	char **pull_ids; size_t n_pull_ids; /* other IDs a PULL may name the group by */
	long activation_time_delay;     /* 10-900, 15 */
	long anti_replay_time_window;   /* 60-360, 100 */
	struct cfg_smc *smc;            /* NULL: not configured */
	struct cfg_ipsec_sa *ipsec_sa; size_t n_ipsec_sa;
	struct cfg_member *members; size_t n_members;
};

/* An IKE phase 1 proposal the key server accepts. */
struct cfg_ike_proposal {
	int encryption;        /* enum cfg_enc */
	int hash;              /* enum cfg_hash */
	int dh_group;          /* index into cfg_dh_names */
	long lifetime_seconds;
};

struct cfg_gks {
	char *listen;          /* "127.0.0.1:848" */
	struct cfg_ike_proposal *ike_proposals; size_t n_ike_proposals; /* defaults filled in */
	long max_half_open;            /* phase 1 exchanges in progress, in total */
	long max_half_open_per_peer;   /* ... from one address */
	long half_open_timeout;        /* seconds */
	char *debug_pcap;      /* write decrypted messages here (debugging) */
	char *signing_key;     /* PEM RSA key that signs pushes; NULL: state_dir/gks-signing-key.pem */
	struct cfg_group *groups; size_t n_groups;
};

/* ---- VPN monitor ---------------------------------------------------------- */
struct cfg_vpn {
	char *name;            /* strongSwan child SA name */
	int monitor;
	int optimized;
	int rekey;
	char *source_interface;    /* NULL: the outgoing interface */
	char *destination_ip;      /* NULL: the remote gateway */
};

struct cfg_mon {
	long interval;         /* 2-3600, 10 */
	long threshold;        /* 1-65536, 10 */
	char *vici_socket;
	struct cfg_vpn *vpns; size_t n_vpns;
};

/* ---- secrets ------------------------------------------------------------- */
struct cfg_secret { char *name; char *value; };
struct cfg_snmp_secret { char *name; char *auth_passphrase; char *priv_passphrase; };

#define CFG_METRICS_TOKEN_MIN 32

struct cfg_secrets {
	int loaded;            /* 0 when the file does not exist */
	struct cfg_secret *psk; size_t n_psk;
	struct cfg_snmp_secret *snmp_users; size_t n_snmp_users;
	struct cfg_secret *web_users; size_t n_web_users;
	/* bearer tokens for GET /metrics: name -> token (at least 32 characters) */
	struct cfg_secret *metrics_tokens; size_t n_metrics_tokens;
};

/* ---- the whole model ------------------------------------------------------- */
struct cfg {
	char *path;            /* absolute path of the file it came from */
	char *dir;             /* its directory; relative paths resolve here */
	struct cfg_agent agent;
	struct cfg_snmp snmp;
	struct cfg_syslog syslog;
	struct cfg_web web;
	struct cfg_gks *gks;   /* NULL: no key server */
	struct cfg_mon *mon;   /* NULL: no tunnel monitor */
	struct cfg_secrets secrets;
};

/* Loads and validates path (and the secrets file it names). Returns the
 * model, or NULL with every problem in errs. */
struct cfg *cfg_load(const char *path, struct cfg_errors *errs);
/* Same, from text in memory; path names it in messages and anchors
 * relative paths. */
struct cfg *cfg_load_text(const char *path, const char *text, size_t len, struct cfg_errors *errs);
void cfg_free(struct cfg *c);

/* Secrets alone (used by cfg_load; exposed for tests and gvpn-member). */
int cfg_secrets_load(const char *path, struct cfg_secrets *out, struct cfg_errors *errs);
/* Whether a secrets file with this mode and owner may be read by an agent
 * running as group egid: 0600 or stricter, or 0640 owned by root with
 * group egid. */
int cfg_secrets_mode_ok(const struct stat *st, gid_t egid);
void cfg_secrets_free(struct cfg_secrets *s);
const char *cfg_secret_psk(const struct cfg_secrets *s, const char *name);

/* Names used in the file for enum values (for printing the model). */
extern const char *const cfg_proposal_names[];
const char *cfg_enum_name(const char *const *names, int v);
extern const char *const cfg_enc_names[];
extern const char *const cfg_hash_names[];
extern const char *const cfg_dh_names[];
extern const int cfg_dh_numbers[];    /* IKE group numbers of cfg_dh_names */
extern const char *const cfg_comm_type_names[];
extern const char *const cfg_wire_profile_names[];
extern const char *const cfg_byte_order_names[];
extern const char *const cfg_transport_names[];
extern const char *const cfg_snmp_mode_names[];
extern const char *const cfg_access_names[];

/* Helpers shared with the web page and SNMP SET validation. */
int cfg_parse_hostport(const char *s, char *host, size_t hostlen, long *port);
int cfg_valid_ip(const char *s);
int cfg_valid_prefix(const char *s);
/* 1 when addr (text) equals a, or lies in a when a is a prefix. */
int cfg_addr_match(const char *a, const char *addr);
/* A pull_ids entry: an IPv4 address, prefix or range (a.b.c.d-e.f.g.h),
 * or a name (user@domain or a domain name). */
int cfg_valid_pull_id(const char *s);

#endif
