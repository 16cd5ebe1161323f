//! `notation plugin list|uninstall|check` (notary-spec.md §1.14; specs/cmd/plugin.md).

use crate::harness::{Run, Sandbox};

/// The cells of a `plugin list` line: columns are separated by at least two spaces.
fn cells(line: &str) -> Vec<&str> {
    line.split("  ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect()
}

/// A failed `plugin check`: exit 1 and one `Error:` line on stderr; the report is on
/// stdout. Returns (stdout lines, error message).
#[track_caller]
fn check_fails(run: &Run) -> (Vec<&str>, &str) {
    assert_eq!(
        run.code, 1,
        "expected exit 1\nstdout: {}\nstderr: {}",
        run.stdout, run.stderr
    );
    let errors: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| !l.starts_with("Warning: "))
        .collect();
    assert_eq!(errors.len(), 1, "one error line: {:?}", run.stderr);
    let msg = errors[0]
        .strip_prefix("Error: ")
        .unwrap_or_else(|| panic!("error line must start with 'Error: ': {:?}", errors[0]));
    (run.stdout.lines().collect(), msg)
}

/// `plugin list` (and `ls`): a header, one row per plugin directory sorted by name
/// with name, description, version and capabilities from get-plugin-metadata and
/// `<nil>` for no error; a plugin that is broken (not executable, or whose metadata
/// name is not its directory's) shows its error in the ERROR column, and the command
/// still succeeds.
#[test]
fn plugin_list_shows_plugins_and_their_errors() {
    use std::os::unix::fs::PermissionsExt as _;
    let sb = Sandbox::new();
    sb.install_plugin("test-plugin");
    sb.install_plugin("local-key");
    // The test plugin's binary installed as `other`: its metadata says test-plugin.
    sb.install_plugin_as("test-plugin", "other");
    // `broken`: a file without execute bits.
    let broken = sb.install_plugin_as("local-key", "broken");
    std::fs::set_permissions(&broken, std::fs::Permissions::from_mode(0o644)).unwrap();

    let run = sb.run(&["plugin", "list"]).ok();
    let ls = sb.run(&["plugin", "ls"]).ok();
    assert_eq!(ls.stdout, run.stdout, "ls is list");
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 5, "header + 4 plugins:\n{}", run.stdout);
    let header = lines[0];
    assert_eq!(
        cells(header),
        ["NAME", "DESCRIPTION", "VERSION", "CAPABILITIES", "ERROR"]
    );
    let error_col = header.find("ERROR").unwrap();
    let version_col = header.find("VERSION").unwrap();
    let caps_col = header.find("CAPABILITIES").unwrap();
    let names: Vec<&str> = lines[1..].iter().map(|l| cells(l)[0]).collect();
    assert_eq!(names, ["broken", "local-key", "other", "test-plugin"]);
    let row = |name: &str| *lines.iter().find(|l| cells(l)[0] == name).unwrap();

    for (name, version) in [("test-plugin", "1.0.0"), ("local-key", "0.1.0")] {
        let line = row(name);
        let c = cells(line);
        assert_eq!(c.len(), 5, "{name} row: {line:?}");
        assert!(!c[1].is_empty(), "{name} has a description");
        assert_eq!(c[2], version, "{name} version");
        assert_eq!(c[3], "[SIGNATURE_GENERATOR.RAW]", "{name} capabilities");
        assert_eq!(c[4], "<nil>", "{name} error");
        assert_eq!(line.find(version), Some(version_col), "{name}: aligned");
        assert_eq!(line.find("[SIGNATURE"), Some(caps_col), "{name}: aligned");
        assert_eq!(line.find("<nil>"), Some(error_col), "{name}: aligned");
    }
    let other = row("other");
    assert!(
        other[error_col..].starts_with("metadata validation failed for plugin \"other\""),
        "other: {other:?}"
    );
    assert!(
        other.contains("must be \"notation-test-plugin\" instead of \"notation-other\""),
        "{other}"
    );
    let broken_row = row("broken");
    assert!(
        broken_row[error_col..].starts_with("plugin \"broken\" executable"),
        "broken: {broken_row:?}"
    );
    assert!(
        broken_row.contains("is not a regular executable file"),
        "{broken_row}"
    );
    for l in [other, broken_row] {
        assert_eq!(cells(l).len(), 2, "only name and error: {l:?}");
    }
}

/// `plugin list` with no plugin directory prints only the header.
#[test]
fn plugin_list_without_plugins() {
    let sb = Sandbox::new();
    let run = sb.run(&["plugin", "list"]).ok();
    assert_eq!(
        cells(run.stdout.trim_end()),
        ["NAME", "DESCRIPTION", "VERSION", "CAPABILITIES", "ERROR"]
    );
    assert_eq!(run.stdout.lines().count(), 1);
}

/// `plugin uninstall`: asks first (anything but yes cancels), `-y` or "y" removes
/// the plugin's directory; an unknown name or one that leaves the plugin directory is
/// an error and removes nothing.
#[test]
fn plugin_uninstall() {
    let sb = Sandbox::new();
    sb.install_plugin("test-plugin");
    sb.install_plugin("local-key");
    let dir = sb.config().join("plugins/test-plugin");

    for stdin in ["n\n", ""] {
        let run = sb
            .run_with(&["plugin", "uninstall", "test-plugin"], &[], Some(stdin))
            .ok();
        assert!(
            run.stderr
                .contains("Are you sure you want to uninstall plugin \"test-plugin\"?"),
            "prompt: {:?}",
            run.stderr
        );
        assert_eq!(run.stdout, "Operation cancelled.\n", "answer {stdin:?}");
        assert!(dir.is_dir(), "answer {stdin:?} removed the plugin");
    }

    let run = sb.run(&["plugin", "uninstall", "-y", "test-plugin"]).ok();
    assert_eq!(run.stdout, "Successfully uninstalled plugin test-plugin\n");
    assert!(!dir.exists(), "plugin directory removed");
    assert!(sb.plugin_path("local-key").is_file(), "other plugins stay");
    let list = sb.run(&["plugin", "list"]).ok();
    assert!(!list.stdout.contains("test-plugin"), "{}", list.stdout);

    sb.run(&["plugin", "uninstall", "-y", "test-plugin"])
        .fails_with("unable to find plugin test-plugin");
    sb.run(&["plugin", "uninstall", "-y", "nope"])
        .fails_with("unable to find plugin nope");
    // A name that leaves the plugin directory: `<config>/victim` must survive.
    let victim = sb.config().join("victim");
    std::fs::create_dir_all(&victim).unwrap();
    std::fs::write(victim.join("notation-victim"), "keep").unwrap();
    sb.run(&["plugin", "uninstall", "-y", "../victim"])
        .fails_with("invalid plugin name \"../victim\"");
    assert!(victim.join("notation-victim").is_file(), "victim removed");
    sb.run(&["plugin", "uninstall", "-y"])
        .fails_with("accepts 1 arg(s), received 0");

    let run = sb
        .run_with(&["plugin", "uninstall", "local-key"], &[], Some("y\n"))
        .ok();
    assert_eq!(run.stdout, "Successfully uninstalled plugin local-key\n");
    assert!(!sb.config().join("plugins/local-key").exists());
}

/// `plugin check` runs a plugin through the contract: PASS for metadata,
/// describe-key and a JWS and a COSE signature per capability; exit 0.
#[test]
fn plugin_check_passes_good_plugins() {
    let sb = Sandbox::new();
    sb.run(&["cert", "generate-test", "k"]).ok();
    sb.install_plugin("test-plugin");
    sb.install_plugin("local-key");
    let id = sb.key_prefix("k");

    let run = sb
        .run(&[
            "plugin",
            "check",
            "test-plugin",
            "--id",
            &id,
            "--plugin-config",
            "capabilities=RAW,ENVELOPE",
        ])
        .ok();
    let lines: Vec<&str> = run.stdout.lines().collect();
    let labels = [
        "get-plugin-metadata",
        "describe-key",
        "SIGNATURE_GENERATOR.RAW jws",
        "SIGNATURE_GENERATOR.RAW cose",
        "SIGNATURE_GENERATOR.ENVELOPE jws",
        "SIGNATURE_GENERATOR.ENVELOPE cose",
    ];
    assert_eq!(lines.len(), labels.len() + 1, "{}", run.stdout);
    for (line, label) in lines.iter().zip(labels) {
        assert!(
            line.starts_with(&format!("PASS  {label}:")),
            "{label}: {line:?}"
        );
    }
    assert!(lines[0].contains("test-plugin 1.0.0"), "{}", lines[0]);
    assert!(lines[1].contains("RSA-2048"), "{}", lines[1]);
    assert_eq!(lines[6], "plugin test-plugin follows the contract");

    let run = sb.run(&["plugin", "check", "local-key", "--id", &id]).ok();
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 5, "{}", run.stdout);
    for (line, label) in lines.iter().zip(&labels[..4]) {
        assert!(
            line.starts_with(&format!("PASS  {label}:")),
            "{label}: {line:?}"
        );
    }
    assert_eq!(lines[4], "plugin local-key follows the contract");
}

/// A plugin that breaks the contract: FAIL lines that say why, the other checks
/// still run, exit 1 with one `Error:` line counting the problems.
#[test]
fn plugin_check_reports_violations() {
    let sb = Sandbox::new();
    sb.run(&["cert", "generate-test", "k"]).ok();
    sb.install_plugin("test-plugin");
    let id = sb.key_prefix("k");

    let run = sb.run(&[
        "plugin",
        "check",
        "test-plugin",
        "--id",
        &id,
        "--plugin-config",
        "capabilities=RAW,ENVELOPE",
        "--plugin-config",
        "fault=wrong-algorithm",
    ]);
    let (lines, msg) = check_fails(&run);
    assert_eq!(
        msg,
        "plugin test-plugin failed the contract check: 2 problem(s) (see above)"
    );
    let line = |label: &str| {
        *lines
            .iter()
            .find(|l| l[6..].starts_with(&format!("{label}:")))
            .unwrap_or_else(|| panic!("no {label} line: {lines:?}"))
    };
    assert!(line("get-plugin-metadata").starts_with("PASS"));
    assert!(line("describe-key").starts_with("PASS"));
    for label in [
        "SIGNATURE_GENERATOR.RAW jws",
        "SIGNATURE_GENERATOR.RAW cose",
    ] {
        let l = line(label);
        assert!(l.starts_with("FAIL"), "{l}");
        assert!(
            l.contains("RSASSA-PSS-SHA-384") && l.contains("RSASSA-PSS-SHA-256"),
            "{l}"
        );
    }
    for label in [
        "SIGNATURE_GENERATOR.ENVELOPE jws",
        "SIGNATURE_GENERATOR.ENVELOPE cose",
    ] {
        assert!(line(label).starts_with("PASS"), "{}", line(label));
    }

    // A plugin whose metadata cannot be read: one FAIL and nothing else to check.
    let run = sb.run(&[
        "plugin",
        "check",
        "test-plugin",
        "--id",
        &id,
        "--plugin-config",
        "fault=error-json",
    ]);
    let (lines, msg) = check_fails(&run);
    assert_eq!(
        msg,
        "plugin test-plugin failed the contract check: 1 problem (see above)"
    );
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].starts_with("FAIL  get-plugin-metadata:"));
    assert!(
        lines[0].contains("ACCESS_DENIED: the key vault refused access"),
        "{}",
        lines[0]
    );

    // A plugin that is not installed fails the metadata check.
    let run = sb.run(&["plugin", "check", "nope", "--id", &id]);
    let (lines, msg) = check_fails(&run);
    assert_eq!(
        msg,
        "plugin nope failed the contract check: 1 problem (see above)"
    );
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].starts_with("FAIL  get-plugin-metadata: plugin \"nope\" is not installed"),
        "{}",
        lines[0]
    );
}
