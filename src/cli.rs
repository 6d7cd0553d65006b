//! Arguments, exit codes and printing of diagnostics.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use impala_awards::diagnostics::{self, Diagnostic, MessageFormat, Sources};
use impala_awards::site::{self, BuildOptions};

#[derive(Parser)]
#[command(
    name = "impala-awards",
    version,
    about = "Checks and publishes the IMPALA European Sales Awards"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Clone)]
struct Common {
    /// The site's root folder (holding site.toml and content/).
    #[arg(long, default_value = ".")]
    root: PathBuf,
    /// How to print problems.
    #[arg(long, value_enum, default_value_t = MessageFormat::Human)]
    message_format: MessageFormat,
    /// Treat warnings as errors (for CI).
    #[arg(long)]
    deny_warnings: bool,
}

#[derive(Subcommand)]
enum Command {
    /// Load every record and run every check; write nothing.
    Check {
        #[command(flatten)]
        common: Common,
    },
    /// Check everything, then write the site (into public/ by default).
    Build {
        #[command(flatten)]
        common: Common,
        /// Where to write the site (default: <root>/public).
        #[arg(long)]
        output: Option<PathBuf>,
        /// Publish under this URL instead of site.toml's `base_url`.
        #[arg(long)]
        base_url: Option<String>,
        /// Replace an output folder even if it holds files no build wrote.
        #[arg(long)]
        force: bool,
    },
    /// Preview the site in memory at http://127.0.0.1:1111/, rebuilding and
    /// reloading the browser on every change.
    Serve {
        /// The site's root folder (holding site.toml and content/).
        #[arg(long, default_value = ".")]
        root: PathBuf,
        /// Port to listen on; 0 picks a free one.
        #[arg(long, default_value_t = impala_awards::serve::DEFAULT_PORT)]
        port: u16,
        /// Address to listen on; anything but loopback shows the preview to the network.
        #[arg(long, default_value = "127.0.0.1")]
        bind: std::net::IpAddr,
        /// Open the site in a browser.
        #[arg(long)]
        open: bool,
    },
    /// Add a release, an award (an upgrade) or a label; nothing is written unless it checks clean.
    New {
        #[command(subcommand)]
        what: Box<impala_awards::new::NewCommand>,
    },
    /// Write the JSON Schemas of site.toml, labels and releases into schemas/ (for editors).
    #[command(hide = true)]
    Schema {
        /// The site's root folder (holding site.toml).
        #[arg(long, default_value = ".")]
        root: PathBuf,
        /// Write the files; without it, only report whether they are up to date.
        #[arg(long)]
        write: bool,
    },
    /// Write a synthetic archive of N releases (for benchmarks).
    #[command(hide = true)]
    Gen {
        /// Folder to create.
        out: PathBuf,
        /// Number of releases.
        #[arg(long, default_value_t = 1000)]
        releases: usize,
        /// Seed: the same seed gives the same archive.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Also write an equivalent Hugo site into this folder.
        #[arg(long)]
        hugo: Option<PathBuf>,
        /// Also write a Hugo site whose pages carry our award rows into this folder.
        #[arg(long)]
        hugo_rows: Option<PathBuf>,
    },
}

/// Prints diagnostics to stderr; returns (errors, warnings) with warnings
/// counted as errors under `--deny-warnings`.
fn report(diags: &mut [Diagnostic], sources: &Sources, common: &Common) -> (usize, usize) {
    diagnostics::sort(diags);
    if common.deny_warnings {
        for d in diags.iter_mut() {
            d.severity = diagnostics::Severity::Error;
        }
    }
    let color = common.message_format == MessageFormat::Human && use_color();
    for d in diags.iter() {
        let text = diagnostics::render(d, sources, common.message_format, color);
        if common.message_format == MessageFormat::Human {
            eprintln!("{text}\n");
        } else {
            eprintln!("{text}");
        }
    }
    diagnostics::counts(diags)
}

/// Colour only on a terminal, unless `NO_COLOR` forbids it or `CLICOLOR_FORCE` asks for it
/// (e.g. for a CI log that shows colours).
fn use_color() -> bool {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let force = std::env::var_os("CLICOLOR_FORCE").is_some_and(|v| !v.is_empty() && v != "0");
    !no_color && (std::io::stderr().is_terminal() || force)
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Runs the command line; the exit code is 1 when any error was reported.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let today = impala_awards::check::build_date();
    match cli.command {
        Command::Gen {
            out,
            releases,
            seed,
            hugo,
            hugo_rows,
        } => match impala_awards::synth::generate(
            &out,
            releases,
            seed,
            today,
            hugo.as_deref(),
            hugo_rows.as_deref(),
        ) {
            Ok(()) => {
                eprintln!("wrote {releases} synthetic releases into {}", out.display());
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: cannot write {}: {e}", out.display());
                ExitCode::from(1)
            }
        },
        Command::Serve {
            root,
            port,
            bind,
            open,
        } => {
            let opts = impala_awards::serve::ServeOptions {
                root,
                bind,
                port,
                open,
                today,
                color: std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
            };
            match impala_awards::serve::run(&opts) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::from(1)
                }
            }
        }
        Command::New { what } => {
            let o = what.options();
            let common = Common {
                root: o.root.clone(),
                message_format: o.message_format,
                deny_warnings: o.deny_warnings,
            };
            let mut out = what.run(today);
            let (errors, warnings) = report(&mut out.diags, &out.sources, &common);
            if out.written {
                if let Some(p) = &out.path {
                    println!(
                        "{}",
                        impala_awards::new::shown_path(&common.root, p).display()
                    );
                }
                eprintln!("{}", out.summary);
                if out.preexisting.0 > 0 {
                    eprintln!(
                        "note: the site already had {} elsewhere; `impala-awards check` lists them",
                        plural(out.preexisting.0, "error", "errors")
                    );
                }
                ExitCode::SUCCESS
            } else {
                eprintln!(
                    "nothing was written: {}, {}",
                    plural(errors, "error", "errors"),
                    plural(warnings, "warning", "warnings")
                );
                ExitCode::from(1)
            }
        }
        Command::Schema { root, write } => match impala_awards::schema::command(&root, write) {
            Ok(msg) => {
                eprintln!("{msg}");
                ExitCode::SUCCESS
            }
            Err(msg) => {
                eprintln!("{msg}");
                ExitCode::from(1)
            }
        },
        Command::Check { common } => {
            let mut checked = site::load_and_check(&common.root, today);
            let (errors, warnings) = report(&mut checked.diags, &checked.loaded.sources, &common);
            eprintln!(
                "checked {}, {}, {}: {}, {}",
                plural(checked.loaded.releases.len(), "release", "releases"),
                plural(checked.awards(), "award", "awards"),
                plural(checked.loaded.labels.len(), "label", "labels"),
                plural(errors, "error", "errors"),
                plural(warnings, "warning", "warnings"),
            );
            if errors > 0 {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            }
        }
        Command::Build {
            common,
            output,
            base_url,
            force,
        } => {
            let opts = BuildOptions {
                root: common.root.clone(),
                output,
                base_url,
                force,
                deny_warnings: common.deny_warnings,
                today,
            };
            let mut rep = site::build(&opts);
            let (errors, warnings) = report(&mut rep.diags, &rep.sources, &common);
            match rep.publish {
                Some(stats) if errors == 0 => {
                    eprintln!(
                        "built {} ({} written, {} unchanged, {} removed) from {}, {} in {:.2?} into {}{}",
                        plural(rep.pages, "page", "pages"),
                        stats.written,
                        stats.unchanged,
                        stats.removed,
                        plural(rep.releases, "release", "releases"),
                        plural(rep.awards, "award", "awards"),
                        rep.elapsed,
                        rep.output.display(),
                        if warnings > 0 {
                            format!(", {}", plural(warnings, "warning", "warnings"))
                        } else {
                            String::new()
                        }
                    );
                    ExitCode::SUCCESS
                }
                _ => {
                    eprintln!(
                        "build failed: {}, {}; nothing was written, {} is unchanged",
                        plural(errors, "error", "errors"),
                        plural(warnings, "warning", "warnings"),
                        rep.output.display()
                    );
                    ExitCode::from(1)
                }
            }
        }
    }
}
