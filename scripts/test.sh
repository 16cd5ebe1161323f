#!/usr/bin/env bash
# Every test, as CI runs it: formatting, lints, unit and golden tests, the spec
# tests that drive the built binary, and the README's demo as a smoke test.
# Installs what the tests need when it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v sha256sum >/dev/null || need_apt+=(coreutils)
command -v python3 >/dev/null || need_apt+=(python3)
# Real registries for the registry tests: CNCF distribution 2.8 (no Referrers API)
# and htpasswd for its basic-auth configuration; chattr for a fault test.
command -v docker-registry >/dev/null || need_apt+=(docker-registry)
command -v htpasswd >/dev/null || need_apt+=(apache2-utils)
command -v chattr >/dev/null || need_apt+=(e2fsprogs)
# SoftHSM2 for the PKCS#11 plugin tests (softhsm2-util and /usr/lib/softhsm/libsofthsm2.so).
command -v softhsm2-util >/dev/null || need_apt+=(softhsm2)
if ((${#need_apt[@]})); then
  echo "== installing ${need_apt[*]}"
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq "${need_apt[@]}"
  else sudo apt-get update -qq && sudo apt-get install -y -qq "${need_apt[@]}"; fi
fi
# The interoperability spec test verifies our signatures with an independent
# implementation: Python's cryptography (OpenSSL) and cbor2.
if ! python3 -c "import cryptography, cbor2" 2>/dev/null; then
  echo "== installing cryptography and cbor2 from PyPI"
  python3 -m pip install --quiet --disable-pip-version-check cryptography cbor2 \
    || python3 -m pip install --quiet --disable-pip-version-check --break-system-packages cryptography cbor2
fi
# An OCI 1.1 registry with the Referrers API.
if ! command -v ferro-oci-server >/dev/null && [ ! -x "$HOME/.cargo/bin/ferro-oci-server" ]; then
  echo "== installing ferro-oci-server from crates.io"
  cargo install --quiet --locked ferro-oci-server || cargo install --quiet ferro-oci-server
fi
export PATH="$PATH:$HOME/.cargo/bin"
for tool in fmt clippy; do
  cargo "$tool" --version >/dev/null 2>&1 || rustup component add "$( [ $tool = fmt ] && echo rustfmt || echo clippy )"
done

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings
echo "== cargo build (the spec tests run the built binaries)"
cargo build --workspace --bins
echo "== cargo test"
cargo test --workspace
echo "== README demo"
scripts/demo.sh "$(mktemp -d -t notation-demo-ci.XXXXXX)" >/dev/null
echo "== all tests passed"
