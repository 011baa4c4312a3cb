//! `log`: the session's timeline for people, newest first.

use std::process::ExitCode;

use clap::Args;

use super::{open, session_id, CliError};
use crate::cli::GlobalArgs;
use crate::output;

/// Show the session's timeline, newest first: each checkpoint (time, phase, type, description,
/// commit, what changed since the one before) and where rollbacks, restores and undos happened.
///
/// Safety snapshots are dimmed. `--output pretty` goes through your pager on a terminal; JSON
/// gives the same entries (`"entry": "checkpoint"` or `"operation"`).
///
/// Example: checkpoint-manager log --session-id <UUID> --output pretty
#[derive(Debug, Args)]
pub struct LogArgs {
    /// The session (a UUID)
    #[arg(long, value_name = "UUID")]
    pub session_id: String,
}

pub fn run(global: &GlobalArgs, args: &LogArgs) -> Result<ExitCode, CliError> {
    let session = session_id(&args.session_id)?;
    let manager = open(global)?;
    let timeline = manager.timeline(session)?;
    output::print_paged_in_session(global, &manager, session, &timeline, output::timeline)?;
    Ok(ExitCode::SUCCESS)
}
