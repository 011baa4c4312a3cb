//! `op-log`: the session's operation history. A command of its own rather than `undo --list`:
//! a read-only view should not share its name with a command that changes files, where one lost
//! flag would turn a look into an undo.

use std::process::ExitCode;

use clap::Args;

use super::{open, session_id, CliError};
use crate::cli::GlobalArgs;
use crate::output;

/// Show the session's operation history, newest first: every rollback, undo and redo, with
/// its state (started, done, failed), its target and the safety snapshot taken before it.
///
/// Example: checkpoint-manager op-log --session-id <UUID> --output pretty
#[derive(Debug, Args)]
pub struct OpLogArgs {
    /// The session (a UUID)
    #[arg(long, value_name = "UUID")]
    pub session_id: String,
}

pub fn run(global: &GlobalArgs, args: &OpLogArgs) -> Result<ExitCode, CliError> {
    let session = session_id(&args.session_id)?;
    let manager = open(global)?;
    let mut operations = manager.operations(session)?;
    operations.reverse();
    output::print_in_session(global, &manager, session, &operations, output::operations)?;
    Ok(ExitCode::SUCCESS)
}
