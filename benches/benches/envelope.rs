//! `cargo bench -p notation-benches --bench envelope`
//!
//! Per key spec (6) and envelope format (JWS, COSE):
//! - `crypto/sign`, `crypto/verify`: the raw aws-lc-rs cost of one signature over a
//!   to-be-signed of the usual size: the physical floor;
//! - `envelope/build`: payload, protected header, signature, finished envelope
//!   (`envelope::prepare` + the local key's `sign` + `finish`), nothing checked;
//! - `envelope/sign_artifact`: the one checked signing path every key goes through
//!   (build, then chain rules, parse back and verify);
//! - `envelope/verify`: integrity verification of a stored envelope
//!   (`envelope::verify`: parse, algorithm against the leaf, signature).

use std::hint::black_box;
use std::time::Duration;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeyPair as RsaKeyPair;
use aws_lc_rs::signature::{self, EcdsaKeyPair, KeyPair as _, UnparsedPublicKey};
use criterion::{Criterion, criterion_group, criterion_main};
use notation_benches::{BenchKey, KEY_SPECS};
use notation_core::envelope::{self, SignatureFormat, SignedAttributes};
use notation_core::payload::Payload;
use notation_core::signer::{RawSigner as _, SignOptions, Signer, sign_artifact};
use notation_core::{Descriptor, KeySpec};

const FORMATS: [SignatureFormat; 2] = [SignatureFormat::Jws, SignatureFormat::Cose];

fn subject() -> Descriptor {
    Descriptor::new(
        "application/vnd.oci.image.manifest.v1+json",
        "sha256:b8479de3f88fb259a0a9ea82a5b2a052a1ef3c4ebbcfc61482d5ae4c831f8af9"
            .parse()
            .unwrap(),
        528,
    )
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

fn options(format: SignatureFormat) -> SignOptions {
    SignOptions {
        format,
        signing_time: now(),
        expiry_seconds: None,
        signing_agent: "notation-rs/bench".into(),
    }
}

/// The raw signature operation of a key spec, and its verification.
fn crypto(c: &mut Criterion, keys: &[BenchKey]) {
    let message = vec![0x5au8; 600];
    let rng = SystemRandom::new();
    let mut group = c.benchmark_group("crypto");
    for key in keys {
        let spec = key.spec;
        match spec {
            KeySpec::Rsa2048 | KeySpec::Rsa3072 | KeySpec::Rsa4096 => {
                let pair = RsaKeyPair::from_pkcs8(&key.pkcs8).unwrap();
                let (sign_alg, verify_alg): (
                    &'static dyn signature::RsaEncoding,
                    &'static signature::RsaParameters,
                ) = match spec {
                    KeySpec::Rsa2048 => (
                        &signature::RSA_PSS_SHA256,
                        &signature::RSA_PSS_2048_8192_SHA256,
                    ),
                    KeySpec::Rsa3072 => (
                        &signature::RSA_PSS_SHA384,
                        &signature::RSA_PSS_2048_8192_SHA384,
                    ),
                    _ => (
                        &signature::RSA_PSS_SHA512,
                        &signature::RSA_PSS_2048_8192_SHA512,
                    ),
                };
                let mut sig = vec![0u8; pair.public_modulus_len()];
                group.bench_function(format!("sign/{spec}"), |b| {
                    b.iter(|| {
                        pair.sign(sign_alg, &rng, black_box(&message), &mut sig)
                            .unwrap()
                    })
                });
                pair.sign(sign_alg, &rng, &message, &mut sig).unwrap();
                let public =
                    UnparsedPublicKey::new(verify_alg, pair.public_key().as_ref().to_vec());
                group.bench_function(format!("verify/{spec}"), |b| {
                    b.iter(|| public.verify(black_box(&message), &sig).unwrap())
                });
            }
            KeySpec::Ec256 | KeySpec::Ec384 | KeySpec::Ec521 => {
                let (sign_alg, verify_alg) = match spec {
                    KeySpec::Ec256 => (
                        &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
                        &signature::ECDSA_P256_SHA256_FIXED,
                    ),
                    KeySpec::Ec384 => (
                        &signature::ECDSA_P384_SHA384_FIXED_SIGNING,
                        &signature::ECDSA_P384_SHA384_FIXED,
                    ),
                    _ => (
                        &signature::ECDSA_P521_SHA512_FIXED_SIGNING,
                        &signature::ECDSA_P521_SHA512_FIXED,
                    ),
                };
                let pair = EcdsaKeyPair::from_pkcs8(sign_alg, &key.pkcs8).unwrap();
                group.bench_function(format!("sign/{spec}"), |b| {
                    b.iter(|| pair.sign(&rng, black_box(&message)).unwrap())
                });
                let sig = pair.sign(&rng, &message).unwrap();
                let public =
                    UnparsedPublicKey::new(verify_alg, pair.public_key().as_ref().to_vec());
                group.bench_function(format!("verify/{spec}"), |b| {
                    b.iter(|| public.verify(black_box(&message), sig.as_ref()).unwrap())
                });
            }
        }
    }
    group.finish();
}

fn envelopes(c: &mut Criterion, keys: &[BenchKey]) {
    let target = subject();
    let mut group = c.benchmark_group("envelope");
    for key in keys {
        let spec = key.spec;
        let local = key.local_key();
        let chain: Vec<Vec<u8>> = vec![x509_der(&key.cert_pem)];
        for format in FORMATS {
            let name = format!("{}/{spec}", format.as_str());
            let payload = Payload::new(target.clone());
            let payload_bytes = match format {
                SignatureFormat::Jws => payload.to_sorted_json(),
                SignatureFormat::Cose => payload.to_struct_order_json(),
            };
            group.bench_function(format!("build/{name}"), |b| {
                b.iter(|| {
                    let attrs = SignedAttributes {
                        algorithm: spec.signature_algorithm(),
                        signing_time: now(),
                        expiry: None,
                        extended: Vec::new(),
                    };
                    let unsigned =
                        envelope::prepare(format, &attrs, black_box(&payload_bytes)).unwrap();
                    let raw = local.sign(spec, &unsigned.to_be_signed()).unwrap();
                    unsigned
                        .finish(&raw.signature, &chain, "notation-rs/bench")
                        .unwrap()
                })
            });
            let opts = options(format);
            group.bench_function(format!("sign_artifact/{name}"), |b| {
                b.iter(|| sign_artifact(Signer::Raw(&local), black_box(&target), &opts).unwrap())
            });
            let signed = sign_artifact(Signer::Raw(&local), &target, &opts).unwrap();
            group.bench_function(format!("verify/{name}"), |b| {
                b.iter(|| envelope::verify(format, black_box(&signed.envelope)).unwrap())
            });
        }
    }
    group.finish();
}

/// The DER of the one certificate in `pem`.
fn x509_der(pem: &str) -> Vec<u8> {
    notation_core::cert::Certificate::parse_pem_or_der(pem.as_bytes())
        .unwrap()
        .remove(0)
        .der()
        .to_vec()
}

fn all(c: &mut Criterion) {
    let keys: Vec<BenchKey> = KEY_SPECS.iter().map(|s| BenchKey::generate(*s)).collect();
    crypto(c, &keys);
    envelopes(c, &keys);
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = all
}
criterion_main!(benches);
