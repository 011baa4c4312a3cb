//! `sessions`: every session of the repository, newest first.

use std::process::ExitCode;

use clap::Args;

use super::{open, CliError};
use crate::cli::GlobalArgs;
use crate::output;

/// List every session of the repository, newest first: its checkpoints, when the first and
/// the last were made, the latest phase and how many rollbacks it had.
///
/// Sessions are found in the sessions folder and in the private refs (a session pulled from a
/// remote, or whose log was deleted, is listed too; its log is rebuilt first).
///
/// Example: checkpoint-manager sessions --output pretty
#[derive(Debug, Args)]
pub struct SessionsArgs {}

pub fn run(global: &GlobalArgs, _args: &SessionsArgs) -> Result<ExitCode, CliError> {
    let manager = open(global)?;
    let sessions = manager.list_sessions()?;
    output::print_paged(global, &manager, &sessions, output::sessions)?;
    Ok(ExitCode::SUCCESS)
}
