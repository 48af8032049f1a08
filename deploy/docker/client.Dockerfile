# The agent-theater CLI (src/Client). Build from the repository root:
#   docker build -f deploy/docker/client.Dockerfile -t agent-theater .
#   docker run --rm --network agent-theater_default agent-theater cluster status --cluster redis://redis:6379

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
# npm: the build fetches llama.cpp's prebuilt libraries with `npm pack` (embedded runs and `bench` use them).
RUN apt-get update && apt-get install -y --no-install-recommends npm && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN dotnet publish src/Client/AgentTheater.Client.csproj -c Release -o /app

FROM mcr.microsoft.com/dotnet/runtime:10.0 AS runtime
WORKDIR /app
COPY --from=build /app .
COPY scenarios /scenarios
ENTRYPOINT ["dotnet", "agent-theater.dll"]
CMD ["--help"]
