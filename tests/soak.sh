#!/usr/bin/env bash
# The long soak (make soak): tests/kvm/soak.sh with 1000 boots and 50 VMs.
set -u
cd "$(dirname "${BASH_SOURCE[0]}")/.."
KVMINI=${KVMINI:-./kvmini}
PROBES=${PROBES:-build/probe}
. tests/lib.sh
SOAK_BOOTS=${SOAK_BOOTS:-1000} SOAK_VMS=${SOAK_VMS:-50}
. tests/kvm/soak.sh
echo "$passed passed, $failed failed, $skipped skipped"
[ $failed = 0 ]
