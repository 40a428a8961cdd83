#!/bin/sh
# SPDX-License-Identifier: MIT
# pva-host and pva-hostctl on the command line, without a guest: help,
# bad arguments get a clear message and exit 2, a missing daemon exit 3,
# an absent guest exit 1, and the daemon's worker restart.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
host=$top/build/host/pva-host
ctl=$top/build/host/pva-hostctl
dir=$(mktemp -d)
pass=0
fail=0

# expect RC PATTERN CMD...: exit status RC and PATTERN in stdout+stderr
expect() {
	want=$1 pat=$2
	shift 2
	out=$("$@" 2>&1)
	rc=$?
	if [ "$rc" = "$want" ] && printf '%s' "$out" | grep -q -- "$pat"; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		echo "FAIL: $* -> $rc (want $want, /$pat/): $out"
	fi
}

expect 0 "Usage: pva-host" "$host" --help
expect 0 "pva-host 0" "$host" --version
expect 2 "invalid number" "$host" --vectors abc
expect 2 "must be 1-" "$host" --vectors 0
expect 2 "invalid number" "$host" --vectors 99
expect 2 "power of two" "$host" --shm-size 3M
expect 2 "power of two" "$host" --shm-size -4M
expect 2 "power of two" "$host" --shm-size lots
expect 2 "unexpected argument" "$host" extra
expect 2 "major-min" "$host" --proto-major-min 3 --proto-major-max 2
expect 2 "Try" "$host" --no-such-option
expect 2 "given twice" "$host" --test-service sf --test-service sf
expect 2 "is not selftest" "$host" --test-service toaster
expect 1 "cannot run with these settings" "$host" -d "$dir/small" -m 64K
PVA_HOST_DIR="$dir/envdir" "$host" -q &
epid=$!
i=0
while [ ! -S "$dir/envdir/ctl.sock" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
expect 0 "guest: absent" env PVA_HOST_DIR="$dir/envdir" "$ctl" status
kill -TERM "$epid"
wait "$epid"

expect 0 "Usage: pva-hostctl" "$ctl" --help
expect 2 "Usage" "$ctl"
expect 2 "unknown command" "$ctl" -d "$dir" frobnicate
expect 2 "not a number" "$ctl" -d "$dir" ping -c 0
expect 2 "not a number" "$ctl" -d "$dir" ping -c -5
expect 2 "not a number" "$ctl" -d "$dir" ping -s 70000
expect 2 "not a number" "$ctl" -d "$dir" ping -w x
expect 2 "takes no arguments" "$ctl" -d "$dir" status now
expect 2 "usage: debug" "$ctl" -d "$dir" debug frob
expect 3 "cannot reach pva-host" "$ctl" -d "$dir" status
expect 2 "not a size" "$ctl" -d "$dir" balloon set -1M
expect 2 "not a size" "$ctl" -d "$dir" balloon set lots
expect 2 "not a size" "$ctl" -d "$dir" balloon set 12X
expect 2 "usage: balloon" "$ctl" -d "$dir" balloon frob
expect 2 "interval" "$ctl" -d "$dir" balloon stats --interval -1
expect 2 "is not q35" "$host" --ram-layout sparc
expect 0 "share NAME" "$host" --help
expect 2 "is not NAME=PATH" "$host" --share nothing
expect 2 "is not a share name" "$host" --share "Bad/Name=$dir"
expect 2 "is not a share name" "$host" --share "=$dir"
expect 2 "No such file" "$host" --share "a=$dir/missing"
expect 2 "Not a directory" "$host" --share "a=$0"
expect 2 "given twice" "$host" --share "a=$dir" --share "a=$dir,ro"
expect 2 "usage: share" "$ctl" -d "$dir" share
expect 2 "usage: share" "$ctl" -d "$dir" share add onlyname
expect 2 "usage: share" "$ctl" -d "$dir" share add n "$dir" --rw
expect 2 "usage: share" "$ctl" -d "$dir" share remove
expect 2 "No such file" "$ctl" -d "$dir" share add n "$dir/missing"

expect 2 "not a size of 1 byte to 1G" "$host" --clipboard-max 0
expect 2 "not a size of 1 byte to 1G" "$host" --clipboard-max 2G
expect 2 "usage: clipboard" "$ctl" -d "$dir" clipboard frob
expect 2 "usage: clipboard" "$ctl" -d "$dir" clipboard set --output x
expect 2 "takes 0.01-3600 seconds" "$ctl" -d "$dir" clipboard get --timeout x
expect 2 "takes no arguments" "$ctl" -d "$dir" guest now
# the guest's programs, on this machine
svc=$top/build/agent/$(uname -m | sed 's/aarch64/arm64/')/pva-service
agent=${svc%/*}/pva-agent
expect 0 "Usage: pva-service" "$svc" --help
expect 0 "pva-service 0" "$svc" --version
expect 2 "Try" "$svc" --frob
expect 2 "not a size" "$svc" --max-size 0
expect 0 "Usage: pva-agent" "$agent" --help
expect 2 "must be x11 or wayland" "$agent" --kind mir
expect 3 "not in a desktop session" env -u DISPLAY -u WAYLAND_DISPLAY "$agent"

truncate -s 64M "$dir/ram"
mkdir -p "$dir/sh1" "$dir/sh2"
"$host" -d "$dir" -q --guest-ram "$dir/ram" --share "docs=$dir/sh1,ro" \
	--clipboard-max 1M 2>"$dir/host.log" &
hpid=$!
i=0
while [ ! -S "$dir/ctl.sock" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
expect 0 "guest: absent" "$ctl" -d "$dir" status
expect 0 '"connected": false' "$ctl" -d "$dir" --json status
expect 1 "no guest driver is connected" "$ctl" -d "$dir" ping
expect 1 "unknown corruption" "$ctl" -d "$dir" debug corrupt nonsense
expect 1 "no negotiated guest" "$ctl" -d "$dir" debug corrupt ring-index
expect 1 "more than the guest's RAM (64 MiB)" "$ctl" -d "$dir" balloon set 65M
expect 0 "applies when the guest driver comes" "$ctl" -d "$dir" balloon set 32M
expect 0 "target 32.0 MiB, actual 0.0 MiB (no guest driver)" "$ctl" -d "$dir" balloon status
expect 0 '"target": 33554432' "$ctl" -d "$dir" --json balloon status
expect 1 "no guest driver sends statistics" "$ctl" -d "$dir" balloon stats
# shares: the command line's, added and removed at run time
expect 0 "docs             ro" "$ctl" -d "$dir" share list
expect 0 "share extra added" "$ctl" -d "$dir" share add extra "$dir/sh2"
expect 1 "a share named 'extra' exists" "$ctl" -d "$dir" share add extra "$dir/sh2" --ro
expect 1 "is not a share name" "$ctl" -d "$dir" share add "UP" "$dir/sh2"
expect 1 "Not a directory" "$ctl" -d "$dir" share add file "$dir/ram"
expect 1 "no share named 'nope'" "$ctl" -d "$dir" share remove nope
expect 0 '"name": "extra"' "$ctl" -d "$dir" --json share list
expect 0 "sf: 2 shares, 0 mounts" "$ctl" -d "$dir" status
expect 0 '"erofs": 0' "$ctl" -d "$dir" --json status
expect 0 "share docs removed (0 guest mounts revoked)" "$ctl" -d "$dir" share remove docs
# the clipboard without a guest: the host's own content
expect 1 "the clipboard is empty" "$ctl" -d "$dir" clipboard get
expect 0 "no guest agent is connected" sh -c "printf 'gr\303\274\303\237e' | '$ctl' -d '$dir' clipboard set"
expect 0 "^grüße$" sh -c "'$ctl' -d '$dir' clipboard get; echo"
expect 1 "has no image/png (it has: text/plain;charset=utf-8)" "$ctl" -d "$dir" clipboard get --type image/png
expect 1 "is not a MIME type" sh -c "echo x | '$ctl' -d '$dir' clipboard set --type 'a b'"
expect 2 "No such file" "$ctl" -d "$dir" clipboard set --file "$dir/missing"
head -c 2097152 /dev/zero > "$dir/2m"
expect 1 "more than the limit of 1048576" "$ctl" -d "$dir" clipboard set --file "$dir/2m"
expect 0 "" "$ctl" -d "$dir" clipboard set --type image/png --file "$0"
"$ctl" -d "$dir" clipboard get --output "$dir/got"
if cmp -s "$0" "$dir/got"; then pass=$((pass + 1)); else
	fail=$((fail + 1)); echo "FAIL: clipboard get --output did not give back what was set"; fi
expect 0 "clipboard: host (image/png)" "$ctl" -d "$dir" clipboard status
expect 0 "" "$ctl" -d "$dir" clipboard set --clear
expect 1 "the clipboard is empty" "$ctl" -d "$dir" clipboard get
expect 0 "no guest agent connected" "$ctl" -d "$dir" guest
expect 0 '"transport": "none"' "$ctl" -d "$dir" --json guest
# a watch sees a change as it happens
"$ctl" -d "$dir" clipboard watch > "$dir/watch" 2>&1 &
wpid=$!
sleep 0.5
echo hi | "$ctl" -d "$dir" clipboard set --type text/html 2>/dev/null
sleep 0.5
kill "$wpid"
wait "$wpid" 2>/dev/null
if grep -q "clipboard: host (text/html)" "$dir/watch" && grep -q "agent not connected" "$dir/watch"; then
	pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: clipboard watch: $(cat "$dir/watch")"; fi
# a restarted worker is a new process; the daemon keeps answering
old=$("$ctl" -d "$dir" --json status | sed -n 's/.*"worker_pid": \([0-9]*\).*/\1/p')
expect 0 "worker is restarting" "$ctl" -d "$dir" restart
sleep 1
new=$("$ctl" -d "$dir" --json status | sed -n 's/.*"worker_pid": \([0-9]*\).*/\1/p')
if [ -n "$new" ] && [ "$new" != "$old" ]; then pass=$((pass + 1)); else
	fail=$((fail + 1)); echo "FAIL: worker not restarted ($old -> $new)"; fi
# runtime shares survive restarts
expect 0 "extra            rw" "$ctl" -d "$dir" share list
if "$ctl" -d "$dir" share list | grep -q docs; then
	fail=$((fail + 1)); echo "FAIL: a removed share came back after a restart"
else pass=$((pass + 1)); fi
# a worker killed by a signal is replaced too
kill -9 "$new"
sleep 3
expect 0 "generation" "$ctl" -d "$dir" status
expect 0 "sf: 1 shares" "$ctl" -d "$dir" status
# bad JSON on the control socket gets an error answer
if command -v python3 >/dev/null; then
	expect 0 "not valid JSON" python3 -c "
import socket,sys
s=socket.socket(socket.AF_UNIX); s.connect('$dir/ctl.sock')
s.sendall(b'{oops\n'); print(s.recv(4096).decode())"
	expect 0 "must be a JSON object" python3 -c "
import socket,sys
s=socket.socket(socket.AF_UNIX); s.connect('$dir/ctl.sock')
s.sendall(b'[1,2]\n'); print(s.recv(4096).decode())"
fi
kill -TERM "$hpid"
wait "$hpid"
rc=$?
if [ "$rc" = 0 ] && [ ! -e "$dir/ctl.sock" ] && [ ! -e "$dir/sf-shares.json" ]; then pass=$((pass + 1)); else
	fail=$((fail + 1)); echo "FAIL: SIGTERM: exit $rc, sockets left: $(ls "$dir")"; fi
rm -rf "$dir"
echo "cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
