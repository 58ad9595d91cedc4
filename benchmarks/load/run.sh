#!/usr/bin/env bash
# End-to-end load runs with wrk on loopback. The same Kestrel endpoints (/get reads name, /set writes it) run with no
# session (the floor), with Sessions, and with ASP.NET Core's session middleware, on the memory store, then on Redis
# (a redis-server started here), then Sessions on the embedded SQLite store; each for the same duration and connections.
# Prints requests/s, median latency, ratios to the floor and to ASP.NET Core, and Redis commands per request: the
# commands clients sent (MONITOR over 100 requests after each run; commands a Lua script runs inside are not round
# trips) and every command the server executed during the run, script-internal ones included (INFO commandstats).
#   benchmarks/load/run.sh [seconds=10] [connections=32]
set -euo pipefail
cd "$(dirname "$0")/../.."
DURATION=${1:-10}
CONNECTIONS=${2:-32}
for tool in wrk redis-server redis-cli curl; do
  command -v "$tool" >/dev/null || { echo "$tool is missing: apt-get install -y wrk redis-server curl" >&2; exit 1; }
done
dotnet build benchmarks/Sessions.LoadApp -c Release -v q -nologo >/dev/null
APP=benchmarks/Sessions.LoadApp/bin/Release/net10.0/Sessions.LoadApp.dll
WORK=$(mktemp -d)
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }

REDIS_PORT=$(free_port)
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no --daemonize no >"$WORK/redis.log" 2>&1 &
REDIS_PID=$!
trap 'kill $REDIS_PID 2>/dev/null; wait $REDIS_PID 2>/dev/null; rm -rf "$WORK"' EXIT
until redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; do sleep 0.1; done
redis_calls() { redis-cli -p "$REDIS_PORT" info commandstats | tr -d '\r' | awk -F'[=,:]' '/^cmdstat_/ && $1 !~ /cmdstat_(info|config|ping|client|hello|cluster|command|select|echo|subscribe)$/ { n += $3 } END { print n + 0 }'; }

# Client commands per request over 100 sequential requests: MONITOR lines, less those a Lua script issued.
sample_commands() { # url cookie
  redis-cli -p "$REDIS_PORT" monitor >"$WORK/monitor.log" &
  local monitor=$!
  sleep 0.3
  for _ in $(seq 100); do curl -s -o /dev/null ${2:+-H "Cookie: $2"} "$1"; done
  sleep 0.3
  kill "$monitor"; wait "$monitor" 2>/dev/null || true
  awk '/^[0-9]/ && !/ lua\]/ && !/"(ping|info|client|cluster|hello|config|select|echo)"/ { n++ } END { printf "%.2f", n / 100 }' "$WORK/monitor.log"
}

declare -A RPS LAT CPR TOP
run() { # mode store
  local mode=$1 store=$2 port pid cookie route out requests calls
  port=$(free_port)
  dotnet "$APP" --urls "http://127.0.0.1:$port" --mode "$mode" --store "$store" --redis "127.0.0.1:$REDIS_PORT" --db "$WORK/sessions.db" >"$WORK/app.log" 2>&1 &
  pid=$!
  until curl -s -o /dev/null "http://127.0.0.1:$port/get"; do sleep 0.1; done
  # One session, established by /set; every request then carries its cookie.
  cookie=$(curl -s -D - -o /dev/null "http://127.0.0.1:$port/set" | tr -d '\r' | awk -F'[:;] *' 'tolower($1)=="set-cookie"{print $2; exit}')
  for route in get set; do
    wrk -t1 -c"$CONNECTIONS" -d2s ${cookie:+-H "Cookie: $cookie"} "http://127.0.0.1:$port/$route" >/dev/null  # warm-up
    redis-cli -p "$REDIS_PORT" config resetstat >/dev/null
    out=$(wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --latency ${cookie:+-H "Cookie: $cookie"} "http://127.0.0.1:$port/$route")
    calls=$(redis_calls)
    requests=$(awk '/requests in/{print $1}' <<<"$out")
    RPS[$mode/$store/$route]=$(awk '/Requests\/sec/{print $2}' <<<"$out")
    LAT[$mode/$store/$route]=$(awk '/ 50%/{print $2}' <<<"$out")
    CPR[$mode/$store/$route]=$(awk -v c="$calls" -v r="$requests" 'BEGIN { printf "%.2f", c / r }')
    TOP[$mode/$store/$route]=$(sample_commands "http://127.0.0.1:$port/$route" "$cookie")
  done
  kill "$pid"; wait "$pid" 2>/dev/null || true
}

run none memory
for store in memory redis; do run sessions "$store"; run aspnet "$store"; done
run sessions embedded

echo "wrk -t1 -c$CONNECTIONS -d${DURATION}s, $(nproc) cores shared by wrk and the server, $(date -u +%Y-%m-%d)"
printf '%-24s %-5s %11s %9s %9s %11s %12s %12s\n' "server" "route" "requests/s" "p50" "vs floor" "vs ASP.NET" "redis RT/req" "cmds(+lua)"
for route in get set; do
  floor=${RPS[none/memory/$route]}
  for key in none/memory sessions/memory aspnet/memory sessions/redis aspnet/redis sessions/embedded; do
    store=${key#*/}
    aspnet=${RPS[aspnet/$store/$route]:-${RPS[aspnet/memory/$route]}}
    r=${RPS[$key/$route]}
    awk -v k="$key" -v rt="/$route" -v r="$r" -v l="${LAT[$key/$route]}" -v f="$floor" -v a="$aspnet" -v c="${CPR[$key/$route]}" -v t="${TOP[$key/$route]}" \
      'BEGIN { printf "%-24s %-5s %11s %9s %8.2fx %10.2fx %12s %12s\n", k, rt, r, l, r / f, r / a, t, c }'
  done
done
