# SPDX-License-Identifier: MIT
# Guest control in a real guest (systemd, logind, udev; pva installed as
# the installer puts it): the clock an hour wrong is stepped back by
# `pva-hostctl time sync`, a small error slewed, a simulated host resume
# syncs at once, NTP is deferred to when asked; guest information matches
# what the guest says (uname, ip addr, sessions) and follows an address
# change; a filesystem freeze (ext4 on a virtual disk) blocks a write
# until the thaw, runs the hooks, thaws by itself after its timeout,
# refuses a second freeze and a failing hook; malformed requests are
# refused; then a clean reboot and a clean shutdown asked by the host.
# Run by vmtest.py (x86_64: the host's programs).
# vmtest-hostroot: yes
# vmtest-init: systemd
# vmtest-install: yes
# vmtest-kmods: yes
# vmtest-datadisk: 256
# vmtest-nic: yes
# vmtest-boots: 2
. /tests/lib.sh

A=services[agent].agent

# the guest's clock is the host's, within SECONDS
clock_near() {
	hostcmd time-near "$(date +%s.%N)" "$1"
}

set_clock_by() {
	python3 -c "import time; time.clock_settime(time.CLOCK_REALTIME, time.time() + $1)"
}

service_up() {
	wait_for 60 "pva-service is not active" systemctl is-active -q pva-service
	_i=0
	until hostcmd status-cmp $A.agent eq true; do
		_i=$((_i + 1)); [ $_i -lt 120 ] || die "the host does not hear the agent service"
		sleep 0.5
	done
}

# a drop-in with pva-service's options, then a restart
service_opts() {
	mkdir -p /etc/systemd/system/pva-service.service.d
	printf '[Service]\nExecStart=\nExecStart=/usr/sbin/pva-service -v %s\n' "$*" \
		> /etc/systemd/system/pva-service.service.d/test.conf
	systemctl daemon-reload
	systemctl restart pva-service
	service_up
}

journal_has() {
	journalctl -b --no-pager -u pva-service | grep -q "$1"
}

t_setup() {
	load
	service_up
	service_opts ""
}

t_time_step() {
	set_clock_by 3600
	! clock_near 60 || die "the clock did not move"
	hostcmd hostctl time sync || die "time sync failed"
	clock_near 2 || die "the clock is not the host's after time sync"
	hostcmd status-field $A.time.action stepped || die "not stepped"
	hostcmd status-cmp $A.time.offset_ns lt -3590000000000 ||
		die "the offset reported is not about -1 h"
	journal_has "stepped the clock by -3[56]" || die "no log line for the step"
	set_clock_by -7200
	hostcmd hostctl time sync || die "time sync failed"
	clock_near 2 || die "the clock is not the host's after a -2 h error"
}

t_time_slew() {
	hostcmd hostctl time sync || die "time sync failed"
	set_clock_by 0.3
	hostcmd hostctl time sync || die "time sync failed"
	hostcmd status-field $A.time.action slewed || die "a 300 ms error was not slewed"
	hostcmd status-cmp $A.time.offset_ns lt -200000000 || die "offset not about -0.3 s"
}

t_time_resume() {
	set_clock_by -1800
	# as if the host had slept: the guest syncs without being asked
	hostcmd hostctl debug resume || die "debug resume failed"
	wait_for 10 "the clock did not come back after the resume" clock_near 2
	hostcmd status-field $A.time.reason resume || die "the reason is not resume"
}

t_time_ntp() {
	# a process named chronyd: an NTP client runs; told to yield, the
	# service leaves the clock alone
	cp /bin/sleep /tmp/chronyd
	/tmp/chronyd 300 &
	ntp=$!
	service_opts --time-yield-ntp
	set_clock_by 5
	hostcmd hostctl time sync || die "time sync failed"
	! clock_near 2 || die "the clock was corrected though NTP runs"
	hostcmd status-field $A.time.action "yielded to NTP" || die "not yielded"
	hostcmd status-field $A.time.ntp true || die "NTP not noticed"
	kill $ntp
	service_opts ""
	hostcmd hostctl time sync || die "time sync failed"
	clock_near 2 || die "the clock is not back after NTP left"
}

t_guest_info() {
	hostcmd guest-info kernel.release "$(uname -r)" || die "kernel.release"
	hostcmd guest-info arch "$(uname -m)" || die "arch"
	hostcmd guest-info kernel.version "$(uname -v)" || die "kernel.version"
	if=$(ls /sys/class/net | grep -v '^lo$' | head -n 1)
	[ -n "$if" ] || die "no network interface"
	hostcmd guest-info "net.$if.mac" "$(cat /sys/class/net/$if/address)" ||
		die "the MAC of $if"
	ip link set "$if" up
	ip addr add 10.9.8.7/24 dev "$if" || die "ip addr add"
	# pushed: the host sees the new address without asking
	wait_for 10 "the host did not get the new address" \
		hostcmd guest-info "net.$if.ipv4" 10.9.8.7/24
	ip -4 addr show "$if"
	useradd -m -u 1001 -s /bin/sh alice
	XDG_SESSION_TYPE=tty XDG_SEAT=seat0 XDG_VTNR=2 setsid runuser -l alice -c "sleep 300" &
	wait_for 30 "the host does not list alice's session" \
		hostcmd guest-info users alice
	hostcmd hostctl guest
	hostcmd status-cmp $A.info_updates ge 3 || die "few INFO updates"
	grep -q pva_core /proc/modules || die "no pva_core"
	up=$(cut -d. -f1 /proc/uptime)
	[ "$up" -gt 0 ] || die "no uptime"
}

t_freeze() {
	mkfs.ext4 -q /dev/vda || die "mkfs"
	mkdir -p /data
	mount /dev/vda /data || die "mount /data"
	mkdir -p /etc/pva/fsfreeze-hook.d
	cat > /etc/pva/fsfreeze-hook.d/10-test <<-'EOF'
	#!/bin/sh
	echo "$1" >> /run/hook.log
	[ ! -e /run/fail-hook ] || [ "$1" != freeze ]
	EOF
	chmod 755 /etc/pva/fsfreeze-hook.d/10-test
	rm -f /run/hook.log
	hostcmd hostctl fsfreeze freeze --timeout 60 || die "freeze failed"
	hostcmd status-cmp $A.agent eq true || die "the agent went away"
	( dd if=/dev/zero of=/data/f bs=4096 count=1 conv=fsync 2>/dev/null; echo done > /run/write.done ) &
	sleep 3
	[ ! -e /run/write.done ] || die "a write went through the freeze"
	hostcmd hostctl fsfreeze status || die "status"
	! hostcmd hostctl fsfreeze freeze || die "a second freeze was not refused"
	hostcmd hostctl fsfreeze thaw || die "thaw failed"
	wait_for 10 "the write did not finish after the thaw" test -e /run/write.done
	[ "$(cat /run/hook.log | tr '\n' ' ')" = "freeze thaw " ] ||
		die "the hooks ran as: $(cat /run/hook.log)"
}

t_freeze_timeout() {
	rm -f /run/write.done
	hostcmd hostctl fsfreeze freeze --timeout 3 || die "freeze failed"
	( dd if=/dev/zero of=/data/g bs=4096 count=1 conv=fsync 2>/dev/null; echo done > /run/write.done ) &
	sleep 1
	[ ! -e /run/write.done ] || die "a write went through the freeze"
	wait_for 15 "not thawed after its timeout" test -e /run/write.done
	journal_has "thawed 1 filesystems by itself" || die "no log line for the automatic thaw"
	hostcmd hostctl fsfreeze status || die "status"
}

t_freeze_errors() {
	touch /run/fail-hook
	! hostcmd hostctl fsfreeze freeze || die "a failing hook did not stop the freeze"
	rm -f /run/fail-hook
	dd if=/dev/zero of=/data/h bs=4096 count=1 conv=fsync 2>/dev/null ||
		die "something stayed frozen"
	journal_has "hook /etc/pva/fsfreeze-hook.d/10-test freeze failed" ||
		die "no log line for the failing hook"
	# malformed requests: a short FSFREEZE, an unknown op, a short POWER
	hostcmd hostctl debug send agent 9 0500000000000000
	hostcmd hostctl debug send agent 9 00
	wait_for 10 "no log line for a bad TIME_SYNC" journal_has "TIME_SYNC with an unknown reason"
	journal_has "malformed TIME_SYNC" || die "no log line for a short TIME_SYNC"
	systemctl is-active -q pva-service || die "pva-service died"
	umount /data
}

# not a t_run test: the guest goes down in it; boot 2 checks the outcome
t_reboot() {
	hostcmd hostctl-bg reboot reboot --timeout 120 || echo "hostctl-bg failed"
	sleep 300
	echo "PVA-RESULT: reboot FAIL the guest did not reboot"
}

t_after_reboot() {
	hostcmd bg-wait reboot 0 60 || die "pva-hostctl reboot did not succeed"
	load
	service_up
}

t_shutdown() {
	dump_dmesg
	echo PVA-DONE
	hostcmd hostctl-bg shutdown shutdown --timeout 120
	hostcmd bg-expect shutdown 0
	sleep 300
}

case "$PVA_BOOT" in
1)
	t_run setup t_setup
	t_run time-step t_time_step
	t_run time-slew t_time_slew
	t_run time-resume t_time_resume
	t_run time-ntp t_time_ntp
	t_run guest-info t_guest_info
	t_run freeze t_freeze
	t_run freeze-timeout t_freeze_timeout
	t_run freeze-errors t_freeze_errors
	t_reboot
	;;
2)
	t_run after-reboot t_after_reboot
	t_shutdown
	;;
esac
