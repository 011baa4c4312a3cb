//! `undo`: return to the state before the last rollback or undo.

use std::process::ExitCode;

use clap::Args;

use super::{open, session_id, CliError};
use crate::cli::GlobalArgs;
use crate::output;

/// Undo the last rollback (or undo): branch, HEAD, index and every file come back as they were.
/// It takes its own safety snapshot first, so an undo can be undone too.
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
    let outcome = open(global)?.undo(session)?;
    output::print(global.output, &outcome, output::undo)?;
    Ok(ExitCode::SUCCESS)
}
