#!/usr/bin/env bash
# Quick start: installs what is missing, builds, and runs the local stack on
# config/local.yaml in the foreground (Ctrl-C stops it).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
scripts/build.sh build
mkdir -p var
export TANDEM_ADMIN_TOKEN=${TANDEM_ADMIN_TOKEN:-local-admin-token}
echo "admin token for this shell: TANDEM_ADMIN_TOKEN=$TANDEM_ADMIN_TOKEN"
exec ./build/tandem up -c config/local.yaml
