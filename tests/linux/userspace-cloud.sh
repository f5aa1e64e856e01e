# Full Linux userspace on Debian's cloud kernel with its virtio modules: tests/linux/lib/userspace.sh.
. tests/linux/lib/userspace.sh
us_kernel cloud
