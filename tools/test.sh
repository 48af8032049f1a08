#!/usr/bin/env bash
# The project's test command (README): builds the solution, then runs the test projects one after another
# (each drives llama.cpp on every core; two at once would make both crawl).
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build AgentTheater.sln "$@"
status=0
for project in tests/*/*.Tests.csproj; do
  dotnet test "$project" --no-build "$@" || status=$?
done
exit $status
