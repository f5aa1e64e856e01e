#!/usr/bin/env bash
# Runs every kvmini test and ends with "N passed, N failed, N skipped".
#
#   tests/run.sh [all|host|kvm]
#
# host: unit tests, style and fuzzing, on this host. kvm: the suites that
# need KVM (probe guests, QEMU differentials, the manager, real Linux).
# all (the default) runs both; the KVM suites run here on hardware KVM, and
# otherwise inside the nested test bed (scripts/kvm-bed), whose counts are
# added to this run's. KVMINI_BED=never|always overrides that choice;
# KVMINI_HOST_SUITES and KVMINI_KVM_SUITES narrow the suites (make asan).
set -u
cd "$(dirname "${BASH_SOURCE[0]}")/.."
KVMINI=${KVMINI:-./kvmini}
UNIT=${UNIT:-build/unit-tests}
PROBES=${PROBES:-build/probe}
KVMINI_TESTHOOKS=${KVMINI_TESTHOOKS:-build/testhooks/kvmini}
export KVMINI_CACHE=${KVMINI_CACHE:-$(guest/build.sh path)}
mode=${1:-all}
host_suites=${KVMINI_HOST_SUITES-unit tests/style.sh tests/fuzz.sh}
kvm_suites=${KVMINI_KVM_SUITES-$(echo tests/kvm/*.sh tests/linux/*.sh)}
. tests/lib.sh

run_unit() {
	local unit_log=$WORK/unit.log unit_rc line
	CMOCKA_MESSAGE_OUTPUT=TAP "$UNIT" >"$unit_log" 2>"$WORK/unit.err"
	unit_rc=$?
	while read -r line; do
		case "$line" in
		"ok "*) pass "unit: ${line#ok * - }" ;;
		"not ok "*) fail "unit: ${line#not ok * - }" "assertion failed" ;;
		esac
	done <"$unit_log"
	if [ $unit_rc != 0 ] && ! grep -q '^not ok' "$unit_log"; then
		fail "unit tests" "exited $unit_rc without reporting a failure" "$WORK/unit.err"
	fi
}

run_suites() {
	local suite
	for suite in "$@"; do
		echo "== $suite"
		[ -n "${KVMINI_BED_STATE:-}" ] && echo "$suite" >"$KVMINI_BED_STATE/current"
		if [ "$suite" = unit ]; then
			run_unit
		else
			. "$suite"
		fi
	done
}

# The KVM suites, inside the bed: its counts come back through a file in
# this run's work directory, which the bed shares read-write.
run_kvm_in_bed() {
	local why=$1 counts=$WORK/bed-counts bed_rc p f s
	echo "== KVM suites in the nested test bed: $why"
	echo "   (QEMU TCG with emulated AMD SVM runs Debian's 6.1 kernel, whose kvm_amd gives /dev/kvm)"
	scripts/kvm-bed -w "$WORK" -- env KVMINI_COUNTS="$counts" KVMINI_KVM_SUITES="$kvm_suites" \
		tests/run.sh kvm
	bed_rc=$?
	if read -r p f s <"$counts" 2>/dev/null; then
		passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
	fi
	if [ $bed_rc != 0 ] && [ $bed_rc != 1 ]; then
		fail "nested test bed" "scripts/kvm-bed exited $bed_rc before the KVM suites finished"
	fi
}

case "$mode" in
host) run_suites $host_suites ;;
kvm) run_suites $kvm_suites ;;
all)
	run_suites $host_suites
	bed=${KVMINI_BED:-auto}
	if [ "$bed" = never ] || { [ "$bed" = auto ] && scripts/kvm-usable; }; then
		run_suites $kvm_suites
	else
		why=$(scripts/kvm-usable --why)
		run_kvm_in_bed "${why:-KVMINI_BED=always}"
	fi
	;;
*) echo "usage: tests/run.sh [all|host|kvm]" >&2; exit 2 ;;
esac

echo
echo "$passed passed, $failed failed, $skipped skipped"
[ -n "${KVMINI_COUNTS:-}" ] && echo "$passed $failed $skipped" >"$KVMINI_COUNTS"
[ $failed = 0 ]
