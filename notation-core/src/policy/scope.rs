//! Registry scopes (spec §4.10 "registryScopes"): a fully qualified repository
//! `host[:port]/repository` without scheme, tag, digest or wildcards, or the global
//! scope `*`. The grammar is distribution's, as notation-go checks it.

/// The global scope.
pub const WILDCARD: &str = "*";

const ENSURE: &str = "make sure it is a fully qualified repository without the scheme, protocol or tag. For example domain.com/my/repository or a local scope like local/myOCILayout";

/// `[a-zA-Z0-9]` or `[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]`.
fn domain_component(c: &str) -> bool {
    let b = c.as_bytes();
    !b.is_empty()
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter().all(|x| x.is_ascii_alphanumeric() || *x == b'-')
}

fn valid_domain(domain: &str) -> bool {
    let (host, port) = match domain.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (domain, None),
    };
    port.is_none_or(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        && host.split('.').all(domain_component)
}

/// `[a-z0-9]+` joined by `.`, `_`, `__` or runs of `-`.
fn path_component(c: &str) -> bool {
    let b = c.as_bytes();
    if b.is_empty() || !b[0].is_ascii_alphanumeric() || !b[b.len() - 1].is_ascii_alphanumeric() {
        return false;
    }
    if !b
        .iter()
        .all(|x| x.is_ascii_lowercase() || x.is_ascii_digit() || matches!(x, b'.' | b'_' | b'-'))
    {
        return false;
    }
    // Separators between alphanumeric runs: ".", "_", "__" or "-"+.
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_alphanumeric() {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && !b[i].is_ascii_alphanumeric() {
            i += 1;
        }
        let sep = &c[start..i];
        if !(sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|x| x == b'-')) {
            return false;
        }
    }
    true
}

/// Checks a registry scope (not `*`); the error is notation-go's.
pub fn validate_scope(scope: &str) -> Result<(), String> {
    if scope.len() > 1 && scope.contains('*') {
        return Err(format!(
            "registry scope {scope:?} with wild card(s) is not valid, {ENSURE}"
        ));
    }
    let valid = scope
        .split_once('/')
        .is_some_and(|(domain, repo)| valid_domain(domain) && repo.split('/').all(path_component));
    if valid {
        Ok(())
    } else {
        Err(format!("registry scope {scope:?} is not valid, {ENSURE}"))
    }
}

#[cfg(test)]
mod tests {
    use super::validate_scope;

    #[test]
    fn scopes() {
        for ok in [
            "registry.example.com/app",
            "localhost:5000/a/b-c/d__e",
            "local/myOCILayout".to_lowercase().as_str(),
            "10.0.0.1:443/x.y_z",
        ] {
            assert!(validate_scope(ok).is_ok(), "{ok}");
        }
        for bad in [
            "registry.example.com",
            "https://registry.example.com/app",
            "registry.example.com/app:v1",
            "registry.example.com/App",
            "registry.example.com/app@sha256:abc",
            "registry.example.com/*",
            "-bad.com/app",
            "r.io/a//b",
            "r.io/a..b",
        ] {
            assert!(validate_scope(bad).is_err(), "{bad}");
        }
        assert!(
            validate_scope("r.io/*")
                .unwrap_err()
                .contains("with wild card(s)")
        );
    }
}
