#!/usr/bin/env bash
# Installs the Debian packages Tandem builds, tests and benchmarks with; installs
# only what is missing, so a second run does nothing.
set -euo pipefail
packages=(
  cmake g++ make pkg-config
  libboost-dev libboost-system-dev libssl-dev
  libyaml-cpp-dev prometheus-cpp-dev nlohmann-json3-dev
  libcli11-dev libspdlog-dev libsqlite3-dev
  libgtest-dev libgmock-dev zlib1g-dev
  clang clang-format libclang-rt-14-dev
  curl sqlite3 openssl
  prometheus chromium fonts-dejavu-core
  etcd-server etcd-client
)
# Node.js runs the browser tests (playwright-core drives Debian's Chromium);
# Debian's own only when the machine has no node.
command -v node >/dev/null || packages+=(nodejs)
command -v npm >/dev/null || packages+=(npm)
[ "${TANDEM_BENCH_DEPS:-0}" = 1 ] && packages+=(wrk nginx-light)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# playwright-core needs Node.js 20 or later (Debian 12's own is 18).
node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 20 ]; then
  echo "the browser tests need Node.js >= 20 (playwright-core); this machine has $(node --version)" >&2
  exit 1
fi
# playwright-core for the browser tests, pinned by tests/browser/package-lock.json.
browser_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/tests/browser"
if [ ! -f "$browser_dir/node_modules/.package-lock.json" ] ||
   [ "$browser_dir/package-lock.json" -nt "$browser_dir/node_modules/.package-lock.json" ]; then
  (cd "$browser_dir" && npm ci --no-audit --no-fund --loglevel=error)
fi
