#!/usr/bin/env bash
# The project's test command (README): builds the solution, then runs the test projects one after another. The unit
# projects (Analysis, Client, Grains, Silo) start no silo and run their classes in parallel; Inference and Integration
# drive llama.cpp on every core, and two of them at once would make both crawl.
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build AgentTheater.sln "$@"
status=0
for project in tests/*/*.Tests.csproj; do
  dotnet test "$project" --no-build "$@" || status=$?
done
exit $status
