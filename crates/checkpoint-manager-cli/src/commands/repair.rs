//! `repair`: rebuild a session's log from git.

use std::process::ExitCode;

use clap::Args;

use super::{open, session_id, CliError};
use crate::cli::GlobalArgs;
use crate::output;

/// Rebuild a session's checkpoints.json from the metadata kept in git: a corrupt file is moved
/// aside, lost records come back, records whose commit is gone are dropped.
///
/// Example: checkpoint-manager repair --session-id <UUID>
#[derive(Debug, Args)]
pub struct RepairArgs {
    /// The session (a UUID)
    #[arg(long, value_name = "UUID")]
    pub session_id: String,
}

pub fn run(global: &GlobalArgs, args: &RepairArgs) -> Result<ExitCode, CliError> {
    let session = session_id(&args.session_id)?;
    let report = open(global)?.repair(session)?;
    output::print(global.output, &report, output::repair)?;
    Ok(ExitCode::SUCCESS)
}
