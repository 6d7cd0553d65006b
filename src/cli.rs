//! Arguments, exit codes and printing of diagnostics.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use impala_awards::diagnostics::{self, Diagnostic, MessageFormat, Sources};
use impala_awards::records::load::load;

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
    let color = common.message_format == MessageFormat::Human
        && std::io::stderr().is_terminal()
        && std::env::var_os("NO_COLOR").is_none();
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

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Check { common } => {
            let mut loaded = load(&common.root);
            let mut diags = std::mem::take(&mut loaded.diags);
            if let Some(config) = &loaded.config {
                let today = impala_awards::check::build_date();
                diags.extend(impala_awards::check::check(&loaded, config, today));
            }
            let (errors, warnings) = report(&mut diags, &loaded.sources, &common);
            let awards: usize = loaded.releases.iter().map(|r| r.awards.len()).sum();
            eprintln!(
                "checked {}, {}, {}: {}, {}",
                plural(loaded.releases.len(), "release", "releases"),
                plural(awards, "award", "awards"),
                plural(loaded.labels.len(), "label", "labels"),
                plural(errors, "error", "errors"),
                plural(warnings, "warning", "warnings"),
            );
            if errors > 0 {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            }
        }
    }
}
