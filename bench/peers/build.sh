#!/usr/bin/env bash
# Build the tokio peer offline from Debian's Rust crates, the way ../shared/loadgen/build.sh
# builds the generator. The binary lands in $PEERS_DIR (default ~/.cache/chat-peers); prints its path.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${PEERS_DIR:-$HOME/.cache/chat-peers}
if [ ! -d /usr/share/cargo/registry ] || ! ls /usr/share/cargo/registry | grep -q '^tokio-1' \
  || ! ls /usr/share/cargo/registry | grep -q '^bytes-1'; then
  pkgs=(librust-tokio-dev librust-bytes-dev)
  apt-get install -y -q "${pkgs[@]}" >/dev/null 2>&1 \
    || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q "${pkgs[@]}" >/dev/null 2>&1; }
fi
cd "$here/tokio"
CARGO_TARGET_DIR="$out" cargo build --release --offline -q
echo "$out/release/chat-peer-tokio"
