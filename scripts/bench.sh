#!/usr/bin/env bash
# The end-to-end benchmark in one command. Builds the release binaries, installs the
# registries when they are missing (as scripts/test.sh does), starts a CNCF
# distribution 2.8 registry and a ferro-oci-server on loopback, pushes artifacts,
# signs them one process per reference and in batches, and prints a Markdown table:
# registry requests per signature (distribution's access log), ms per signature,
# plugin processes and time, and the peak RSS of a batch of 1,000.
#
#   scripts/bench.sh [--refs N] [--singles M] [--out FILE] [--criterion]
#
# --criterion also runs the criterion benchmarks (envelopes and crypto per key spec
# and format, plugin host overhead per call); they can be run alone with
# `cargo bench -p notation-benches --bench envelope` and `--bench plugin_call`.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v docker-registry >/dev/null || need_apt+=(docker-registry)
[ -x /usr/bin/time ] || need_apt+=(time)
if ((${#need_apt[@]})); then
  echo "== installing ${need_apt[*]}"
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq "${need_apt[@]}"
  else sudo apt-get update -qq && sudo apt-get install -y -qq "${need_apt[@]}"; fi
fi
if ! command -v ferro-oci-server >/dev/null && [ ! -x "$HOME/.cargo/bin/ferro-oci-server" ]; then
  echo "== installing ferro-oci-server from crates.io"
  cargo install --quiet --locked ferro-oci-server || cargo install --quiet ferro-oci-server
fi

criterion=0
args=()
for a in "$@"; do
  if [ "$a" = --criterion ]; then criterion=1; else args+=("$a"); fi
done

echo "== cargo build --release (notation, notation-test-plugin)"
cargo build --release --quiet -p notation -p notation-test-plugin --bins
# Like a user's shell: SSL_CERT_FILE/SSL_CERT_DIR would only matter for HTTPS.
echo "== end-to-end benchmark"
cargo bench --quiet -p notation-benches --bench e2e -- "${args[@]+"${args[@]}"}"
if [ "$criterion" = 1 ]; then
  echo "== criterion: envelopes and raw crypto"
  cargo bench --quiet -p notation-benches --bench envelope
  echo "== criterion: plugin host overhead per call"
  cargo bench --quiet -p notation-benches --bench plugin_call
fi
