#!/usr/bin/env bash
# Cluster mode against one process, in alternation: members of one room spread over two server
# processes sharing a redis-server, against one process without Redis (and one with it), all
# servers on CPU 0, the shared generator on CPU 1. Redis runs on CPU 1 (as a separate Redis host
# would: "two+redis") or on CPU 0 with the servers ("two+redis0").
# A config prefixed "min-" (min-one, min-two+redis, ...) runs the minimal Deno server
# (bench/peers/deno_min.ts, its --redis link) instead: what the same shape costs the runtime.
# Usage: bench/cluster.sh [ROUNDS] [SCENARIO] [CONFIGS]
#   defaults: 3 rounds, fanout-max, "one one+redis two+redis two+redis0"
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
rounds=${1:-3}; scen=${2:-fanout-max}; configs=${3:-"one one+redis two+redis two+redis0"}
bench=${LOADGEN_BENCH:-$root/../shared/loadgen/bench.sh}
out=${OUT:-$(mktemp)}; logs=$(mktemp -d)
pids=(); rpid=
stop() {
  [ ${#pids[@]} -gt 0 ] && { kill "${pids[@]}" 2>/dev/null || true; wait "${pids[@]}" 2>/dev/null || true; }
  [ -n "$rpid" ] && { kill "$rpid" 2>/dev/null || true; wait "$rpid" 2>/dev/null || true; }
  pids=(); rpid=
}
trap 'stop; rm -rf "$logs"' EXIT
port=$((20000 + RANDOM % 5000))
wait_port() { for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return; sleep 0.1; done; }
for r in $(seq 1 "$rounds"); do
  for label in $configs; do
    conf=${label#min-}; port=$((port + 3)); rport=$((port + 2)); targets=()
    case $conf in two+redis0) rcore=0 ;; *) rcore=1 ;; esac
    if [ "$conf" != one ]; then
      taskset -c "$rcore" redis-server --port "$rport" --save "" --appendonly no >/dev/null 2>&1 &
      rpid=$!; wait_port "$rport"
    fi
    n=1; [[ $conf == two* ]] && n=2
    for i in $(seq 0 $((n - 1))); do
      p=$((port + i))
      if [ "$label" != "$conf" ]; then
        server=(bench/peers/deno_min.ts "127.0.0.1:$p"); [ "$conf" = one ] || server+=(--redis "127.0.0.1:$rport")
      else
        store=(--db :memory:); [ "$conf" = one ] || store=(--redis "redis://127.0.0.1:$rport")
        server=(main.ts "127.0.0.1:$p" --http off --irc off --no-limits "${store[@]}")
      fi
      (cd "$root" && exec taskset -c 0 deno run -A "${server[@]}" >"$logs/server-$p.log" 2>&1) &
      pids+=($!); targets+=("127.0.0.1:$p")
    done
    for t in "${targets[@]}"; do wait_port "${t##*:}"; done
    json=$(SERVER_PIDS=$(IFS=,; echo "${pids[*]}") LABEL="$label $scen" \
      "$bench" "$(IFS=,; echo "${targets[*]}")" "$scen" 2>/dev/null) || json='{"failed_run":true}'
    stop
    echo "$label cluster $scen $r $json" | tee -a "$out"
  done
done
deno run --allow-read "$root/bench/compare_summary.ts" "$out"
