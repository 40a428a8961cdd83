# SPDX-License-Identifier: MIT
#
# pva: paravirtual guest add-ons.
#
#   make                 host tools, guest programs and kernel modules
#                        (ARCH=x86_64|arm64, KVER=6.1|6.12|newest, or KDIR=...)
#   make check           set up the machine, build, run every test
#   make demo            set up, build, boot a guest with pva, show it
#   make vm-test         the VM tests for ARCH (x86_64 or arm64)
#   make bench           benchmarks against the peers, see docs/benchmarks.md
#   make fuzz            long fuzzing runs (FUZZ_SECONDS per fuzzer) and a
#                        5-minute fsx run on a share in a VM
#   make setup           install what the build and the tests need

PVA_CACHE ?= /var/cache/pva
-include $(PVA_CACHE)/kernels.mk

HOST_ARCH := $(shell uname -m | sed 's/aarch64/arm64/')
ARCH ?= $(HOST_ARCH)
override ARCH := $(patsubst aarch64,arm64,$(ARCH))
KVER ?= 6.1

ifeq ($(ARCH),x86_64)
DEBARCH := amd64
GUEST_CC ?= $(if $(filter x86_64,$(HOST_ARCH)),gcc,x86_64-linux-gnu-gcc)
KMAKE_ARCH :=
else ifeq ($(ARCH),arm64)
DEBARCH := arm64
GUEST_CC ?= $(if $(filter arm64,$(HOST_ARCH)),gcc,aarch64-linux-gnu-gcc)
KMAKE_ARCH := ARCH=arm64 $(if $(filter arm64,$(HOST_ARCH)),,CROSS_COMPILE=aarch64-linux-gnu-)
else
$(error ARCH must be x86_64 or arm64)
endif

KABI := $(if $(filter 6.12,$(KVER)),$(PVA_K612),$(PVA_K61))
ifeq ($(KVER),newest)
# sid's newest kernel source, prepared by setup for compile checks
KDIR ?= $(PVA_CACHE)/linux-newest$(if $(filter arm64,$(ARCH)),-arm64)/linux-source-$(PVA_KNEWEST)
else ifeq ($(DEBARCH),$(subst x86_64,amd64,$(HOST_ARCH)))
KDIR ?= /usr/src/linux-headers-$(KABI)-$(DEBARCH)
else
KDIR ?= $(PVA_CACHE)/kernel-$(KABI)-$(DEBARCH)/usr/src/linux-headers-$(KABI)-$(DEBARCH)
endif

B := build
KBUILD_OUT := $(B)/kmod/$(ARCH)-$(KVER)
GUEST_OUT := $(B)/guest/$(ARCH)
HOST_OUT := $(B)/host

CC ?= gcc
WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
CFLAGS_COMMON := -std=c11 -D_GNU_SOURCE -O2 -g $(WARN) -Iprotocol
HOST_CFLAGS := $(CFLAGS_COMMON) -Icommon $(shell pkg-config --cflags json-c libpng libvncserver 2>/dev/null)
HOST_LIBS := $(shell pkg-config --libs json-c libpng libvncserver 2>/dev/null || echo -ljson-c -lpng16 -lvncserver)
HOSTCTL_LIBS := $(shell pkg-config --libs json-c 2>/dev/null || echo -ljson-c)
GUEST_CFLAGS := $(CFLAGS_COMMON) -Ikernel/linux/include -static

# userspace code shared by the host and the guest's agent: common/
COMMON := log loop size agent_msg
HOST_COMMON := $(COMMON) fdpass config
# the shared-folder service: host/sf*.c
HOST_SF := $(patsubst host/%.c,%,$(wildcard host/sf*.c))
PVA_HOST_OBJS := $(addprefix $(HOST_OUT)/,$(addsuffix .o,$(HOST_COMMON) \
	keeper worker device ctl control echo testsvc balloon guest_ram \
	$(HOST_SF) display png_write vnc agent clipboard guestctl main))
PVA_HOSTCTL_OBJS := $(addprefix $(HOST_OUT)/,$(addsuffix .o,size hostctl hostctl_display hostctl_clipboard hostctl_control))
HOST_HEADERS := $(wildcard host/*.h) $(wildcard common/*.h) $(wildcard protocol/*.h)

GUEST_PROGS := $(patsubst tests/guest/%.c,$(GUEST_OUT)/%,$(wildcard tests/guest/*.c))
# Guest scripts, installed next to the programs (and into test guests).
GUEST_SCRIPTS := $(GUEST_OUT)/pva-mount-shares

# Sanitizer builds: pva-host for the VM tests, unit tests, fuzzers (clang).
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
ASAN_OUT := $(B)/host-asan
PVA_HOST_ASAN_OBJS := $(patsubst $(HOST_OUT)/%,$(ASAN_OUT)/%,$(PVA_HOST_OBJS))
UNIT_TESTS := $(patsubst tests/unit/%.c,$(B)/unit/%,$(wildcard tests/unit/test_*.c))
FUZZERS := $(patsubst tests/fuzz/%.c,$(B)/fuzz/%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_HOST_OBJS := $(addprefix $(B)/fuzz/obj/,$(addsuffix .o,$(HOST_COMMON) device ctl control echo testsvc balloon guest_ram $(HOST_SF) display png_write vnc agent clipboard guestctl))

.PHONY: all host guest agent install-guest modules modules-all check demo vm-test bench fuzz \
	setup clean checkpatch unit fuzzers host-asan

all: host guest modules

host: $(HOST_OUT)/pva-host $(HOST_OUT)/pva-hostctl

$(HOST_OUT)/%.o: host/%.c $(HOST_HEADERS)
	@mkdir -p $(@D)
	$(CC) $(HOST_CFLAGS) -c $< -o $@

$(HOST_OUT)/%.o: common/%.c $(HOST_HEADERS)
	@mkdir -p $(@D)
	$(CC) $(HOST_CFLAGS) -c $< -o $@

$(HOST_OUT)/pva-host: $(PVA_HOST_OBJS)
	$(CC) -o $@ $^ $(HOST_LIBS)

$(HOST_OUT)/pva-hostctl: $(PVA_HOSTCTL_OBJS)
	$(CC) -o $@ $^ $(HOSTCTL_LIBS)

$(ASAN_OUT)/%.o: host/%.c $(HOST_HEADERS)
	@mkdir -p $(@D)
	$(CC) $(HOST_CFLAGS) $(SAN_FLAGS) -c $< -o $@

$(ASAN_OUT)/%.o: common/%.c $(HOST_HEADERS)
	@mkdir -p $(@D)
	$(CC) $(HOST_CFLAGS) $(SAN_FLAGS) -c $< -o $@

$(ASAN_OUT)/pva-host: $(PVA_HOST_ASAN_OBJS)
	$(CC) $(SAN_FLAGS) -o $@ $^ $(HOST_LIBS)

host-asan: $(ASAN_OUT)/pva-host

# Unit tests: cmocka, under ASan and UBSan, with the host's objects.
$(B)/unit/%: tests/unit/%.c $(filter-out $(ASAN_OUT)/main.o,$(PVA_HOST_ASAN_OBJS)) $(HOST_HEADERS)
	@mkdir -p $(@D)
	$(CC) $(HOST_CFLAGS) -Ihost $(SAN_FLAGS) -o $@ $< $(filter-out $(ASAN_OUT)/main.o,$(PVA_HOST_ASAN_OBJS)) $(HOST_LIBS) -lcmocka -lpthread

unit: $(UNIT_TESTS)
	@for t in $(UNIT_TESTS); do echo "== $$t"; $$t || exit 1; done

# libFuzzer fuzzers of everything the host parses from the guest.
$(B)/fuzz/obj/%.o: host/%.c $(HOST_HEADERS)
	@mkdir -p $(@D)
	clang $(filter-out -Werror,$(HOST_CFLAGS)) -Werror -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all -c $< -o $@

$(B)/fuzz/obj/%.o: common/%.c $(HOST_HEADERS)
	@mkdir -p $(@D)
	clang $(filter-out -Werror,$(HOST_CFLAGS)) -Werror -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all -c $< -o $@

$(B)/fuzz/%: tests/fuzz/%.c $(FUZZ_HOST_OBJS)
	@mkdir -p $(@D)
	clang $(HOST_CFLAGS) -Ihost -Iagent/session -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -o $@ $^ $(HOST_LIBS)

fuzzers: $(FUZZERS)

guest: $(GUEST_PROGS) $(GUEST_SCRIPTS) agent

# ---- the guest's desktop agent: pva-service and pva-agent (dynamic, for
# the guest's distribution; cross-built for arm64 with its -dev packages)
AGENT_OUT := $(B)/agent/$(ARCH)
AGENT_PKGS := x11 xfixes xrandr wayland-client
SERVICE_PKGS := libsystemd libudev
ifeq ($(ARCH),$(HOST_ARCH))
AGENT_CFLAGS_LIBS := $(shell pkg-config --cflags $(AGENT_PKGS) $(SERVICE_PKGS) 2>/dev/null)
AGENT_LIBS := $(shell pkg-config --libs $(AGENT_PKGS) 2>/dev/null || echo -lX11 -lXfixes -lXrandr -lwayland-client)
SERVICE_LIBS := $(shell pkg-config --libs $(SERVICE_PKGS) 2>/dev/null || echo -lsystemd -ludev)
else
# cross: the arm64 test guests' userland tree (scripts/mkroot-arm64.sh)
# has the -dev packages; it is the sysroot for these libraries
AGENT_SYSROOT := $(PVA_CACHE)/root-arm64
AGENT_SYSLIB := $(AGENT_SYSROOT)/usr/lib/aarch64-linux-gnu
AGENT_CFLAGS_LIBS := -I$(AGENT_SYSROOT)/usr/include
AGENT_LDFLAGS := -L$(AGENT_SYSLIB) -Wl,-rpath-link,$(AGENT_SYSLIB)
AGENT_LIBS := $(AGENT_LDFLAGS) -lX11 -lXfixes -lXrandr -lwayland-client
SERVICE_LIBS := $(AGENT_LDFLAGS) -lsystemd -ludev
endif
AGENT_CFLAGS := $(CFLAGS_COMMON) -Icommon -Ikernel/linux/include -Iagent/session -I$(AGENT_OUT)/wl \
	$(AGENT_CFLAGS_LIBS)
AGENT_HEADERS := $(wildcard agent/*/*.h) $(wildcard common/*.h) $(wildcard protocol/*.h) kernel/linux/include/uapi/pva.h
# Wayland protocols bookworm lacks, fetched by setup (XML only)
WL_XML_DIR := $(PVA_CACHE)/wayland-protocols
WL_PROTOS := wlr-data-control-unstable-v1 ext-data-control-v1 wlr-output-management-unstable-v1
WL_HEADERS := $(addprefix $(AGENT_OUT)/wl/,$(addsuffix -client-protocol.h,$(WL_PROTOS)))
WL_OBJS := $(addprefix $(AGENT_OUT)/wl/,$(addsuffix -protocol.o,$(WL_PROTOS)))
AGENT_COMMON_OBJS := $(addprefix $(AGENT_OUT)/common/,$(addsuffix .o,$(COMMON)))
PVA_AGENT_OBJS := $(patsubst agent/session/%.c,$(AGENT_OUT)/session/%.o,$(wildcard agent/session/*.c)) $(WL_OBJS) $(AGENT_COMMON_OBJS)
PVA_SERVICE_OBJS := $(patsubst agent/service/%.c,$(AGENT_OUT)/service/%.o,$(wildcard agent/service/*.c)) $(AGENT_COMMON_OBJS)
AGENT_BINS := $(AGENT_OUT)/pva-agent $(if $(wildcard agent/service/*.c),$(AGENT_OUT)/pva-service)

agent: $(AGENT_BINS)

$(AGENT_OUT)/wl/%-client-protocol.h: $(WL_XML_DIR)/%.xml
	@mkdir -p $(@D)
	wayland-scanner client-header $< $@

$(AGENT_OUT)/wl/%-protocol.c: $(WL_XML_DIR)/%.xml
	@mkdir -p $(@D)
	wayland-scanner private-code $< $@

$(AGENT_OUT)/wl/%-protocol.o: $(AGENT_OUT)/wl/%-protocol.c
	$(GUEST_CC) $(filter-out -Wmissing-prototypes,$(AGENT_CFLAGS)) -c $< -o $@

$(AGENT_OUT)/session/%.o: agent/session/%.c $(AGENT_HEADERS) $(WL_HEADERS)
	@mkdir -p $(@D)
	$(GUEST_CC) $(AGENT_CFLAGS) -c $< -o $@

$(AGENT_OUT)/service/%.o: agent/service/%.c $(AGENT_HEADERS)
	@mkdir -p $(@D)
	$(GUEST_CC) $(AGENT_CFLAGS) -Iagent/service -c $< -o $@

$(AGENT_OUT)/common/%.o: common/%.c $(AGENT_HEADERS)
	@mkdir -p $(@D)
	$(GUEST_CC) $(AGENT_CFLAGS) -c $< -o $@

$(AGENT_OUT)/pva-agent: $(PVA_AGENT_OBJS)
	$(GUEST_CC) -o $@ $^ $(AGENT_LIBS)

$(AGENT_OUT)/pva-service: $(PVA_SERVICE_OBJS)
	$(GUEST_CC) -o $@ $^ $(SERVICE_LIBS)

$(GUEST_OUT)/pva-mount-shares: agent/pva-mount-shares
	@mkdir -p $(@D)
	install -m 755 $< $@

# libdrm, linked statically: the arm64 one is unpacked by setup
LIBDRM_arm64 := $(PVA_CACHE)/libdrm-arm64/usr
GUEST_DRM_FLAGS := $(if $(filter $(ARCH),$(HOST_ARCH)),$(shell pkg-config --cflags libdrm),-I$(LIBDRM_$(ARCH))/include/libdrm -I$(LIBDRM_$(ARCH))/include -L$(LIBDRM_$(ARCH))/lib/aarch64-linux-gnu)
$(GUEST_OUT)/pva-drmtest: tests/guest/pva-drmtest.c $(wildcard protocol/*.h)
	@mkdir -p $(@D)
	$(GUEST_CC) $(GUEST_CFLAGS) $(GUEST_DRM_FLAGS) -o $@ $< -ldrm

$(GUEST_OUT)/%: tests/guest/%.c $(wildcard tests/guest/*.h) $(wildcard protocol/*.h) kernel/linux/include/uapi/pva.h
	@mkdir -p $(@D)
	$(GUEST_CC) $(GUEST_CFLAGS) -o $@ $< -lm

# The guest's userspace as installed on a guest (the installer, the .deb
# and the test guests use it): make install-guest DESTDIR=DIR [ARCH=...]
install-guest: agent $(GUEST_SCRIPTS)
	install -D -m 755 $(AGENT_OUT)/pva-service $(DESTDIR)/usr/sbin/pva-service
	install -D -m 755 $(AGENT_OUT)/pva-agent $(DESTDIR)/usr/bin/pva-agent
	install -D -m 755 $(GUEST_OUT)/pva-mount-shares $(DESTDIR)/usr/sbin/pva-mount-shares
	install -D -m 644 -t $(DESTDIR)/usr/lib/systemd/system packaging/systemd/*.service
	install -D -m 644 -t $(DESTDIR)/usr/lib/udev/rules.d packaging/udev/*.rules
	install -D -m 644 packaging/xdg/pva-agent.desktop $(DESTDIR)/etc/xdg/autostart/pva-agent.desktop
	for m in pva-service.8 pva-agent.1 pva-mount-shares.8; do \
		s=$${m##*.}; install -D -m 644 docs/man/$$m $(DESTDIR)/usr/share/man/man$$s/$$m; \
	done

# Kbuild writes its objects next to the sources, so each ARCH/KVER gets its
# own copy of the module sources.
KSRC := Kbuild $(shell find kernel/linux protocol -name '*.[ch]' -o -name Kbuild)

modules: $(KBUILD_OUT)/.stamp
	$(MAKE) -C $(KDIR) M=$(abspath $(KBUILD_OUT)) $(KMAKE_ARCH) W=1 $(if $(C),C=$(C)) modules
	@mkdir -p $(B)/modules/$(ARCH)-$(KVER)
	cp $$(find $(KBUILD_OUT) -name '*.ko') $(B)/modules/$(ARCH)-$(KVER)/

$(KBUILD_OUT)/.stamp: $(KSRC)
	@test -d $(KDIR) || { echo "No kernel headers at $(KDIR): run 'make setup' or pass KDIR=" >&2; exit 1; }
	rm -rf $(KBUILD_OUT)
	mkdir -p $(KBUILD_OUT)
	tar cf - $(KSRC) | tar xf - -C $(KBUILD_OUT)
	touch $@

# Every supported kernel and architecture, with sparse.
modules-all:
	$(MAKE) modules ARCH=x86_64 KVER=6.1 C=1
	$(MAKE) modules ARCH=x86_64 KVER=6.12 C=1
	$(MAKE) modules ARCH=arm64 KVER=6.1 C=1
	$(MAKE) modules ARCH=arm64 KVER=6.12 C=1

checkpatch:
	tests/checkpatch.sh

setup:
	scripts/setup.sh

check: setup
	tests/run-all.sh

vm-test: host host-asan guest modules
	python3 tests/vm/vmtest.py --arch $(ARCH) --kver $(KVER)
	python3 tests/vm/vmtest.py --arch $(ARCH) --kver $(KVER) --suite balloon.sh
	python3 tests/vm/vmtest.py --arch $(ARCH) --kver $(KVER) --suite fs.sh
	python3 tests/vm/vmtest.py --arch $(ARCH) --kver $(KVER) --suite display.sh

demo: setup
	$(MAKE) host host-asan guest modules iso
	scripts/demo.sh

bench: host
	$(MAKE) guest modules ARCH=$(HOST_ARCH)
	bench/run.sh
	bench/run-balloon.sh
	bench/run-fs.sh
	bench/run-display.sh
	bench/run-agent.sh

fuzz: fuzzers host host-asan guest modules
	tests/fuzz/run.sh $${FUZZ_SECONDS:-600}
	python3 tests/vm/vmtest.py --arch $(ARCH) --kver $(KVER) --suite fsx-long.sh

clean:
	rm -rf $(B)

# ---- the guest installer: Debian packages and the ISO (scripts/mkdeb.sh,
# scripts/mkiso.sh, packaging/{dkms,deb,iso}/, docs/install.md)
#   make deb           build/deb/pva-dkms_VERSION_all.deb, pva-guest_VERSION_{amd64,arm64}.deb
#   make iso           build/pva-guest.iso (install.sh, module sources, x86_64 and aarch64, the .debs,
#                      the Windows installer when mingw-w64 and NSIS are here)
#   make test-install  install.sh and the .debs really installed in a throwaway
#                      overlay of this machine (root, ~15 minutes)
.PHONY: deb iso test-install
deb:
	scripts/mkdeb.sh
# the Windows installer goes on the disc when this machine can build it
# (mingw-w64 and NSIS); sub-makes so the installer sees the built driver
WIN_BUILD_TOOLS := $(shell command -v makensis >/dev/null && command -v x86_64-w64-mingw32-gcc >/dev/null && echo yes)
iso: deb
	$(if $(WIN_BUILD_TOOLS),$(MAKE) windows-driver && $(MAKE) windows-installer)
	scripts/mkiso.sh
test-install: iso
	packaging/iso/test-install.sh

# ---- the Windows guest agent and its installer (windows/agent/,
# windows/installer/, tests/windows/agent_*, docs/windows.md): a mingw-w64
# cross build and NSIS
#   make windows-agent       build/windows/pva-agent.exe
#   make windows-installer   build/windows/pva-setup.exe (with the driver's
#                            pva.sys and pva.inf when they are built)
#   make windows-agent-test  the agent's unit test (Linux, ASan) and
#                            tests/windows/agent_test.sh (wine64 + Xvfb)
.PHONY: windows-agent windows-installer windows-agent-test
WINAGENT_CC := x86_64-w64-mingw32-gcc
WINAGENT_WINDRES := x86_64-w64-mingw32-windres
WINAGENT_OUT := $(B)/windows/agent
WINAGENT_VERSION := $(shell cat VERSION)
WINAGENT_COMMA := ,
WINAGENT_CFLAGS := -std=c11 -O2 -g $(WARN) -D_WIN32_WINNT=0x0A00 -DWINVER=0x0A00 \
	-DUNICODE -D_UNICODE -D__USE_MINGW_ANSI_STDIO=1 \
	-DPVA_VERSION='"$(WINAGENT_VERSION)"' -Iprotocol -Icommon -Iwindows/agent -Iwindows/include
WINAGENT_HEADERS := $(wildcard windows/agent/*.h) common/agent_msg.h $(wildcard protocol/*.h) \
	$(wildcard windows/include/*.h)
WINAGENT_OBJS := $(patsubst windows/agent/%.c,$(WINAGENT_OUT)/%.o,$(wildcard windows/agent/*.c)) \
	$(WINAGENT_OUT)/common/agent_msg.o $(WINAGENT_OUT)/pva-agent.res.o
WINAGENT_LIBS := -lz -lws2_32 -liphlpapi -lwtsapi32 -ladvapi32 -luser32 -lgdi32
# the plain-C parts, also built for Linux for the unit test
WINAGENT_PORTABLE := text zflate png dib
WINAGENT_DRIVER_SYS ?= $(firstword $(wildcard $(B)/windows/driver/pva.sys $(B)/windows/pva.sys windows/driver/pva.sys))
WINAGENT_DRIVER_INF ?= $(firstword $(wildcard $(B)/windows/driver/pva.inf windows/driver/pva.inf))
WINAGENT_DRIVER_CAT ?= $(firstword $(wildcard $(B)/windows/driver/pva.cat))

windows-agent: $(B)/windows/pva-agent.exe

$(WINAGENT_OUT)/%.o: windows/agent/%.c $(WINAGENT_HEADERS)
	@mkdir -p $(@D)
	$(WINAGENT_CC) $(WINAGENT_CFLAGS) -c $< -o $@

$(WINAGENT_OUT)/common/%.o: common/%.c $(WINAGENT_HEADERS)
	@mkdir -p $(@D)
	$(WINAGENT_CC) $(WINAGENT_CFLAGS) -c $< -o $@

$(WINAGENT_OUT)/pva-agent.res.o: windows/agent/pva-agent.rc windows/agent/pva-agent.manifest VERSION
	@mkdir -p $(@D)
	$(WINAGENT_WINDRES) -DPVA_VERSION=\\\"$(WINAGENT_VERSION)\\\" \
		-DPVA_VERSION_RC=$(subst .,$(WINAGENT_COMMA),$(WINAGENT_VERSION)),0 \
		-Iwindows/agent $< -O coff -o $@

$(B)/windows/pva-agent.exe: $(WINAGENT_OBJS)
	$(WINAGENT_CC) -municode -mwindows -static -o $@ $^ $(WINAGENT_LIBS)

$(B)/windows/agent-cliptool.exe: tests/windows/agent_cliptool.c
	@mkdir -p $(@D)
	$(WINAGENT_CC) $(filter-out -DPVA_VERSION=%,$(WINAGENT_CFLAGS)) -municode -static -o $@ $< -luser32 -lgdi32

$(B)/windows/agent-devctl.exe: tests/windows/agent_devctl.c $(wildcard windows/include/*.h)
	@mkdir -p $(@D)
	$(WINAGENT_CC) $(filter-out -DPVA_VERSION=%,$(WINAGENT_CFLAGS)) -municode -static -o $@ $<

$(B)/windows/agent-unit: tests/windows/agent_unit.c $(addprefix windows/agent/,$(addsuffix .c,$(WINAGENT_PORTABLE))) \
		$(wildcard windows/agent/*.h)
	@mkdir -p $(@D)
	$(CC) -std=c11 -D_GNU_SOURCE -O1 -g $(WARN) $(SAN_FLAGS) -Iwindows/agent \
		$(shell pkg-config --cflags libpng zlib 2>/dev/null) -o $@ $(filter %.c,$^) \
		$(shell pkg-config --libs libpng zlib 2>/dev/null || echo -lpng16 -lz)

windows-installer: $(B)/windows/pva-setup.exe

$(B)/windows/pva-setup.exe: windows/installer/pva.nsi $(B)/windows/pva-agent.exe docs/windows.md \
		$(WINAGENT_DRIVER_SYS) $(WINAGENT_DRIVER_INF) $(WINAGENT_DRIVER_CAT)
	makensis -V2 -DVERSION=$(WINAGENT_VERSION) -DOUTFILE=$(abspath $@) \
		-DAGENT_EXE=$(abspath $(B)/windows/pva-agent.exe) \
		$(if $(WINAGENT_DRIVER_SYS),-DDRIVER_SYS=$(abspath $(WINAGENT_DRIVER_SYS))) \
		$(if $(WINAGENT_DRIVER_INF),-DDRIVER_INF=$(abspath $(WINAGENT_DRIVER_INF))) \
		$(if $(WINAGENT_DRIVER_CAT),-DDRIVER_CAT=$(abspath $(WINAGENT_DRIVER_CAT))) \
		-DDOC_DIR=$(abspath docs) windows/installer/pva.nsi

windows-agent-test: host $(B)/windows/agent-unit $(B)/windows/pva-agent.exe $(B)/windows/agent-cliptool.exe \
		$(B)/windows/agent-devctl.exe $(B)/windows/pva-setup.exe
	tests/windows/agent_test.sh

# ---- the Windows driver (windows/driver/, windows/include/pva_win.h,
# tests/windows/driver_test.sh, tests/windows/ioctl_test.c): a WDM driver,
# cross-built with mingw-w64 (x64), see docs/windows.md
#   make windows-driver       build/windows/driver/: pva.sys and pva.inf (the
#                             driver), pvatest.sys (the wine test build with
#                             a built-in loopback host) and ioctl_test.exe
#   make windows-driver-test  tests/windows/driver_test.sh (PE checks, and
#                             pvatest.sys loaded under wine)
.PHONY: windows-driver windows-driver-test
WINDRV_CC := x86_64-w64-mingw32-gcc
WINDRV_OUT := $(B)/windows/driver
WINDRV_DDK := /usr/x86_64-w64-mingw32/include/ddk
WINDRV_VERSION := $(shell cat VERSION)
WINDRV_HEADERS := $(wildcard windows/driver/*.h) windows/include/pva_win.h $(wildcard protocol/*.h)
WINDRV_CFLAGS := -std=gnu11 -O2 $(WARN) -isystem $(WINDRV_DDK) -D_AMD64_ -DPVA_WIN_KERNEL \
	-DNTDDI_VERSION=0x0A000000 -D_WIN32_WINNT=0x0A00 -DPVA_DRIVER_VERSION='"$(WINDRV_VERSION)"' \
	-Iprotocol -Iwindows/include -ffreestanding -fno-builtin -fno-stack-protector -mno-stack-arg-probe \
	-Wframe-larger-than=2048
WINDRV_LDFLAGS := -shared -nostdlib -nostartfiles -Wl,--subsystem,native -Wl,--entry,DriverEntry \
	-Wl,--image-base,0x140000000 -Wl,--file-alignment,0x200 -Wl,--section-alignment,0x1000 \
	-Wl,--dynamicbase -Wl,--nxcompat -Wl,--exclude-all-symbols -Wl,--enable-reloc-section -s
WINDRV_LIBS := -lntoskrnl -lhal -lgcc
WINDRV_OBJS := $(addprefix $(WINDRV_OUT)/,driver.o device.o ring.o ioctl.o intr.o pnp.o)
WINDRV_TEST_OBJS := $(addprefix $(WINDRV_OUT)/test/,driver.o device.o ring.o ioctl.o intr.o wine_test.o)

windows-driver: $(WINDRV_OUT)/pva.sys $(WINDRV_OUT)/pva.inf $(WINDRV_OUT)/pvatest.sys \
	$(WINDRV_OUT)/ioctl_test.exe

$(WINDRV_OUT)/%.o: windows/driver/%.c $(WINDRV_HEADERS) VERSION
	@mkdir -p $(@D)
	$(WINDRV_CC) $(WINDRV_CFLAGS) -c $< -o $@

$(WINDRV_OUT)/test/%.o: windows/driver/%.c $(WINDRV_HEADERS) VERSION
	@mkdir -p $(@D)
	$(WINDRV_CC) $(WINDRV_CFLAGS) -DPVA_WINE_TEST -c $< -o $@

$(WINDRV_OUT)/pva.sys: $(WINDRV_OBJS)
	$(WINDRV_CC) $(WINDRV_LDFLAGS) -Wl,-Map=$(WINDRV_OUT)/pva.map -o $@ $^ $(WINDRV_LIBS)

$(WINDRV_OUT)/pvatest.sys: $(WINDRV_TEST_OBJS)
	$(WINDRV_CC) $(WINDRV_LDFLAGS) -Wl,-Map=$(WINDRV_OUT)/pvatest.map -o $@ $^ $(WINDRV_LIBS)

$(WINDRV_OUT)/pva.inf: windows/driver/pva.inf VERSION
	@mkdir -p $(@D)
	sed 's/@VERSION@/$(WINDRV_VERSION)/' $< > $@

$(WINDRV_OUT)/ioctl_test.exe: tests/windows/ioctl_test.c windows/include/pva_win.h $(wildcard protocol/*.h)
	@mkdir -p $(@D)
	$(WINDRV_CC) -std=c11 -O2 $(WARN) -Iprotocol -Iwindows/include -o $@ $<

windows-driver-test:
	tests/windows/driver_test.sh
