#!/usr/bin/env bash
# Runs every kvmini test: unit tests, probe guests under kvmini and QEMU,
# bad-input and exit-code checks, and the Linux boot tests. The last line
# is "N passed, N failed, N skipped".
set -u
cd "$(dirname "${BASH_SOURCE[0]}")/.."
KVMINI=${KVMINI:-./kvmini}
UNIT=${UNIT:-build/unit-tests}
PROBES=${PROBES:-build/probe}
KVMINI_TESTHOOKS=${KVMINI_TESTHOOKS:-build/testhooks/kvmini}
. tests/lib.sh

echo "== unit tests"
unit_log=$WORK/unit.log
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

for suite in tests/style.sh tests/fuzz.sh tests/kvm/*.sh tests/linux/*.sh; do
	[ -f "$suite" ] || continue
	echo "== $suite"
	. "$suite"
done

echo
echo "$passed passed, $failed failed, $skipped skipped"
[ $failed = 0 ]
