//! `get`: one checkpoint.

use std::process::ExitCode;

use clap::Args;

use super::{checkpoint_id, open, session_id, CliError};
use crate::cli::GlobalArgs;
use crate::output;

/// Show one checkpoint.
///
/// Example: checkpoint-manager get --session-id <UUID> --checkpoint-id <UUID>
#[derive(Debug, Args)]
pub struct GetArgs {
    /// The session (a UUID)
    #[arg(long, value_name = "UUID")]
    pub session_id: String,

    /// The checkpoint (a UUID, or a unique prefix of at least 4 hex digits)
    #[arg(long, value_name = "UUID")]
    pub checkpoint_id: String,
}

pub fn run(global: &GlobalArgs, args: &GetArgs) -> Result<ExitCode, CliError> {
    let session = session_id(&args.session_id)?;
    let manager = open(global)?;
    let checkpoint = checkpoint_id(&manager, session, &args.checkpoint_id)?;
    let found = manager.get(session, checkpoint)?;
    output::print_in_session(global, &manager, session, &found, output::checkpoint)?;
    Ok(ExitCode::SUCCESS)
}
