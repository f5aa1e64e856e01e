# Full Linux userspace on the minimal kernel (bzImage from linux-source) with the busybox initramfs: tests/linux/lib/userspace.sh.
. tests/linux/lib/userspace.sh
us_kernel minimal
