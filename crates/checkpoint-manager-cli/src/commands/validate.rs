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

    /// Seconds the test command may run; then its whole process group is killed and the tests fail
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = 600.0,
        requires = "test_command"
    )]
    pub test_timeout: f64,
}

pub fn run(global: &GlobalArgs, args: &ValidateArgs) -> Result<ExitCode, CliError> {
    let path = super::start_folder(global)?;
    let timeout = std::time::Duration::try_from_secs_f64(args.test_timeout)
        .ok()
        .filter(|t| !t.is_zero())
        .ok_or_else(|| {
            CliError::Usage(format!(
                "--test-timeout {}: not a positive number of seconds",
                args.test_timeout
            ))
        })?;
    let tests = args
        .test_command
        .as_deref()
        .map(|command| checkpoint_manager::TestRun { command, timeout });
    let result = checkpoint_manager::validate_at_with(&path, tests)?;
    output::print(global.output, &result, output::validation)?;
    Ok(if result.is_valid {
        ExitCode::SUCCESS
    } else {
        // Not fit for a checkpoint: the exit code of an invalid repository state.
        ExitCode::from(super::exit_code(checkpoint_manager::ErrorKind::Invalid))
    })
}
