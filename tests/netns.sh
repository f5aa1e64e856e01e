#!/usr/bin/env bash
# Runs a command in a fresh network namespace holding a tap (tap0,
# 172.30.0.1/24) with dnsmasq answering DHCP on it. Nothing leaves the
# namespace. usage: tests/netns.sh LEASES_FILE COMMAND...
set -eu
leases=$1
shift
ip link set lo up
ip tuntap add dev tap0 mode tap vnet_hdr
ip addr add 172.30.0.1/24 dev tap0
ip link set tap0 mtu 9000 up
dnsmasq --keep-in-foreground --interface=tap0 --bind-interfaces --except-interface=lo \
	--dhcp-range=172.30.0.10,172.30.0.20,1h --port=0 --no-resolv --no-hosts \
	--dhcp-leasefile="$leases" --pid-file= 2>/dev/null &
dns=$!
trap 'kill $dns 2>/dev/null' EXIT
set +e
"$@"
