//! Nothing lost, nothing injected, no input crashes it (issue 7).
//!
//! Atomic publishing (a failed or killed build leaves the old site byte for
//! byte), safe output paths, deterministic output, a hostile-input corpus
//! built and searched for anything executable, and a malformed-record corpus
//! that must give diagnostics, never a panic.

mod common;
mod html;

use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::{Site, copy_tree};
use html::{Built, Entry, assert_same_tree, build, build_cmd, snapshot, tree_hash};

/// The file a build leaves in its output to mark it as its own.
const MARKER: &str = ".impala-awards-output";

/// A site copy with an output folder beside it (not inside the root).
struct Fx {
    site: Site,
    dir: tempfile::TempDir,
}

impl Fx {
    fn valid() -> Fx {
        Fx {
            site: Site::valid(),
            dir: tempfile::tempdir().expect("temporary folder"),
        }
    }

    fn root(&self) -> &Path {
        self.site.root()
    }

    fn out(&self) -> PathBuf {
        self.dir.path().join("public")
    }

    fn build(&self, extra: &[&str]) -> Built {
        build(self.root(), &self.out(), extra)
    }
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// Entries beside the output whose names say they are a build's staging folder.
fn staging_left(parent: &Path) -> Vec<String> {
    std::fs::read_dir(parent)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.contains(".staging-"))
                .collect()
        })
        .unwrap_or_default()
}

/// The JSON diagnostics a run printed on stderr.
fn json_diags(stderr: &str) -> Vec<serde_json::Value> {
    stderr
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON {l:?}: {e}")))
        .collect()
}

// ---------------------------------------------------------------- atomic publishing

#[test]
fn a_broken_record_leaves_the_old_output_byte_for_byte() {
    let fx = Fx::valid();
    fx.build(&[]).ok();
    let before = snapshot(&fx.out());
    assert!(before.len() > 50, "the first build wrote a site");
    // Valid TOML, but the title is gone: the record no longer checks.
    fx.site.write(
        "content/releases/jaakide/jaakide-hamara.toml",
        "artists = [\"Jääkide\"]\nlabel = \"nordlicht-tontrager\"\nformat = \"single\"\n\
         [[awards]]\ntier = \"silver\"\ndate = \"2020-02\"\nunits = 20_000\n",
    );
    let b = fx.build(&[]).failed();
    assert!(
        b.stderr.contains("missing the required field `title`"),
        "{b:?}"
    );
    assert!(b.summary().contains("is unchanged"), "{b:?}");
    let after = snapshot(&fx.out());
    assert_same_tree(&before, &after, "after a failed build");
    assert_eq!(tree_hash(&before), tree_hash(&after));
    assert_eq!(staging_left(fx.dir.path()), Vec::<String>::new());
}

/// A theme folder overriding `release.html`, whose line 4 reads a field that
/// does not exist, but only for one release: most pages render, one fails.
fn break_release_template(site: &Site) {
    let cfg = std::fs::read_to_string(site.root().join("site.toml")).unwrap();
    site.write("site.toml", format!("theme = \"mytheme\"\n{cfg}"));
    site.write(
        "mytheme/templates/release.html",
        "{% extends \"base.html\" %}\n{% block content %}\n<h1>{{ release.title }}</h1>\n\
         {% if release.slug == \"jaakide-hamara\" %}<p>{{ release.no_such_field }}</p>{% endif %}\n\
         {% endblock content %}\n",
    );
}

#[test]
fn a_template_failing_mid_render_leaves_the_old_output_and_names_template_line_and_variable() {
    let fx = Fx::valid();
    fx.build(&[]).ok();
    let before = snapshot(&fx.out());
    break_release_template(&fx.site);
    let b = fx.build(&["--message-format", "json"]).failed();
    assert_same_tree(&before, &snapshot(&fx.out()), "after a template error");
    let diags = json_diags(&b.stderr);
    assert_eq!(diags.len(), 1, "one error, reported once: {b:?}");
    let d = &diags[0];
    assert_eq!(d["code"], "template");
    assert_eq!(d["file"], "mytheme/templates/release.html");
    assert_eq!(d["line"], 4);
    assert_eq!(d["column"], 56, "the column of `no_such_field`");
    let msg = d["message"].as_str().unwrap();
    assert!(msg.contains("`no_such_field`"), "names the variable: {msg}");
    assert!(
        msg.contains("mytheme/templates/release.html") && msg.contains("line 4"),
        "{msg}"
    );
    assert_eq!(
        d["notes"][0], "while rendering the page `releases/jaakide-hamara/`",
        "{b:?}"
    );
    assert!(d["help"][0].as_str().unwrap().contains("title"), "{b:?}");

    // The human format shows the template's line.
    let b = fx.build(&[]).failed();
    assert!(
        b.stderr.contains("--> mytheme/templates/release.html:4:56"),
        "{b:?}"
    );
    assert!(
        b.stderr.contains("{{ release.no_such_field }}"),
        "shows the line: {b:?}"
    );
}

#[test]
fn a_template_syntax_error_names_file_and_line() {
    let fx = Fx::valid();
    let cfg = std::fs::read_to_string(fx.root().join("site.toml")).unwrap();
    fx.site
        .write("site.toml", format!("theme = \"mytheme\"\n{cfg}"));
    fx.site.write(
        "mytheme/templates/badge.html",
        "<span>\n{{ tier.name \n</span>\n",
    );
    let b = fx.build(&["--message-format", "short"]).failed();
    assert!(
        b.stderr
            .starts_with("mytheme/templates/badge.html:3:1: error[template]: "),
        "{b:?}"
    );
    assert!(!fx.out().exists());
}

#[test]
fn a_missing_template_names_the_pages_that_need_it() {
    let fx = Fx::valid();
    fx.build(&[]).ok();
    let before = snapshot(&fx.out());
    let cfg = std::fs::read_to_string(fx.root().join("site.toml")).unwrap();
    fx.site
        .write("site.toml", format!("theme = \"mytheme\"\n{cfg}"));
    fx.site.write(
        "mytheme/templates/release.html",
        "{% extends \"base.html\" %}\n{% block content %}\n<h1>{{ release.title }}</h1>\n\
         {% include \"partials/facts.html\" %}\n{% endblock content %}\n",
    );
    let b = fx.build(&["--message-format", "json"]).failed();
    assert_same_tree(&before, &snapshot(&fx.out()), "after a missing template");
    let diags = json_diags(&b.stderr);
    assert_eq!(diags.len(), 1, "{b:?}");
    let d = &diags[0];
    assert_eq!(d["code"], "template-missing");
    assert_eq!(
        d["message"],
        "template `partials/facts.html` is missing: `mytheme/templates/release.html` line 4 includes it"
    );
    assert_eq!(d["file"], "mytheme/templates/release.html");
    assert_eq!(d["line"], 4);
    assert_eq!(
        d["notes"][0],
        "`release.html` renders every release page (releases/<slug>/), so the build needs it"
    );
    assert_eq!(
        d["help"][0],
        "add `mytheme/templates/partials/facts.html`, or remove the reference to it"
    );

    // A missing parent template, too.
    fx.site.write(
        "mytheme/templates/release.html",
        "{% extends \"layout.html\" %}\n{% block content %}{% endblock content %}\n",
    );
    let b = fx.build(&["--message-format", "json"]).failed();
    let d = &json_diags(&b.stderr)[0];
    assert_eq!(
        d["message"],
        "template `layout.html` is missing: `mytheme/templates/release.html` extends it"
    );
    assert!(
        d["notes"][0]
            .as_str()
            .unwrap()
            .contains("every release page")
    );
}

#[test]
fn an_output_whose_parent_is_a_file_fails_cleanly() {
    let fx = Fx::valid();
    let file = fx.dir.path().join("not-a-folder");
    std::fs::write(&file, "a file").unwrap();
    let out = file.join("public");
    let b = build(fx.root(), &out, &[]).failed();
    assert!(b.stderr.contains("not-a-folder"), "names the path: {b:?}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "a file");
}

#[test]
fn a_full_disk_leaves_the_old_output_byte_for_byte() {
    // Root ignores file permissions but not RLIMIT_FSIZE: a write past the
    // limit fails with EFBIG, as on a full disk.
    let fx = Fx::valid();
    fx.build(&[]).ok();
    let before = snapshot(&fx.out());
    // A new release: its page (over the 4 KiB limit) has to be written.
    fx.site.write(
        "content/releases/extra/extra-new.toml",
        "title = \"New\"\nartists = [\"Extra\"]\nlabel = \"polar-sound\"\nformat = \"single\"\n\
         [[awards]]\ntier = \"silver\"\ndate = 2026-01-01\nunits = 20_000\n",
    );
    let mut cmd = build_cmd(fx.root(), &fx.out(), &[]);
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            let lim = libc::rlimit {
                rlim_cur: 4096,
                rlim_max: 4096,
            };
            if libc::setrlimit(libc::RLIMIT_FSIZE, &lim) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            Ok(())
        });
    }
    let b = Built::from_output(cmd.output().unwrap()).failed();
    assert!(b.stderr.contains("cannot write"), "{b:?}");
    assert!(
        b.stderr.contains("the previous output was left as it was"),
        "{b:?}"
    );
    assert_same_tree(&before, &snapshot(&fx.out()), "after a full disk");
    assert_eq!(staging_left(fx.dir.path()), Vec::<String>::new());
    // Once there is room again, the build goes through.
    fx.build(&[]).ok();
    assert!(fx.out().join("releases/extra-new/index.html").is_file());
}

#[test]
fn a_read_only_parent_leaves_the_old_output() {
    if is_root() {
        println!("skipped: running as root, where a read-only folder is still writable");
        return;
    }
    use std::os::unix::fs::PermissionsExt;
    let fx = Fx::valid();
    fx.build(&[]).ok();
    let before = snapshot(&fx.out());
    fx.site.write(
        "content/releases/extra/extra-new.toml",
        "title = \"New\"\nartists = [\"Extra\"]\nlabel = \"polar-sound\"\nformat = \"single\"\n\
         [[awards]]\ntier = \"silver\"\ndate = 2026-01-01\nunits = 20_000\n",
    );
    let parent = fx.dir.path();
    std::fs::set_permissions(parent, std::fs::Permissions::from_mode(0o555)).unwrap();
    let b = fx.build(&[]);
    std::fs::set_permissions(parent, std::fs::Permissions::from_mode(0o755)).unwrap();
    let b = b.failed();
    assert!(b.stderr.contains("cannot write"), "{b:?}");
    assert_same_tree(&before, &snapshot(&fx.out()), "after a read-only parent");
}

/// A site big enough that a build takes a while, so it can be interrupted.
fn big_site() -> Site {
    let site = Site::valid();
    for i in 0..150 {
        site.write(
            &format!("content/releases/bulk/bulk-r{i:03}.toml"),
            format!(
                "title = \"Release {i}\"\nartists = [\"Bulk {}\"]\nlabel = \"polar-sound\"\n\
                 format = \"album\"\nnotes = \"Note *{i}*.\"\n\
                 [[awards]]\ntier = \"silver\"\ndate = 20{:02}-0{}-01\n\
                 shipments = {{ DE = 10_000, FR = 6_000, SE = {} }}\n",
                i % 40,
                13 + i % 12,
                1 + i % 9,
                4_000 + i
            ),
        );
    }
    site
}

#[test]
fn an_interrupted_build_leaves_the_old_or_the_new_site_never_a_mix() {
    let fx = Fx {
        site: big_site(),
        dir: tempfile::tempdir().unwrap(),
    };
    fx.build(&[]).ok();
    let old = snapshot(&fx.out());
    fx.site.write(
        "content/releases/extra/extra-new.toml",
        "title = \"New\"\nartists = [\"Extra\"]\nlabel = \"polar-sound\"\nformat = \"single\"\n\
         [[awards]]\ntier = \"silver\"\ndate = 2026-01-01\nunits = 20_000\n",
    );
    // The new site, built elsewhere from the same tree.
    let elsewhere = tempfile::tempdir().unwrap();
    build(fx.root(), &elsewhere.path().join("public"), &[]).ok();
    let new = snapshot(&elsewhere.path().join("public"));
    assert_ne!(tree_hash(&old), tree_hash(&new));

    let mut saw_old = false;
    for (k, delay_ms) in [5u64, 30, 80, 150, 250, 400, 700, 1000]
        .into_iter()
        .enumerate()
    {
        let mut child = build_cmd(fx.root(), &fx.out(), &[])
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        let signal = if k % 2 == 0 {
            libc::SIGKILL
        } else {
            libc::SIGTERM
        };
        // SAFETY: kill is called on our own child's pid.
        unsafe {
            libc::kill(child.id() as libc::pid_t, signal);
        }
        let _ = child.wait();
        let now = snapshot(&fx.out());
        if now == old {
            saw_old = true;
        } else if now != new {
            assert_same_tree(&new, &now, &format!("interrupted after {delay_ms} ms"));
        }
    }
    assert!(
        saw_old,
        "no build was interrupted early enough to test anything"
    );
    // The next build finishes the job and clears what killed builds left.
    fx.build(&[]).ok();
    assert_same_tree(&new, &snapshot(&fx.out()), "after a full build");
    assert_eq!(staging_left(fx.dir.path()), Vec::<String>::new());
}

// ---------------------------------------------------------------- safe paths

/// Asserts that building into `out` is refused and touches nothing.
fn assert_refused(fx: &Fx, out: &Path, extra: &[&str], why: &str) {
    let watched = if out.exists() { out } else { fx.root() };
    let before = snapshot(watched);
    let b = build(fx.root(), out, extra).failed();
    assert!(b.stderr.contains("refusing to write to"), "{b:?}");
    assert!(b.stderr.contains(why), "expected {why:?}: {b:?}");
    assert_same_tree(&before, &snapshot(watched), "a refused build");
}

#[test]
fn refuses_the_site_root_and_folders_holding_sources() {
    // The site one level down in a folder of its own, so its parent can be tried too.
    let outer = tempfile::tempdir().unwrap();
    let root = outer.path().join("site");
    copy_tree(&common::valid_fixture(), &root);
    let fx = Fx::valid();
    let refused = |out: &Path, extra: &[&str]| {
        let before = snapshot(outer.path());
        let b = build(&root, out, extra).failed();
        assert!(b.stderr.contains("refusing to write to"), "{b:?}");
        assert!(b.stderr.contains("site's root folder"), "{b:?}");
        assert_same_tree(&before, &snapshot(outer.path()), "a refused build");
    };
    refused(&root, &[]);
    refused(&root, &["--force"]);
    refused(&root.join("content/.."), &["--force"]);
    // An ancestor of the root holds the root.
    refused(outer.path(), &["--force"]);
    // So does a link to it.
    let link = fx.dir.path().join("link-to-site");
    std::os::unix::fs::symlink(&root, &link).unwrap();
    refused(&link, &["--force"]);
    // Any folder with content/ or themes/ in it.
    for sub in ["content", "themes"] {
        let other = fx.dir.path().join(format!("with-{sub}"));
        std::fs::create_dir_all(other.join(sub)).unwrap();
        std::fs::write(other.join(sub).join("keep.txt"), "keep").unwrap();
        assert_refused(&fx, &other, &["--force"], "content/, themes/");
    }
}

#[test]
fn refuses_the_file_system_root_and_the_home_folder() {
    let fx = Fx::valid();
    let b = build(fx.root(), Path::new("/"), &["--force"]).failed();
    assert!(b.stderr.contains("file-system root"), "{b:?}");
    let b = build(fx.root(), Path::new("/tmp/../"), &["--force"]).failed();
    assert!(b.stderr.contains("file-system root"), "{b:?}");

    // A home folder of our own, so nothing real is at stake.
    let home = fx.dir.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    std::fs::write(home.join(".profile"), "keep").unwrap();
    for out in [home.clone(), home.join("."), home.join("x/..")] {
        let b = Built::from_output(
            build_cmd(fx.root(), &out, &["--force"])
                .env("HOME", &home)
                .output()
                .unwrap(),
        )
        .failed();
        assert!(b.stderr.contains("home folder"), "{b:?}");
    }
    assert_eq!(
        std::fs::read_to_string(home.join(".profile")).unwrap(),
        "keep"
    );
}

#[test]
fn refuses_a_folder_with_files_no_build_wrote_unless_forced() {
    let fx = Fx::valid();
    let out = fx.out();
    std::fs::create_dir_all(out.join("mine")).unwrap();
    std::fs::write(out.join("mine/thesis.txt"), "irreplaceable").unwrap();
    assert_refused(&fx, &out, &[], "pass --force");
    // An empty folder is fine.
    let empty = fx.dir.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    build(fx.root(), &empty, &[]).ok();
    // Forced: the folder becomes the site; what was beside it is untouched.
    std::fs::write(fx.dir.path().join("beside.txt"), "beside").unwrap();
    build(fx.root(), &out, &["--force"]).ok();
    assert!(out.join("index.html").is_file());
    assert!(!out.join("mine").exists());
    assert_eq!(
        std::fs::read_to_string(fx.dir.path().join("beside.txt")).unwrap(),
        "beside"
    );
}

#[test]
fn refuses_an_output_that_is_a_file_even_when_forced() {
    let fx = Fx::valid();
    std::fs::write(fx.out(), "a file").unwrap();
    for extra in [&[][..], &["--force"][..]] {
        let b = build(fx.root(), &fx.out(), extra).failed();
        assert!(b.stderr.contains("not a folder"), "{b:?}");
        assert_eq!(std::fs::read_to_string(fx.out()).unwrap(), "a file");
    }
    assert_eq!(staging_left(fx.dir.path()), Vec::<String>::new());
}

#[test]
fn never_deletes_anything_outside_the_output_folder() {
    let fx = Fx::valid();
    fx.build(&[]).ok();
    let parent = fx.dir.path();
    // A folder beside the output, linked from inside it.
    let outside = parent.join("outside");
    std::fs::create_dir_all(outside.join("deep")).unwrap();
    std::fs::write(outside.join("deep/data.txt"), "data").unwrap();
    std::os::unix::fs::symlink(&outside, fx.out().join("link-to-outside")).unwrap();
    std::os::unix::fs::symlink(outside.join("deep/data.txt"), fx.out().join("link-to-file"))
        .unwrap();
    // Files beside the output whose names look like a build's own.
    std::fs::write(parent.join(".public.staging-notes"), "mine").unwrap();
    std::fs::create_dir_all(parent.join(".public.staging-backup")).unwrap();
    std::fs::write(parent.join(".public.staging-backup/keep.txt"), "mine").unwrap();
    let outside_before = snapshot(&outside);
    fx.build(&["--force"]).ok();
    assert!(!fx.out().join("link-to-outside").exists());
    assert_same_tree(&outside_before, &snapshot(&outside), "the linked folder");
    assert_eq!(
        std::fs::read_to_string(parent.join(".public.staging-notes")).unwrap(),
        "mine"
    );
    assert_eq!(
        std::fs::read_to_string(parent.join(".public.staging-backup/keep.txt")).unwrap(),
        "mine"
    );
}

#[test]
fn folders_named_in_site_toml_stay_inside_the_site() {
    let fx = Fx::valid();
    let cfg = std::fs::read_to_string(fx.root().join("site.toml")).unwrap();
    for (key, value) in [
        ("static_dir", "/"),
        ("static_dir", "."),
        ("static_dir", ""),
        ("static_dir", "../outside"),
        ("static_dir", "static/../.."),
        ("theme", "/etc"),
        ("theme", ".."),
    ] {
        let text = if key == "static_dir" {
            cfg.replace(
                "static_dir = \"static\"",
                &format!("static_dir = {value:?}"),
            )
        } else {
            format!("theme = {value:?}\n{cfg}")
        };
        fx.site.write("site.toml", text);
        let b = Built::from_output(
            build_cmd(fx.root(), &fx.out(), &["--message-format", "json"])
                .output()
                .unwrap(),
        )
        .failed();
        let d = &json_diags(&b.stderr)[0];
        assert_eq!(d["code"], "unsafe-path", "{key} = {value:?}: {b:?}");
        assert_eq!(
            d["message"],
            format!("`{key}` must name a folder inside the site, not `{value}`")
        );
        assert_eq!(d["file"], "site.toml");
        assert!(!fx.out().exists());
    }
}

#[test]
fn static_links_out_of_the_site_are_not_published() {
    let fx = Fx::valid();
    let secret = fx.dir.path().join("secret.txt");
    std::fs::write(&secret, "private key").unwrap();
    let st = fx.root().join("static");
    std::os::unix::fs::symlink(&secret, st.join("leak.txt")).unwrap();
    std::os::unix::fs::symlink("/", st.join("disk")).unwrap();
    std::os::unix::fs::symlink("/etc/hostname", st.join("hostname")).unwrap();
    // A link to a file inside the site is fine.
    std::os::unix::fs::symlink("../content/pages/about.md", st.join("about.md")).unwrap();
    let out = run_with_timeout(
        build_cmd(fx.root(), &fx.out(), &[]),
        Duration::from_secs(60),
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let files = html::files(&fx.out());
    assert!(files.contains(&"about.md".to_string()), "{files:?}");
    assert!(files.contains(&"favicon.svg".to_string()), "{files:?}");
    for f in &files {
        assert!(
            !f.starts_with("leak") && !f.starts_with("disk") && !f.starts_with("hostname"),
            "{f} was published"
        );
        let bytes = std::fs::read(fx.out().join(f)).unwrap();
        assert!(!bytes.windows(11).any(|w| w == b"private key"), "{f}");
    }
}

#[test]
fn an_output_inside_the_static_folder_is_refused() {
    let fx = Fx::valid();
    let out = fx.root().join("static/site");
    let b = build(fx.root(), &out, &[]).failed();
    assert!(
        b.stderr.contains("it is inside `static_dir` (`static`)"),
        "{b:?}"
    );
    assert!(!out.exists());
}

#[test]
fn a_symlinked_output_folder_is_replaced_without_touching_its_target() {
    let fx = Fx::valid();
    let target = fx.dir.path().join("target");
    build(fx.root(), &target, &[]).ok();
    let target_before = snapshot(&target);
    let link = fx.dir.path().join("public");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    fx.site.write(
        "content/releases/extra/extra-new.toml",
        "title = \"New\"\nartists = [\"Extra\"]\nlabel = \"polar-sound\"\nformat = \"single\"\n\
         [[awards]]\ntier = \"silver\"\ndate = 2026-01-01\nunits = 20_000\n",
    );
    fx.build(&[]).ok();
    assert!(link.join("releases/extra-new/index.html").is_file());
    assert_same_tree(&target_before, &snapshot(&target), "the link's old target");
}

// ---------------------------------------------------------------- deterministic output

/// Copies `from` into `to`, creating folders first and files in reverse order.
fn copy_tree_reversed(from: &Path, to: &Path) {
    let entries: Vec<walkdir::DirEntry> = walkdir::WalkDir::new(from)
        .into_iter()
        .map(Result::unwrap)
        .collect();
    for e in &entries {
        if e.file_type().is_dir() {
            std::fs::create_dir_all(to.join(e.path().strip_prefix(from).unwrap())).unwrap();
        }
    }
    for e in entries.iter().rev() {
        if e.file_type().is_file() {
            std::fs::copy(e.path(), to.join(e.path().strip_prefix(from).unwrap())).unwrap();
        }
    }
}

#[test]
fn output_is_the_same_whatever_the_threads_or_file_order() {
    let a = Site::valid();
    let b_dir = tempfile::tempdir().unwrap();
    copy_tree_reversed(a.root(), b_dir.path());
    let outs = tempfile::tempdir().unwrap();
    let run = |root: &Path, name: &str, threads: &str| {
        let out = outs.path().join(name);
        let o = build_cmd(root, &out, &[])
            .env("RAYON_NUM_THREADS", threads)
            .output()
            .unwrap();
        Built::from_output(o).ok();
        snapshot(&out)
    };
    let one = run(a.root(), "one", "1");
    let two = run(b_dir.path(), "two", "2");
    let four = run(a.root(), "four", "4");
    assert!(one.len() > 50);
    assert_same_tree(&one, &two, "1 thread vs 2 threads on a reordered copy");
    assert_same_tree(&one, &four, "1 thread vs 4 threads");
}

/// (inode, mtime) of every file below `dir`.
fn stamps(dir: &Path) -> BTreeMap<String, (u64, i64, i64)> {
    html::files(dir)
        .into_iter()
        .map(|f| {
            let m = std::fs::metadata(dir.join(&f)).unwrap();
            (f, (m.ino(), m.mtime(), m.mtime_nsec()))
        })
        .collect()
}

#[test]
fn a_second_build_with_no_change_writes_nothing() {
    let fx = Fx::valid();
    fx.build(&[]).ok();
    let before = snapshot(&fx.out());
    let st = stamps(&fx.out());
    std::thread::sleep(Duration::from_millis(20));
    let b = fx.build(&[]).ok();
    let (written, unchanged, removed) = b.counts();
    assert_eq!((written, removed), (0, 0), "{b:?}");
    assert_eq!(unchanged, html::files(&fx.out()).len() - 1, "{b:?}");
    assert_same_tree(&before, &snapshot(&fx.out()), "second build");
    assert_eq!(
        st,
        stamps(&fx.out()),
        "unchanged files keep inode and mtime"
    );
}

/// A build with stage timings on stderr, to tell whether it read the records.
fn timed_build(fx: &Fx) -> Built {
    Built::from_output(
        build_cmd(fx.root(), &fx.out(), &[])
            .env("IMPALA_TIMINGS", "1")
            .output()
            .expect("run impala-awards"),
    )
    .ok()
}

/// Inputs are trusted by their stats only once they are older than this
/// (src/site.rs, `RACY`), so the tests wait it out.
const RACY_WAIT: Duration = Duration::from_millis(2100);

#[test]
fn a_build_of_untouched_inputs_reads_no_record_and_an_edit_is_never_missed() {
    let fx = Fx::valid();
    std::thread::sleep(RACY_WAIT);
    let first = timed_build(&fx);
    assert!(first.stderr.contains("load+check"), "{first:?}");
    let before = snapshot(&fx.out());
    let second = timed_build(&fx);
    assert!(
        !second.stderr.contains("load+check"),
        "inputs untouched: nothing should be read\n{second:?}"
    );
    // The same pages, releases and awards reported, the counts and time aside.
    let report = |b: &Built| {
        let s = b.summary();
        let (pages, rest) = s.split_once(" (").expect("summary");
        let (_, rest) = rest.split_once(')').expect("summary");
        (
            pages.to_string(),
            rest.rsplit_once(" in ").map(|(r, _)| r.to_string()),
        )
    };
    assert_eq!(report(&first), report(&second));
    assert_eq!(second.counts().0, 0, "{second:?}");
    assert_same_tree(&before, &snapshot(&fx.out()), "skipped build");

    // An edit of the same size straight after a build: the stats may look the
    // same to a coarse clock, so the record must be read and the page redone.
    let rel = "content/releases/jaakide/jaakide-hamara.toml";
    let text = std::fs::read_to_string(fx.root().join(rel)).unwrap();
    let (title, same_size) = ("title = \"Hämärä\"", "title = \"Hämärö\"");
    assert!(text.contains(title), "{text}");
    assert_eq!(same_size.len(), title.len());
    fx.site.write(rel, text.replace(title, same_size));
    let third = timed_build(&fx);
    assert!(third.stderr.contains("load+check"), "{third:?}");
    assert!(
        html::page(&fx.out(), "releases/jaakide-hamara/").contains("<h1>Hämärö</h1>"),
        "the edited title is published"
    );

    // Once the edit is old enough to trust, the next build skips again.
    std::thread::sleep(RACY_WAIT);
    let fourth = timed_build(&fx);
    assert!(fourth.stderr.contains("load+check"), "{fourth:?}");
    let fifth = timed_build(&fx);
    assert!(!fifth.stderr.contains("load+check"), "{fifth:?}");

    // A first-level output folder removed by hand is noticed and rebuilt.
    std::fs::remove_dir_all(fx.out().join("tiers")).unwrap();
    let sixth = timed_build(&fx);
    assert!(sixth.stderr.contains("load+check"), "{sixth:?}");
    assert!(fx.out().join("tiers/index.html").is_file());
}

#[test]
fn the_stat_shortcut_sees_new_nested_records_and_never_trusts_links() {
    let fx = Fx::valid();
    std::thread::sleep(RACY_WAIT);
    timed_build(&fx);
    assert!(!timed_build(&fx).stderr.contains("load+check"));

    // A record added two folders down, once old enough to be trusted by its
    // stats: its folder's listing changed, so the build reads and publishes it.
    let rel = "content/releases/jaakide/jaakide-hamara.toml";
    let text = std::fs::read_to_string(fx.root().join(rel)).unwrap();
    fx.site.write(
        "content/releases/more/deeper/jaakide-kaamos.toml",
        text.replace("title = \"Hämärä\"", "title = \"Kaamos\""),
    );
    std::thread::sleep(RACY_WAIT);
    let added = timed_build(&fx);
    assert!(added.stderr.contains("load+check"), "{added:?}");
    assert!(
        html::page(&fx.out(), "releases/jaakide-kaamos/").contains("<h1>Kaamos</h1>"),
        "the new nested record is published"
    );
    assert!(!timed_build(&fx).stderr.contains("load+check"));

    // A linked record: its own stats say nothing about what it points to,
    // so no build skips the reading while it is there.
    let target = fx
        .root()
        .join("content/releases/more/deeper/jaakide-kaamos.toml");
    std::fs::rename(&target, fx.root().join("kaamos.toml")).unwrap();
    std::os::unix::fs::symlink(fx.root().join("kaamos.toml"), &target).unwrap();
    std::thread::sleep(RACY_WAIT);
    for _ in 0..2 {
        let b = timed_build(&fx);
        assert!(b.stderr.contains("load+check"), "{b:?}");
    }
}

#[test]
fn a_build_with_warnings_always_reads_and_reports_them() {
    let fx = Fx::valid();
    // A stray file in content/releases is a warning (ignored-file).
    fx.site.write("content/releases/notes.txt", "not a record");
    std::thread::sleep(RACY_WAIT);
    for _ in 0..2 {
        let b = timed_build(&fx);
        assert!(b.stderr.contains("load+check"), "{b:?}");
        assert!(b.stderr.contains("ignored-file"), "{b:?}");
    }
}

#[test]
fn a_change_counts_only_what_changed() {
    let fx = Fx::valid();
    fx.build(&[]).ok();
    let before = snapshot(&fx.out());
    // A new catalogue number shows on the release page (and its data) only.
    let rel = "content/releases/jaakide/jaakide-hamara.toml";
    let text = std::fs::read_to_string(fx.root().join(rel)).unwrap();
    fx.site.write(
        rel,
        text.replace(
            "format = \"single\"",
            "format = \"single\"\ncatalogue = \"NL-7\"",
        ),
    );
    let b = fx.build(&[]).ok();
    let after = snapshot(&fx.out());
    let changed: Vec<&String> = after
        .iter()
        .filter(|(f, e)| before.get(*f) != Some(e) && matches!(e, Entry::File(_)) && *f != MARKER)
        .map(|(f, _)| f)
        .collect();
    assert!(
        changed.contains(&&"releases/jaakide-hamara/index.html".to_string()),
        "{changed:?}"
    );
    for same in [
        "tiers/index.html",
        "assets/style.css",
        "releases/zoe-brandt-uberall/index.html",
    ] {
        assert!(
            !changed.contains(&&same.to_string()),
            "{same} changed: {changed:?}"
        );
    }
    let (written, unchanged, removed) = b.counts();
    assert_eq!(written, changed.len(), "{b:?}\n{changed:?}");
    assert_eq!(
        written + unchanged,
        html::files(&fx.out()).len() - 1,
        "{b:?}"
    );
    let gone = before
        .iter()
        .filter(|(f, e)| matches!(e, Entry::File(_)) && !after.contains_key(*f))
        .count();
    assert_eq!(removed, gone, "{b:?}");
}

#[test]
fn removed_records_remove_their_pages() {
    let fx = Fx::valid();
    fx.build(&[]).ok();
    assert!(
        fx.out()
            .join("releases/jaakide-hamara/index.html")
            .is_file()
    );
    assert!(fx.out().join("artists/jaakide/index.html").is_file());
    fx.site
        .remove("content/releases/jaakide/jaakide-hamara.toml");
    fx.site.remove("content/pages/about.md");
    let b = fx.build(&[]).ok();
    for gone in [
        "releases/jaakide-hamara",
        "artists/jaakide",
        "about",
        "years/2020",
    ] {
        assert!(!fx.out().join(gone).exists(), "{gone} is still there");
    }
    let (_, _, removed) = b.counts();
    assert!(removed >= 4, "{b:?}");
    // No page links to what is gone.
    let broken = html::broken_links(&fx.out(), "/", "https://awards.example.org/");
    assert!(broken.is_empty(), "{broken:#?}");
}

// ---------------------------------------------------------------- incremental builds

/// What a build prints (with `IMPALA_TIMINGS`) when it rendered only the
/// files an edit touched and carried the others over (src/incremental.rs).
const PARTIAL: &str = "unchanged files carried";

/// What a build prints (with `IMPALA_TIMINGS`) when it made the search
/// records: a partial build whose edit changed nothing searched does not.
const SEARCHED: &str = "search records";

/// A fresh full build of `fx`'s tree, in a folder of its own.
fn full_build_of(fx: &Fx) -> BTreeMap<String, Entry> {
    let dir = tempfile::tempdir().expect("temporary folder");
    let out = dir.path().join("public");
    build(fx.root(), &out, &[]).ok();
    snapshot(&out)
}

const HAMARA: &str = "content/releases/jaakide/jaakide-hamara.toml";

/// Replaces `from` by `to` in the site file `rel`.
fn edit(fx: &Fx, rel: &str, from: &str, to: &str) {
    let text = std::fs::read_to_string(fx.root().join(rel)).expect("read the record");
    assert!(text.contains(from), "{rel} has no {from:?}:\n{text}");
    fx.site.write(rel, text.replacen(from, to, 1));
}

#[test]
fn an_edited_release_renders_only_what_it_touches_and_publishes_what_a_full_build_does() {
    let fx = Fx::valid();
    let first = timed_build(&fx);
    assert!(!first.stderr.contains(PARTIAL), "{first:?}");
    // (what, from, to, whether the search index must be made again)
    let edits: [(&str, &str, &str, bool); 5] = [
        // Units: its page, its label's, tier, year and country lists; units
        // are not searched, so the search bundle is carried over.
        (
            "units",
            "units = 20_000\nshipments = { FI = 11_000",
            "units = 21_500\nshipments = { FI = 12_500",
            false,
        ),
        // The title: every list showing it, and the search index.
        (
            "title",
            "title = \"Hämärä\"",
            "title = \"Hämärä (Remaster)\"",
            true,
        ),
        // Shipments to one more country, whose page exists already (a
        // release is found by its countries).
        (
            "shipments",
            "units = 21_500\nshipments = { FI = 12_500, DE = 6_000, SE = 3_000 }",
            "units = 22_700\nshipments = { FI = 12_500, DE = 6_000, SE = 3_000, NO = 1_200 }",
            true,
        ),
        // An upgrade: a second award, listed in another tier and year.
        (
            "upgrade",
            "source = \"https://nordlicht.example/presse/hamara-silber\"",
            "source = \"https://nordlicht.example/presse/hamara-silber\"\n\n\
             [[awards]]\ntier = \"gold\"\ndate = 2021-03-01\nunits = 80_000",
            true,
        ),
        // The upgrade becomes the archive's newest award, which dates every
        // empty feed (tiers nobody reached): those are redone too.
        ("newest", "date = 2021-03-01", "date = 2025-06-01", true),
    ];
    for (what, from, to, searched) in edits {
        edit(&fx, HAMARA, from, to);
        let b = timed_build(&fx);
        assert!(b.stderr.contains(PARTIAL), "{what}: not incremental\n{b:?}");
        assert_eq!(
            b.stderr.contains(SEARCHED),
            searched,
            "{what}: search\n{b:?}"
        );
        let (written, unchanged, _) = b.counts();
        assert!(written > 0 && unchanged > written, "{what}: {b:?}");
        assert_same_tree(&full_build_of(&fx), &snapshot(&fx.out()), what);
    }
    assert!(html::page(&fx.out(), "releases/jaakide-hamara/").contains("Hämärä (Remaster)"));
    assert!(html::page(&fx.out(), "tiers/gold/").contains("Hämärä (Remaster)"));
}

#[test]
fn edits_the_rules_cannot_vouch_for_render_the_whole_site() {
    let fx = Fx::valid();
    fx.build(&[]).ok();
    let label = "content/labels/polar-sound.toml";
    let cases: [(&str, &str, &str, &str); 4] = [
        (
            "a label",
            label,
            "name = \"Polar Sound\"",
            "name = \"Polar Sounds\"",
        ),
        (
            "site.toml",
            "site.toml",
            "data_licence = \"CC BY 4.0\"",
            "data_licence = \"CC0\"",
        ),
        (
            "a static file",
            "static/favicon.svg",
            "<svg",
            "<svg data-edited=\"1\"",
        ),
        (
            "a page",
            "content/pages/about.md",
            "test fixture",
            "test fixture, edited",
        ),
    ];
    for (i, (what, rel, from, to)) in cases.into_iter().enumerate() {
        // Each after an incremental build, so that one stands to be reused.
        edit(
            &fx,
            HAMARA,
            &format!("units = 2{i}_000\nshipments = {{ FI = 1{}_000", i + 1),
            &format!("units = 2{}_000\nshipments = {{ FI = 1{}_000", i + 1, i + 2),
        );
        assert!(timed_build(&fx).stderr.contains(PARTIAL), "{what}");
        edit(&fx, rel, from, to);
        let b = timed_build(&fx);
        assert!(
            !b.stderr.contains(PARTIAL),
            "{what}: rendered in part\n{b:?}"
        );
        assert_same_tree(&full_build_of(&fx), &snapshot(&fx.out()), what);
    }
    // A new record adds pages no rule lists.
    let text = std::fs::read_to_string(fx.root().join(HAMARA)).unwrap();
    fx.site.write(
        "content/releases/jaakide/jaakide-talvi.toml",
        text.replace("Hämärä", "Talvi"),
    );
    let b = timed_build(&fx);
    assert!(!b.stderr.contains(PARTIAL), "a new record: {b:?}");
    assert_same_tree(&full_build_of(&fx), &snapshot(&fx.out()), "a new record");
}

#[test]
fn a_published_file_changed_by_hand_is_put_right_by_an_incremental_build() {
    let fx = Fx::valid();
    fx.build(&[]).ok();
    // A page the edit below does not touch, and the site's stylesheet.
    for rel in ["releases/zoe-brandt-uberall/index.html", "assets/style.css"] {
        std::fs::write(fx.out().join(rel), "changed by hand").unwrap();
    }
    edit(
        &fx,
        HAMARA,
        "units = 20_000\nshipments = { FI = 11_000",
        "units = 20_500\nshipments = { FI = 11_500",
    );
    let b = timed_build(&fx);
    assert!(!b.stderr.contains(PARTIAL), "{b:?}");
    assert_same_tree(
        &full_build_of(&fx),
        &snapshot(&fx.out()),
        "after a hand edit",
    );
}

// ---------------------------------------------------------------- hostile input

fn hostile_fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/hostile")
}

/// A copy of the hostile corpus (without its `rejected/` records).
fn hostile_site() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&hostile_fixture(), dir.path());
    std::fs::remove_dir_all(dir.path().join("rejected")).unwrap();
    dir
}

/// Splits CSV text (RFC 4180) into rows of cells.
fn csv_rows(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut cell = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                cell.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => cell.push(c),
            (false, '"') if cell.is_empty() => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut cell)),
            (false, '\r') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut cell));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => cell.push(c),
        }
    }
    if !cell.is_empty() || !row.is_empty() {
        row.push(cell);
        rows.push(row);
    }
    rows
}

#[test]
fn the_hostile_corpus_builds_and_nothing_in_it_can_run() {
    let site = hostile_site();
    let out_dir = tempfile::tempdir().unwrap();
    let out = out_dir.path().join("public");
    build(site.path(), &out, &[]).ok();
    let files = html::files(&out);
    let mut pages = 0;
    for f in &files {
        let path = out.join(f);
        if f.ends_with(".html") {
            pages += 1;
            let h = std::fs::read_to_string(&path).unwrap();
            let found = html::executable(&h, "/");
            assert!(found.is_empty(), "{f}: {found:#?}");
        } else if f.ends_with(".xml") {
            // Feeds carry records as escaped text; HTML content, once unescaped,
            // is held to the same rule as a page.
            let x = std::fs::read_to_string(&path).unwrap();
            let tags = html::tags(&x);
            for (k, t) in tags.iter().enumerate() {
                assert!(
                    !matches!(t.name.as_str(), "script" | "img" | "iframe" | "svg"),
                    "{f}: a <{}> element",
                    t.name
                );
                if !t.closing && matches!(t.attr("type"), Some("html" | "xhtml")) {
                    let end = tags[k + 1..]
                        .iter()
                        .find(|c| c.closing && c.name == t.name)
                        .map_or(x.len(), |c| c.start);
                    let inner = html::decode(&x[t.end..end]);
                    let found = html::executable(&inner, "/");
                    assert!(found.is_empty(), "{f}: {found:#?}");
                }
            }
        } else if f.ends_with(".json") {
            // Data: any text is fine as long as it stays JSON.
            let t = std::fs::read_to_string(&path).unwrap();
            serde_json::from_str::<serde_json::Value>(&t)
                .unwrap_or_else(|e| panic!("{f} is not JSON: {e}"));
        } else if f.ends_with(".csv") {
            let t = std::fs::read_to_string(&path).unwrap();
            for row in csv_rows(&t) {
                for cell in row {
                    assert!(
                        !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                        "{f}: a spreadsheet would run the cell {cell:?}"
                    );
                }
            }
        }
    }
    assert!(pages > 20, "{files:?}");

    // The records are shown, as text.
    let r = html::page(&out, "releases/hostile-script/");
    let m = html::main_of(&r);
    assert_eq!(html::texts_of(m, "h1"), ["<script>alert('title')</script>"]);
    let t = html::text(m);
    for literal in [
        "<img src=x onerror=alert('artist')>",
        "\"><svg onload=alert(1)>",
        "'\"><iframe src=javascript:alert(1)>",
        "<script>alert(\"label\")</script>",
        "Raw HTML: <script>alert('notes')</script>",
    ] {
        assert!(t.contains(literal), "{literal:?} not shown in {t}");
    }
    // Sanitising keeps what is safe: formatting and http(s) links.
    assert!(m.contains("<strong>still bold</strong>"), "{m}");
    assert!(html::links(m).contains(&"https://www.impalamusic.org/".to_string()));
    let p = html::main_of(&html::page(&out, "hostile/")).to_string();
    assert!(html::links(&p).contains(&"https://www.impalamusic.org/".to_string()));
    assert_eq!(
        html::texts_of(&html::page(&out, "releases/hostile-breakouts/"), "h1"),
        ["</script><script>alert(\"ld\")</script>"]
    );
}

#[test]
fn urls_that_are_not_http_are_rejected_by_check() {
    let dir = hostile_fixture().join("rejected");
    let mut cases = 0;
    for (kind, dest) in [
        ("labels", "content/labels"),
        ("releases", "content/releases/rejected"),
    ] {
        for e in std::fs::read_dir(dir.join(kind)).unwrap() {
            let path = e.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let rel = format!("{dest}/{name}");
            let site = Site::valid();
            site.write(&rel, std::fs::read(&path).unwrap());
            let out = site.check();
            assert_eq!(out.status, 1, "{name} was accepted: {out:?}");
            let bad: Vec<_> = out
                .with_code("bad-url")
                .into_iter()
                .filter(|d| d.file.as_deref() == Some(rel.as_str()))
                .collect();
            assert_eq!(bad.len(), 1, "{name}: {out:?}");
            cases += 1;
        }
    }
    assert!(cases >= 10, "the corpus has {cases} cases");
}

// ---------------------------------------------------------------- malformed records

/// What one malformed input must do.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Expect {
    /// Exit 1 with an error about this file.
    Error,
    /// Exit 0: the input is valid after all.
    Works,
    /// Either, as long as nothing panics.
    Either,
}

/// A valid release body, for cases that vary one part of it.
const RELEASE: &str = "title = \"Malformed\"\nartists = [\"Test Artist\"]\nlabel = \"polar-sound\"\n\
                       format = \"album\"\n\n[[awards]]\ntier = \"silver\"\ndate = 2020-01-01\nunits = 21_000\n";

fn release_with(awards_line: &str) -> String {
    RELEASE.replace("units = 21_000", awards_line)
}

/// Runs `check` and `build` on the valid fixture plus `files` (relative path, bytes).
fn assert_handled(case: &str, files: &[(&str, Vec<u8>)], expect: Expect) {
    let site = Site::valid();
    for (rel, bytes) in files {
        site.write(rel, bytes);
    }
    let out_dir = tempfile::tempdir().unwrap();
    let checked = site.run(&["check", "--message-format", "json"]);
    let built = Built::from_output(
        build_cmd(
            site.root(),
            &out_dir.path().join("public"),
            &["--message-format", "json"],
        )
        .output()
        .unwrap(),
    );
    let check_status = checked.status.code();
    let check_err = String::from_utf8_lossy(&checked.stderr).into_owned();
    for (what, status, stderr) in [
        ("check", check_status, check_err.as_str()),
        ("build", Some(built.status), built.stderr.as_str()),
    ] {
        assert!(
            matches!(status, Some(0 | 1)),
            "{case}: {what} exited with {status:?} (101 is a panic; none is a signal):\n{stderr}"
        );
        assert!(
            !stderr.contains("panicked"),
            "{case}: {what} panicked:\n{stderr}"
        );
        // Every problem is one well-formed JSON line, then the summary.
        let diags = json_diags(stderr);
        match expect {
            Expect::Error => {
                assert_eq!(status, Some(1), "{case}: {what} accepted it:\n{stderr}");
                let named = files
                    .iter()
                    .any(|(rel, _)| diags.iter().any(|d| d["file"].as_str() == Some(*rel)));
                assert!(named, "{case}: {what} does not name the file:\n{stderr}");
                for d in &diags {
                    assert!(
                        !d["message"].as_str().unwrap_or("").is_empty(),
                        "{case}: empty message"
                    );
                }
            }
            Expect::Works => assert_eq!(status, Some(0), "{case}: {what} failed:\n{stderr}"),
            Expect::Either => {}
        }
    }
}

const NEW: &str = "content/releases/malformed/malformed-case.toml";

#[test]
fn malformed_toml_gives_diagnostics() {
    use Expect::*;
    let cases: Vec<(&str, String, Expect)> = vec![
        (
            "unterminated string",
            "title = \"Malformed\nartists = []\n".into(),
            Error,
        ),
        (
            "unclosed table header",
            format!("{RELEASE}[[awards]\n"),
            Error,
        ),
        ("missing key", "= 1\n".into(), Error),
        ("missing value", "title =\n".into(), Error),
        ("bare words", "this is not toml at all\n".into(), Error),
        ("empty file", String::new(), Error),
        ("only a comment", "# nothing here\n".into(), Error),
        ("only white space", " \n\t\n   \n".into(), Error),
        (
            "duplicate key",
            RELEASE.replace("format", "title = \"Again\"\nformat"),
            Error,
        ),
        (
            "duplicate key in an award",
            RELEASE.replace("units = 21_000", "units = 21_000\nunits = 22_000"),
            Error,
        ),
        (
            "table redefined",
            format!("{RELEASE}[awards]\ntier = \"gold\"\n"),
            Error,
        ),
        (
            "units past u64",
            release_with("units = 18446744073709551616"),
            Error,
        ),
        (
            // TOML promises i64; reading up to u64 is the loader's leniency.
            "units past i64",
            release_with("units = 9223372036854775808"),
            Either,
        ),
        (
            "units at i64::MAX",
            release_with("units = 9223372036854775807"),
            Either,
        ),
        ("negative units", release_with("units = -21000"), Error),
        ("zero units", release_with("units = 0"), Error),
        ("string units", release_with("units = \"21000\""), Error),
        ("float units", release_with("units = 21000.0"), Error),
        ("infinite units", release_with("units = inf"), Error),
        ("nan units", release_with("units = nan"), Error),
        ("boolean units", release_with("units = true"), Error),
        ("array units", release_with("units = [21000]"), Error),
        (
            "shipments summing past u64",
            release_with(
                "shipments = { DE = 9223372036854775807, FR = 9223372036854775807, SE = 9223372036854775807 }",
            ),
            Error,
        ),
        (
            "negative shipment",
            release_with("shipments = { DE = -1, FR = 30000 }"),
            Error,
        ),
        (
            "shipments not a table",
            release_with("shipments = 21000"),
            Error,
        ),
        (
            "nested shipments",
            release_with("shipments = { DE = { x = 1 } }"),
            Error,
        ),
        (
            "lowercase country",
            release_with("shipments = { de = 21000 }"),
            Error,
        ),
        (
            "empty country key",
            release_with("shipments = { \"\" = 21000 }"),
            Error,
        ),
        (
            "date with time",
            RELEASE.replace("2020-01-01", "2020-01-01T10:00:00Z"),
            Error,
        ),
        (
            "invalid day",
            RELEASE.replace("2020-01-01", "2020-02-30"),
            Error,
        ),
        (
            "month 13",
            RELEASE.replace("2020-01-01", "\"2020-13\""),
            Error,
        ),
        (
            "year zero",
            RELEASE.replace("2020-01-01", "0000-01-01"),
            Error,
        ),
        (
            "five-digit year",
            RELEASE.replace("2020-01-01", "\"20200\""),
            Error,
        ),
        (
            "far future",
            RELEASE.replace("2020-01-01", "9999-12-31"),
            Error,
        ),
        (
            "date as integer",
            RELEASE.replace("2020-01-01", "2020"),
            Error,
        ),
        (
            "awards not tables",
            RELEASE.replace("[[awards]]", "awards = 1\n[x]"),
            Error,
        ),
        (
            "awards empty",
            format!(
                "{}awards = []\n",
                &RELEASE[..RELEASE.find("[[awards]]").unwrap()]
            ),
            Either,
        ),
        (
            "artists not strings",
            RELEASE.replace("[\"Test Artist\"]", "[1, 2]"),
            Error,
        ),
        (
            "artists empty string",
            RELEASE.replace("[\"Test Artist\"]", "[\"\"]"),
            Error,
        ),
        (
            "NUL in a string",
            RELEASE.replace("Malformed", "Mal\\u0000formed"),
            Either,
        ),
        (
            "control characters",
            RELEASE.replace("Malformed", "Mal\\u001b[31mformed"),
            Either,
        ),
        (
            "unicode escapes past the range",
            RELEASE.replace("Malformed", "\\UFFFFFFFF"),
            Error,
        ),
        (
            "lone surrogate escape",
            RELEASE.replace("Malformed", "\\uD800"),
            Error,
        ),
        ("CRLF line ends", RELEASE.replace('\n', "\r\n"), Works),
        ("CR alone", RELEASE.replace('\n', "\r"), Error),
        ("BOM", format!("\u{feff}{RELEASE}"), Works),
        (
            "BOM and CRLF",
            format!("\u{feff}{}", RELEASE.replace('\n', "\r\n")),
            Works,
        ),
        ("two BOMs", format!("\u{feff}\u{feff}{RELEASE}"), Either),
        (
            "tabs and odd spacing",
            RELEASE.replace(" = ", "\t=\t"),
            Works,
        ),
        (
            "deep arrays",
            format!(
                "x = {}{}\n{RELEASE}",
                "[".repeat(10_000),
                "]".repeat(10_000)
            ),
            Error,
        ),
        (
            "deep inline tables",
            format!(
                "x = {}1{}\n{RELEASE}",
                "{ a = ".repeat(10_000),
                " }".repeat(10_000)
            ),
            Error,
        ),
        (
            "deep dotted key",
            format!("{} = 1\n{RELEASE}", vec!["a"; 10_000].join(".")),
            Error,
        ),
        (
            "deep table header",
            format!("{RELEASE}[{}]\n", vec!["a"; 10_000].join(".")),
            Error,
        ),
        (
            "deep markdown",
            RELEASE.replace(
                "format",
                &format!("notes = \"{} deep\"\nformat", ">".repeat(10_000)),
            ),
            Works,
        ),
        (
            "deep markdown lists",
            RELEASE.replace(
                "format",
                &format!("notes = \"{}x\"\nformat", "- ".repeat(5_000)),
            ),
            Works,
        ),
        (
            "many brackets in markdown",
            RELEASE.replace(
                "format",
                &format!("notes = \"{}\"\nformat", "[".repeat(20_000)),
            ),
            Works,
        ),
        (
            "a very long title",
            RELEASE.replace("Malformed", &"Ω".repeat(500_000)),
            Works,
        ),
        (
            "many awards",
            format!(
                "{RELEASE}{}",
                "[[awards]]\ntier = \"silver\"\ndate = 2020-01-01\nunits = 21_000\n".repeat(2_000)
            ),
            Error,
        ),
    ];
    for (case, text, expect) in cases {
        assert_handled(case, &[(NEW, text.into_bytes())], expect);
    }
}

#[test]
fn unreadable_files_give_diagnostics() {
    use Expect::*;
    let mut bad_utf8 = RELEASE.as_bytes().to_vec();
    bad_utf8.splice(9..9, [0xff, 0xfe, 0xc3]);
    let mut latin1 = b"title = \"Caf\xe9\"\n".to_vec();
    latin1.extend_from_slice(&RELEASE.as_bytes()[20..]);
    let utf16: Vec<u8> = "\u{feff}title = \"x\"\n"
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    // Just past the limit: 4 MB of comment after a valid record.
    let mut big = RELEASE.as_bytes().to_vec();
    big.resize(4 * 1024 * 1024 + 1, b'#');
    let cases: Vec<(&str, Vec<u8>, Expect)> = vec![
        ("invalid UTF-8", bad_utf8, Error),
        ("Latin-1", latin1, Error),
        ("UTF-16", utf16, Error),
        ("a NUL byte", b"title = \"a\0b\"\n".to_vec(), Error),
        ("binary", (0..=255u8).cycle().take(5000).collect(), Error),
        ("over 4 MB", big, Error),
    ];
    for (case, bytes, expect) in cases {
        assert_handled(case, &[(NEW, bytes)], expect);
    }
    // The same for a label and a page.
    assert_handled(
        "label not UTF-8",
        &[(
            "content/labels/bad-label.toml",
            b"name = \"\xff\"\ncountry = \"GB\"\n".to_vec(),
        )],
        Error,
    );
    assert_handled(
        "page front matter unterminated",
        &[(
            "content/pages/bad.md",
            b"+++\ntitle = \"x\"\n\nbody\n".to_vec(),
        )],
        Error,
    );
    assert_handled(
        "page front matter missing",
        &[("content/pages/bad.md", b"# Just markdown\n".to_vec())],
        Error,
    );
    assert_handled(
        "page BOM CRLF",
        &[(
            "content/pages/fine.md",
            "\u{feff}+++\r\ntitle = \"Fine\"\r\n+++\r\n\r\nBody.\r\n".into(),
        )],
        Works,
    );
    assert_handled(
        "empty page",
        &[("content/pages/empty.md", Vec::new())],
        Error,
    );
    assert_handled(
        "site.toml broken",
        &[("site.toml", b"title = \"x\nbase_url = 1\n".to_vec())],
        Error,
    );
    assert_handled("site.toml empty", &[("site.toml", Vec::new())], Error);
    let mut cfg = b"\xef\xbb\xbf".to_vec();
    cfg.extend(std::fs::read(common::valid_fixture().join("site.toml")).unwrap());
    assert_handled("site.toml with BOM", &[("site.toml", cfg)], Works);
}

#[test]
fn odd_file_names_and_links_give_diagnostics() {
    use Expect::*;
    use std::os::unix::ffi::OsStrExt;
    for name in [
        "content/releases/malformed/My Release.toml",
        "content/releases/malformed/écume-noire-marées.toml",
        "content/releases/malformed/UPPER.toml",
        "content/releases/malformed/-leading.toml",
        "content/labels/label with spaces.toml",
        "content/pages/Über uns.md",
    ] {
        let body = if name.contains("labels") {
            "name = \"L\"\ncountry = \"GB\"\n".to_string()
        } else if name.ends_with(".md") {
            "+++\ntitle = \"P\"\n+++\nx\n".to_string()
        } else {
            RELEASE.to_string()
        };
        assert_handled(name, &[(name, body.into_bytes())], Error);
    }

    // A name that is not UTF-8 at all.
    let site = Site::valid();
    let dir = site.root().join("content/releases/malformed");
    std::fs::create_dir_all(&dir).unwrap();
    let raw = std::ffi::OsStr::from_bytes(b"caf\xe9.toml");
    std::fs::write(dir.join(raw), RELEASE).unwrap();
    let out = site.run(&["check", "--message-format", "json"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(stderr.contains("bad-slug"), "{stderr}");

    // Symbolic links: a loop, a link to itself, a dangling link, a link to a device.
    let site = Site::valid();
    let rel = site.root().join("content/releases");
    std::os::unix::fs::symlink(".", rel.join("loop")).unwrap();
    std::os::unix::fs::symlink("self.toml", rel.join("self.toml")).unwrap();
    std::os::unix::fs::symlink("nowhere.toml", rel.join("dangling.toml")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", rel.join("zero.toml")).unwrap();
    std::os::unix::fs::symlink("/dev/null", site.root().join("content/labels/null.toml")).unwrap();
    for cmd in ["check", "build"] {
        let mut args = vec![cmd, "--message-format", "json"];
        let out_dir = tempfile::tempdir().unwrap();
        let out_path = out_dir.path().join("public");
        if cmd == "build" {
            args.extend(["--output", out_path.to_str().unwrap()]);
        }
        let mut child = Command::new(env!("CARGO_BIN_EXE_impala-awards"));
        child
            .args(&args)
            .arg("--root")
            .arg(site.root())
            .env("SOURCE_DATE_EPOCH", common::SOURCE_DATE_EPOCH);
        let out = run_with_timeout(child, Duration::from_secs(60));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{cmd}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        let diags = json_diags(&stderr);
        let files: Vec<&str> = diags.iter().filter_map(|d| d["file"].as_str()).collect();
        for f in [
            "content/releases/loop",
            "content/releases/self.toml",
            "content/releases/dangling.toml",
        ] {
            assert!(files.contains(&f), "{cmd}: {f} not reported: {stderr}");
        }
        assert!(!out_path.exists());
    }
}

/// Runs `cmd`, killing it after `limit` (a hang is a failure, not a stuck test run).
fn run_with_timeout(mut cmd: Command, limit: Duration) -> std::process::Output {
    let child = cmd
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let id = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(limit) {
        Ok(out) => out.unwrap(),
        Err(_) => {
            // SAFETY: kill on our own child's pid.
            unsafe {
                libc::kill(id as libc::pid_t, libc::SIGKILL);
            }
            panic!("timed out after {limit:?}");
        }
    }
}
