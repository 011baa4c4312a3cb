//! The `checkpoint-manager` command line as a library. The binary's `main` and the Python
//! package's `python -m checkpoint_manager` both call [`run`], so the two share one set of clap
//! definitions, one rendering and one table of exit codes.

mod agents;
mod cli;
mod commands;
mod output;
mod pager;
mod progress;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::Parser;

pub use cli::Cli;

/// Runs the command line `args` (the program name first, as in `std::env::args_os`) and returns
/// the exit code. Usage errors print clap's message and give 2; `--help` and `--version` give 0.
/// Nothing here exits the process, so an embedding interpreter keeps control.
pub fn run<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(mut err) => {
            keep_the_closest_suggestion(&mut err);
            // Help and version go to stdout, errors to stderr, exactly as `Cli::parse` would.
            let _ = err.print();
            return ExitCode::from(u8::try_from(err.exit_code()).unwrap_or(2));
        }
    };
    match commands::run(cli) {
        Ok(code) => code,
        Err(err) => err.report(),
    }
}

/// clap lists every similar sub-command, least similar first (`creat` gives "repair, schema,
/// create"); only the closest one helps.
fn keep_the_closest_suggestion(err: &mut clap::Error) {
    use clap::error::{ContextKind, ContextValue};
    if let Some(ContextValue::Strings(similar)) = err.get(ContextKind::SuggestedSubcommand) {
        if let Some(closest) = similar.last().cloned() {
            err.insert(
                ContextKind::SuggestedSubcommand,
                ContextValue::String(closest),
            );
        }
    }
}

/// Runs the command line `args` like [`run`] and returns the exit status as a number, for
/// callers that must hand it on (the Python package's `sys.exit`).
pub fn run_status<I, T>(args: I) -> u8
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    exit_status(run(args))
}

/// Returns the number an [`ExitCode`] stands for. `ExitCode` is opaque; every code the command
/// line returns is made with `ExitCode::from(u8)`, so one of the 256 values equals it.
fn exit_status(code: ExitCode) -> u8 {
    (0..=u8::MAX)
        .find(|&n| ExitCode::from(n) == code)
        .unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_round_trip() {
        for n in [0u8, 1, 2, 3, 4, 5, 6, 255] {
            assert_eq!(exit_status(ExitCode::from(n)), n);
        }
        assert_eq!(exit_status(ExitCode::SUCCESS), 0);
        assert_eq!(exit_status(ExitCode::FAILURE), 1);
    }

    /// What `run` hands on for clap's own outcomes (checked on the parse, which prints nothing;
    /// the end-to-end tests run the real thing).
    #[test]
    fn usage_errors_are_2_and_help_is_0() {
        let code = |args: &[&str]| {
            Cli::try_parse_from(args)
                .err()
                .map(|e| u8::try_from(e.exit_code()).unwrap_or(2))
        };
        assert_eq!(code(&["checkpoint-manager", "--no-such-flag"]), Some(2));
        assert_eq!(code(&["checkpoint-manager", "create"]), Some(2));
        assert_eq!(code(&["checkpoint-manager", "--version"]), Some(0));
        assert_eq!(code(&["checkpoint-manager", "list", "--help"]), Some(0));
    }
}
