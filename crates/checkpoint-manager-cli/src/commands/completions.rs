//! `completions`: shell completion scripts, generated from the clap definitions.

use std::io::{self, Write};
use std::process::ExitCode;

use clap::{Args, CommandFactory};
use clap_complete::Shell;

use super::CliError;
use crate::cli::Cli;

/// Print the completion script for a shell: bash, zsh, fish, powershell or elvish.
///
/// Example: checkpoint-manager completions bash > ~/.local/share/bash-completion/completions/checkpoint-manager
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for
    #[arg(value_enum)]
    pub shell: Shell,
}

pub fn run(args: &CompletionsArgs) -> Result<ExitCode, CliError> {
    // Generated into memory first: clap_complete panics on a failed write, and a closed pipe
    // (`| head`) must stay a quiet success.
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut Cli::command(), BIN_NAME, &mut script);
    let mut out = io::stdout().lock();
    out.write_all(&script)?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// The name the scripts complete: the installed binary's.
const BIN_NAME: &str = "checkpoint-manager";

#[cfg(test)]
mod tests {
    use clap::ValueEnum;

    use super::*;

    #[test]
    fn every_shell_completes_every_sub_command_and_flag() {
        for shell in Shell::value_variants() {
            let mut script = Vec::new();
            clap_complete::generate(*shell, &mut Cli::command(), BIN_NAME, &mut script);
            let script = String::from_utf8(script).expect("scripts are text");
            for word in [
                "rollback",
                "undo",
                "completions",
                "session-id",
                "hard-reset",
            ] {
                assert!(script.contains(word), "{shell}: no {word}");
            }
        }
    }

    #[test]
    fn the_bash_script_parses() {
        let mut script = Vec::new();
        clap_complete::generate(Shell::Bash, &mut Cli::command(), BIN_NAME, &mut script);
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("checkpoint-manager.bash");
        std::fs::write(&path, script).expect("write");
        let status = std::process::Command::new("bash")
            .arg("-n")
            .arg(&path)
            .status()
            .expect("bash runs");
        assert!(status.success());
    }
}
