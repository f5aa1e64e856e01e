/* SPDX-License-Identifier: MIT */
#ifndef KVMINI_VIRTIO_TRANSPORT_H
#define KVMINI_VIRTIO_TRANSPORT_H

/* Between the transport's registers (mmio.c) and the I/O thread (device.c). */

#include "virtio/virtio.h"

#define VIRTIO_INT_USED_RING 1
#define VIRTIO_INT_CONFIG 2

/* I/O thread, lock held: the resets the vCPUs asked for. */
void virtio_serve_resets(struct virtio_dev *vdev);
/* Sets @why in InterruptStatus and signals the irqfd. */
void virtio_raise_interrupt(struct virtio_dev *vdev, uint32_t why);

#endif
