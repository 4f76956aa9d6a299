#!/usr/bin/env bash
# Ours against the peer servers (bench/peers/), side by side in one run: every round runs each
# case's servers one after another (alternating, a fresh server per run, server on CPU 0 and the
# shared generator on CPU 1), then bench/compare_summary.ts prints medians and ratios.
# Usage: bench/compare.sh [ROUNDS] [CASES]
#   CASE = transport:scenario:server,server,...   (the first server is the one compared)
#   servers: ours | ours-irc | tokio | bun | deno-min (see bench/peers.sh); ROUNDS default 3
#   BUN names the Bun binary if it is not on PATH; OUT keeps the raw lines (default: a temp file).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
rounds=${1:-3}
cases=${2:-"tcp:fanout-max:ours,tokio,deno-min tcp:fanout-rate:ours,tokio,deno-min
  tcp:echo:ours,tokio,deno-min tcp:conns:ours,tokio,deno-min
  ws:fanout-max:ours,bun,deno-min ws:fanout-rate:ours,bun,deno-min ws:conns:ours,bun,deno-min
  irc:fanout-max:ours-irc,ours irc:fanout-rate:ours-irc,ours"}
out=${OUT:-$(mktemp)}
for r in $(seq 1 "$rounds"); do
  for c in $cases; do
    IFS=: read -r transport scen servers <<<"$c"
    for server in ${servers//,/ }; do
      t=$transport proto=line
      if [ "$transport" = irc ]; then t=tcp; [ "$server" = ours-irc ] && proto=irc; fi
      json=$(TRANSPORT=$t PROTO=$proto "$root/bench/peers.sh" "$server" "$scen" 2>/dev/null) ||
        json='{"failed_run":true}'
      echo "$server $transport $scen $r $json" | tee -a "$out"
    done
  done
done
deno run --allow-read "$root/bench/compare_summary.ts" "$out"
