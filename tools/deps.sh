#!/bin/sh
# Install what building and testing pooldbg needs on Debian (run as root).
set -e
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends \
	build-essential autoconf automake libtool pkg-config \
	libunwind-dev libdw-dev libsqlite3-dev libncurses-dev zlib1g-dev \
	sqlite3 python3 perl xz-utils git heaptrack libc6-dbg tmux time >/dev/null
echo "deps: build dependencies installed"
