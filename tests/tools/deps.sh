#!/bin/sh
# Install the Debian packages given, or print the apt-get line when not root.
# --if-missing: do nothing when every package is already installed.
if_missing=0
if [ "$1" = "--if-missing" ]; then if_missing=1; shift; fi
missing=""
for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -z "$missing" ]; then
    [ "$if_missing" -eq 1 ] || echo "all dependencies are installed"
    exit 0
fi
line="apt-get install -y --no-install-recommends$missing"
if [ "$(id -u)" -ne 0 ]; then
    echo "missing packages:$missing" >&2
    echo "run as root: apt-get update && $line" >&2
    exit 1
fi
echo "installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq && apt-get install -y -qq --no-install-recommends $missing
