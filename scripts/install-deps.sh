#!/usr/bin/env bash
# Installs what building, testing and the guest kit need, from Debian 12's
# apt. Idempotent: installs only what is missing.
set -euo pipefail
pkgs=(
	build-essential clang clang-format libcmocka-dev liburing-dev libseccomp-dev libjansson-dev libxml2-dev pkg-config # build
	qemu-system-x86 python3 util-linux fio           # differential tests, bench
	linux-source-6.1 bc bison flex libelf-dev libssl-dev cpio # guest kernel
	busybox-static e2fsprogs kmod                    # guest userspace, root disk, test bed
	dnsmasq-base iproute2 iputils-ping               # DHCP on a tap, ping, for Linux tests
	curl                                             # the API tests speak to its socket
	libvirt-clients                                  # virt-xml-validate for dumpxml
)
missing=()
for p in "${pkgs[@]}"; do
	dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	[ "$(id -u)" = 0 ] || { echo "run as root: apt-get install ${missing[*]}" >&2; exit 1; }
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
