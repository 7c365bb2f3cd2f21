# SPDX-License-Identifier: BSD-2-Clause
# monitor-strongswan.sh: the VPN monitor against a real IPsec tunnel. Two
# strongSwan charon instances in network namespaces (ESP in userspace,
# kernel-libipsec), the agent in the first watching child SA "tun" with
# ICMP probes through the tunnel.
#   rekey on:  break the path (drop UDP 4500) -> down after interval x
#              threshold, phase 2 SA deactivated; restore it -> the agent
#              re-initiates, the tunnel is up with new SPIs, "rekey
#              succeeded" logged.
#   rekey off: break it again -> down, probing stops, nothing re-initiates;
#              restore it -> it stays down.
. "$srcdir/tests/lib/tap.sh"
[ "$(id -u)" -eq 0 ] || unmet "network namespaces need root"
need ip iptables swanctl /usr/lib/ipsec/charon
tap_setup
plan 19
A=gvpnA$$; B=gvpnB$$
TAP_NETNS=$A
cleanup_more() { ip netns del $B 2>/dev/null; }
trap 'cleanup_more; tap_cleanup' EXIT
ip netns add $A && ip netns add $B || unmet "cannot create network namespaces"
ip link add gv$$a netns $A type veth peer name gv$$b netns $B
for X in $A $B; do ip -n $X link set lo up; done
ip -n $A addr add 192.0.2.1/24 dev gv$$a; ip -n $A link set gv$$a up
ip -n $B addr add 192.0.2.2/24 dev gv$$b; ip -n $B link set gv$$b up
ip -n $A addr add 198.51.100.1/32 dev lo
ip -n $B addr add 198.51.100.2/32 dev lo

D=$TAP_TMP/sw
for X in A B; do
	mkdir -p $D/$X/run
	sed "s|@DIR@|$D|g" "$srcdir/tests/system/strongswan/strongswan-$X.conf.in" >$D/$X/strongswan.conf
	cp "$srcdir/tests/system/strongswan/swanctl-$X.conf" $D/$X/swanctl.conf
done
start_charon() { # X NS
	ip netns exec $2 sh -c "mount --bind $D/$1/run /run && STRONGSWAN_CONF=$D/$1/strongswan.conf exec /usr/lib/ipsec/charon" \
		>$D/$1/charon.out 2>&1 &
	tap_track_pid $!
	wait_for 10 test -S $D/$1/charon.vici
}
sw() { local X=$1; shift; STRONGSWAN_CONF=$D/$X/strongswan.conf swanctl "$@" --uri unix://$D/$X/charon.vici; }
# Every later step needs the tunnel: without it, bail out (the steps
# that expect "down" or "nothing re-initiates" would pass for nothing).
bail() { echo "Bail out! $*"; cat $D/A/charon.out $D/B/charon.out 2>/dev/null | tail -40 | sed 's/^/# /'; exit 1; }
ok "charon A starts" start_charon A $A || bail "charon A did not start"
ok "charon B starts" start_charon B $B || bail "charon B did not start"
sw A --load-all --file $D/A/swanctl.conf >/dev/null 2>&1
sw B --load-all --file $D/B/swanctl.conf >/dev/null 2>&1
ok "the tunnel comes up" sw A --initiate --child tun --timeout 10 || bail "the tunnel never came up"
spi_in() { sw A --list-sas 2>/dev/null | sed -n 's/^ *in  *\([0-9a-f]\{8\}\),.*/\1/p' | head -1; }
spi1=$(spi_in)
[ -n "$spi1" ] || bail "no CHILD SA SPI listed by swanctl"

agent_write_config "\"vpn_monitor\": { \"interval\": 2, \"threshold\": 3, \"vici_socket\": \"unix://$D/A/charon.vici\",
    \"vpns\": [ { \"name\": \"tun\", \"monitor\": true, \"rekey\": true, \"source_interface\": \"lo\",
                  \"destination_ip\": \"198.51.100.2\" } ] }"
AGENT_NETNS=$A
ok "the agent starts in namespace A" agent_start || { cat "$TAP_TMP/agent.log"; exit 1; }
vstate() { ctl --json show vpns | grep -o '"state":"[a-zA-Z]*"' | head -1 | cut -d'"' -f4; }
state_is() { test "$(vstate)" = "$1"; }
ok "the probes through the tunnel answer: up" wait_for 10 state_is up || bail "the agent never saw the tunnel up"
like "$(ctl show vpns)" "IKE SA tun ESTABLISHED 192.0.2.1 -> 192.0.2.2, rekey in [0-9]+ s; CHILD SA SPIs [0-9a-f]{8}/[0-9a-f]{8}, .*expires in [0-9]+ s" \
	"gvpnctl show vpns has the IKE and CHILD SA lifetimes"


# Break the path: ESP and IKE travel in UDP 4500 (NAT-T with libipsec).
ip netns exec $B iptables -A INPUT -p udp --dport 4500 -j DROP
t0=$(date +%s)
ok "with the path broken the tunnel goes down" wait_for 20 state_is down
diag "down after $(( $(date +%s) - t0 )) s (interval 2 s x threshold 3)"
log=$(cat "$TAP_TMP/agent.log")
like "$log" "deactivating the phase 2 SA of tun \(VICI terminate\)" "up->down deactivates the phase 2 SA"
ip netns exec $B iptables -D INPUT -p udp --dport 4500 -j DROP
ok "with the path back and rekey on, the agent re-initiates and the tunnel is up" wait_for 30 state_is up
spi2=$(spi_in)
ok "the new child SA has new SPIs ($spi1 -> $spi2)" test -n "$spi2" -a "$spi2" != "$spi1"
like "$(ctl show events)" "TUNNEL_REKEY_SUCCEEDED +VPN tun rekey succeeded" "\"rekey succeeded\" is an event"
like "$(ctl --json show events)" "\"msgid\":\"TUNNEL_REKEY_SUCCEEDED\"[^}]*\"params\":\{[^}]*\"spi_in\":\"$spi2\"[^}]*\"child_rekey_in\":\"[0-9]+\",\"child_expires_in\":\"[0-9]+\",\"ike_rekey_in\":\"[0-9]+\"" \
	"the event carries the new SPI and the SA lifetimes"
like "$(cat "$TAP_TMP/agent.log")" "renegotiating tun \(VICI initiate\)" "the agent asked charon to initiate"
like "$(cat "$TAP_TMP/agent.log")" "strongSwan: child SA tun up" "charon's child-updown events reach the agent over VICI"

# rekey off, applied live by a reload.
sed -i 's/"rekey": true/"rekey": false/' "$CONF"
ok "rekey turned off by a reload" ctl reload
ip netns exec $B iptables -A INPUT -p udp --dport 4500 -j DROP
ok "rekey off: the tunnel goes down" wait_for 20 state_is down
n_init=$(grep -c "renegotiating tun" "$TAP_TMP/agent.log")
ip netns exec $B iptables -D INPUT -p udp --dport 4500 -j DROP
sleep 8
is "$(vstate)" "down" "rekey off: with the path back it stays down"
is "$(grep -c "renegotiating tun" "$TAP_TMP/agent.log")" "$n_init" "rekey off: nothing re-initiates"
agent_stop
is "$AGENT_RC" 0 "SIGTERM: exit 0"
tap_done
