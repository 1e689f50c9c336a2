#!/usr/bin/env bash
# Installs the Debian 12 packages moonpool builds with. Idempotent and quiet when everything
# is already installed; needs root (or sudo) only when something is missing.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config ccache
  clang-19 llvm-19-dev libclang-19-dev libclang-rt-19-dev lld-19
  capnproto libcapnp-dev libabsl-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  nlohmann-json3-dev            # runner reports (JSON, validated UTF-8)
  clang-tools-19 chromium       # sancov-19 and a headless browser for the coverage tests
  openssl                       # test certificates for the TLS tests
  python3-yaml                  # the deploy/ manifests' test parses their YAML
)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  if [[ "$status" != "installed" ]]; then
    missing+=("$p")
  fi
done
if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi

sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then
  if ! command -v sudo >/dev/null; then
    echo "setup: missing packages (${missing[*]}) and not root; install them as root" >&2
    exit 1
  fi
  sudo_cmd=(sudo)
fi
echo "setup: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "setup: done" >&2
