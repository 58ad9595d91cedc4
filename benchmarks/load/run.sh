#!/usr/bin/env bash
# End-to-end load runs with wrk on loopback. The same Kestrel endpoints (/get reads name, /set writes it) run with no
# session (the floor), with Sessions, and with ASP.NET Core's session middleware, on the memory store, then on Redis
# (a redis-server started here), then Sessions on the embedded SQLite store; each for the same duration and connections.
# raw/redis is no session library: one plain StackExchange.Redis command per request, what one round trip costs.
# script/redis is no session library either: its /set sends the commit script with a write-only request's arguments
# (its /get is one HGET, as raw's), so /set shows what the script alone costs, and the rest of sessions/redis is the library.
# The whole sequence runs ROUNDS times (servers restarted each time); every ratio is taken within one round, against
# the floor and ASP.NET Core of that round, and the table shows the median over the rounds, then each round's ratios:
# on a shared 2-core machine one round alone can move by 15 % or more.
# The CPU the server spends per request is printed too (the app process and redis-server, from /proc between the start
# and end of the measured run): what the server costs, without wrk's share of the same cores.
# Prints requests/s, median latency, ratios to the floor and to ASP.NET Core, CPU per request, and Redis commands per request: the
# commands clients sent (MONITOR over 100 requests after the first round's run; commands a Lua script runs inside are
# not round trips) and every command the server executed during the run, script-internal ones included (INFO commandstats).
#   benchmarks/load/run.sh [seconds=10] [connections=32] [rounds=3]
set -euo pipefail
cd "$(dirname "$0")/../.."
DURATION=${1:-10}
CONNECTIONS=${2:-32}
ROUNDS=${3:-3}
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

declare -A RPS LAT CPR TOP CPU
TICK_US=$((1000000 / $(getconf CLK_TCK)))
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; } # user + system time of a process, in clock ticks
run() { # mode store round
  local mode=$1 store=$2 round=$3 port pid cookie route out requests calls app0 redis0 app1 redis1
  port=$(free_port)
  dotnet "$APP" --urls "http://127.0.0.1:$port" --mode "$mode" --store "$store" --redis "127.0.0.1:$REDIS_PORT" --db "$WORK/sessions.db" >"$WORK/app.log" 2>&1 &
  pid=$!
  until curl -s -o /dev/null "http://127.0.0.1:$port/get"; do sleep 0.1; done
  # One session, established by /set; every request then carries its cookie.
  cookie=$(curl -s -D - -o /dev/null "http://127.0.0.1:$port/set" | tr -d '\r' | awk -F'[:;] *' 'tolower($1)=="set-cookie"{print $2; exit}')
  for route in get set; do
    wrk -t1 -c"$CONNECTIONS" -d5s ${cookie:+-H "Cookie: $cookie"} "http://127.0.0.1:$port/$route" >/dev/null  # warm-up, long enough for the JIT to finish tiering up
    redis-cli -p "$REDIS_PORT" config resetstat >/dev/null
    app0=$(cpu_ticks "$pid"); redis0=$(cpu_ticks "$REDIS_PID")
    out=$(wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --latency ${cookie:+-H "Cookie: $cookie"} "http://127.0.0.1:$port/$route")
    app1=$(cpu_ticks "$pid"); redis1=$(cpu_ticks "$REDIS_PID")
    calls=$(redis_calls)
    requests=$(awk '/requests in/{print $1}' <<<"$out")
    CPU[$mode/$store/$route/$round]=$(awk -v a=$((app1 - app0)) -v r=$((redis1 - redis0)) -v n="$requests" -v t="$TICK_US" 'BEGIN { printf "%.1f/%.1f", a * t / n, r * t / n }')
    RPS[$mode/$store/$route/$round]=$(awk '/Requests\/sec/{print $2}' <<<"$out")
    LAT[$mode/$store/$route/$round]=$(awk '/ 50%/{print $2}' <<<"$out")
    CPR[$mode/$store/$route]=$(awk -v c="$calls" -v r="$requests" 'BEGIN { printf "%.2f", c / r }')
    if [ "$round" = 1 ]; then TOP[$mode/$store/$route]=$(sample_commands "http://127.0.0.1:$port/$route" "$cookie"); fi
  done
  kill "$pid"; wait "$pid" 2>/dev/null || true
}

for round in $(seq "$ROUNDS"); do
  run none memory "$round"
  for store in memory redis; do run sessions "$store" "$round"; run aspnet "$store" "$round"; done
  run raw redis "$round"
  run script redis "$round"
  run sessions embedded "$round"
done
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

echo "wrk -t1 -c$CONNECTIONS -d${DURATION}s, $(nproc) cores shared by wrk and the server, $(date -u +%Y-%m-%d), median of $ROUNDS rounds"
# CPU per request (µs, median over the rounds): the app process and redis-server; "CPU vs ASP.NET" is ASP.NET Core's
# server CPU (app + redis) per request over this server's, per round (above 1: this one spends less).
printf '%-24s %-5s %11s %9s %9s %11s %12s %12s %7s %7s %8s   %s\n' "server" "route" "requests/s" "p50" "vs floor" "vs ASP.NET" "redis RT/req" "cmds(+lua)" "app us" "redis" "CPU vs" "per round: vs floor / vs ASP.NET"
for route in get set; do
  for key in none/memory sessions/memory aspnet/memory raw/redis script/redis sessions/redis aspnet/redis sessions/embedded; do
    store=${key#*/}
    rates="" latencies="" floors="" aspnets="" rounds="" apps="" redises="" cpus=""
    for round in $(seq "$ROUNDS"); do
      r=${RPS[$key/$route/$round]}
      f=${RPS[none/memory/$route/$round]}
      a=${RPS[aspnet/$store/$route/$round]:-${RPS[aspnet/memory/$route/$round]}}
      rates+=" $r"; latencies+=" ${LAT[$key/$route/$round]}"
      floors+=" $(awk -v r="$r" -v f="$f" 'BEGIN { printf "%.3f", r / f }')"
      aspnets+=" $(awk -v r="$r" -v a="$a" 'BEGIN { printf "%.3f", r / a }')"
      rounds+=" $(awk -v r="$r" -v f="$f" -v a="$a" 'BEGIN { printf "%.2f/%.2f", r / f, r / a }')"
      c=${CPU[$key/$route/$round]}
      b=${CPU[aspnet/$store/$route/$round]:-${CPU[aspnet/memory/$route/$round]}}
      apps+=" ${c%/*}"; redises+=" ${c#*/}"
      cpus+=" $(awk -v c="$c" -v b="$b" 'BEGIN { split(c, x, "/"); split(b, y, "/"); printf "%.3f", (y[1] + y[2]) / (x[1] + x[2]) }')"
    done
    # Latencies carry units (us, ms): the median round by throughput gives its own p50.
    awk -v k="$key" -v rt="/$route" -v r="$(median <<<"$rates")" -v f="$(median <<<"$floors")" -v a="$(median <<<"$aspnets")" \
      -v c="${CPR[$key/$route]}" -v t="${TOP[$key/$route]}" -v ua="$(median <<<"$apps")" -v ur="$(median <<<"$redises")" -v uc="$(median <<<"$cpus")" -v l="$(paste -d' ' <(tr ' ' '\n' <<<"${rates# }") <(tr ' ' '\n' <<<"${latencies# }") | sort -g | awk -v n="$ROUNDS" 'NR == int((n + 1) / 2) { print $2 }')" -v rounds="$rounds" \
      'BEGIN { printf "%-24s %-5s %11.0f %9s %8.2fx %10.2fx %12s %12s %7.1f %7.1f %7.2fx  %s\n", k, rt, r, l, f, a, t, c, ua, ur, uc, rounds }'
  done
done
