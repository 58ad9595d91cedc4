#!/usr/bin/env bash
# One command on a fresh machine with the .NET SDK: installs the system packages the tests use (as root, with apt),
# restores the local tools (Cake) and runs build.cake.
#   ./build.sh                    # build and run every test (Release)
#   ./build.sh --target=Build
set -euo pipefail
cd "$(dirname "$0")"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

# System packages the tests need; tests fail loudly (never skip) when one is missing.
need=()
[ -f /usr/share/publicsuffix/public_suffix_list.dat ] || need+=(publicsuffix)
command -v redis-server >/dev/null || need+=(redis-server)
[ -x /usr/bin/chromium ] || need+=(chromium)   # the browser tests drive Debian's Chromium; nothing downloads one
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing ${need[*]}"
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "warning: missing system packages: ${need[*]} (install them with apt-get); the tests that need them will fail" >&2
  fi
fi

dotnet tool restore >/dev/null
exec dotnet cake build.cake "$@"
