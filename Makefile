# kvmini: make builds ./kvmini; make check runs every test; make asan runs
# the suite under ASan+UBSan. See README.md.
CC ?= gcc
BUILD ?= build
CFLAGS ?= -O2 -g
WARNINGS = -Wall -Wextra -Werror -pedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes
KVMINI_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARNINGS) -I. $(XML_CFLAGS) $(CFLAGS) $(EXTRA_CFLAGS)
LDLIBS = -luring -lseccomp -ljansson -lpthread
XML_CFLAGS = $(shell pkg-config --cflags libxml-2.0)
XML_LIBS = $(shell pkg-config --libs libxml-2.0)
# The guest kit (guest/build.sh) and the test bed cache here.
export KVMINI_CACHE ?= $(CURDIR)/$(BUILD)/cache

CORE_SRCS = util.c event.c memory.c console.c cli.c spec.c vm.c vcpu.c \
	kvm/kvm.c \
	arch/x86/boot.c arch/x86/pvh.c arch/x86/bzimage.c arch/x86/cpu.c arch/x86/acpi.c arch/x86/mptable.c \
	devices/bus.c devices/serial.c devices/i8042.c devices/acpi_pm.c \
	devices/debug_exit.c devices/boot_marker.c \
	virtio/queue.c virtio/mmio.c virtio/device.c virtio/blk.c virtio/rng.c virtio/net.c virtio/vsock.c \
	security/seccomp.c security/jail.c \
	api/http.c api/server.c api/config.c api/api.c manager/dispatch.c
SRCS = main.c $(CORE_SRCS)
# The manager is its own binary: the VMM does not load libxml2.
MANAGER_SRCS = manager/main.c manager/manager.c manager/run.c manager/domain.c manager/backend_kvmini.c \
	manager/backend_qemu.c manager/dispatch.c util.c spec.c api/config.c
MANAGER_OBJS = $(MANAGER_SRCS:%.c=$(BUILD)/%.o)
OBJS = $(SRCS:%.c=$(BUILD)/%.o)
CORE_OBJS = $(CORE_SRCS:%.c=$(BUILD)/%.o)

UNIT_SRCS = $(wildcard tests/unit/test_*.c)
UNIT_BIN = $(BUILD)/unit-tests

PROBE_DIR = $(BUILD)/probe
PROBE_CFLAGS = -std=c11 -O2 -g -ffreestanding -fno-pic -fno-pie -fno-stack-protector \
	-fno-asynchronous-unwind-tables -mno-red-zone -mgeneral-regs-only -mcmodel=small \
	-fno-builtin -nostdlib -Wall -Wextra -Werror -Wno-cast-function-type
PROBE_SRCS = guest/probe/entry.S guest/probe/probe.c guest/probe/lib.c guest/probe/virtio.c guest/probe/net.c guest/probe/vsock.c
PROBES = $(PROBE_DIR)/probe.elf $(PROBE_DIR)/probe.elf32 $(PROBE_DIR)/probe.bzImage

.PHONY: all check unit asan probes guest guest-test-kit demo clean format format-check bench \
	fuzz fuzz-long fuzzers soak

all: kvmini kvmini-manager

kvmini: $(BUILD)/kvmini
	cp -f $< $@

kvmini-manager: $(BUILD)/kvmini-manager
	cp -f $< $@

$(BUILD)/kvmini: $(OBJS)
	$(CC) $(KVMINI_CFLAGS) -o $@ $^ $(LDLIBS) $(LDFLAGS)

$(BUILD)/kvmini-manager: $(MANAGER_OBJS)
	$(CC) $(KVMINI_CFLAGS) -o $@ $^ -ljansson $(XML_LIBS) $(LDFLAGS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(KVMINI_CFLAGS) -MMD -MP -c -o $@ $<

# test_net.c includes virtio/net.c, to reach its statics.
$(UNIT_BIN): $(UNIT_SRCS) $(filter-out $(BUILD)/virtio/net.o,$(CORE_OBJS)) tests/unit/stubs.c \
		virtio/net.c
	$(CC) $(KVMINI_CFLAGS) -Wno-missing-prototypes -o $@ $(filter-out virtio/net.c,$^) -lcmocka \
		$(LDLIBS) $(LDFLAGS)

# Probe guests: freestanding, linked at 1 MiB, booted via PVH or bzImage.
$(PROBE_DIR)/%.o: guest/probe/%.S
	@mkdir -p $(dir $@)
	gcc $(PROBE_CFLAGS) -c -o $@ $<
$(PROBE_DIR)/%.o: guest/probe/%.c guest/probe/probe.h guest/probe/virtio.h
	@mkdir -p $(dir $@)
	gcc $(PROBE_CFLAGS) -c -o $@ $<
$(PROBE_DIR)/probe.elf: $(PROBE_DIR)/entry.o $(PROBE_DIR)/probe.o $(PROBE_DIR)/lib.o $(PROBE_DIR)/virtio.o $(PROBE_DIR)/net.o $(PROBE_DIR)/vsock.o guest/probe/probe.ld
	ld -m elf_x86_64 -nostdlib -static -z noexecstack --no-warn-rwx-segments \
		-T guest/probe/probe.ld -o $@ $(filter %.o,$^)
# The same probe as an ELF32 file, which the PVH ABI also allows.
$(PROBE_DIR)/probe.elf32: $(PROBE_DIR)/probe.elf
	objcopy -O elf32-i386 $< $@
$(PROBE_DIR)/mkbzimage: guest/probe/mkbzimage.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -O2 -Wall -Wextra -Werror -o $@ $<
$(PROBE_DIR)/probe.bzImage: $(PROBE_DIR)/probe.elf $(PROBE_DIR)/mkbzimage
	objcopy -O binary $< $(PROBE_DIR)/probe.bin
	$(PROBE_DIR)/mkbzimage $(PROBE_DIR)/probe.bin \
		$$(( 0x$$(nm $< | awk '$$3 == "_end" { print $$1 }') - 0x100000 )) $@

probes: $(PROBES)

unit: $(UNIT_BIN)
	$(UNIT_BIN)

# The same sources with test-only hooks compiled in (see devices/debug_exit.c).
$(BUILD)/testhooks/kvmini: $(SRCS) $(wildcard *.h */*.h */*/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(KVMINI_CFLAGS) -DKVMINI_TEST_HOOKS -o $@ $(SRCS) $(LDLIBS) $(LDFLAGS)

check: kvmini kvmini-manager $(UNIT_BIN) $(PROBES) $(BUILD)/testhooks/kvmini fuzzers guest-test-kit
	KVMINI=./kvmini KVMINI_TESTHOOKS=$(BUILD)/testhooks/kvmini UNIT=$(UNIT_BIN) \
		PROBES=$(PROBE_DIR) tests/run.sh

# The sanitizer build where it pays: the unit tests and fuzzers on the host,
# kvmini on the probe-guest suites and Linux boots (in the test bed if need
# be). The full userspace suite runs in make check: under ASan in the bed
# it alone took 40 minutes, more than CI can give it.
ASAN_KVM_SUITES = tests/kvm/probe.sh tests/kvm/exits.sh tests/kvm/virtio.sh tests/kvm/net.sh \
	tests/kvm/vsock.sh tests/kvm/bad_input.sh tests/linux/boot.sh
asan: fuzzers guest-test-kit
	$(MAKE) BUILD=build/asan KVMINI_CACHE=$(KVMINI_CACHE) \
		EXTRA_CFLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
		LDFLAGS="-fsanitize=address,undefined" build/asan/kvmini build/asan/kvmini-manager build/asan/unit-tests \
		build/asan/probe/probe.elf build/asan/probe/probe.elf32 build/asan/probe/probe.bzImage build/asan/testhooks/kvmini
	KVMINI=build/asan/kvmini UNIT=build/asan/unit-tests PROBES=build/asan/probe \
		KVMINI_TESTHOOKS=build/asan/testhooks/kvmini \
		KVMINI_HOST_SUITES="unit tests/fuzz.sh" KVMINI_KVM_SUITES="$(ASAN_KVM_SUITES)" \
		ASAN_OPTIONS=detect_leaks=1:quarantine_size_mb=0 tests/run.sh

# libFuzzer targets (clang), each over the core sources with ASan+UBSan.
FUZZ_TARGETS = $(patsubst fuzz/fuzz_%.c,%,$(wildcard fuzz/fuzz_*.c))
# Each target but config and domain (which run before any seccomp list, or
# in the manager) runs its code under the list of the thread that runs it
# in the VMM, in trap mode (fuzz/role.c).
FUZZ_CFLAGS = -std=c11 -D_GNU_SOURCE -DKVMINI_FUZZ -I. $(XML_CFLAGS) -g -O1 \
	-fsanitize=fuzzer,address,undefined \
	-Wall -Wextra -Werror -Wno-missing-prototypes
FUZZ_TIME ?= 60

$(BUILD)/fuzz/%: fuzz/fuzz_%.c fuzz/role.c $(CORE_SRCS) tests/unit/stubs.c
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -o $@ $^ $(LDLIBS)

# fuzz_net.c, fuzz_rng.c and fuzz_vsock.c include their device's source, to
# reach its statics: it is a prerequisite, but not compiled on its own.
define fuzz_including_device
$(BUILD)/fuzz/$(1): fuzz/fuzz_$(1).c fuzz/role.c $(CORE_SRCS) tests/unit/stubs.c
	@mkdir -p $$(dir $$@)
	clang $(FUZZ_CFLAGS) -o $$@ $$(filter-out virtio/$(1).c,$$^) $(LDLIBS)
endef
$(foreach t,net rng vsock,$(eval $(call fuzz_including_device,$(t))))

$(BUILD)/fuzz/domain: fuzz/fuzz_domain.c manager/domain.c util.c
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -o $@ $^ $(XML_LIBS)

fuzzers: $(FUZZ_TARGETS:%=$(BUILD)/fuzz/%)

# The stateful transport target (guest register writes, notifies and
# resets against blk, rng and vsock with their I/O threads, all under their
# seccomp lists) for FUZZ_LONG seconds; not part of CI. Crashes are saved
# in build/fuzz-crashes; the run fails if there is one.
FUZZ_LONG ?= 600
fuzz-long: $(BUILD)/fuzz/transport $(PROBES)
	fuzz/make-seeds.py $(PROBE_DIR) build/fuzz-seeds
	@mkdir -p build/fuzz-corpus/transport build/fuzz-crashes
	$(BUILD)/fuzz/transport -max_total_time=$(FUZZ_LONG) -print_final_stats=1 \
		-artifact_prefix=build/fuzz-crashes/ build/fuzz-corpus/transport \
		build/fuzz-seeds/transport 2>&1 | tee build/fuzz-long.log | \
		grep -E 'stat::number_of_executed_units|stat::peak_rss|DONE|kvmini fuzz|ERROR|SUMMARY'
	@test -z "$$(ls build/fuzz-crashes)" || { echo "fuzz-long: crashes in build/fuzz-crashes"; exit 1; }

# Runs every target for FUZZ_TIME seconds from its seed corpus.
fuzz: fuzzers $(PROBES)
	fuzz/make-seeds.py $(PROBE_DIR) build/fuzz-seeds
	@for t in $(FUZZ_TARGETS); do \
		mkdir -p build/fuzz-corpus/$$t; \
		echo "== fuzz $$t ($(FUZZ_TIME) s)"; \
		$(BUILD)/fuzz/$$t -max_total_time=$(FUZZ_TIME) -print_final_stats=1 \
			build/fuzz-corpus/$$t build/fuzz-seeds/$$t 2>&1 | \
			grep -E 'stat::number_of_executed_units|cov:|ERROR|SUMMARY' | tail -3 || exit 1; \
	done

soak: kvmini $(PROBES)
	SOAK_BOOTS=1000 SOAK_VMS=50 tests/soak.sh

guest:
	guest/build.sh all

# What make check boots: the kernels (cached by config hash), initramfs and root disk.
guest-test-kit:
	guest/build.sh all

# On a host without usable KVM, the demo runs inside the nested test bed.
demo: kvmini guest
	@if scripts/kvm-usable; then ./kvmini run --demo; else \
		echo "kvmini demo: $$(scripts/kvm-usable --why); running kvmini inside a TCG-nested KVM (scripts/kvm-bed)"; \
		scripts/kvm-bed -i -- ./kvmini run --demo; fi

# On a host without usable KVM, in the nested test bed.
bench: kvmini $(PROBES)
	if scripts/kvm-usable; then bench/boot.py; else bench/boot.py --bed; fi

FORMAT_SRCS = $(shell git ls-files '*.c' '*.h')

format:
	clang-format -i $(FORMAT_SRCS)

format-check:
	clang-format --dry-run --Werror $(FORMAT_SRCS)

clean:
	rm -rf build kvmini kvmini-manager

-include $(OBJS:.o=.d) $(MANAGER_OBJS:.o=.d)
