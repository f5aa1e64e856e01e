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
		local suite_t0=$SECONDS
		if [ "$suite" = unit ]; then
			run_unit
		else
			. "$suite"
		fi
		echo "   ($suite: $((SECONDS - suite_t0)) s)"
		# After each suite, so that a bed that dies keeps what ran.
		if [ -n "${KVMINI_COUNTS:-}" ]; then
			echo "$passed $failed $skipped" >"$KVMINI_COUNTS"
			echo "$suite" >>"$KVMINI_COUNTS.done"
		fi
	done
}

# The KVM suites, inside the bed: one bed of one vCPU per host core, each
# with a share of the suites (largest first, each to the least loaded
# bed). Their counts come back through files in this run's work directory,
# which the beds share read-write. The first bed streams its output; the
# others' follows when they end.
suite_weight() {
	case "$1" in
	# Roughly the minutes each takes in the bed; the others take about one.
	tests/linux/userspace-*.sh) echo 10 ;;
	tests/kvm/manager.sh) echo 5 ;;
	tests/kvm/soak.sh) echo 3 ;;
	tests/kvm/vsock.sh | tests/kvm/virtio.sh) echo 2 ;;
	*) echo 1 ;;
	esac
}

run_kvm_in_bed() {
	local why=$1 beds=${KVMINI_BEDS:-$(nproc)} i suite best rc rest name try
	local -a share load pids
	echo "== KVM suites in the nested test bed: $why"
	echo "   (QEMU TCG with emulated AMD SVM runs Debian's 6.1 kernel, whose kvm_amd gives /dev/kvm;"
	echo "    $beds beds of one vCPU each)"
	for ((i = 0; i < beds; i++)); do share[i]="" load[i]=0; done
	for suite in $(for suite in $kvm_suites; do echo "$(suite_weight $suite) $suite"; done |
		sort -rn -s -k1,1 | cut -d' ' -f2); do
		best=0
		for ((i = 1; i < beds; i++)); do [ ${load[i]} -lt ${load[best]} ] && best=$i; done
		share[best]+=" $suite"
		load[best]=$((load[best] + $(suite_weight $suite)))
	done
	for ((i = 0; i < beds; i++)); do
		[ -n "${share[i]}" ] || continue
		if [ $i = 0 ]; then
			bed_run $i "${share[i]}" &
		else
			bed_run $i "${share[i]}" >"$WORK/bed.$i.log" 2>&1 &
		fi
		pids[i]=$!
	done
	for ((i = 0; i < beds; i++)); do
		[ -n "${pids[i]:-}" ] || continue
		wait ${pids[i]}
		rc=$?
		[ $i -gt 0 ] && { echo "== the output of bed $i"; cat "$WORK/bed.$i.log"; }
		bed_counts $i
		# L1 hung: QEMU's TCG can leave it inside a spinning L2 guest
		# (README). Up to three times, a new bed runs what was left, the
		# suite that hung included; each hang is a loud skip, a fourth
		# fails.
		name=$i
		for try in 2 3 4; do
			[ $rc = 123 ] && rest=$(bed_unfinished $name "${share[i]}") && [ -n "$rest" ] || break
			skip "nested test bed $name" "L1 hung (QEMU TCG, see README); a new bed reruns:$rest"
			name=$i.$try
			bed_run $name "$rest"
			rc=$?
			bed_counts $name
			share[i]=$rest
		done
		if [ $rc != 0 ] && [ $rc != 1 ]; then
			fail "nested test bed $i" "scripts/kvm-bed exited $rc before its suites (${share[i]# }) finished"
		fi
	done
}

# One bed, named $1, running the suites $2; its counts and finished suites
# come back in $WORK/bed-counts.$1[.done].
bed_run() {
	rm -f "$WORK/bed-counts.$1" "$WORK/bed-counts.$1.done"
	scripts/kvm-bed -w "$WORK" -- env KVMINI_COUNTS="$WORK/bed-counts.$1" \
		KVMINI_KVM_SUITES="${2# }" tests/run.sh kvm
}

bed_counts() {
	local p f s
	if read -r p f s 2>/dev/null <"$WORK/bed-counts.$1"; then
		passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
	fi
}

bed_unfinished() { # NAME SUITES: those of SUITES that bed NAME did not finish
	local suite
	for suite in $2; do
		grep -qxF "$suite" "$WORK/bed-counts.$1.done" 2>/dev/null || printf ' %s' "$suite"
	done
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
[ $failed = 0 ]
