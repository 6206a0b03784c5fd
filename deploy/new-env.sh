#!/bin/sh
# Prints fresh random secrets for docker-compose.yml, one VAR=value a line: `sh deploy/new-env.sh > .env`
# (docker compose reads .env). Keep the file out of version control; in production use a secret store.
set -eu
for name in POSTGRES_PASSWORD JAMAJAMA_AUTH_SECRET JAMAJAMA_AUDIT_SUBJECT_KEY JAMAJAMA_AUDIT_SIGNING_KEY \
    JAMAJAMA_SUBGRAPH_SIGNING_KEY JAMAJAMA_REGISTRY_ADMIN_TOKEN JAMAJAMA_IDENTIFIER_KEY; do
    printf '%s=%s\n' "$name" "$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')"
done
