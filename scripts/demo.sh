#!/bin/sh
# SPDX-License-Identifier: MIT
# make demo: boot a guest (QEMU, TCG) with pva loaded against pva-host and
# show what both sides see. Run after `make setup host guest modules`.
set -eu
cd "$(dirname "$0")/.."
arch=$(uname -m | sed 's/aarch64/arm64/')
exec python3 tests/vm/vmtest.py --arch "$arch" --suite demo.sh \
	--show-host --show-console
