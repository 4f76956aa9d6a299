#!/usr/bin/env bash
# A/B fan-out with the shared load generator: the code at REV ("before", in a temporary git
# worktree) against the working tree ("after"), in alternation, each run on a fresh server pinned
# to CPU 0 (the generator on CPU 1), then the medians and ratios.
# Usage: bench/ab.sh REV [ROUNDS] [SCENARIOS] [STORES]
#   defaults: ROUNDS=5, SCENARIOS="fanout-max fanout-rate", STORES="sqlite memory"
#   LOADGEN_BENCH: the generator's bench.sh (default ../shared/loadgen/bench.sh)
#   TRANSPORT=ws: WebSocket clients on the HTTP port (default tcp)
# Prints one line per run (variant, store, scenario, round, the generator's JSON), then the table.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
rev=$1; rounds=${2:-5}; scens=${3:-"fanout-max fanout-rate"}; stores=${4:-"sqlite memory"}
bench=${LOADGEN_BENCH:-$here/../shared/loadgen/bench.sh}
work=$(mktemp -d); out=$work/runs.txt
git -C "$here" worktree add --detach "$work/before" "$rev" >/dev/null 2>&1
trap 'git -C "$here" worktree remove --force "$work/before"; rm -rf "$work"' EXIT
port=$((7400 + RANDOM % 500))
for r in $(seq 1 "$rounds"); do
  for scen in $scens; do for store in $stores; do for v in before after; do
    dir=$work/before; [ "$v" = after ] && dir=$here
    port=$((port + 1))
    db=":memory:"; [ "$store" = sqlite ] && db=$work/chat-$v-$r-$scen.db
    # TRANSPORT=ws: the generator speaks WebSocket to the HTTP port instead.
    http=off; target=127.0.0.1:$port
    [ "${TRANSPORT:-tcp}" = ws ] && { http=127.0.0.1:$((port + 1000)); target=$http; }
    (cd "$dir" && exec taskset -c 0 deno run -A main.ts "127.0.0.1:$port" --http "$http" --irc off \
      --db "$db" --no-limits >"$work/server.log" 2>&1) &
    spid=$!
    for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/${target%:*}/${target#*:}") 2>/dev/null && break; sleep 0.1; done
    # conns: fresh source addresses, not those whose ports are in TIME_WAIT (see bench/peers.sh).
    json=$(SRC_BASE=$((2 + 2 * ($(date +%s) % 120))) SERVER_PID=$spid LABEL="$v $store $scen" \
      "$bench" "$target" "$scen" 2>/dev/null)
    echo "$v $store $scen $r $json" | tee -a "$out"
    kill "$spid"; wait "$spid" 2>/dev/null || true
  done; done; done
done
deno run --allow-read "$here/bench/ab_summary.ts" "$out"
