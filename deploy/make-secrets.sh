#!/usr/bin/env bash
# Writes the secrets docker-compose.yml mounts (deploy/secrets/, ignored by git): a random Redis password, API key and
# Grafana admin password. Existing files are kept, so running it again changes nothing.
set -euo pipefail
cd "$(dirname "$0")/secrets"
umask 077
for name in redis_password api_key grafana_admin_password; do
  [ -s "$name" ] || head -c 32 /dev/urandom | base64 | tr -d '/+=\n' > "$name"
done
echo "secrets in $(pwd): $(ls | tr '\n' ' ')"
echo "the API key (Authorization: Bearer ...): $(cat api_key)"
