//! `notation plugin install` (notary-spec.md §1.14, with stricter archive rules):
//! sources (single executable, .tar.gz, .zip, HTTPS URL), version rules, and refusals
//! that leave the plugins directory exactly as it was.

use std::collections::BTreeMap;
use std::io::{Read as _, Write as _};
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};

use crate::harness::{Sandbox, binary, snapshot};

/// The built workspace plugin `notation-<name>`.
fn built(name: &str) -> PathBuf {
    let p = binary().with_file_name(format!("notation-{name}"));
    assert!(
        p.is_file(),
        "{} not found: run `cargo build --workspace --bins` first",
        p.display()
    );
    p
}

fn plugins_dir(sb: &Sandbox) -> PathBuf {
    sb.config().join("plugins")
}

fn installed_exe(sb: &Sandbox, name: &str) -> PathBuf {
    plugins_dir(sb).join(name).join(format!("notation-{name}"))
}

/// Names in `dir`, sorted (empty if it does not exist).
fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// The plugins directory's content and the config directory's entries, to compare
/// before and after a refused install.
#[derive(Debug, PartialEq)]
struct State {
    plugins: BTreeMap<PathBuf, Vec<u8>>,
    plugin_names: Vec<String>,
    config_names: Vec<String>,
}

fn state(sb: &Sandbox) -> State {
    State {
        plugins: snapshot(&plugins_dir(sb).display().to_string()),
        plugin_names: names(&plugins_dir(sb)),
        config_names: names(&sb.config()),
    }
}

/// Runs an install that must fail with `needle`, and checks nothing changed: no new
/// plugin, no staging directory, no file named `evil` anywhere in the sandbox.
#[track_caller]
fn refused(sb: &Sandbox, args: &[&str], needle: &str) -> String {
    let before = state(sb);
    let mut full = vec!["plugin", "install"];
    full.extend_from_slice(args);
    let msg = sb.run(&full).fails_with(needle);
    assert_eq!(
        state(sb),
        before,
        "a refused install changed the plugin root"
    );
    assert!(
        find_named(sb.dir.path(), "evil").is_empty(),
        "an archive entry escaped"
    );
    msg
}

fn find_named(dir: &Path, name: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if e.file_name() == name {
            out.push(p.clone());
        }
        if e.file_type().is_ok_and(|t| t.is_dir()) {
            out.extend(find_named(&p, name));
        }
    }
    out
}

fn install_ok(sb: &Sandbox, args: &[&str]) -> String {
    let mut full = vec!["plugin", "install"];
    full.extend_from_slice(args);
    let run = sb.run(&full).ok();
    assert!(
        !names(&sb.config())
            .iter()
            .any(|n| n.starts_with(".notation-plugin-install")),
        "staging directory left behind"
    );
    run.stdout
}

fn mode(p: &Path) -> u32 {
    std::fs::symlink_metadata(p).unwrap().permissions().mode() & 0o7777
}

/// Writes an executable shell-script plugin `notation-<name>` into `dir` whose
/// get-plugin-metadata answer is built from `meta_name` and `version`.
fn script_plugin(dir: &Path, name: &str, meta_name: &str, version: &str) -> PathBuf {
    script(
        dir,
        &format!("notation-{name}"),
        &format!(
            "cat >/dev/null\necho '{{\"name\":\"{meta_name}\",\"description\":\"script plugin\",\"version\":\"{version}\",\"url\":\"https://example.com\",\"supportedContractVersions\":[\"1.0\"],\"capabilities\":[\"SIGNATURE_GENERATOR.RAW\"]}}'"
        ),
    )
}

fn script(dir: &Path, file: &str, body: &str) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let p = dir.join(file);
    std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    p
}

/// An archive entry for the test archives.
enum Entry<'a> {
    File(&'a str, Vec<u8>, u32),
    Dir(&'a str),
    Symlink(&'a str, &'a str),
    HardLink(&'a str, &'a str),
}

/// A .tar.gz of `entries`, names written raw (so `../evil` can be tested).
fn tar_gz(path: &Path, entries: &[Entry]) {
    let gz = flate2::write::GzEncoder::new(
        std::fs::File::create(path).unwrap(),
        flate2::Compression::fast(),
    );
    let mut b = tar::Builder::new(gz);
    for e in entries {
        let mut h = tar::Header::new_gnu();
        let (name, data, kind, mode, link): (&str, &[u8], _, u32, Option<&str>) = match e {
            Entry::File(n, d, m) => (n, d, tar::EntryType::Regular, *m, None),
            Entry::Dir(n) => (n, &[], tar::EntryType::Directory, 0o755, None),
            Entry::Symlink(n, t) => (n, &[], tar::EntryType::Symlink, 0o777, Some(t)),
            Entry::HardLink(n, t) => (n, &[], tar::EntryType::Link, 0o644, Some(t)),
        };
        let gnu = h.as_gnu_mut().unwrap();
        gnu.name.fill(0);
        gnu.name[..name.len()].copy_from_slice(name.as_bytes());
        if let Some(t) = link {
            gnu.linkname.fill(0);
            gnu.linkname[..t.len()].copy_from_slice(t.as_bytes());
        }
        h.set_entry_type(kind);
        h.set_mode(mode);
        h.set_size(data.len() as u64);
        h.set_cksum();
        b.append(&h, data).unwrap();
    }
    b.into_inner().unwrap().finish().unwrap();
}

/// A .zip of `entries` (deflated).
fn zip_file(path: &Path, entries: &[Entry]) {
    let mut z = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    let opts = |mode: u32| {
        zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .compression_level(Some(1))
            .unix_permissions(mode)
    };
    for e in entries {
        match e {
            Entry::File(n, d, m) => {
                z.start_file(*n, opts(*m)).unwrap();
                z.write_all(d).unwrap();
            }
            Entry::Dir(n) => z.add_directory(*n, opts(0o755)).unwrap(),
            Entry::Symlink(n, t) => z.add_symlink(*n, *t, opts(0o777)).unwrap(),
            Entry::HardLink(..) => unreachable!("zip has no hard links"),
        }
    }
    z.finish().unwrap();
}

fn read(p: &Path) -> Vec<u8> {
    std::fs::read(p).unwrap()
}

fn sha256_hex(bytes: &[u8]) -> String {
    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A single executable: installed 0755 as a regular file, plugins dir 0700, and
/// `plugin list` runs it.
#[test]
fn install_single_executable() {
    let sb = Sandbox::new();
    let src = built("test-plugin");
    let out = install_ok(&sb, &["--file", src.to_str().unwrap()]);
    assert_eq!(
        out,
        "Successfully installed plugin test-plugin, version 1.0.0\n"
    );
    let exe = installed_exe(&sb, "test-plugin");
    let meta = std::fs::symlink_metadata(&exe).unwrap();
    assert!(meta.file_type().is_file());
    assert_eq!(mode(&exe), 0o755);
    assert_eq!(mode(&plugins_dir(&sb)), 0o700);
    assert_eq!(read(&exe), read(&src));
    assert_eq!(
        names(&plugins_dir(&sb).join("test-plugin")),
        ["notation-test-plugin"]
    );
    let list = sb.run(&["plugin", "list"]).ok().stdout;
    assert!(
        list.lines()
            .any(|l| l.starts_with("test-plugin") && l.contains("1.0.0") && l.ends_with("<nil>")),
        "{list}"
    );
    // The alias, and a SHA-256 checksum that matches (upper case is accepted).
    let sb = Sandbox::new();
    let sum = sha256_hex(&read(&src)).to_uppercase();
    let src_s = src.to_str().unwrap();
    let out = sb
        .run(&["plugin", "add", "--file", src_s, "--sha256sum", &sum])
        .ok()
        .stdout;
    assert_eq!(
        out,
        "Successfully installed plugin test-plugin, version 1.0.0\n"
    );
}

/// A .tar.gz: the one top-level `notation-<name>` (whatever its mode in the archive)
/// and the other top-level files are installed; directories and nested files are
/// ignored.
#[test]
fn install_from_tar_gz() {
    let sb = Sandbox::new();
    let archive = sb.path("plugin.tar.gz");
    let exe = read(&built("test-plugin"));
    tar_gz(
        &archive,
        &[
            Entry::Dir("docs/"),
            Entry::File("docs/notation-nested", b"ignored".to_vec(), 0o755),
            Entry::File("LICENSE", b"license text".to_vec(), 0o600),
            Entry::File("notation-test-plugin", exe.clone(), 0o644),
        ],
    );
    let out = install_ok(&sb, &["--file", archive.to_str().unwrap()]);
    assert_eq!(
        out,
        "Successfully installed plugin test-plugin, version 1.0.0\n"
    );
    let dir = plugins_dir(&sb).join("test-plugin");
    assert_eq!(names(&dir), ["LICENSE", "notation-test-plugin"]);
    assert_eq!(read(&dir.join("notation-test-plugin")), exe);
    assert_eq!(mode(&dir.join("notation-test-plugin")), 0o755);
    assert_eq!(mode(&dir.join("LICENSE")), 0o644);
    assert_eq!(read(&dir.join("LICENSE")), b"license text");
}

/// A .zip works the same way (here with the local-key plugin).
#[test]
fn install_from_zip() {
    let sb = Sandbox::new();
    let archive = sb.path("plugin.zip");
    let exe = read(&built("local-key"));
    zip_file(
        &archive,
        &[
            Entry::File("README.md", b"readme".to_vec(), 0o644),
            Entry::Dir("sub/"),
            Entry::File("sub/other", b"x".to_vec(), 0o644),
            Entry::File("notation-local-key", exe.clone(), 0o755),
        ],
    );
    let out = install_ok(&sb, &["--file", archive.to_str().unwrap()]);
    assert!(
        out.starts_with("Successfully installed plugin local-key, version "),
        "{out}"
    );
    let dir = plugins_dir(&sb).join("local-key");
    assert_eq!(names(&dir), ["README.md", "notation-local-key"]);
    assert_eq!(read(&dir.join("notation-local-key")), exe);
    assert_eq!(mode(&dir.join("notation-local-key")), 0o755);
}

/// A higher version replaces the installed one whole (old files are gone); the same
/// version is refused; a lower one is refused unless --force.
#[test]
fn upgrade_equal_and_downgrade() {
    let sb = Sandbox::new();
    let v1 = sb.path("v1.tar.gz");
    let one = script_plugin(&sb.path("src1"), "acme", "acme", "1.0.0");
    tar_gz(
        &v1,
        &[
            Entry::File("notation-acme", read(&one), 0o755),
            Entry::File("OLD-ONLY", b"1".to_vec(), 0o644),
        ],
    );
    let out = install_ok(&sb, &["--file", v1.to_str().unwrap()]);
    assert_eq!(out, "Successfully installed plugin acme, version 1.0.0\n");

    let two = script_plugin(&sb.path("src2"), "acme", "acme", "2.0.0");
    let out = install_ok(&sb, &["--file", two.to_str().unwrap()]);
    assert_eq!(
        out,
        "Successfully updated plugin acme from version 1.0.0 to 2.0.0\n"
    );
    let dir = plugins_dir(&sb).join("acme");
    assert_eq!(
        names(&dir),
        ["notation-acme"],
        "the old version's files are gone"
    );
    assert_eq!(read(&dir.join("notation-acme")), read(&two));
    assert_eq!(names(&plugins_dir(&sb)), ["acme"]);

    // Equal version.
    let two_again = script_plugin(&sb.path("src3"), "acme", "acme", "2.0.0");
    let msg = refused(
        &sb,
        &["--file", two_again.to_str().unwrap()],
        "plugin acme with version 2.0.0 already exists",
    );
    assert_eq!(
        msg,
        "plugin installation failed: plugin acme with version 2.0.0 already exists"
    );

    // Lower version (a pre-release of 2.0.0 is lower, too).
    for (label, lower) in [("src4", "1.0.0"), ("src5", "2.0.0-rc.1")] {
        let old = script_plugin(&sb.path(label), "acme", "acme", lower);
        let msg = refused(
            &sb,
            &["--file", old.to_str().unwrap()],
            &format!(
                "failed to install plugin acme. The installing plugin version {lower} is lower than the existing plugin version 2.0.0."
            ),
        );
        assert!(
            msg.ends_with(
                "It is not recommended to install an older version. To force the installation, use the \"--force\" option"
            ),
            "{msg}"
        );
    }
    let old = sb.path("src4/notation-acme");
    let out = install_ok(&sb, &["--file", old.to_str().unwrap(), "--force"]);
    assert_eq!(
        out,
        "Successfully updated plugin acme from version 2.0.0 to 1.0.0\n"
    );
    assert_eq!(read(&dir.join("notation-acme")), read(&old));
    // --force also reinstalls the same version.
    let out = install_ok(&sb, &["--file", old.to_str().unwrap(), "--force"]);
    assert_eq!(
        out,
        "Successfully updated plugin acme from version 1.0.0 to 1.0.0\n"
    );
}

/// An installed plugin whose metadata cannot be read is replaced only with --force.
#[test]
fn broken_existing_plugin_needs_force() {
    let sb = Sandbox::new();
    let broken = plugins_dir(&sb).join("acme");
    script(&broken, "notation-acme", "exit 3");
    let new = script_plugin(&sb.path("src"), "acme", "acme", "1.0.0");
    refused(
        &sb,
        &["--file", new.to_str().unwrap()],
        "failed to get metadata of existing plugin acme",
    );
    let out = install_ok(&sb, &["--file", new.to_str().unwrap(), "--force"]);
    assert_eq!(out, "Successfully installed plugin acme, version 1.0.0\n");
    assert_eq!(read(&broken.join("notation-acme")), read(&new));

    // A directory without an executable is no plugin: replaced without --force.
    let empty = plugins_dir(&sb).join("other");
    std::fs::create_dir_all(&empty).unwrap();
    std::fs::write(empty.join("stray"), b"x").unwrap();
    let other = script_plugin(&sb.path("src2"), "other", "other", "1.0.0");
    let out = install_ok(&sb, &["--file", other.to_str().unwrap()]);
    assert_eq!(out, "Successfully installed plugin other, version 1.0.0\n");
    assert_eq!(names(&empty), ["notation-other"]);
}

/// NOTATION_LIBEXEC: plugins go to `<libexec>/plugins`, staging happens in
/// `<libexec>` and leaves nothing; a failed install does not even leave `<libexec>`.
#[test]
fn libexec_override() {
    let mut sb = Sandbox::new();
    let libexec = sb.path("libexec");
    sb.env
        .push(("NOTATION_LIBEXEC".into(), libexec.display().to_string()));
    let bad = script(&sb.path("bad"), "notation-acme", "exit 1");
    sb.run(&["plugin", "install", "--file", bad.to_str().unwrap()])
        .fails_with("get-plugin-metadata failed");
    assert!(
        !libexec.exists(),
        "a failed install left {}",
        libexec.display()
    );
    let good = script_plugin(&sb.path("good"), "acme", "acme", "1.0.0");
    sb.run(&["plugin", "install", "--file", good.to_str().unwrap()])
        .ok();
    assert_eq!(names(&libexec), ["plugins"]);
    assert_eq!(names(&libexec.join("plugins")), ["acme"]);
    assert_eq!(mode(&libexec), 0o700);
    assert!(!sb.config().exists());
}

/// Zip-slip: an entry path with `..` or that is absolute is refused, naming the
/// entry, and nothing is written anywhere (in tar.gz and zip).
#[test]
fn zip_slip_entries_are_refused() {
    let sb = Sandbox::new();
    let exe = read(&script_plugin(
        &sb.path("src"),
        "test-plugin",
        "test-plugin",
        "1.0.0",
    ));
    for (i, bad) in [
        "../evil",
        "sub/../../evil",
        "/tmp/evil",
        "./../evil",
        "a/./b",
    ]
    .into_iter()
    .enumerate()
    {
        let tgz = sb.path(&format!("slip{i}.tar.gz"));
        tar_gz(
            &tgz,
            &[
                Entry::File("notation-test-plugin", exe.clone(), 0o755),
                Entry::File(bad, b"pwned".to_vec(), 0o755),
            ],
        );
        let msg = refused(&sb, &["--file", tgz.to_str().unwrap()], &format!("{bad:?}"));
        assert!(msg.contains("is not allowed"), "{msg}");
        let z = sb.path(&format!("slip{i}.zip"));
        zip_file(
            &z,
            &[
                Entry::File(bad, b"pwned".to_vec(), 0o755),
                Entry::File("notation-test-plugin", exe.clone(), 0o755),
            ],
        );
        refused(&sb, &["--file", z.to_str().unwrap()], &format!("{bad:?}"));
    }
    assert!(!Path::new("/tmp/evil").exists() || std::fs::read("/tmp/evil").unwrap() != b"pwned");
    assert!(names(&plugins_dir(&sb)).is_empty());
}

/// Symbolic and hard links in an archive are refused, even named like the plugin.
#[test]
fn link_entries_are_refused() {
    let sb = Sandbox::new();
    let exe = read(&script_plugin(
        &sb.path("src"),
        "test-plugin",
        "test-plugin",
        "1.0.0",
    ));
    let tgz = sb.path("symlink.tar.gz");
    tar_gz(
        &tgz,
        &[
            Entry::File("real", exe.clone(), 0o755),
            Entry::Symlink("notation-test-plugin", "real"),
        ],
    );
    refused(
        &sb,
        &["--file", tgz.to_str().unwrap()],
        "archive entry \"notation-test-plugin\" is a symbolic link, which is not allowed",
    );
    let tgz = sb.path("hardlink.tar.gz");
    tar_gz(
        &tgz,
        &[
            Entry::File("notation-test-plugin", exe.clone(), 0o755),
            Entry::HardLink("LICENSE", "/etc/passwd"),
        ],
    );
    refused(
        &sb,
        &["--file", tgz.to_str().unwrap()],
        "archive entry \"LICENSE\" is a hard link, which is not allowed",
    );
    let z = sb.path("symlink.zip");
    zip_file(
        &z,
        &[
            Entry::File("notation-test-plugin", exe.clone(), 0o755),
            Entry::Symlink("evil-link", "/etc"),
        ],
    );
    refused(
        &sb,
        &["--file", z.to_str().unwrap()],
        "archive entry \"evil-link\" is a symbolic link, which is not allowed",
    );
}

/// Exactly one top-level `notation-<name>`: two are refused, none is refused.
#[test]
fn archives_need_exactly_one_executable() {
    let sb = Sandbox::new();
    let a = read(&script_plugin(&sb.path("a"), "a", "a", "1.0.0"));
    let b = read(&script_plugin(&sb.path("b"), "b", "b", "1.0.0"));
    let two = sb.path("two.zip");
    zip_file(
        &two,
        &[
            Entry::File("notation-a", a.clone(), 0o755),
            Entry::File("notation-b", b.clone(), 0o755),
        ],
    );
    refused(
        &sb,
        &["--file", two.to_str().unwrap()],
        "found more than one plugin executable files",
    );
    let two = sb.path("two.tar.gz");
    tar_gz(
        &two,
        &[
            Entry::File("notation-a", a.clone(), 0o755),
            Entry::File("notation-b", b, 0o755),
        ],
    );
    refused(
        &sb,
        &["--file", two.to_str().unwrap()],
        "found more than one plugin executable files",
    );
    // Only nested or misnamed executables: none.
    let none = sb.path("none.tar.gz");
    tar_gz(
        &none,
        &[
            Entry::Dir("bin/"),
            Entry::File("bin/notation-a", a.clone(), 0o755),
            Entry::File("plugin-a", a.clone(), 0o755),
        ],
    );
    refused(
        &sb,
        &["--file", none.to_str().unwrap()],
        "plugin executable file not found in the archive",
    );
    let none = sb.path("none.zip");
    zip_file(&none, &[Entry::File("README", b"hi".to_vec(), 0o644)]);
    refused(
        &sb,
        &["--file", none.to_str().unwrap()],
        "plugin executable file not found in the archive",
    );
    // A single file must be named notation-<name>.
    let misnamed = script(&sb.path("m"), "acme", "exit 0");
    refused(
        &sb,
        &["--file", misnamed.to_str().unwrap()],
        "Plugin file name requires format notation-{plugin-name}",
    );
}

/// 300 MiB of zeros compress to well under 1 MiB: refused from the declared sizes
/// before anything is decompressed or written (zip and tar.gz); a zip entry that
/// holds more than it declares is refused too.
#[test]
fn decompression_bombs_are_refused() {
    let sb = Sandbox::new();
    let exe = read(&script_plugin(&sb.path("src"), "acme", "acme", "1.0.0"));
    let chunk = vec![0u8; 1 << 20];

    let z = sb.path("bomb.zip");
    {
        let mut w = zip::ZipWriter::new(std::fs::File::create(&z).unwrap());
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .compression_level(Some(1));
        w.start_file("notation-acme", opts).unwrap();
        w.write_all(&exe).unwrap();
        w.start_file("zeros", opts).unwrap();
        for _ in 0..300 {
            w.write_all(&chunk).unwrap();
        }
        w.finish().unwrap();
    }
    assert!(std::fs::metadata(&z).unwrap().len() < 4 << 20);
    refused(
        &sb,
        &["--file", z.to_str().unwrap()],
        "total file size reached the 256 MiB size limit",
    );

    let t = sb.path("bomb.tar.gz");
    {
        let gz = flate2::write::GzEncoder::new(
            std::fs::File::create(&t).unwrap(),
            flate2::Compression::fast(),
        );
        let mut b = tar::Builder::new(gz);
        let mut h = tar::Header::new_gnu();
        h.set_mode(0o755);
        h.set_size(exe.len() as u64);
        h.set_cksum();
        b.append_data(&mut h, "notation-acme", exe.as_slice())
            .unwrap();
        let mut h = tar::Header::new_gnu();
        h.set_mode(0o644);
        h.set_size(300 << 20);
        h.set_cksum();
        let zeros = std::io::repeat(0).take(300 << 20);
        b.append_data(&mut h, "zeros", zeros).unwrap();
        b.into_inner().unwrap().finish().unwrap();
    }
    assert!(std::fs::metadata(&t).unwrap().len() < 4 << 20);
    refused(
        &sb,
        &["--file", t.to_str().unwrap()],
        "total file size reached the 256 MiB size limit",
    );

    // A zip entry that decompresses to more than its header says.
    let liar = sb.path("liar.zip");
    zip_file(
        &liar,
        &[
            Entry::File("notation-acme", exe.clone(), 0o755),
            Entry::File("LICENSE", vec![b'x'; 100_000], 0o644),
        ],
    );
    let mut bytes = read(&liar);
    let mut patched = 0;
    for sig_at in 0..bytes.len() - 4 {
        // Uncompressed size: local header offset 22, central directory offset 24.
        let field = match &bytes[sig_at..sig_at + 4] {
            b"PK\x03\x04" => sig_at + 22,
            b"PK\x01\x02" => sig_at + 24,
            _ => continue,
        };
        if bytes[field..field + 4] == 100_000u32.to_le_bytes() {
            bytes[field..field + 4].copy_from_slice(&1000u32.to_le_bytes());
            patched += 1;
        }
    }
    assert_eq!(patched, 2);
    std::fs::write(&liar, bytes).unwrap();
    refused(&sb, &["--file", liar.to_str().unwrap()], "LICENSE");
}

/// A candidate whose get-plugin-metadata fails (non-zero exit, garbage, invalid
/// metadata, or another name) is not installed.
#[test]
fn failing_metadata_is_refused() {
    let sb = Sandbox::new();
    let crash = script(
        &sb.path("crash"),
        "notation-acme",
        "cat >/dev/null; echo boom >&2; exit 1",
    );
    refused(
        &sb,
        &["--file", crash.to_str().unwrap()],
        "plugin \"acme\" get-plugin-metadata failed: exited with status 1: boom",
    );
    let garbage = script(
        &sb.path("garbage"),
        "notation-acme",
        "cat >/dev/null; echo not json",
    );
    refused(
        &sb,
        &["--file", garbage.to_str().unwrap()],
        "plugin \"acme\" get-plugin-metadata returned a malformed response",
    );
    let invalid = script(
        &sb.path("invalid"),
        "notation-acme",
        "cat >/dev/null; echo '{\"name\":\"acme\",\"description\":\"d\",\"version\":\"1.0.0\",\"url\":\"u\",\"supportedContractVersions\":[\"2.0\"],\"capabilities\":[\"SIGNATURE_GENERATOR.RAW\"]}'",
    );
    refused(
        &sb,
        &["--file", invalid.to_str().unwrap()],
        "metadata validation failed for plugin \"acme\": contract version \"1.0\" is not in the list",
    );
    let other = script_plugin(&sb.path("other"), "acme", "other", "1.0.0");
    refused(
        &sb,
        &["--file", other.to_str().unwrap()],
        "plugin executable file name must be \"notation-other\" instead of \"notation-acme\"",
    );
    // The same inside an archive, with an existing plugin of that name kept intact.
    sb.run(&[
        "plugin",
        "install",
        "--file",
        built("test-plugin").to_str().unwrap(),
    ])
    .ok();
    let tgz = sb.path("crash.tar.gz");
    let crash_tp = script(
        &sb.path("crash2"),
        "notation-test-plugin",
        "cat >/dev/null; exit 1",
    );
    tar_gz(
        &tgz,
        &[Entry::File("notation-test-plugin", read(&crash_tp), 0o755)],
    );
    refused(
        &sb,
        &["--file", tgz.to_str().unwrap(), "--force"],
        "plugin \"test-plugin\" get-plugin-metadata failed: exited with status 1",
    );
    assert_eq!(
        read(&installed_exe(&sb, "test-plugin")),
        read(&built("test-plugin"))
    );
}

/// --sha256sum must match the source (names both digests); sources over 256 MiB and
/// non-files are refused.
#[test]
fn checksum_and_source_checks() {
    let sb = Sandbox::new();
    let src = script_plugin(&sb.path("src"), "acme", "acme", "1.0.0");
    let actual = sha256_hex(&read(&src));
    let wrong = "0".repeat(64);
    let msg = refused(
        &sb,
        &["--file", src.to_str().unwrap(), "--sha256sum", &wrong],
        "plugin SHA-256 checksum does not match user input",
    );
    assert!(msg.contains(&wrong) && msg.contains(&actual), "{msg}");
    refused(
        &sb,
        &["--file", sb.path("missing").to_str().unwrap()],
        "plugin installation failed: cannot open",
    );
    refused(
        &sb,
        &["--file", sb.path("src").to_str().unwrap()],
        "is not a valid file",
    );
    let big = sb.path("notation-big");
    let f = std::fs::File::create(&big).unwrap();
    f.set_len((256 << 20) + 1).unwrap();
    refused(
        &sb,
        &["--file", big.to_str().unwrap()],
        "file size reached the 256 MiB size limit",
    );
}

/// Flag and argument rules, in cobra's words.
#[test]
fn flag_rules() {
    let sb = Sandbox::new();
    refused(&sb, &[], "missing plugin source location");
    refused(&sb, &["--file"], "missing plugin file path");
    refused(&sb, &["--url"], "missing plugin URL");
    refused(
        &sb,
        &["x"],
        "at least one of the flags in the group [file url] is required",
    );
    refused(
        &sb,
        &["--file", "--url", "x"],
        "if any flags in the group [file url] are set none of the others can be; [file url] were all set",
    );
    refused(
        &sb,
        &["--file", "a", "b"],
        "can only install one plugin at a time, but got [a b]",
    );
    refused(
        &sb,
        &["--url", "https://127.0.0.1:1/notation-acme"],
        "installing from URL requires non-empty SHA256 checksum of the plugin source",
    );
    refused(
        &sb,
        &[
            "--url",
            "https://127.0.0.1:1/notation-acme",
            "--sha256sum",
            "",
        ],
        "installing from URL requires non-empty SHA256 checksum of the plugin source",
    );
    let msg = refused(
        &sb,
        &[
            "--url",
            "http://127.0.0.1:1/notation-acme",
            "--sha256sum",
            "ab",
        ],
        "only the HTTPS scheme is supported, but got http",
    );
    assert_eq!(
        msg,
        "failed to download plugin from URL: only the HTTPS scheme is supported, but got http"
    );
    refused(
        &sb,
        &["--url", "ftp://x/notation-acme", "--sha256sum", "ab"],
        "only the HTTPS scheme is supported, but got ftp",
    );
    refused(
        &sb,
        &[
            "--url",
            "https://127.0.0.1:1/notation-acme",
            "--sha256sum",
            "ab",
        ],
        "failed to download plugin from URL https://127.0.0.1:1/notation-acme with error",
    );
}

/// `openssl s_server -WWW` serving `dir` over HTTPS with a throwaway CA; killed on drop.
struct HttpsServer {
    child: std::process::Child,
    port: u16,
    ca: PathBuf,
}

impl Drop for HttpsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn https_server(dir: &Path) -> Option<HttpsServer> {
    if std::process::Command::new("openssl")
        .arg("version")
        .output()
        .is_err()
    {
        return None;
    }
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.distinguished_name = rcgen::DistinguishedName::new();
    ca.distinguished_name
        .push(rcgen::DnType::CommonName, "plugin install test CA");
    ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca.key_usages = vec![
        rcgen::KeyUsagePurpose::KeyCertSign,
        rcgen::KeyUsagePurpose::CrlSign,
    ];
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let mut leaf = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    leaf.subject_alt_names
        .push(rcgen::SanType::IpAddress([127, 0, 0, 1].into()));
    leaf.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    let cert = leaf
        .signed_by(&key, &rcgen::Issuer::new(ca, ca_key))
        .unwrap();
    let tls = dir.join("tls");
    std::fs::create_dir_all(&tls).unwrap();
    let ca_path = tls.join("ca.pem");
    std::fs::write(&ca_path, ca_cert.pem()).unwrap();
    std::fs::write(tls.join("server.pem"), cert.pem()).unwrap();
    std::fs::write(tls.join("server.key"), key.serialize_pem()).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = std::process::Command::new("openssl")
        .args(["s_server", "-quiet", "-WWW", "-accept"])
        .arg(format!("127.0.0.1:{port}"))
        .arg("-cert")
        .arg(tls.join("server.pem"))
        .arg("-key")
        .arg(tls.join("server.key"))
        .current_dir(dir)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .ok()?;
    let server = HttpsServer {
        child,
        port,
        ca: ca_path,
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if std::time::Instant::now() > deadline {
            return None;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    Some(server)
}

/// --url downloads over HTTPS (trusting SSL_CERT_FILE), checks the checksum, and
/// installs; a mismatch or a missing file installs nothing.
#[test]
fn install_from_https_url() {
    let mut sb = Sandbox::new();
    let served = sb.path("served");
    let exe = script_plugin(&served, "acme", "acme", "1.0.0");
    let tgz = served.join("acme.tar.gz");
    tar_gz(
        &tgz,
        &[Entry::File(
            "notation-acme",
            read(&script_plugin(&sb.path("v2"), "acme", "acme", "2.0.0")),
            0o755,
        )],
    );
    let Some(server) = https_server(&served) else {
        eprintln!("skipping install_from_https_url: `openssl s_server` is not available");
        return;
    };
    sb.env
        .push(("SSL_CERT_FILE".into(), server.ca.display().to_string()));
    let base = format!("https://127.0.0.1:{}", server.port);

    let wrong = "1".repeat(64);
    let msg = refused(
        &sb,
        &[
            "--url",
            &format!("{base}/notation-acme"),
            "--sha256sum",
            &wrong,
        ],
        "plugin SHA-256 checksum does not match user input",
    );
    assert!(msg.contains(&sha256_hex(&read(&exe))), "{msg}");

    let sum = sha256_hex(&read(&exe));
    let out = install_ok(
        &sb,
        &[
            "--url",
            &format!("{base}/notation-acme"),
            "--sha256sum",
            &sum,
        ],
    );
    assert_eq!(out, "Successfully installed plugin acme, version 1.0.0\n");
    assert_eq!(read(&installed_exe(&sb, "acme")), read(&exe));

    let sum = sha256_hex(&read(&tgz));
    let out = install_ok(
        &sb,
        &["--url", &format!("{base}/acme.tar.gz"), "--sha256sum", &sum],
    );
    assert_eq!(
        out,
        "Successfully updated plugin acme from version 1.0.0 to 2.0.0\n"
    );
    drop(server);
}

/// An archive made with `tar czf x.tgz .` names its files `./notation-…`: that
/// leading `./` means the top level, and the plugin installs.
#[test]
fn leading_dot_slash_entries_install() {
    let sb = Sandbox::new();
    let exe = read(&script_plugin(
        &sb.path("src"),
        "test-plugin",
        "test-plugin",
        "1.0.0",
    ));
    let tgz = sb.path("dot.tar.gz");
    tar_gz(&tgz, &[Entry::File("./notation-test-plugin", exe, 0o755)]);
    let run = sb
        .run(&["plugin", "install", "--file", tgz.to_str().unwrap()])
        .ok();
    assert_eq!(
        run.stdout,
        "Successfully installed plugin test-plugin, version 1.0.0\n"
    );
    assert!(
        plugins_dir(&sb)
            .join("test-plugin/notation-test-plugin")
            .is_file()
    );
}

/// Like notation-go, only executable `notation-*` files count: a license file named
/// after the plugin sits beside it, and keeps its mode.
#[test]
fn non_executable_companion_files_are_not_candidates() {
    let sb = Sandbox::new();
    let exe = read(&script_plugin(
        &sb.path("src"),
        "test-plugin",
        "test-plugin",
        "1.0.0",
    ));
    let tgz = sb.path("lic.tar.gz");
    tar_gz(
        &tgz,
        &[
            Entry::File("notation-test-plugin", exe, 0o755),
            Entry::File(
                "notation-test-plugin.LICENSE",
                b"Apache-2.0".to_vec(),
                0o644,
            ),
        ],
    );
    sb.run(&["plugin", "install", "--file", tgz.to_str().unwrap()])
        .ok();
    let dir = plugins_dir(&sb).join("test-plugin");
    use std::os::unix::fs::PermissionsExt as _;
    let mode = |f: &str| std::fs::metadata(dir.join(f)).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode("notation-test-plugin"), 0o755);
    assert_eq!(mode("notation-test-plugin.LICENSE"), 0o644);
}
