#!/usr/bin/env bash
# One run of the shared load generator against a peer server (bench/peers/) or ours: starts it
# pinned to CPU 0 on free loopback ports, runs the generator's bench.sh with SERVER_PID (the
# generator pins itself to CPU 1), prints its JSON line, stops the server by its PID.
# Usage: bench/peers.sh PEER SCENARIO [extra loadgen args...]
#   PEER: tokio | bun | deno-min | ours | ours-irc (the IRC door: PROTO=irc)
#   SCENARIO: echo | fanout-max | fanout-rate | conns
#   echo starts the server with --echo. TRANSPORT=ws measures WebSocket (/ws; not tokio).
#   The generator's variables pass through (D, N, GEN_CPUS, TRANSPORT, LABEL).
#   SERVER_CPUS (default 0; empty = no pinning), BUN (default: bun on PATH),
#   LOADGEN_BENCH (default ../shared/loadgen/bench.sh).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
peer=${1:?usage: bench/peers.sh tokio|bun|deno-min|ours SCENARIO [loadgen args...]}
scen=${2:?usage: bench/peers.sh PEER echo|fanout-max|fanout-rate|conns [loadgen args...]}
shift 2
bench=${LOADGEN_BENCH:-$root/../shared/loadgen/bench.sh}
transport=${TRANSPORT:-tcp}
cpus=${SERVER_CPUS-0}; pin=(); [ -n "$cpus" ] && pin=(taskset -c "$cpus")
echo=(); [ "$scen" = echo ] && echo=(--echo)

# A loopback port nobody listens on, below the kernel's ephemeral range: a port there may be
# the local end of someone's connection, which accepts nothing but cannot be bound either.
eph=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
free_port() {
  local p
  while :; do
    p=$((10000 + RANDOM % (eph - 10000)))
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
  done
}

log=$(mktemp); spid=
stop() {
  if [ -n "$spid" ]; then kill "$spid" 2>/dev/null || true; wait "$spid" 2>/dev/null || true; fi
  rm -f "$log"; return 0
}
trap stop EXIT
# start on fresh ports; try again if the server exits at once (a port taken meanwhile)
for attempt in 1 2 3; do
  tcp=$(free_port); ws=$(free_port)
  while [ "$ws" = "$tcp" ]; do ws=$(free_port); done
  case $peer in
    tokio)
      [ "$transport" = tcp ] || { echo "the tokio peer speaks TCP only" >&2; exit 2; }
      cmd=("$("$root/bench/peers/build.sh")" "${echo[@]}" "127.0.0.1:$tcp") ;;
    bun)
      cmd=("${BUN:-bun}" "$root/bench/peers/bun_ws.js" "${echo[@]}" "127.0.0.1:$ws" --tcp "127.0.0.1:$tcp") ;;
    deno-min)
      cmd=(deno run -A "$root/bench/peers/deno_min.ts" "${echo[@]}" "127.0.0.1:$tcp" --ws "127.0.0.1:$ws") ;;
    ours)
      cmd=(deno run -A "$root/main.ts" "127.0.0.1:$tcp" --http "127.0.0.1:$ws" --irc off --db :memory:
        --no-limits "${echo[@]}") ;;
    ours-irc)
      # The IRC door on the "tcp" port (run with PROTO=irc); the text port on the other one.
      cmd=(deno run -A "$root/main.ts" "127.0.0.1:$ws" --http off --irc "127.0.0.1:$tcp"
        --db :memory: --no-limits) ;;
    *) echo "unknown peer $peer (tokio | bun | deno-min | ours)" >&2; exit 2 ;;
  esac
  port=$tcp; [ "$transport" = ws ] && port=$ws
  (cd "$root" && exec "${pin[@]}" "${cmd[@]}" >"$log" 2>&1) &
  spid=$!
  up=
  for _ in $(seq 1 200); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && { up=1; break; }
    kill -0 "$spid" 2>/dev/null || break
    sleep 0.1
  done
  [ -n "$up" ] && break
  cat "$log" >&2; stop; spid=
  [ "$attempt" = 3 ] && { echo "$peer did not start" >&2; exit 1; }
done
rc=0
# conns connects from two loopback addresses whose ports the last run left in TIME_WAIT for 60 s;
# binding to them again makes the generator's kernel search its ports for tens of seconds. Fresh
# addresses every second, the same ones again after two minutes.
export SRC_BASE=${SRC_BASE:-$((2 + 2 * ($(date +%s) % 120)))}
SERVER_PID=$spid LABEL="${LABEL:-$peer $transport $scen}" "$bench" "127.0.0.1:$port" "$scen" "$@" || rc=$?
exit "$rc"
