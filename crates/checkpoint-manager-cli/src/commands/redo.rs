//! `redo`: take back the newest undo.

use std::process::ExitCode;

use clap::Args;

use super::{open, session_id, CliError};
use crate::cli::GlobalArgs;
use crate::output;

/// Take back the newest undo: branch, HEAD, index and every file return to the state before it.
/// A rollback after an undo starts a new history, and there is nothing left to redo.
///
/// Example: checkpoint-manager redo --session-id <UUID>
#[derive(Debug, Args)]
pub struct RedoArgs {
    /// The session (a UUID)
    #[arg(long, value_name = "UUID")]
    pub session_id: String,
}

pub fn run(global: &GlobalArgs, args: &RedoArgs) -> Result<ExitCode, CliError> {
    let session = session_id(&args.session_id)?;
    let manager = open(global)?;
    let outcome = manager.redo(session)?;
    output::print_in_session(global, &manager, session, &outcome, output::rollback)?;
    Ok(ExitCode::SUCCESS)
}
