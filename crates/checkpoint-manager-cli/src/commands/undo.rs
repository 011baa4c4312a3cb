//! `undo`: step back one entry of the session's operation history.

use std::process::ExitCode;

use clap::Args;

use super::{open, session_id, CliError};
use crate::cli::GlobalArgs;
use crate::output;

/// Undo the newest rollback, undo or redo still in effect: branch, HEAD, index and every file
/// come back as they were before it. Run it again to keep going back; `redo` goes forward.
///
/// An operation that failed or was killed partway is undone like any other. Undo takes its own
/// safety snapshot first. `op-log` shows the history.
///
/// Example: checkpoint-manager undo --session-id <UUID>
#[derive(Debug, Args)]
pub struct UndoArgs {
    /// The session (a UUID)
    #[arg(long, value_name = "UUID")]
    pub session_id: String,
}

pub fn run(global: &GlobalArgs, args: &UndoArgs) -> Result<ExitCode, CliError> {
    let session = session_id(&args.session_id)?;
    let manager = open(global)?;
    let outcome = manager.undo(session)?;
    output::print_in_session(global, &manager, session, &outcome, output::rollback)?;
    Ok(ExitCode::SUCCESS)
}
