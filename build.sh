#!/usr/bin/env bash
# One command on a fresh machine with only the .NET SDK: restores the local tools (Cake) and runs build.cake.
#   ./build.sh                    # build and run every test (Release)
#   ./build.sh --target=Build
set -euo pipefail
cd "$(dirname "$0")"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet tool restore >/dev/null
exec dotnet cake build.cake "$@"
