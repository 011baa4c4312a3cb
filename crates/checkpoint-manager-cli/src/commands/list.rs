//! `list`: the checkpoints of a session, newest first.

use std::process::ExitCode;

use clap::Args;

use super::{open, session_id, CliError};
use crate::cli::GlobalArgs;
use crate::output;

/// List the checkpoints of a session, newest first (an empty list for a session with none).
///
/// Only the checkpoints created by `create`; the safety snapshots that rollback, undo and redo
/// take first are shown with `--include-safety`.
///
/// Example: checkpoint-manager list --session-id 7c9e6679-7425-40de-944b-e07fc1f90ae7 --output pretty
#[derive(Debug, Args)]
pub struct ListArgs {
    /// The session (a UUID)
    #[arg(long, value_name = "UUID")]
    pub session_id: String,

    /// Also list the automatic safety snapshots (marked `safety` in the MODE column; in JSON,
    /// `snapshot.safety` is true)
    #[arg(long)]
    pub include_safety: bool,
}

pub fn run(global: &GlobalArgs, args: &ListArgs) -> Result<ExitCode, CliError> {
    let session = session_id(&args.session_id)?;
    let manager = open(global)?;
    let checkpoints = if args.include_safety {
        manager.list_all(session)?
    } else {
        manager.list(session)?
    };
    output::print_paged_in_session(
        global,
        &manager,
        session,
        &checkpoints,
        output::checkpoint_table,
    )?;
    // The process ends here: freeing 10,000 records string by string would cost more than
    // printing them (the kernel takes the memory back at once).
    std::mem::forget(checkpoints);
    Ok(ExitCode::SUCCESS)
}
