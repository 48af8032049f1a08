# The standalone silo (src/Silo). Build from the repository root:
#   docker build -f deploy/docker/silo.Dockerfile -t agent-theater-silo .
#   docker build -f deploy/docker/silo.Dockerfile --build-arg LLAMA_CUDA=true -t agent-theater-silo:cuda .   # GPU silos
# Configuration comes from the environment (Cluster__Provider=Redis, Inference__ModelPath=..., see deploy/README.md).

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
# npm: the build fetches llama.cpp's prebuilt libraries with `npm pack` (src/Inference/LlamaNative.targets).
RUN apt-get update && apt-get install -y --no-install-recommends npm && rm -rf /var/lib/apt/lists/*
ARG LLAMA_CUDA=false
WORKDIR /src
COPY . .
RUN dotnet publish src/Silo/AgentTheater.Silo.csproj -c Release -o /app -p:LlamaFetchCuda=${LLAMA_CUDA}

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
WORKDIR /app
COPY --from=build /app .
# The project's own model; mount another GGUF and point Inference__ModelPath at it for production.
COPY models/agent-theater-small.gguf /models/agent-theater-small.gguf
# HTTP listens on loopback unless the deployment says otherwise (compose and k8s set Http__Address=0.0.0.0 and mount
# an API key, which the silo then requires).
ENV Http__Port=8080 \
    Cluster__SiloPort=11111 \
    Cluster__GatewayPort=30000
# HTTP (health, /status, /metrics), silo-to-silo, client gateway.
EXPOSE 8080 11111 30000
HEALTHCHECK --interval=10s --timeout=3s CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080 && printf 'GET /health/live HTTP/1.0\\r\\n\\r\\n' >&3 && grep -q 200 <&3"]
ENTRYPOINT ["dotnet", "agent-theater-silo.dll"]
