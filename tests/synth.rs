//! The synthetic archive behind the benchmark (`gen`): it must pass our checks,
//! be the same for a seed, and its Hugo sites must make the same pages as ours.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::process::Command;

/// Runs the binary with `args` at a fixed build date; fails the test unless it succeeds.
fn succeed(args: &[&std::ffi::OsStr]) {
    let out = Command::new(env!("CARGO_BIN_EXE_impala-awards"))
        .args(args)
        .env("SOURCE_DATE_EPOCH", "1790000000")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn generate(dir: &Path, seed: &str) {
    let (site, hugo, rows) = (dir.join("site"), dir.join("hugo"), dir.join("hugo-rows"));
    succeed(&[
        "gen".as_ref(),
        "--releases".as_ref(),
        "120".as_ref(),
        "--seed".as_ref(),
        seed.as_ref(),
        site.as_ref(),
        "--hugo".as_ref(),
        hugo.as_ref(),
        "--hugo-rows".as_ref(),
        rows.as_ref(),
    ]);
}

/// Every file under `root`, by relative path, with its bytes.
fn tree(root: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    for e in walkdir::WalkDir::new(root) {
        let e = e.unwrap();
        if e.file_type().is_file() {
            let rel = e.path().strip_prefix(root).unwrap();
            files.insert(
                rel.to_string_lossy().into_owned(),
                fs::read(e.path()).unwrap(),
            );
        }
    }
    files
}

#[test]
fn the_synthetic_archive_passes_check_and_depends_only_on_its_seed() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    generate(a.path(), "7");
    generate(b.path(), "7");
    assert_eq!(tree(a.path()), tree(b.path()));
    let c = tempfile::tempdir().unwrap();
    generate(c.path(), "8");
    assert_ne!(tree(&a.path().join("site")), tree(&c.path().join("site")));

    let site = a.path().join("site");
    succeed(&[
        "check".as_ref(),
        "--deny-warnings".as_ref(),
        "--root".as_ref(),
        site.as_ref(),
    ]);
}

/// Words of `line` outside double quotes that YAML 1.1 (Hugo's front matter)
/// reads as booleans: a bare `NO` is Norway's code, and false.
fn yaml11_booleans_outside_quotes(line: &str) -> Vec<String> {
    let mut outside = String::new();
    let mut quoted = false;
    let mut escaped = false;
    for ch in line.chars() {
        match ch {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            _ if !quoted => outside.push(ch),
            _ => {}
        }
    }
    outside
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| {
            ["y", "n", "yes", "no", "on", "off", "true", "false"]
                .contains(&w.to_lowercase().as_str())
        })
        .map(str::to_string)
        .collect()
}

/// Hugo makes term pages only for front matter keyed by a taxonomy's plural
/// (`tiers`, not `tier`): until session 20 only the artist pages were made,
/// so the reference skipped every tier, label, year and country page.
#[test]
fn both_hugo_sites_key_their_front_matter_by_the_declared_taxonomies() {
    let dir = tempfile::tempdir().unwrap();
    generate(dir.path(), "7");
    for flavour in ["hugo", "hugo-rows"] {
        let root = dir.path().join(flavour);
        let config: toml::Table = fs::read_to_string(root.join("hugo.toml"))
            .unwrap()
            .parse()
            .unwrap();
        let plurals: Vec<&str> = config["taxonomies"]
            .as_table()
            .unwrap()
            .values()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert_eq!(plurals.len(), 5, "{flavour}: {plurals:?}");
        let pages = tree(&root.join("content/releases"));
        assert_eq!(pages.len(), 120, "{flavour}");
        for (path, bytes) in &pages {
            let text = String::from_utf8(bytes.clone()).unwrap();
            for plural in &plurals {
                assert!(
                    text.lines().any(|l| l.starts_with(&format!("{plural}: ["))),
                    "{flavour}/{path} has no `{plural}:` list:\n{text}"
                );
            }
            for line in text.lines() {
                let bare = yaml11_booleans_outside_quotes(line);
                assert!(bare.is_empty(), "{flavour}/{path}: {bare:?} in {line}");
            }
        }
    }
    let rows = dir.path().join("hugo-rows/layouts");
    let term = fs::read_to_string(rows.join("_default/term.html")).unwrap();
    assert!(term.contains("newest first") && term.contains("Units"));
    assert!(rows.join("_default/single.json").is_file());
    assert!(!dir.path().join("hugo/layouts/_default/term.html").exists());
}
