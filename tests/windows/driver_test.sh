#!/bin/sh
# SPDX-License-Identifier: MIT
#
# The Windows driver (windows/driver/), as far as this machine can test it
# (no Windows, no KVM; docs/windows.md says what needs a real guest):
#   build    pva.sys, pvatest.sys and ioctl_test.exe build warning-free
#            (-Wall -Wextra -Werror)
#   pe       both drivers are x64 native PE images that import only from
#            ntoskrnl.exe and hal.dll, are relocatable (.reloc, dynamic
#            base), have DriverEntry as entry point, a valid checksum and
#            no section both writable and executable
#   layout   pva_win.h's structs and constants match Linux's uapi/pva.h
#   inf      pva.inf matches the device (PCI\VEN_1AF4&DEV_1110, System)
#   wine     pvatest.sys (no PCI or interrupt code; a built-in loopback
#            host) loads under wine (sc create type= kernel, sc start),
#            ioctl_test.exe passes against it with simulated MSI-X and in
#            polling mode (ForcePoll), the driver unloads (sc stop), and
#            its checks caught what the hostile-host tests broke
# Ends with "driver: N passed, N failed"; exits 1 on any failure. Skips
# (exit 0) only when mingw-w64 or wine is missing.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
out=build/windows/driver
pass=0
fail=0

ok() {
	pass=$((pass + 1))
	echo "ok   $*"
}

bad() {
	fail=$((fail + 1))
	echo "FAIL $*"
}

# check DESCRIPTION COMMAND...
check() {
	desc=$1
	shift
	if "$@"; then ok "$desc"; else bad "$desc"; fi
}

finish() {
	echo "driver: $pass passed, $fail failed"
	[ "$fail" -eq 0 ]
	exit $?
}

for tool in x86_64-w64-mingw32-gcc x86_64-w64-mingw32-objdump wine wineserver; do
	if ! command -v "$tool" > /dev/null 2>&1; then
		echo "driver: SKIPPED: $tool is not installed (apt-get install --no-install-recommends gcc-mingw-w64-x86-64 mingw-w64-x86-64-dev wine64 wine)"
		exit 0
	fi
done

tmp=$(mktemp -d /tmp/pva-driver-test.XXXXXX)
cleanup() {
	if [ -n "${WINEPREFIX:-}" ]; then
		wineserver -k > /dev/null 2>&1
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# ---- build
if make -B windows-driver > "$tmp/build.log" 2>&1; then
	ok "build: make windows-driver"
else
	bad "build: make windows-driver"
	tail -n 40 "$tmp/build.log"
	finish
fi
if grep -i "warning" "$tmp/build.log"; then
	bad "build: warning-free"
else
	ok "build: warning-free"
fi
nowerror=$(grep -- 'mingw32-gcc .* -c ' "$tmp/build.log" | grep -v -- '-Wall -Wextra -Werror')
if [ -z "$nowerror" ] && grep -q -- 'mingw32-gcc .*-Wall -Wextra -Werror.*ioctl_test' "$tmp/build.log"; then
	ok "build: every compile used -Wall -Wextra -Werror"
else
	bad "build: every compile used -Wall -Wextra -Werror"
fi

# ---- pe
pe_checksum_ok() {
	python3 - "$1" << 'EOF'
import struct, sys
data = bytearray(open(sys.argv[1], "rb").read())
size = len(data)
off = struct.unpack_from("<I", data, 0x3c)[0] + 24 + 64	# OptionalHeader.CheckSum
stored = struct.unpack_from("<I", data, off)[0]
data[off:off + 4] = b"\0\0\0\0"
if len(data) % 2:
    data += b"\0"
s = 0
for (w,) in struct.iter_unpack("<H", data):
    s += w
    s = (s & 0xffff) + (s >> 16)
s = ((s & 0xffff) + (s >> 16)) + size
sys.exit(0 if stored == s else 1)
EOF
}

pe_check() {
	f=$out/$1
	map=$out/$2
	x86_64-w64-mingw32-objdump -p "$f" > "$tmp/pe.txt" 2>&1
	x86_64-w64-mingw32-objdump -f "$f" > "$tmp/pef.txt" 2>&1
	x86_64-w64-mingw32-objdump -h "$f" > "$tmp/peh.txt" 2>&1
	check "pe $1: PE32+ for x86-64" sh -c \
		"grep -q 'file format pei-x86-64' '$tmp/pef.txt' && grep -Eq '^Magic[[:space:]]+020b' '$tmp/pe.txt'"
	check "pe $1: native subsystem" grep -Eq '^Subsystem[[:space:]]+00000001' "$tmp/pe.txt"
	dlls=$(sed -n 's/^[[:space:]]*DLL Name: //p' "$tmp/pe.txt" | sort -u | tr '\n' ' ')
	others=$(sed -n 's/^[[:space:]]*DLL Name: //p' "$tmp/pe.txt" | grep -Eiv '^(ntoskrnl\.exe|hal\.dll)$')
	if [ -n "$dlls" ] && [ -z "$others" ]; then
		ok "pe $1: imports only from ntoskrnl.exe/hal.dll ($dlls)"
	else
		bad "pe $1: imports only from ntoskrnl.exe/hal.dll ($dlls)"
	fi
	check "pe $1: .reloc section" sh -c \
		"grep -q ' \.reloc ' '$tmp/peh.txt' && grep -q HAS_RELOC '$tmp/pef.txt'"
	dllc=$(sed -n 's/^DllCharacteristics[[:space:]]*\([0-9a-fA-F]*\).*/\1/p' "$tmp/pe.txt")
	if [ -n "$dllc" ] && [ $((0x$dllc & 0x140)) -eq $((0x140)) ]; then
		ok "pe $1: dynamic base and NX compatible (0x$dllc)"
	else
		bad "pe $1: dynamic base and NX compatible (0x$dllc)"
	fi
	ep=$(sed -n 's/^AddressOfEntryPoint[[:space:]]*\([0-9a-fA-F]*\).*/\1/p' "$tmp/pe.txt")
	base=$(sed -n 's/^ImageBase[[:space:]]*\([0-9a-fA-F]*\).*/\1/p' "$tmp/pe.txt")
	de=$(awk '$2 == "DriverEntry" && $1 ~ /^0x/ { print $1; exit }' "$map")
	if [ -n "$ep" ] && [ -n "$de" ] && [ $((de - 0x$base)) -eq $((0x$ep)) ]; then
		ok "pe $1: entry point is DriverEntry (RVA 0x$ep)"
	else
		bad "pe $1: entry point is DriverEntry (entry 0x$ep, DriverEntry $de, base 0x$base)"
	fi
	check "pe $1: valid checksum" pe_checksum_ok "$f"
	# HVCI wants W^X sections aligned to pages
	wx=$(awk '/^ *[0-9]+ \./ { name = $2; getline; if ($0 ~ /CODE/ && $0 !~ /READONLY/) print name }' "$tmp/peh.txt")
	if [ -z "$wx" ] && grep -Eq '^SectionAlignment[[:space:]]+0*1000$' "$tmp/pe.txt"; then
		ok "pe $1: no writable code section, 4 KiB section alignment"
	else
		bad "pe $1: no writable code section, 4 KiB section alignment ($wx)"
	fi
}
pe_check pva.sys pva.map
pe_check pvatest.sys pvatest.map
# the real driver must not carry the test host, and the test build no PCI code
if x86_64-w64-mingw32-objdump -p "$out/pva.sys" | grep -q IoConnectInterruptEx &&
	! x86_64-w64-mingw32-objdump -p "$out/pvatest.sys" | grep -Eq 'IoConnectInterruptEx|MmMapIoSpace'; then
	ok "pe: interrupts and BAR mapping only in pva.sys"
else
	bad "pe: interrupts and BAR mapping only in pva.sys"
fi

# ---- layout
cat > "$tmp/layout.c" << 'EOF'
/* pva_win.h must describe exactly what Linux's uapi/pva.h does */
#include <stddef.h>
#include "uapi/pva.h"
#include "pva_win.h"

#define SAME(a, b, f) _Static_assert(offsetof(struct a, f) == offsetof(struct b, f) && \
	sizeof(((struct a *)0)->f) == sizeof(((struct b *)0)->f), #a "." #f)
SAME(pva_bind, pva_win_bind, name);
SAME(pva_bind, pva_win_bind, flags);
SAME(pva_bind, pva_win_bind, reserved);
_Static_assert(sizeof(struct pva_bind) == sizeof(struct pva_win_bind), "bind size");
SAME(pva_info, pva_win_info, major);
SAME(pva_info, pva_win_info, minor);
SAME(pva_info, pva_win_info, generation);
SAME(pva_info, pva_win_info, features);
SAME(pva_info, pva_win_info, state);
SAME(pva_info, pva_win_info, max_payload);
SAME(pva_info, pva_win_info, tx_size);
SAME(pva_info, pva_win_info, rx_size);
SAME(pva_info, pva_win_info, reserved);
_Static_assert(sizeof(struct pva_info) == sizeof(struct pva_win_info), "info size");
_Static_assert(PVA_NAME_LEN == PVA_WIN_NAME_LEN, "name length");
_Static_assert(PVA_BIND_F_BATCH == PVA_WIN_BIND_F_BATCH, "batch flag");
_Static_assert(PVA_STATE_PROBED == PVA_WIN_STATE_PROBED &&
	       PVA_STATE_NEGOTIATING == PVA_WIN_STATE_NEGOTIATING &&
	       PVA_STATE_RUNNING == PVA_WIN_STATE_RUNNING &&
	       PVA_STATE_FAILED == PVA_WIN_STATE_FAILED, "states");
int main(void)
{
	return 0;
}
EOF
check "layout: pva_win.h matches uapi/pva.h" \
	gcc -std=c11 -Wall -Wextra -Werror -Iprotocol -Ikernel/linux/include \
	-Iwindows/include -o "$tmp/layout" "$tmp/layout.c"

# ---- inf
inf=$out/pva.inf
check "inf: PCI\\VEN_1AF4&DEV_1110" grep -q 'PCI\\VEN_1AF4&DEV_1110' "$inf"
check "inf: class System" grep -Eq '^Class[[:space:]]*=[[:space:]]*System' "$inf"
check "inf: x64 models" grep -Eq '^\[Pva\.NTamd64' "$inf"
check "inf: kernel service for pva.sys" sh -c \
	"grep -Eq '^AddService[[:space:]]*=[[:space:]]*pva,' '$inf' && grep -Eq '^ServiceType[[:space:]]*=[[:space:]]*1' '$inf' && grep -Eq '^ServiceBinary[[:space:]]*=.*pva\.sys' '$inf'"
check "inf: MSI-X requested" grep -q 'MSISupported, 0x00010001, 1' "$inf"
check "inf: DriverVer is VERSION ($(cat VERSION))" grep -Eq "^DriverVer[[:space:]]*=.*,$(cat VERSION)\\.0\$" "$inf"

# ---- wine
export WINEPREFIX="$tmp/prefix"
export WINEDEBUG=-all
export WINEDLLOVERRIDES="mscoree,mshtml="	# no Mono/Gecko installers
# Make the prefix, and let that session end. Then a persistent server, so
# that the driver stays loaded between the commands; the process that
# starts the session (wineboot) passes its stderr to services.exe and
# winedevice.exe, so the driver's DbgPrint output goes to driver.log.
if wineboot -i > "$tmp/wineboot.log" 2>&1 && wineserver -w &&
	wineserver -p > /dev/null 2>&1 &&
	WINEDEBUG=-all,warn+debugstr,err+module wineboot > "$tmp/driver.log" 2>&1; then
	ok "wine: fresh prefix"
else
	bad "wine: fresh prefix"
	tail "$tmp/wineboot.log" "$tmp/driver.log"
	finish
fi
drivers="$WINEPREFIX/drive_c/windows/system32/drivers"
cp "$out/pvatest.sys" "$drivers/pvatest.sys"
cp "$out/ioctl_test.exe" "$WINEPREFIX/drive_c/ioctl_test.exe"

driver_log() {
	sed -n 's/.*vDbgPrintExWithPrefix [0-9a-f:]*: //p' "$tmp/driver.log"
}

# wait_log PATTERN: up to 10 s for the driver to log it
wait_log() {
	i=0
	while [ $i -lt 100 ]; do
		driver_log | grep -q "$1" && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

check "wine: sc create pvatest type= kernel" sh -c \
	"wine sc create pvatest type= kernel binPath= 'C:\\windows\\system32\\drivers\\pvatest.sys' > '$tmp/sc.log' 2>&1 &&
	 wine reg query 'HKLM\\System\\CurrentControlSet\\Services\\pvatest' /v Type 2>/dev/null | grep -q 0x1"

# run_mode LABEL: start the driver, run ioctl_test.exe, stop the driver
run_mode() {
	mode=$1
	start=$(driver_log | grep -c 'driver unloaded')
	if wine sc start pvatest > "$tmp/sc.log" 2>&1 && grep -q RUNNING "$tmp/sc.log"; then
		ok "wine ($mode): sc start pvatest"
	else
		bad "wine ($mode): sc start pvatest"
		cat "$tmp/sc.log"
		driver_log | tail
		return
	fi
	if wait_log "generation [0-9]*, 3 services"; then
		ok "wine ($mode): the driver negotiated with its test host"
	else
		bad "wine ($mode): the driver negotiated with its test host"
		driver_log | tail
	fi
	timeout 300 wine 'C:\ioctl_test.exe' "$mode" > "$tmp/ioctl.log" 2>&1
	rc=$?
	sed -n '/^FAIL/p; /^  /p' "$tmp/ioctl.log"
	summary=$(grep '^ioctl: ' "$tmp/ioctl.log")
	if [ $rc -eq 0 ] && echo "$summary" | grep -q ', 0 failed'; then
		ok "wine ($mode): ioctl_test.exe: $summary"
	else
		bad "wine ($mode): ioctl_test.exe (exit $rc): ${summary:-no summary}"
		tail -n 20 "$tmp/ioctl.log"
		driver_log | tail
	fi
	wine sc stop pvatest > "$tmp/sc.log" 2>&1
	i=0
	while [ $i -lt 100 ] && [ "$(driver_log | grep -c 'driver unloaded')" -le "$start" ]; do
		sleep 0.1
		i=$((i + 1))
	done
	if [ "$(driver_log | grep -c 'driver unloaded')" -gt "$start" ]; then
		ok "wine ($mode): sc stop unloads the driver"
	else
		bad "wine ($mode): sc stop unloads the driver"
		cat "$tmp/sc.log"
	fi
}

run_mode msix
wine reg add 'HKLM\System\CurrentControlSet\Services\pvatest\Parameters' \
	/v ForcePoll /t REG_DWORD /d 1 /f > /dev/null 2>&1
run_mode poll
if driver_log | grep -q 'ForcePoll: polling'; then
	ok "wine (poll): the driver read Parameters\\ForcePoll"
else
	bad "wine (poll): the driver read Parameters\\ForcePoll"
fi
# the hostile-host tests must have been caught by the checks they aim at
for what in "corrupt host->guest ring" "corrupt guest->host ring index" \
	"malformed message header" "service table entry 1 is invalid" \
	"service name echo used twice" "service 0 is not the control service" \
	"invalid service table" "do not match the device" "host speaks protocol 2-2"; do
	if driver_log | grep -q "$what"; then
		ok "wine: the driver logged \"$what\""
	else
		bad "wine: the driver logged \"$what\""
	fi
done
if driver_log | grep -q 'did not answer'; then
	bad "wine: no negotiation timeouts"
	driver_log | grep 'did not answer'
else
	ok "wine: no negotiation timeouts"
fi
finish
