//! Finding and reading the signatures of an artifact (notary-spec.md §3.4), for
//! `verify`, `list` and `inspect`:
//!
//! * the Referrers API, `GET /v2/<name>/referrers/<digest>?artifactType=…`, page
//!   after page through `Link: <…>; rel="next"`, filtered by `artifactType` on this
//!   side too (a registry may ignore the filter; `OCI-Filters-Applied` is not
//!   trusted); a 404 or an answer that is not an image index means "no Referrers
//!   API";
//! * else, or when the API lists nothing, the referrers tag schema: the image index
//!   tagged `sha256-<hex>`, filtered by `artifactType`;
//! * manifests and blobs by digest, size-capped and checked against their digest.

use notation_core::manifest::{ARTIFACT_TYPE_SIGNATURE, MEDIA_TYPE_IMAGE_INDEX};
use notation_core::{Descriptor, Digest};
use reqwest::StatusCode;
use reqwest::blocking::Response;
use reqwest::header::{ACCEPT, CONTENT_TYPE, LINK};
use serde_json::Value;

use crate::client::{MANIFEST_ACCEPT, Repository, status_error};
use crate::error::{RegistryError, Result};
use crate::referrers::index_tag;

/// Where the signatures were found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The Referrers API.
    ReferrersApi,
    /// The referrers tag schema.
    TagSchema,
}

/// Signature manifests of one artifact.
#[derive(Debug, Clone)]
pub struct Found {
    /// Their descriptors, in the registry's order, at most the limit asked for.
    pub descriptors: Vec<Descriptor>,
    /// True when there were more than the limit.
    pub truncated: bool,
    /// Where they were listed.
    pub source: Source,
}

/// Pages followed at most (a registry sending `next` forever is cut off).
const MAX_PAGES: usize = 1000;

fn protocol(repo: &Repository<'_>, operation: &str, reason: impl Into<String>) -> RegistryError {
    RegistryError::Protocol {
        registry: repo.registry().to_owned(),
        operation: operation.to_owned(),
        reason: reason.into(),
    }
}

fn header(resp: &Response, name: impl reqwest::header::AsHeaderName) -> Option<String> {
    resp.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// The `rel="next"` target of a `Link` header.
fn next_link(link: &str) -> Option<String> {
    link.split(',').find_map(|part| {
        let (target, params) = part.trim().split_once(';')?;
        let is_next = params.split(';').any(|p| {
            let p = p.trim().replace(' ', "");
            p == "rel=\"next\"" || p == "rel=next"
        });
        let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        is_next.then(|| target.to_owned())
    })
}

/// Entries of an image index with `artifactType` equal to `artifact_type`; entries
/// that are not descriptors are ignored.
fn matching_entries(index: &Value, artifact_type: &str) -> Vec<Descriptor> {
    index
        .get("manifests")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|e| serde_json::from_value::<Descriptor>(e.clone()).ok())
        .filter(|d| d.artifact_type.as_deref() == Some(artifact_type))
        .collect()
}

fn push_unique(out: &mut Vec<Descriptor>, items: Vec<Descriptor>) {
    for d in items {
        if !out.iter().any(|o| o.digest == d.digest) {
            out.push(d);
        }
    }
}

/// The Referrers API listing of `subject` filtered to `artifact_type`, following
/// pagination until more than `limit` entries are known; `None` when the registry
/// has no Referrers API.
pub fn referrers_api(
    repo: &Repository<'_>,
    subject: &Digest,
    artifact_type: &str,
    limit: usize,
) -> Result<Option<Vec<Descriptor>>> {
    let op = format!(
        "listing referrers of {}/{}@{subject}",
        repo.registry(),
        repo.name()
    );
    let first = format!(
        "/v2/{}/referrers/{subject}?artifactType={}",
        repo.name(),
        crate::auth::url_encode(artifact_type)
    );
    let mut next = Some(first);
    let mut seen: Vec<String> = Vec::new();
    let mut out = Vec::new();
    let base_seen: std::cell::RefCell<Option<String>> = std::cell::RefCell::new(None);
    while let Some(target) = next.take() {
        if seen.contains(&target) || seen.len() >= MAX_PAGES {
            return Err(protocol(
                repo,
                &op,
                "the Referrers API pagination does not end (a page links to an earlier one, or there are over 1000 pages)",
            ));
        }
        seen.push(target.clone());
        let resp = repo.send(&op, &|c, base| {
            *base_seen.borrow_mut() = Some(base.to_owned());
            let url = if target.starts_with('/') {
                format!("{base}{target}")
            } else {
                target.clone()
            };
            c.get(url).header(ACCEPT, MEDIA_TYPE_IMAGE_INDEX)
        })?;
        let first_page = seen.len() == 1;
        if resp.status() == StatusCode::NOT_FOUND && first_page {
            return Ok(None);
        }
        if !resp.status().is_success() {
            return Err(status_error(repo.registry(), &op, resp));
        }
        let ct = header(&resp, CONTENT_TYPE).unwrap_or_default();
        if ct.split(';').next().unwrap_or("").trim() != MEDIA_TYPE_IMAGE_INDEX {
            if first_page {
                return Ok(None);
            }
            return Err(protocol(
                repo,
                &op,
                format!("a page of the Referrers API is not an image index ({ct:?})"),
            ));
        }
        let link = header(&resp, LINK);
        let body = crate::http::read_limited(resp, crate::client::MAX_MANIFEST_BYTES)
            .map_err(|e| protocol(repo, &op, e))?;
        let index: Value = serde_json::from_slice(&body)
            .map_err(|e| protocol(repo, &op, format!("the referrers index is not JSON: {e}")))?;
        push_unique(&mut out, matching_entries(&index, artifact_type));
        if out.len() > limit {
            break;
        }
        if let Some(link) = link.as_deref().and_then(next_link) {
            let absolute = link.starts_with("http://") || link.starts_with("https://");
            let origin = base_seen.borrow().clone().unwrap_or_default();
            if absolute && !crate::http::same_origin(&origin, &link) {
                return Err(protocol(
                    repo,
                    &op,
                    format!(
                        "the next page {link:?} is on another origin; refusing to send credentials there"
                    ),
                ));
            }
            if !absolute && !link.starts_with('/') {
                return Err(protocol(
                    repo,
                    &op,
                    format!("the next page {link:?} is not a URL or an absolute path"),
                ));
            }
            next = Some(link);
        }
    }
    Ok(Some(out))
}

/// The signature manifests listed in the referrers tag schema index of `subject`.
pub fn tag_schema(
    repo: &Repository<'_>,
    subject: &Digest,
    artifact_type: &str,
) -> Result<Vec<Descriptor>> {
    let tag = index_tag(subject);
    let Some((content_type, bytes)) = repo.manifest(&tag, MANIFEST_ACCEPT)? else {
        return Ok(Vec::new());
    };
    let op = format!("reading the referrers index {tag}");
    let index: Value = serde_json::from_slice(&bytes)
        .map_err(|e| protocol(repo, &op, format!("the index is not JSON: {e}")))?;
    let media_type = index
        .get("mediaType")
        .and_then(Value::as_str)
        .unwrap_or_else(|| content_type.split(';').next().unwrap_or("").trim());
    if media_type != MEDIA_TYPE_IMAGE_INDEX {
        return Err(protocol(
            repo,
            &op,
            format!("the tag holds {media_type:?}, not an image index"),
        ));
    }
    Ok(matching_entries(&index, artifact_type))
}

/// The Notary signature manifests of `subject`, at most `limit`: from the Referrers
/// API, else (or when it lists none) from the tag schema.
pub fn signature_manifests(repo: &Repository<'_>, subject: &Digest, limit: usize) -> Result<Found> {
    let (mut descriptors, source) =
        match referrers_api(repo, subject, ARTIFACT_TYPE_SIGNATURE, limit)? {
            Some(d) if !d.is_empty() => (d, Source::ReferrersApi),
            _ => (
                tag_schema(repo, subject, ARTIFACT_TYPE_SIGNATURE)?,
                Source::TagSchema,
            ),
        };
    let truncated = descriptors.len() > limit;
    descriptors.truncate(limit);
    Ok(Found {
        descriptors,
        truncated,
        source,
    })
}

/// Reads the manifest `digest` (at most 4 MiB) and checks its digest.
pub fn manifest_by_digest(repo: &Repository<'_>, digest: &Digest, accept: &str) -> Result<Vec<u8>> {
    let Some((_, bytes)) = repo.manifest(digest.as_str(), accept)? else {
        return Err(RegistryError::NotFound {
            registry: repo.registry().to_owned(),
            reference: format!("{}@{digest}", repo.name()),
            detail: String::new(),
        });
    };
    if !digest.matches(&bytes) {
        return Err(protocol(
            repo,
            &format!("reading manifest {}@{digest}", repo.name()),
            "the manifest's content does not match its digest",
        ));
    }
    Ok(bytes)
}

/// Reads the blob `digest` (at most `limit` bytes) and checks its digest.
pub fn blob(repo: &Repository<'_>, digest: &Digest, limit: u64) -> Result<Vec<u8>> {
    let op = format!("reading blob {}@{digest}", repo.name());
    let resp = repo.send(&op, &|c, base| {
        c.get(format!("{base}/v2/{}/blobs/{digest}", repo.name()))
    })?;
    if resp.status() == StatusCode::NOT_FOUND {
        return Err(RegistryError::NotFound {
            registry: repo.registry().to_owned(),
            reference: format!("blob {}@{digest}", repo.name()),
            detail: String::new(),
        });
    }
    if !resp.status().is_success() {
        return Err(status_error(repo.registry(), &op, resp));
    }
    let bytes = crate::http::read_limited(resp, limit).map_err(|e| protocol(repo, &op, e))?;
    if !digest.matches(&bytes) {
        return Err(protocol(
            repo,
            &op,
            "the blob's content does not match its digest",
        ));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_headers() {
        assert_eq!(
            next_link(r#"</v2/a/referrers/sha256:1?n=1&last=x>; rel="next""#).as_deref(),
            Some("/v2/a/referrers/sha256:1?n=1&last=x")
        );
        assert_eq!(
            next_link(r#"<https://r.io/p>; rel="prev", <https://r.io/n>; rel=next"#).as_deref(),
            Some("https://r.io/n")
        );
        assert_eq!(next_link(r#"<x>; rel="prev""#), None);
        assert_eq!(next_link("garbage"), None);
    }

    #[test]
    fn entries_are_filtered_by_artifact_type() {
        let d = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";
        let index = serde_json::json!({"manifests": [
            {"mediaType": "m", "digest": d, "size": 1, "artifactType": ARTIFACT_TYPE_SIGNATURE},
            {"mediaType": "m", "digest": d, "size": 1, "artifactType": "application/spdx+json"},
            {"mediaType": "m", "digest": "bad", "size": 1, "artifactType": ARTIFACT_TYPE_SIGNATURE},
            {"mediaType": "m", "digest": d, "size": 1}
        ]});
        assert_eq!(matching_entries(&index, ARTIFACT_TYPE_SIGNATURE).len(), 1);
    }
}
