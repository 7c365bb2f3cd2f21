#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# make-secrets.sh: writes the secrets file for the example configuration
# (gvpn-agent.json: the SNMPv3 user "nms" and the pre-shared key
# "g1-members") with fresh random values, so that every installation has
# its own and none is shipped in a package. Used by "make install" and by
# the Debian package's postinst; never overwrites an existing file.
#   make-secrets.sh FILE [GROUP]
# FILE is created mode 0600, or root:GROUP 0640 when GROUP is given.
set -eu
file=$1
group=${2:-}
if [ -e "$file" ]; then
	echo "make-secrets.sh: $file exists; left as it is" >&2
	exit 0
fi
rand() {
	od -An -N18 -tx1 /dev/urandom | tr -d ' \n'
}
tmp="$file.tmp.$$"
trap 'rm -f "$tmp"' EXIT
umask 077
cat >"$tmp" <<JSON
{
  "psk": { "g1-members": "$(rand)" },
  "snmp_users": { "nms": { "auth_passphrase": "$(rand)", "priv_passphrase": "$(rand)" } },
  "web_users": {}
}
JSON
if [ -n "$group" ]; then
	chown "root:$group" "$tmp"
	chmod 0640 "$tmp"
fi
mv "$tmp" "$file"
trap - EXIT
