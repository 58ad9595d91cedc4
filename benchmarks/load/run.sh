#!/usr/bin/env bash
# End-to-end load runs with wrk on loopback: the same Kestrel endpoints with no session (the floor), with Sessions,
# and with ASP.NET Core's session middleware, each for the same duration and connections; prints requests/s, latency
# and the ratios to the floor and to ASP.NET Core.
#   benchmarks/load/run.sh [seconds=10] [connections=32]
set -euo pipefail
cd "$(dirname "$0")/../.."
DURATION=${1:-10}
CONNECTIONS=${2:-32}
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 1; }
dotnet build benchmarks/Sessions.LoadApp -c Release -v q -nologo >/dev/null
APP=benchmarks/Sessions.LoadApp/bin/Release/net10.0/Sessions.LoadApp.dll
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }

declare -A RPS LAT
run_mode() { # mode store
  local mode=$1 store=$2 port pid cookie
  port=$(free_port)
  dotnet "$APP" --urls "http://127.0.0.1:$port" --mode "$mode" --store "$store" >/dev/null 2>&1 &
  pid=$!
  until curl -s -o /dev/null "http://127.0.0.1:$port/get"; do sleep 0.1; done
  # One session, established by /set; every request then carries its cookie.
  cookie=$(curl -s -D - -o /dev/null "http://127.0.0.1:$port/set" | tr -d '\r' | awk -F'[:;] *' 'tolower($1)=="set-cookie"{print $2; exit}')
  for route in get set; do
    wrk -t1 -c"$CONNECTIONS" -d2s ${cookie:+-H "Cookie: $cookie"} "http://127.0.0.1:$port/$route" >/dev/null  # warm-up
    local out
    out=$(wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --latency ${cookie:+-H "Cookie: $cookie"} "http://127.0.0.1:$port/$route")
    RPS[$mode-$store-$route]=$(awk '/Requests\/sec/{print $2}' <<<"$out")
    LAT[$mode-$store-$route]=$(awk '/ 50%/{print $2}' <<<"$out")
  done
  kill "$pid"; wait "$pid" 2>/dev/null || true
}

for mode in none sessions aspnet; do run_mode "$mode" memory; done

echo "wrk -t1 -c$CONNECTIONS -d${DURATION}s on $(nproc) cores, $(date -u +%Y-%m-%d)"
printf '%-22s %-5s %12s %10s %10s %12s\n' "server" "route" "requests/s" "p50" "vs floor" "vs ASP.NET"
for route in get set; do
  floor=${RPS[none-memory-$route]}; aspnet=${RPS[aspnet-memory-$route]}
  for mode in none sessions aspnet; do
    r=${RPS[$mode-memory-$route]}
    awk -v m="$mode (memory)" -v rt="/$route" -v r="$r" -v l="${LAT[$mode-memory-$route]}" -v f="$floor" -v a="$aspnet" \
      'BEGIN { printf "%-22s %-5s %12s %10s %9.2fx %11.2fx\n", m, rt, r, l, r / f, r / a }'
  done
done
