//! `delete`: forget a checkpoint (recoverably).

use std::process::ExitCode;

use clap::Args;

use super::{checkpoint_id, open, session_id, CliError};
use crate::cli::GlobalArgs;
use crate::output;

/// Delete a checkpoint from the session and remove its tag. Its commit stays reachable under
/// refs/checkpoint-trash/ so the delete can be taken back.
///
/// Example: checkpoint-manager delete --session-id <UUID> --checkpoint-id <UUID>
#[derive(Debug, Args)]
pub struct DeleteArgs {
    /// The session (a UUID)
    #[arg(long, value_name = "UUID")]
    pub session_id: String,

    /// The checkpoint to delete (a UUID)
    #[arg(long, value_name = "UUID")]
    pub checkpoint_id: String,

    /// Keep the git tag checkpoint-<uuid>
    #[arg(long)]
    pub keep_tag: bool,
}

pub fn run(global: &GlobalArgs, args: &DeleteArgs) -> Result<ExitCode, CliError> {
    let session = session_id(&args.session_id)?;
    let checkpoint = checkpoint_id(&args.checkpoint_id)?;
    let outcome = open(global)?.delete(session, checkpoint, !args.keep_tag)?;
    output::print(global.output, &outcome, output::delete)?;
    Ok(ExitCode::SUCCESS)
}
