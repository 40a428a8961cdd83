#!/bin/sh
# SPDX-License-Identifier: MIT
# make demo: boot a guest (QEMU, TCG) with pva loaded against pva-host and
# show what both sides see (tests/vm/demo.sh); then a second guest that a
# user sets up from the ISO with its installer (tests/vm/demo-install.sh).
# Run after `make setup host guest modules iso`.
set -eu
cd "$(dirname "$0")/.."
arch=$(uname -m | sed 's/aarch64/arm64/')
python3 tests/vm/vmtest.py --arch "$arch" --suite demo.sh \
	--show-host --show-console
echo
echo "=== The same features in a guest set up by the installer from the ISO"
exec python3 tests/vm/vmtest.py --arch "$arch" --suite demo-install.sh \
	--show-host --show-console --timeout 1500
