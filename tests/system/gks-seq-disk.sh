# SPDX-License-Identifier: BSD-2-Clause
# gks-seq-disk.sh: SEQ numbers are never used without a saved
# reservation. The agent's state directory is a small tmpfs this test
# mounts; a real gvpn-member stays registered. With the reservation used
# up and the disk full, a rekey is held (no push leaves, counted, an
# event), and goes out, with the next SEQ, once the disk has room; after
# a restart SEQ goes on above everything sent. Needs root (mount).
. "$srcdir/tests/lib/tap.sh"
[ "$(id -u)" -eq 0 ] || skip_all "mounting a tmpfs needs root"
need jq mount umount
tap_setup
plan 11
agent_write_gks_config
sed -i 's/"sig_hash_algorithm": "sha-256" }/"sig_hash_algorithm": "sha-256", "membership_rekey": false }/' "$CONF"
STATE=$TAP_TMP/state
mkdir -p "$STATE"
mount -t tmpfs -o size=256k tmpfs "$STATE" || { echo "Bail out! cannot mount a tmpfs"; exit 1; }
seq_cleanup() { tap_cleanup; [ "$BASHPID" = "$TAP_MAIN_PID" ] || return 0; umount "$STATE" 2>/dev/null; }
trap seq_cleanup EXIT
ok "the agent starts with its state on a 256 KiB tmpfs" agent_start || { cat "$TAP_TMP/agent.log"; exit 1; }
"$top_builddir/gvpn-member" --server "127.0.0.1:$GKS_PORT" --group 1 --psk-file "$TAP_TMP/k.psk" --local 127.0.8.1 \
	--ike aes256-sha256-ecp256 --stay --json-events >"$TAP_TMP/m.log" 2>&1 &
MPID=$!
tap_track_pid $MPID
ok "a member registers and stays" wait_for 20 grep -q '"event":"registered"' "$TAP_TMP/m.log"
gstat() { ctl --json show groups | jq -r ".result.stats.$1"; }
pushes() { grep -c '"event":"push_received"' "$TAP_TMP/m.log"; }
# Use up the first reservation (64): each rekey is acknowledged first.
for i in $(seq 1 64); do
	ctl rekey group 1 >/dev/null
	wait_for 10 sh -c "[ \$(grep -c '\"event\":\"ack_sent\"' '$TAP_TMP/m.log') -ge $i ]" || break
done
is "$(pushes)" 64 "64 rekeys reached the member (SEQ 1..64, the first reservation)"
like "$(tr -d ' \n\t' <"$STATE/gks-seq.json")" '"1":64' "gks-seq.json holds the reservation 64"
# The disk fills up: the next reservation cannot be saved.
dd if=/dev/zero of="$STATE/fill" bs=4k 2>/dev/null
ctl rekey group 1 >/dev/null
sleep 2
is "$(pushes)" 64 "disk full: the rekey push is held, none reaches the member"
is "$(gstat pushes_held) $(gstat seq_save_errors)" "1 1" "the held push and the failed save are counted"
like "$(ctl show events)" "REKEY_STARTED .*rekey \\(manual\\) held: no SEQ can be saved" "a REKEY_STARTED event says the rekey is held"
# Room again: the held push leaves within the 5 s retry, with SEQ 65.
rm -f "$STATE/fill"
ok "with room on the disk the held push leaves" wait_for 15 sh -c "[ \$(grep -c '\"event\":\"push_received\"' '$TAP_TMP/m.log') -ge 65 ]"
like "$(grep '"event":"push_received"' "$TAP_TMP/m.log" | tail -1)" '"seq":65' "... with SEQ 65, above every SEQ sent"
agent_stop
agent_start || cat "$TAP_TMP/agent.log"
ctl rekey group 1 >/dev/null
like "$(ctl show groups)" 'SEQ 129,' "after a restart SEQ goes on above the saved reservation (128): 129"
agent_stop
is "$AGENT_RC" 0 "SIGTERM: exit 0"
tap_done
