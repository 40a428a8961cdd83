#!/bin/sh
# SPDX-License-Identifier: MIT
# autorun.sh: what a file manager offers to run when the pva ISO is
# mounted (the freedesktop.org autostart-of-media convention). It only
# runs install.sh: as root (pkexec, else sudo, else su), in a terminal
# when it was started without one, so that the progress and the summary
# can be read. Everything else is install.sh's job.
set -u

case $0 in
*/*) here=$(cd "${0%/*}" && pwd) ;;
*) here=$(pwd) ;;
esac
installer=$here/install.sh

# Inside a terminal: become root and run the installer, then wait so that
# a terminal opened for it does not close over the summary.
if [ "${1:-}" = --in-terminal ] || [ -t 1 ]; then
	[ "${1:-}" != --in-terminal ] || shift
	if [ "$(id -u)" = 0 ]; then
		sh "$installer" "$@"
	elif command -v pkexec >/dev/null 2>&1; then
		pkexec /bin/sh "$installer" "$@"
	elif command -v sudo >/dev/null 2>&1; then
		sudo /bin/sh "$installer" "$@"
	else
		echo "The root password, to install pva:"
		su root -c "/bin/sh '$installer'"
	fi
	rc=$?
	if [ -n "${PVA_AUTORUN_WAIT:-}" ]; then
		echo
		if [ "$rc" -eq 0 ]; then echo "Done."; else echo "install.sh failed (exit $rc)."; fi
		printf 'Press Enter to close this window. '
		read -r _ || true
	fi
	exit "$rc"
fi

# Started from a file manager: open a terminal that runs this script
# again. Each terminal has its own way of taking a command.
PVA_AUTORUN_WAIT=1
export PVA_AUTORUN_WAIT
self=$here/autorun.sh
for t in x-terminal-emulator gnome-terminal konsole xfce4-terminal mate-terminal \
	lxterminal qterminal tilix kitty alacritty foot xterm; do
	command -v "$t" >/dev/null 2>&1 || continue
	case $t in
	gnome-terminal|tilix) exec "$t" -- /bin/sh "$self" --in-terminal ;;
	xfce4-terminal) exec "$t" -x /bin/sh "$self" --in-terminal ;;
	*) exec "$t" -e /bin/sh "$self" --in-terminal ;;
	esac
done

# No terminal program: a root prompt of the desktop and a log to read.
if command -v pkexec >/dev/null 2>&1; then
	pkexec /bin/sh "$installer" --yes
	exit $?
fi
echo "pva: open a terminal and run: sudo sh '$installer'" >&2
exit 1
