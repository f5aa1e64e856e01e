#!/usr/bin/env bash
# Builds the Linux guest kit from Debian packages into a cache outside the
# source tree. Everything here is reproducible from apt; nothing binary is
# committed.
#
#   guest/build.sh [kernel|initramfs|rootfs|cloud|all|path]
#
# Outputs (under $KVMINI_CACHE, default build/cache in the source tree):
#   linux-<hash>/vmlinux, linux-<hash>/bzImage   minimal kernel (PVH + bzImage)
#   initramfs.cpio.gz                            busybox-static initramfs
#   rootfs.ext4                                  busybox-static ext4 root disk
#   cloud/vmlinuz, cloud/initramfs.cpio.gz       Debian's cloud kernel + its
#                                                virtio modules
# and symlinks kernel-vmlinux, kernel-bzImage pointing at the current build.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${KVMINI_CACHE:-$(dirname "$here")/build/cache}
jobs=${JOBS:-$(nproc)}
mkdir -p "$cache"

log() { printf 'guest/build: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

need_pkg() {
	dpkg -s "$1" >/dev/null 2>&1 && return
	[ "$(id -u)" = 0 ] || die "package $1 is missing; run: apt-get install $1"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$1" >/dev/null
}

build_kernel() {
	need_pkg linux-source-6.1
	local tarball=/usr/src/linux-source-6.1.tar.xz
	local srcver key out src
	srcver=$(dpkg-query -W -f='${Version}' linux-source-6.1)
	key=$({ cat "$here/linux/kernel.config"; echo "$srcver"; } | sha256sum | cut -c1-12)
	out=$cache/linux-$key
	if [ -f "$out/vmlinux" ] && [ -f "$out/bzImage" ]; then
		log "kernel cached: $out"
	else
		src=$cache/linux-source-$srcver
		if [ ! -d "$src" ]; then
			log "unpacking $tarball"
			rm -rf "$src.tmp" && mkdir -p "$src.tmp"
			tar -xf "$tarball" -C "$src.tmp" --strip-components=1
			mv "$src.tmp" "$src"
		fi
		log "configuring (tinyconfig + guest/linux/kernel.config)"
		make -s -C "$src" ARCH=x86_64 tinyconfig >/dev/null
		(cd "$src" && ./scripts/kconfig/merge_config.sh -m .config \
			"$here/linux/kernel.config" >/dev/null)
		make -s -C "$src" ARCH=x86_64 olddefconfig >/dev/null
		check_config "$src/.config"
		log "building kernel with $jobs jobs (about 8 minutes on 2 cores)"
		make -s -C "$src" ARCH=x86_64 -j"$jobs" vmlinux bzImage >/dev/null
		mkdir -p "$out.tmp"
		cp "$src/vmlinux" "$src/arch/x86/boot/bzImage" "$src/.config" "$out.tmp/"
		rm -rf "$out" && mv "$out.tmp" "$out"
	fi
	ln -sfn "$out/vmlinux" "$cache/kernel-vmlinux"
	ln -sfn "$out/bzImage" "$cache/kernel-bzImage"
}

# Every "CONFIG_X=y" and "# CONFIG_X is not set" line of the fragment must
# survive olddefconfig; a silently dropped option would make the boot test
# prove less than it claims.
check_config() {
	local config=$1 line missing=0
	while IFS= read -r line; do
		case "$line" in
		CONFIG_*=*) grep -qxF "$line" "$config" || { log "dropped: $line"; missing=1; } ;;
		"# CONFIG_"*" is not set")
			local opt=${line#\# }
			opt=${opt%% *}
			if grep -q "^$opt=" "$config"; then
				log "not disabled: $opt"
				missing=1
			fi
			;;
		esac
	done <"$here/linux/kernel.config"
	[ $missing = 0 ] || die "kernel config fragment did not apply"
}

# A host binary and the shared libraries it loads, at the same paths.
copy_with_libs() { # BINARY TREE
	local lib
	mkdir -p "$2$(dirname "$1")"
	cp "$1" "$2$1"
	for lib in $(ldd "$1" | grep -o '/[^ ]*'); do
		mkdir -p "$2$(dirname "$lib")"
		cp -L "$lib" "$2$lib"
	done
}

# The guest userspace: busybox (its init reads guest/linux/rootfs/etc/
# inittab), the guest test script, mkfs.ext4 from the host's e2fsprogs and
# a static vsock helper.
make_busybox_tree() {
	need_pkg busybox-static
	need_pkg e2fsprogs
	local dir=$1
	rm -rf "$dir" && mkdir -p "$dir"/{bin,sbin,proc,sys,dev,etc,tmp,mnt,root}
	cp /bin/busybox "$dir/bin/busybox"
	local applet
	for applet in $(/bin/busybox --list); do
		[ -e "$dir/bin/$applet" ] || ln -s busybox "$dir/bin/$applet"
	done
	ln -s bin/busybox "$dir/init"
	cp -r "$here/linux/rootfs/." "$dir/"
	cp "$here/linux/test.sh" "$dir/test.sh"
	copy_with_libs /sbin/mke2fs "$dir"
	ln -s mke2fs "$dir/sbin/mkfs.ext4"
	gcc -static -O2 -Wall -Wextra -Werror -o "$dir/bin/vsock-pipe" "$here/linux/vsock-pipe.c"
}

build_initramfs() {
	need_pkg cpio
	local tree=$cache/initramfs-tree
	make_busybox_tree "$tree"
	(cd "$tree" && find . | cpio -o -H newc --quiet | gzip -9) >"$cache/initramfs.cpio.gz.tmp"
	mv "$cache/initramfs.cpio.gz.tmp" "$cache/initramfs.cpio.gz"
	log "initramfs: $cache/initramfs.cpio.gz"
}

# Debian's stock cloud kernel: its virtio drivers are
# modules, found through ACPI (it lacks VIRTIO_MMIO_CMDLINE_DEVICES), so
# its initramfs carries them, indexed with depmod -b, and /etc/rc loads them.
build_cloud() {
	need_pkg busybox-static
	need_pkg cpio
	local dir=$cache/cloud pkg ver root tree
	pkg=$(apt-cache search --names-only '^linux-image-[0-9.]+-[0-9]+-cloud-amd64-unsigned$' |
		awk '{ print $1 }' | sort -V | tail -1)
	[ -n "$pkg" ] || die "no linux-image-*-cloud-amd64-unsigned package in apt (apt-get update?)"
	mkdir -p "$dir"
	if ! ls "$dir/$pkg"_*.deb >/dev/null 2>&1; then
		log "downloading $pkg"
		(cd "$dir" && apt-get download -o APT::Sandbox::User=root "$pkg" >/dev/null) || die "apt-get download $pkg failed"
	fi
	root=$dir/root
	rm -rf "$root" && dpkg -x "$dir/$pkg"_*.deb "$root"
	ver=$(ls "$root/lib/modules" | head -1)
	tree=$dir/initramfs-tree
	make_busybox_tree "$tree"
	local mod m
	mkdir -p "$tree/lib/modules/$ver"
	for m in virtio virtio_ring virtio_mmio virtio_blk virtio_net net_failover failover \
		virtio-rng virtio_console rng-core ext4 jbd2 mbcache crc16 crc32c_generic \
		crc32c-intel libcrc32c vmw_vsock_virtio_transport vmw_vsock_virtio_transport_common \
		vsock af_packet; do
		mod=$(find "$root/lib/modules/$ver" -name "$m.ko*" | head -1)
		[ -n "$mod" ] || continue
		mkdir -p "$tree/$(dirname "${mod#$root/}")"
		cp "$mod" "$tree/${mod#$root/}"
	done
	cp "$root/lib/modules/$ver"/modules.{order,builtin,builtin.modinfo} "$tree/lib/modules/$ver/" 2>/dev/null || true
	depmod -b "$tree" "$ver"
	# /etc/rc loads the virtio stack through this.
	cat >"$tree/etc/modules" <<'EOF2'
#!/bin/sh
for m in virtio_mmio virtio_blk virtio_net virtio-rng ext4 af_packet \
	vmw_vsock_virtio_transport; do
	modprobe $m 2>/dev/null
done
EOF2
	chmod 755 "$tree/etc/modules"
	(cd "$tree" && find . | cpio -o -H newc --quiet | gzip -6) >"$dir/initramfs.cpio.gz"
	cp "$root/boot/vmlinuz-$ver" "$dir/vmlinuz"
	log "cloud kernel $ver: $dir/vmlinuz with $dir/initramfs.cpio.gz"
}

build_rootfs() {
	need_pkg e2fsprogs
	local tree=$cache/rootfs-tree
	make_busybox_tree "$tree"
	rm -f "$cache/rootfs.ext4.tmp"
	# Lazy init off: no background zeroing competes with the tests' I/O.
	mke2fs -q -t ext4 -d "$tree" -E lazy_itable_init=0,lazy_journal_init=0 \
		-L kvmini-root "$cache/rootfs.ext4.tmp" 64M
	mv "$cache/rootfs.ext4.tmp" "$cache/rootfs.ext4"
	log "rootfs: $cache/rootfs.ext4"
}

case "${1:-all}" in
kernel) build_kernel ;;
initramfs) build_initramfs ;;
cloud) build_cloud ;;
rootfs) build_rootfs ;;
all) build_kernel && build_initramfs && build_rootfs && build_cloud ;;
path) echo "$cache" ;;
*) die "usage: guest/build.sh [kernel|initramfs|rootfs|cloud|all|path]" ;;
esac
