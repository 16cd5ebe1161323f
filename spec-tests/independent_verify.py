#!/usr/bin/env python3
"""Independent check of Notary signatures in an OCI layout, with Python's
`cryptography` (OpenSSL) and `cbor2`: nothing here shares code with notation-rs.

usage: independent_verify.py <layout> <subject-digest> <leaf-cert.pem>
Prints one line per verified signature ("ok <format> <alg>") and exits non-zero on
the first signature that fails any check (spec: notary-spec.md §2.3, §2.4, §3.1, §3.2).
"""
import base64, datetime, hashlib, json, os, sys

import cbor2
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding

HASH = {"256": hashes.SHA256(), "384": hashes.SHA384(), "512": hashes.SHA512()}
COSE_ALG = {-37: "PS256", -38: "PS384", -39: "PS512", -7: "ES256", -35: "ES384", -36: "ES512"}
CTY = "application/vnd.cncf.notary.payload.v1+json"


def b64url(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def verify(alg, cert, data, sig):
    key = cert.public_key()
    h = HASH[alg[2:]]
    if alg.startswith("PS"):
        assert isinstance(key, rsa.RSAPublicKey), "PS alg with non-RSA key"
        key.verify(sig, data, padding.PSS(mgf=padding.MGF1(h), salt_length=h.digest_size), h)
    else:
        assert isinstance(key, ec.EllipticCurvePublicKey), "ES alg with non-EC key"
        n = (key.curve.key_size + 7) // 8
        assert len(sig) == 2 * n, f"ECDSA signature must be r||s of {2 * n} bytes"
        r, s = int.from_bytes(sig[:n], "big"), int.from_bytes(sig[n:], "big")
        key.verify(encode_dss_signature(r, s), data, ec.ECDSA(h))


def check_jws(env, leaf):
    assert list(env) == ["payload", "protected", "header", "signature"], list(env)
    prot = json.loads(b64url(env["protected"]))
    assert prot["cty"] == CTY and prot["io.cncf.notary.signingScheme"] == "notary.x509"
    assert "io.cncf.notary.signingScheme" in prot["crit"]
    if "io.cncf.notary.expiry" in prot:
        assert "io.cncf.notary.expiry" in prot["crit"]
        exp = datetime.datetime.fromisoformat(prot["io.cncf.notary.expiry"].replace("Z", "+00:00"))
        st = datetime.datetime.fromisoformat(prot["io.cncf.notary.signingTime"].replace("Z", "+00:00"))
        assert exp > st, "expiry must be after the signing time"
    chain = [x509.load_der_x509_certificate(base64.b64decode(c)) for c in env["header"]["x5c"]]
    assert chain[0] == leaf, "x5c[0] is not the expected leaf"
    data = (env["protected"] + "." + env["payload"]).encode()
    verify(prot["alg"], chain[0], data, b64url(env["signature"]))
    return prot["alg"], json.loads(b64url(env["payload"]))


def check_cose(raw, leaf):
    msg = cbor2.loads(raw)
    assert isinstance(msg, cbor2.CBORTag) and msg.tag == 18, "not COSE_Sign1 tag 18"
    prot_bytes, unprot, payload, sig = msg.value
    prot = cbor2.loads(prot_bytes)
    assert prot[3] == CTY and prot["io.cncf.notary.signingScheme"] == "notary.x509"
    st = prot["io.cncf.notary.signingTime"]
    # cbor2 turns CBOR tag 1 into a datetime; a bare integer would stay an int.
    assert isinstance(st, datetime.datetime), "signingTime must carry CBOR tag 1"
    assert "io.cncf.notary.signingScheme" in prot[2]
    if "io.cncf.notary.expiry" in prot:
        assert isinstance(prot["io.cncf.notary.expiry"], datetime.datetime), "expiry must carry CBOR tag 1"
        assert "io.cncf.notary.expiry" in prot[2], "expiry must be critical"
        assert prot["io.cncf.notary.expiry"] > st, "expiry must be after the signing time"
    chain = [x509.load_der_x509_certificate(c) for c in unprot[33]]
    assert chain[0] == leaf, "x5chain[0] is not the expected leaf"
    tbs = cbor2.dumps(["Signature1", prot_bytes, b"", payload])
    alg = COSE_ALG[prot[1]]
    verify(alg, chain[0], tbs, sig)
    return alg, json.loads(payload)


def main(layout, subject, leaf_path):
    leaf = x509.load_pem_x509_certificate(open(leaf_path, "rb").read())
    blob = lambda d: open(os.path.join(layout, "blobs", *d.split(":")), "rb").read()
    index = json.load(open(os.path.join(layout, "index.json")))
    seen = 0
    for entry in index["manifests"]:
        raw = blob(entry["digest"])
        assert "sha256:" + hashlib.sha256(raw).hexdigest() == entry["digest"]
        m = json.loads(raw)
        if m.get("subject", {}).get("digest") != subject:
            continue
        assert m["config"]["mediaType"] == "application/vnd.cncf.notary.signature"
        assert m["config"]["digest"] == "sha256:" + hashlib.sha256(b"{}").hexdigest()
        layer = m["layers"][0]
        env = blob(layer["digest"])
        if layer["mediaType"] == "application/jose+json":
            alg, payload = check_jws(json.loads(env), leaf)
        else:
            assert layer["mediaType"] == "application/cose"
            alg, payload = check_cose(env, leaf)
        assert payload["targetArtifact"]["digest"] == subject
        thumb = json.loads(m["annotations"]["io.cncf.notary.x509chain.thumbprint#S256"])
        assert thumb[0] == hashlib.sha256(leaf.public_bytes(Encoding.DER)).hexdigest()
        print("ok", layer["mediaType"], alg)
        seen += 1
    assert seen, "no signature found"


if __name__ == "__main__":
    main(*sys.argv[1:4])
