//! `validate`: is the repository fit for a checkpoint?

use std::process::ExitCode;

use clap::Args;

use super::CliError;
use crate::cli::GlobalArgs;
use crate::output;

/// Check the repository before a checkpoint: errors (not a work tree, an operation in progress,
/// unmerged paths, failing tests) and warnings (detached HEAD, uncommitted changes). Exit 0 when
/// valid, 3 when not; the result is printed either way.
///
/// Example: checkpoint-manager validate --test-command "cargo test --quiet"
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// A command (run with `sh -c` in the work tree) whose success means the tests pass
    #[arg(long, value_name = "CMD", allow_hyphen_values = true)]
    pub test_command: Option<String>,
}

pub fn run(global: &GlobalArgs, args: &ValidateArgs) -> Result<ExitCode, CliError> {
    let path = super::start_folder(global)?;
    let result = checkpoint_manager::validate_at(&path, args.test_command.as_deref())?;
    output::print(global.output, &result, output::validation)?;
    Ok(if result.is_valid {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(3)
    })
}
