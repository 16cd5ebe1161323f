#!/usr/bin/env bash
# The main job on an embedded default: build notation, make a throwaway test key,
# create a sample OCI image layout, sign it in JWS and COSE, and verify it.
# Usage: scripts/demo.sh [work-dir]   (default: a new temporary directory)
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --quiet --bin notation
notation="${CARGO_TARGET_DIR:-$PWD/target}/debug/notation"

work="${1:-$(mktemp -d -t notation-demo.XXXXXX)}"
mkdir -p "$work"
export NOTATION_CONFIG="$work/config"   # throwaway: never touches ~/.config/notation
layout="$work/hello-layout"

# --- a sample OCI image layout: one artifact tagged v1 -------------------------
rm -rf "$layout"
mkdir -p "$layout/blobs/sha256"
put_blob() { # stdin -> blobs/sha256/<hex>; prints "<hex> <size>"
  local tmp hex
  tmp="$(mktemp "$layout/.blob.XXXXXX")"
  cat >"$tmp"
  hex="$(sha256sum "$tmp" | cut -d' ' -f1)"
  echo "$hex $(stat -c %s "$tmp")"
  mv "$tmp" "$layout/blobs/sha256/$hex"
}
printf '{"imageLayoutVersion":"1.0.0"}' >"$layout/oci-layout"
read -r cfg_hex cfg_size < <(printf '{}' | put_blob)
read -r layer_hex layer_size < <(printf 'hello from notation-rs\n' | put_blob)
manifest=$(printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","artifactType":"application/vnd.example.hello.v1","config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"text/plain","digest":"sha256:%s","size":%s}]}' \
  "$cfg_hex" "$cfg_size" "$layer_hex" "$layer_size")
read -r m_hex m_size < <(printf '%s' "$manifest" | put_blob)
printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"v1"}}]}' \
  "$m_hex" "$m_size" >"$layout/index.json"
echo "== sample OCI layout: $layout (artifact sha256:$m_hex, tag v1)"

# --- a throwaway test key, then sign in both formats ---------------------------
echo "== notation cert generate-test --default demo"
"$notation" cert generate-test --default demo
echo "== notation sign --oci-layout $layout:v1   (JWS, by tag)"
"$notation" sign --oci-layout "$layout:v1"
echo "== notation sign --signature-format cose --oci-layout $layout@sha256:$m_hex"
"$notation" sign --signature-format cose --user-metadata demo=true --oci-layout "$layout@sha256:$m_hex"

echo "== index.json now lists the artifact and its two signature manifests:"
python3 -m json.tool "$layout/index.json" 2>/dev/null || cat "$layout/index.json"

# --- verify: generate-test put the certificate in trust store ca:demo ----------
cat >"$work/trustpolicy.json" <<'EOF'
{"version": "1.0", "trustPolicies": [{"name": "demo", "registryScopes": ["*"],
  "signatureVerification": {"level": "strict"}, "trustStores": ["ca:demo"], "trustedIdentities": ["*"]}]}
EOF
echo "== notation policy import --force $work/trustpolicy.json"
"$notation" policy import --force "$work/trustpolicy.json"
echo "== notation list --oci-layout $layout@sha256:$m_hex"
"$notation" list --oci-layout "$layout@sha256:$m_hex"
echo "== notation verify --oci-layout --scope localhost/demo --user-metadata demo=true $layout@sha256:$m_hex"
"$notation" verify --oci-layout --scope localhost/demo --user-metadata demo=true "$layout@sha256:$m_hex"
echo "== done: config in $NOTATION_CONFIG, layout in $layout"
