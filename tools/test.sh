#!/usr/bin/env bash
# The project's test command (README): builds the solution and runs every test project.
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet test AgentTheater.sln "$@"
