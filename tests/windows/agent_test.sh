#!/bin/sh
# SPDX-License-Identifier: MIT
#
# pva-agent.exe (windows/agent/) and its installer (windows/installer/) as
# far as this machine can test them: no Windows, so wine64 on an Xvfb
# display, where the Windows clipboard is wine's bridge to the X11
# CLIPBOARD and ChangeDisplaySettingsExW is RandR; no pva device, so the
# agent's TCP back end to a real build/host/pva-host (--agent-socket
# tcp:127.0.0.1:PORT). docs/windows.md says what only a real guest tests.
#
#   unit      the plain-C parts (text, zlib streams, PNG, DIB) on Linux
#             with ASan, against zlib and libpng
#   info      pva-hostctl guest shows the Windows keys (e)
#   text      host -> X11 and -> a Windows application, UTF-8 with Greek,
#             CJK and emoji, LF <-> CRLF, 2 MiB in chunks (a); X11 and a
#             Windows application -> host (b)
#   image     a PNG from the host pasted as CF_DIB, CF_DIBV5, "PNG" and by
#             X11 as image/png; a Windows application's 24-bit CF_DIB and
#             32-bit CF_DIBV5 with alpha copied to the host as PNG (c)
#   display   pva-hostctl display resize -> the Xvfb screen, DISPLAY_STATE
#             in pva-hostctl guest (d)
#   time      pva-hostctl time sync / status
#   malformed pva-hostctl debug send agent (when pva-host can send on the
#             direct socket), and tests/windows/agent_fakehost.py: malformed
#             messages of every type, broken transfers, a far-off clock, a
#             broken stream: each logged, and the agent keeps working (f)
#   reconnect pva-host restarted: the agent connects again, says HELLO
#   power     pva-hostctl shutdown: answered, GUEST_STATE, the session ends
#   device    the IOCTL back end against the driver's wine test build
#             (pvatest.sys, its loopback "echo" channel), a device reset ->
#             HELLO again; skipped without build/windows/driver/pvatest.sys
#   installer pva-setup.exe /S in a fresh prefix: files, Run key; the agent
#             it installed logs to %ProgramData%\pva; uninstall.exe /S stops
#             it and leaves nothing behind (files and registry compared) (g)
#
# PVA_HOST and PVA_HOSTCTL name other pva-host and pva-hostctl binaries.
# Ends with "windows-agent: N passed, N failed"; exits 1 on any failure.
# Skips (exit 0) only when wine, mingw-w64, NSIS or the X tools are missing.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
out=build/windows
# another pva-host to test against (a patched one): PVA_HOST, PVA_HOSTCTL
host_bin=${PVA_HOST:-build/host/pva-host}
hostctl=${PVA_HOSTCTL:-build/host/pva-hostctl}
helpers="python3 tests/windows/agent_helpers.py"
pass=0
fail=0

ok() {
	pass=$((pass + 1))
	printf 'ok   %s\n' "$*"
}

bad() {
	fail=$((fail + 1))
	printf 'FAIL %s\n' "$*"
}

check() {
	desc=$1
	shift
	if "$@"; then ok "$desc"; else bad "$desc"; fi
}

finish() {
	echo "windows-agent: $pass passed, $fail failed"
	[ "$fail" -eq 0 ]
	exit $?
}

for tool in x86_64-w64-mingw32-gcc wine wineserver winepath makensis Xvfb xclip xrandr python3; do
	if ! command -v "$tool" > /dev/null 2>&1; then
		echo "windows-agent: SKIPPED: $tool is not installed (apt-get install --no-install-recommends gcc-mingw-w64-x86-64 mingw-w64-x86-64-dev wine64 wine nsis xvfb xauth xclip x11-xserver-utils)"
		exit 0
	fi
done

tmp=$(mktemp -d /tmp/pva-agent-test.XXXXXX)
xvfb_pid=
host_pid=
agent_pid=
xclip_pid=
fake_pid=

agent_rc=
stop_agent() {
	agent_rc=
	if [ -n "$agent_pid" ] && kill -0 "$agent_pid" 2> /dev/null; then
		timeout 15 wine "$out/pva-agent.exe" --stop > /dev/null 2>&1
		wait "$agent_pid" 2> /dev/null
		agent_rc=$?
	fi
	agent_pid=
}

cleanup() {
	[ -n "$xclip_pid" ] && kill "$xclip_pid" 2> /dev/null
	[ -n "$fake_pid" ] && kill "$fake_pid" 2> /dev/null
	if [ -n "${WINEPREFIX:-}" ]; then
		stop_agent
		wineserver -k > /dev/null 2>&1
	fi
	[ -n "$host_pid" ] && kill "$host_pid" 2> /dev/null
	[ -n "$xvfb_pid" ] && kill "$xvfb_pid" 2> /dev/null
	wait 2> /dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# wait_until SECONDS COMMAND...: poll every 0.2 s
wait_until() {
	n=$(($1 * 5))
	shift
	while [ "$n" -gt 0 ]; do
		"$@" > /dev/null 2>&1 && return 0
		sleep 0.2
		n=$((n - 1))
	done
	return 1
}

# ---- build (make windows-agent-test did it; alone, this does)
if make -s windows-agent windows-installer host "$out/agent-cliptool.exe" \
	"$out/agent-devctl.exe" "$out/agent-unit" > "$tmp/build.log" 2>&1; then
	ok "build: pva-agent.exe, pva-setup.exe, the test tools"
else
	bad "build"
	tail -n 30 "$tmp/build.log"
	finish
fi
if grep -qi warning "$tmp/build.log"; then
	bad "build: warning-free"
	grep -i warning "$tmp/build.log" | head
else
	ok "build: warning-free"
fi
for dll in $(x86_64-w64-mingw32-objdump -p "$out/pva-agent.exe" | sed -n 's/^[[:space:]]*DLL Name: //p'); do
	case $(echo "$dll" | tr 'A-Z' 'a-z') in
	kernel32.dll | user32.dll | advapi32.dll | ws2_32.dll | iphlpapi.dll | wtsapi32.dll | msvcrt.dll | gdi32.dll) ;;
	*) bad "pe: pva-agent.exe imports only system DLLs ($dll)" ;;
	esac
done
check "pe: pva-agent.exe is a GUI program (no console window at logon)" \
	sh -c "x86_64-w64-mingw32-objdump -p '$out/pva-agent.exe' | grep -Eq '^Subsystem[[:space:]]+00000002'"

# ---- unit
"$out/agent-unit" > "$tmp/unit.log" 2>&1
rc=$?
summary=$(grep '^agent-unit:' "$tmp/unit.log")
if [ $rc -eq 0 ] && echo "$summary" | grep -q ', 0 failed'; then
	ok "unit: $summary"
else
	bad "unit (exit $rc): ${summary:-no summary}"
	grep FAIL "$tmp/unit.log" | head
	tail -n 5 "$tmp/unit.log"
fi

# ---- X, pva-host, a wine prefix, the agent
# -noreset: modes made with xrandr --newmode survive the xrandr client
Xvfb -displayfd 3 -noreset -screen 0 1920x1200x24 -nolisten tcp 3> "$tmp/display" > "$tmp/xvfb.log" 2>&1 &
xvfb_pid=$!
wait_until 10 test -s "$tmp/display"
DISPLAY=:$(cat "$tmp/display")
export DISPLAY
check "x: Xvfb on $DISPLAY" sh -c "xrandr -q > /dev/null"
# Xvfb's RandR needs the modes before anyone can set them
xrandr --newmode 1280x800 83.50 1280 1352 1480 1680 800 803 809 831 -hsync +vsync 2> /dev/null
xrandr --addmode screen 1280x800
xrandr --newmode 1024x768 63.50 1024 1072 1176 1328 768 771 775 798 -hsync +vsync 2> /dev/null
xrandr --addmode screen 1024x768

port=$($helpers free-port)
mkdir -p "$tmp/host"
start_host() {
	"$host_bin" -d "$tmp/host" --agent-socket "tcp:127.0.0.1:$port" \
		>> "$tmp/host.log" 2>&1 &
	host_pid=$!
	wait_until 10 test -S "$tmp/host/ctl.sock" &&
		wait_until 10 "$hostctl" -d "$tmp/host" status
}
rm -f "$tmp/host/ctl.sock"
check "host: pva-host --agent-socket tcp:127.0.0.1:$port" start_host
hc() {
	"$hostctl" -d "$tmp/host" "$@"
}

export WINEPREFIX="$tmp/prefix"
export WINEDEBUG=-all
export WINEDLLOVERRIDES="mscoree,mshtml="	# no Mono/Gecko installers
check "wine: a fresh prefix" sh -c "wineboot -i > '$tmp/wineboot.log' 2>&1"
# what the agent reports, and what Windows 10 reports
wine reg add 'HKCU\Software\Wine' /v Version /t REG_SZ /d win10 /f > /dev/null 2>&1
nt='HKLM\Software\Microsoft\Windows NT\CurrentVersion'
wine reg add "$nt" /v ProductName /t REG_SZ /d 'Windows 10 Pro' /f > /dev/null 2>&1
wine reg add "$nt" /v DisplayVersion /t REG_SZ /d 22H2 /f > /dev/null 2>&1
wine reg add "$nt" /v UBR /t REG_DWORD /d 3693 /f > /dev/null 2>&1
wineserver -w
agent_log=$tmp/agent.log
agent_log_w=$(winepath -w "$agent_log")
cliptool=$out/agent-cliptool.exe

# start_agent ARGS...: the agent in the background, its stderr in agent.err
start_agent() {
	wine "$out/pva-agent.exe" -v --log "$agent_log_w" "$@" >> "$tmp/agent.err" 2>&1 &
	agent_pid=$!
}

agent_connected() {
	hc -j guest > "$tmp/guest.json" 2> /dev/null &&
		[ "$($helpers jget agent < "$tmp/guest.json")" = true ]
}

# the clipboard has an application's text before the agent starts: it
# must be offered to the host at HELLO
printf 'before the agent: Ωμέγα\n' | xclip -i -selection clipboard
start_agent --host "tcp:127.0.0.1:$port"
if wait_until 30 agent_connected; then
	ok "agent: connected over TCP and said HELLO ($($helpers jget transport < "$tmp/guest.json") transport)"
else
	bad "agent: connected over TCP and said HELLO"
	tail "$tmp/agent.err"
	finish
fi
check "agent: --version" sh -c "wine '$out/pva-agent.exe' --version | grep -q 'pva-agent $(cat VERSION)'"
check "agent: a second agent in the session exits 3" sh -c \
	"timeout 20 wine '$out/pva-agent.exe' --host tcp:127.0.0.1:1 > /dev/null 2>&1; [ \$? -eq 3 ]"
check "agent: a usage error exits 2" sh -c \
	"timeout 20 wine '$out/pva-agent.exe' --bogus > /dev/null 2>&1; [ \$? -eq 2 ]"
check "agent: logs to --log" grep -q 'the host answered HELLO' "$agent_log"

# ---- info (e)
hc guest > "$tmp/guest.txt" 2>&1
hc -j guest > "$tmp/guest.json" 2>&1
info() {
	$helpers jget "info.$1" < "$tmp/guest.json"
}
check "info: os.id=windows" test "$(info os.id)" = windows
check "info: os.name=Windows" test "$(info os.name)" = Windows
check "info: os.version=10.0 ($(info os.version))" test "$(info os.version)" = 10.0
check "info: os.pretty_name is the product and its release ($(info os.pretty_name))" \
	test "$(info os.pretty_name)" = "Windows 10 Pro 22H2"
check "info: kernel.release is the build and update ($(info kernel.release))" sh -c \
	"echo '$(info kernel.release)' | grep -Eq '^[0-9]+\\.3693\$'"
check "info: kernel.version ($(info kernel.version))" sh -c "echo '$(info kernel.version)' | grep -q '^10\\.0\\.'"
check "info: arch=x86_64" test "$(info arch)" = x86_64
check "info: hostname ($(info hostname))" test -n "$(info hostname)"
check "info: agent.version=$(cat VERSION)" test "$(info agent.version)" = "$(cat VERSION)"
check "info: session.user ($(info session.user))" test -n "$(info session.user)"
check "info: session.id, session.type ($(info session.id), $(info session.type))" sh -c \
	"[ -n '$(info session.id)' ] && [ '$(info session.type)' = console ]"
check "info: uptime ($(info uptime) s)" sh -c "echo '$(info uptime)' | grep -Eq '^[0-9]+\$'"
check "info: pva-hostctl guest lists them" sh -c \
	"grep -q 'os.id *windows' '$tmp/guest.txt' && grep -q 'kernel.release' '$tmp/guest.txt' && grep -q 'session.user' '$tmp/guest.txt'"
check "info: every entry kept the rules (info_bad 0)" test "$($helpers jget info_bad < "$tmp/guest.json")" = 0

# ---- text (a, b)
check "text: what the clipboard held at start went to the host" sh -c \
	"hc() { '$hostctl' -d '$tmp/host' \"\$@\"; }; hc clipboard get > '$tmp/start.txt' && printf 'before the agent: Ωμέγα\\n' | cmp -s - '$tmp/start.txt'"
printf 'Γειά σου κόσμε — ελληνικά\n日本語のテキスト、中文\n😀🎉 emoji\n\ttab and trailing newline\n' > "$tmp/t1.txt"
hc clipboard set --file "$tmp/t1.txt" > /dev/null
sleep 0.5
xclip -o -selection clipboard > "$tmp/t1.out" 2>&1
check "text: host -> X11, byte for byte (UTF-8, LF)" cmp -s "$tmp/t1.txt" "$tmp/t1.out"
wine "$cliptool" get text "$(winepath -w "$tmp/t1.u16")" > /dev/null 2>&1
$helpers text-utf16 "$tmp/t1.txt" "$tmp/t1.want16"
check "text: host -> a Windows application: CF_UNICODETEXT with CRLF" sh -c \
	"head -c \$(stat -c %s '$tmp/t1.want16') '$tmp/t1.u16' | cmp -s - '$tmp/t1.want16'"
# larger than a chunk: 2 MiB of numbered lines
python3 -c "
import sys
sys.stdout.write(''.join('%07d Ελληνικά 中文 🎉 the quick brown fox\n' % i for i in range(40000)))" > "$tmp/big.txt"
hc clipboard set --file "$tmp/big.txt" > /dev/null
sleep 0.3
wine "$cliptool" get text "$(winepath -w "$tmp/big.u16")" > /dev/null 2>&1
$helpers text-utf16 "$tmp/big.txt" "$tmp/big.want16"
check "text: $(stat -c %s "$tmp/big.txt") bytes host -> Windows application, in chunks" sh -c \
	"head -c \$(stat -c %s '$tmp/big.want16') '$tmp/big.u16' | cmp -s - '$tmp/big.want16'"
xclip -o -selection clipboard > "$tmp/big.x" 2>&1
check "text: the same through X11 (from the agent's cache)" cmp -s "$tmp/big.txt" "$tmp/big.x"
check "text: after the host's copy and two pastes the host still owns it (no echo)" sh -c \
	"hc() { '$hostctl' -d '$tmp/host' \"\$@\"; }; hc clipboard status | grep -q '^clipboard: host'"
check "text: one transfer for both pastes of each" sh -c "[ \$(grep -c 'of text/plain;charset=utf-8 from the host' '$agent_log') -eq 2 ]"

printf 'από το X11: Ελληνικά\n中文 🎉\nno newline at the end' > "$tmp/t2.txt"
xclip -i -selection clipboard -quiet < "$tmp/t2.txt" > /dev/null 2>&1 &
xclip_pid=$!
sleep 0.7
hc clipboard get > "$tmp/t2.out" 2>&1
check "text: X11 -> host, byte for byte" cmp -s "$tmp/t2.txt" "$tmp/t2.out"
kill "$xclip_pid" 2> /dev/null
xclip_pid=
printf 'a Windows line\r\nanother: ünïcödé\r\nlast\r\n' > "$tmp/t3.crlf"
iconv -f utf-8 -t utf-16le "$tmp/t3.crlf" > "$tmp/t3.u16"
wine "$cliptool" set text "$(winepath -w "$tmp/t3.u16")" > /dev/null 2>&1
sleep 0.5
hc clipboard get > "$tmp/t3.out" 2>&1
check "text: Windows application -> host, CRLF made LF" sh -c \
	"printf 'a Windows line\\nanother: ünïcödé\\nlast\\n' | cmp -s - '$tmp/t3.out'"
check "text: the guest's copies were not echoed back (no grab loop)" sh -c \
	"hc() { '$hostctl' -d '$tmp/host' \"\$@\"; }; hc clipboard status | grep -q '(0 crossed)'"

# ---- image (c)
$helpers png rgba 61 37 "$tmp/host.png"
hc clipboard set --type image/png --file "$tmp/host.png" > /dev/null
sleep 0.5
for f in dib dibv5; do
	wine "$cliptool" get $f "$(winepath -w "$tmp/paste.$f")" > /dev/null 2>&1
	$helpers dib-rgba "$tmp/paste.$f" "$tmp/paste.$f.rgba" 2> /dev/null
	check "image: host PNG -> pasted as CF_$(echo $f | tr a-z A-Z): the same pixels, alpha too" \
		$helpers same-rgba "$tmp/host.png.rgba" "$tmp/paste.$f.rgba"
done
wine "$cliptool" get png "$(winepath -w "$tmp/paste.png")" > /dev/null 2>&1
check "image: host PNG -> pasted as \"PNG\": the same file" cmp -s "$tmp/host.png" "$tmp/paste.png"
xclip -o -selection clipboard -t image/png > "$tmp/paste.x.png" 2> /dev/null
check "image: host PNG -> X11 image/png through wine's bridge" cmp -s "$tmp/host.png" "$tmp/paste.x.png"
check "image: one transfer for the four pastes" sh -c "[ \$(grep -c 'of image/png from the host' '$agent_log') -eq 1 ]"

$helpers dib 24 45 29 "$tmp/app24.dib"
wine "$cliptool" set dib "$(winepath -w "$tmp/app24.dib")" > /dev/null 2>&1
sleep 0.5
hc clipboard get --type image/png > "$tmp/app24.png" 2> "$tmp/get.err"
$helpers png-rgba "$tmp/app24.png" "$tmp/app24.rgba" 2> /dev/null
check "image: a Windows application's 24-bit CF_DIB -> host PNG, the same pixels" \
	$helpers same-rgba "$tmp/app24.dib.rgba" "$tmp/app24.rgba"
$helpers dib v5 33 21 "$tmp/appv5.dib"
wine "$cliptool" set dibv5 "$(winepath -w "$tmp/appv5.dib")" > /dev/null 2>&1
sleep 0.5
hc clipboard get --type image/png > "$tmp/appv5.png" 2> "$tmp/get.err"
$helpers png-rgba "$tmp/appv5.png" "$tmp/appv5.rgba" 2> /dev/null
check "image: a 32-bit CF_DIBV5 with alpha -> host PNG (RGBA), the same pixels" \
	$helpers same-rgba "$tmp/appv5.dib.rgba" "$tmp/appv5.rgba"
check "image: host's clipboard get without --type picks the image" sh -c \
	"hc() { '$hostctl' -d '$tmp/host' \"\$@\"; }; hc clipboard status | grep -q 'guest (image/png)'"

# ---- display (d)
screen_is() {
	xrandr -q | grep -q "current $1 x $2,"
}
state_is() {
	hc -j guest > "$tmp/guest.json" 2> /dev/null &&
		[ "$($helpers jget display.generation < "$tmp/guest.json")" = "$1" ] &&
		[ "$($helpers jget display.status < "$tmp/guest.json")" = 0 ] &&
		[ "$($helpers jget display.heads.0.width < "$tmp/guest.json")" = "$2" ] &&
		[ "$($helpers jget display.heads.0.height < "$tmp/guest.json")" = "$3" ]
}
for size in "1280 800" "1024 768"; do
	set -- $size
	gen=$(hc -j display resize "$1" "$2" 2> /dev/null | $helpers jget generation)
	check "display: resize $1x$2 -> the Xvfb screen is $1x$2" wait_until 10 screen_is "$1" "$2"
	check "display: pva-hostctl guest shows DISPLAY_STATE $1x$2 for layout $gen" \
		wait_until 10 state_is "$gen" "$1" "$2"
done
check "display: pva-hostctl guest prints it" sh -c \
	"hc() { '$hostctl' -d '$tmp/host' \"\$@\"; }; hc guest | grep -q 'session display *layout $gen, status 0: 0:1024x768+0+0'"

# ---- time
hc time sync > "$tmp/time.txt" 2>&1
check "time: time sync answered (the same clock: nothing to do)" sh -c \
	"grep -q '(none)' '$tmp/time.txt' || grep -q '(yielded)' '$tmp/time.txt'"
hc -j time status > "$tmp/time.json" 2>&1
check "time: time status has the agent's report" test "$($helpers jget synced < "$tmp/time.json")" = true

# ---- malformed (f), by pva-host
if hc debug send agent 3 00000000 > "$tmp/debug.txt" 2>&1; then
	check "malformed: debug send agent 3 (4 bytes) logged" wait_until 5 grep -q 'malformed CLIP_GRAB' "$agent_log"
	hc debug send agent 7 00 > /dev/null 2>&1
	check "malformed: debug send agent 7 (1 byte) logged" wait_until 5 grep -q 'malformed DISPLAY_LAYOUT' "$agent_log"
	printf 'still working\n' | hc clipboard set > /dev/null
	sleep 0.5
	check "malformed: the clipboard still works after them" sh -c \
		"xclip -o -selection clipboard | grep -q 'still working'"
else
	echo "note pva-host cannot send on its direct socket ($(cat "$tmp/debug.txt")): the fake host below sends them"
fi

# ---- reconnect: pva-host restarted
kill "$host_pid"
wait "$host_pid" 2> /dev/null
host_pid=
sleep 1
rm -f "$tmp/host/ctl.sock"
start_host
check "reconnect: the agent connects to the new pva-host and says HELLO" wait_until 20 agent_connected
printf 'after the restart: ξανά\n' | hc clipboard set > /dev/null
sleep 0.5
check "reconnect: the clipboard works again" sh -c \
	"xclip -o -selection clipboard | grep -q 'after the restart: ξανά'"
check "reconnect: the agent logged the loss" grep -q 'lost the host' "$agent_log"

# ---- malformed (f), by the fake host
stop_agent
check "agent: --stop ends it (exit ${agent_rc:-none})" test "$agent_rc" = 0
fport=$($helpers free-port)
printf 'an application copied this\n' > "$tmp/local.txt"
xclip -i -selection clipboard -quiet < "$tmp/local.txt" > /dev/null 2>&1 &
xclip_pid=$!
sleep 0.5
python3 tests/windows/agent_fakehost.py --port "$fport" --display "$DISPLAY" \
	--local-text "$tmp/local.txt" --agent-log "$agent_log" > "$tmp/fake.log" 2>&1 &
fake_pid=$!
sleep 0.5
start_agent --host "tcp:127.0.0.1:$fport"
wait "$fake_pid"
fake_pid=
while IFS= read -r line; do
	case $line in
	"ok   "*) ok "malformed: ${line#ok   fake host: }" ;;
	"FAIL "*) bad "malformed: ${line#FAIL fake host: }" ;;
	esac
done < "$tmp/fake.log"
grep -q '^fake host: ' "$tmp/fake.log" || { bad "malformed: the fake host ended early"; tail "$tmp/fake.log"; }
check "malformed: the agent is still running" kill -0 "$agent_pid"
stop_agent
kill "$xclip_pid" 2> /dev/null
xclip_pid=

# ---- power: the last thing in this session
start_agent --host "tcp:127.0.0.1:$port"
wait_until 30 agent_connected
hc shutdown --timeout 20 > "$tmp/power.txt" 2>&1
check "power: pva-hostctl shutdown: the guest shut down and said so" sh -c \
	"grep -q 'the guest shut down' '$tmp/power.txt' && ! grep -q 'did not say' '$tmp/power.txt'"
i=0
while [ $i -lt 100 ] && kill -0 "$agent_pid" 2> /dev/null; do
	sleep 0.1
	i=$((i + 1))
done
if ! kill -0 "$agent_pid" 2> /dev/null; then
	wait "$agent_pid"
	rc=$?
	check "power: the agent left with the session (exit $rc)" test "$rc" -eq 0
	agent_pid=
else
	bad "power: the agent left with the session"
fi
check "power: it logged the shutdown" grep -q 'Windows is going down' "$agent_log"
if [ "$fail" -ne 0 ]; then
	echo "--- the agent's log (last 40 lines)"
	tail -n 40 "$agent_log"
fi
wineserver -k > /dev/null 2>&1

# ---- device: the IOCTL back end against pvatest.sys
if [ -f "$out/driver/pvatest.sys" ]; then
	export WINEPREFIX="$tmp/prefix-dev"
	wineserver -p > /dev/null 2>&1
	wineboot -i > "$tmp/wineboot-dev.log" 2>&1
	cp "$out/driver/pvatest.sys" "$WINEPREFIX/drive_c/windows/system32/drivers/pvatest.sys"
	wine sc create pvatest type= kernel binPath= 'C:\windows\system32\drivers\pvatest.sys' > /dev/null 2>&1
	# services.exe takes a few seconds after wineboot before it starts
	# a kernel service (7 s here, more on a busy machine)
	started=false
	for try in $(seq 1 30); do
		wine sc start pvatest > "$tmp/sc.log" 2>&1
		if grep -q RUNNING "$tmp/sc.log" ||
			wine sc query pvatest 2>&1 | grep -q RUNNING; then
			started=true
			break
		fi
		sleep 1
	done
	if $started; then
		ok "device: pvatest.sys runs under wine"
		agent_log=$tmp/agent-dev.log
		agent_log_w=$(winepath -w "$agent_log")
		# the loopback host has no "agent" channel: its "echo" channel
		# sends the HELLO back, which is as good an answer
		start_agent --channel echo --no-clipboard
		check "device: bound \\\\.\\PvaDevice, HELLO answered through ReadFile/WriteFile" \
			wait_until 20 grep -q 'the host answered HELLO' "$agent_log"
		wine "$out/agent-devctl.exe" reset > "$tmp/devctl.log" 2>&1
		check "device: a device reset (ERROR_NETNAME_DELETED) -> HELLO again" \
			wait_until 20 sh -c "grep -q 'the pva device was reset: saying HELLO again' '$agent_log' && [ \$(grep -c 'the host answered HELLO' '$agent_log') -ge 2 ]"
		stop_agent
		check "device: --stop with a read pending on the device (exit ${agent_rc:-none})" \
			test "$agent_rc" = 0
		start_agent --channel nosuch --no-clipboard
		check "device: a channel the host does not offer: said, and waited for" \
			wait_until 20 grep -q 'the host offers no agent channel' "$agent_log"
		stop_agent
		wine sc stop pvatest > /dev/null 2>&1
	else
		bad "device: pvatest.sys runs under wine"
		cat "$tmp/sc.log"
		wine sc query pvatest 2>&1
	fi
	wineserver -k > /dev/null 2>&1
else
	echo "note device: no $out/driver/pvatest.sys (make windows-driver): the IOCTL back end is not tested"
fi

# ---- installer (g)
export WINEPREFIX="$tmp/prefix-setup"
wineboot -i > "$tmp/wineboot-setup.log" 2>&1
wineserver -w
snap() {
	(cd "$WINEPREFIX" && find drive_c | grep -v '/Temp/~nsu[0-9]*\.tmp' | sort) > "$tmp/files.$1"
	$helpers reg-snap "$WINEPREFIX" "$tmp/reg.$1"
}
snap before
check "installer: pva-setup.exe /S" sh -c "wine '$out/pva-setup.exe' /S && wineserver -w"
pf="$WINEPREFIX/drive_c/Program Files/pva"
check "installer: pva-agent.exe and uninstall.exe in Program Files\\pva" \
	sh -c "[ -f '$pf/pva-agent.exe' ] && [ -f '$pf/uninstall.exe' ] && cmp -s '$pf/pva-agent.exe' '$out/pva-agent.exe'"
if [ -f "$out/driver/pva.sys" ]; then
	check "installer: the driver's files in Program Files\\pva\\driver" \
		sh -c "[ -f '$pf/driver/pva.sys' ] && [ -f '$pf/driver/pva.inf' ]"
fi
wine reg query 'HKLM\Software\Microsoft\Windows\CurrentVersion\Run' /v pva-agent > "$tmp/run.txt" 2>&1
check "installer: the Run key starts the agent at logon" grep -q 'C:\\Program Files\\pva\\pva-agent.exe' "$tmp/run.txt"
check "installer: listed in Add/Remove Programs" sh -c \
	"wine reg query 'HKLM\\Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\pva' /v QuietUninstallString 2>&1 | grep -q 'uninstall.exe'"
# the agent as the Run key starts it: no --host, no --log
wine "C:\\Program Files\\pva\\pva-agent.exe" > /dev/null 2>&1 &
agent_pid=$!
plog="$WINEPREFIX/drive_c/ProgramData/pva/agent.log"
check "installer: the installed agent logs to %ProgramData%\\pva\\agent.log" \
	wait_until 20 grep -q 'waiting for .*PvaDevice' "$plog"
check "installer: uninstall.exe /S" sh -c "wine 'C:\\Program Files\\pva\\uninstall.exe' /S && wineserver -w"
i=0
while [ $i -lt 100 ] && kill -0 "$agent_pid" 2> /dev/null; do
	sleep 0.1
	i=$((i + 1))
done
check "installer: the uninstaller stopped the running agent" sh -c "! kill -0 $agent_pid 2> /dev/null"
agent_pid=
# what NSIS's uninstaller leaves for the next boot (its own copy in
# %TEMP%) goes at a reboot
wineboot -r > /dev/null 2>&1
wineserver -w
snap after
if diff "$tmp/files.before" "$tmp/files.after" > "$tmp/files.diff"; then
	ok "installer: no file left behind (drive_c compared)"
else
	bad "installer: no file left behind"
	head -n 20 "$tmp/files.diff"
fi
if $helpers reg-diff "$tmp/reg.before" "$tmp/reg.after" > "$tmp/reg.diff"; then
	ok "installer: no registry key or value left behind (system.reg, user.reg compared)"
else
	bad "installer: no registry key or value left behind"
	head -n 20 "$tmp/reg.diff"
fi
wineserver -k > /dev/null 2>&1
finish
