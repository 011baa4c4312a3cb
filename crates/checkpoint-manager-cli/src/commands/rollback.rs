//! `rollback`: back to a checkpoint, after an automatic safety snapshot.

use std::process::ExitCode;

use checkpoint_manager::ResetMode;
use clap::Args;

use super::{checkpoint_id, open, session_id, CliError};
use crate::cli::GlobalArgs;
use crate::output;

/// Roll back to a checkpoint. A safety snapshot of the current state is taken first, so
/// `undo` can always return to it. Default: mixed (HEAD and index move, files stay).
///
/// Example: checkpoint-manager rollback --session-id <UUID> --checkpoint-id <UUID> --hard-reset
#[derive(Debug, Args)]
pub struct RollbackArgs {
    /// The session (a UUID)
    #[arg(long, value_name = "UUID")]
    pub session_id: String,

    /// The checkpoint to return to (a UUID, or a unique prefix of at least 4 hex digits)
    #[arg(long, value_name = "UUID")]
    pub checkpoint_id: String,

    /// Also make the files what the checkpoint holds (for a snapshot: exactly, including removing
    /// files created since; everything overwritten or removed is in the safety snapshot)
    #[arg(long)]
    pub hard_reset: bool,
}

pub fn run(global: &GlobalArgs, args: &RollbackArgs) -> Result<ExitCode, CliError> {
    let session = session_id(&args.session_id)?;
    let manager = open(global)?;
    let checkpoint = checkpoint_id(&manager, session, &args.checkpoint_id)?;
    let mode = if args.hard_reset {
        ResetMode::Hard
    } else {
        ResetMode::Mixed
    };
    let outcome = manager.rollback(session, checkpoint, mode)?;
    output::print_in_session(global, &manager, session, &outcome, output::rollback)?;
    Ok(ExitCode::SUCCESS)
}
