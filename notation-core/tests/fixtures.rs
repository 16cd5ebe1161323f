//! Material rcgen and aws-lc-rs cannot make, produced once with OpenSSL 3.0:
//!
//! ```text
//! openssl req -x509 -newkey rsa:2048 -nodes -sha1 -days 36500 -subj "/CN=SHA-1 signed leaf" \
//!   -addext keyUsage=critical,digitalSignature -addext extendedKeyUsage=codeSigning \
//!   -addext basicConstraints=critical,CA:FALSE
//! openssl genrsa 1024 | openssl rsa -pubout
//! openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -aes256 -pass pass:notation
//! ```

use x509_parser::prelude::FromDer;
use x509_parser::x509::SubjectPublicKeyInfo;

/// A self-signed RSA-2048 leaf signed with sha1WithRSAEncryption, otherwise conforming
/// (keyUsage digitalSignature critical, EKU codeSigning, cA=false), 2026-11-26 → 2126-11-02.
pub const SHA1_SELF_SIGNED_LEAF: &str = "-----BEGIN CERTIFICATE-----
MIIDPTCCAiWgAwIBAgIULZomTb91HxNHTv7yZ972w3UvgzwwDQYJKoZIhvcNAQEF
BQAwHDEaMBgGA1UEAwwRU0hBLTEgc2lnbmVkIGxlYWYwIBcNMjYxMTI2MDMyMjM0
WhgPMjEyNjExMDIwMzIyMzRaMBwxGjAYBgNVBAMMEVNIQS0xIHNpZ25lZCBsZWFm
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAnT76xoDtFmOuyo04tU6a
b+w+/DOT3AQtAnA0CHUu/vF6WyeNK0Qa+JCp+g9HDuMOsqqOnbXX+pTAI0reA5pL
acA5GNH8RTnTDByzdSkguTei4A7n2RcLlfbgs6kzmQ9//vkXdQLWPPfb7zKZgDfY
B2hr9pl9Xh2hSX2s4kj1hKw2HZfIYOgsdZCH6jPKY9RUdteFY+I1Wtf1Pvhc13Vn
8p0gkQ47kXkTwHnIuROg+xW9eS+8XmxnKMJaGz3Bo4p/TWVafAO4vbL0Zo04aJnk
0xmNscP+Wph7t64eqfygiStcaCYVUYqVUjdxgtVX0zZ0TRhCmb+A/8LHarywxaIs
vwIDAQABo3UwczAdBgNVHQ4EFgQU6ryw5ylbxy8HNcNCE5Dqn+zVDb4wHwYDVR0j
BBgwFoAU6ryw5ylbxy8HNcNCE5Dqn+zVDb4wDgYDVR0PAQH/BAQDAgeAMBMGA1Ud
JQQMMAoGCCsGAQUFBwMDMAwGA1UdEwEB/wQCMAAwDQYJKoZIhvcNAQEFBQADggEB
AI52lzS+KgAiUW2EdJMbw+7emCFbwMb6LIm3ArpAmEzeEx6c+AUoeSTkrZ+715E1
Riif212jomP/t+3PWUwgOn3ECUdI+arXc3gaB3EmOCzirDZX8ZiMbUmPVvtNWez3
VqIWr7ULS8eVmxL0bR7qV9W0+xIrCm6h91PrvLieFwmSH8a82eErW15HspYTPp3R
ExxkTYqE0hKSMIEvnc3dGACoT9O50nAN/C8J6143ozt7ntyM7vcp0sWrL8yPBgcz
Uwxvd8qmQt5mNcXG9/WEvEEwtSQ+vRzGlYOziByvzdlgF3oZplLLon+XIYCwRmWl
5K3wBAWwrk4bi9aQjS61Ezo=
-----END CERTIFICATE-----
";

/// An RSA-1024 SubjectPublicKeyInfo.
const RSA_1024_SPKI: &str = "-----BEGIN PUBLIC KEY-----
MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDEPDWgQgRxop40eL4V6KnIwyJV
wHEl5HWRY+XbvVQw1TNhavMtaLCbTml4ccTIU0MSUk8vutWGKsdjBQDr9HnBDjso
CU7jRSACp91DeVPsIEt3TZAoDigKuGVD8LYQCrvakkqsUYNLS1WZM/5wA6BBmeNI
RJSihZYD3WmoZOARVQIDAQAB
-----END PUBLIC KEY-----
";

/// A PKCS#8 EC P-256 key encrypted with AES-256 (PBES2), password `notation`.
pub const ENCRYPTED_PKCS8_KEY: &str = "-----BEGIN ENCRYPTED PRIVATE KEY-----
MIHsMFcGCSqGSIb3DQEFDTBKMCkGCSqGSIb3DQEFDDAcBAiOm12anQV1WAICCAAw
DAYIKoZIhvcNAgkFADAdBglghkgBZQMEASoEEDVPTLCwhVjZ9vxdJrK2w84EgZBZ
SnJtTMxCLgJ8bVhkp9sfZBWRZFo9kqQD8rqTnbezlr8s0qAnAankr7rVF6uRTDZa
fg/p0tITeJyGlh2xCLwyEQUpZA3JU0VY4vZs7ucBjpOEawUN9gmhB1RdUIPMhEhh
p4q6kFtcynRbdOapCD2WcHMkSEIBIzczr0p9vh0SpB2Ufd2HcOM7iqM03EvnR7w=
-----END ENCRYPTED PRIVATE KEY-----
";

/// The PKCS#1 RSAPublicKey bits of [`RSA_1024_SPKI`].
pub fn rsa_1024_public_key() -> Vec<u8> {
    let pem = x509_parser::pem::Pem::iter_from_buffer(RSA_1024_SPKI.as_bytes())
        .next()
        .unwrap()
        .unwrap();
    let (_, spki) = SubjectPublicKeyInfo::from_der(&pem.contents).unwrap();
    spki.subject_public_key.data.to_vec()
}
