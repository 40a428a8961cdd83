#!/bin/sh
# SPDX-License-Identifier: MIT
# Set the release version: VERSION and the version strings compiled into
# the programs and modules (tests/version.sh checks they agree).
#   scripts/set-version.sh 0.2.0
set -eu
cd "$(dirname "$0")/.."
new=${1:?usage: scripts/set-version.sh X.Y.Z}
case "$new" in
*[!0-9.]* | .* | *. | *..*) echo "set-version: $new is not X.Y.Z" >&2; exit 2 ;;
esac
echo "$new" > VERSION
for f in $(tests/version.sh --files); do
	sed -i -E "s/(#define[[:space:]]+PVA_[A-Z_]*VERSION[A-Z_]*[[:space:]]+)\"[0-9.]+\"/\1\"$new\"/" "$f"
done
tests/version.sh
