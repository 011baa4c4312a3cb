//! `delete`: forget a checkpoint (recoverably).

use std::process::ExitCode;

use checkpoint_manager::DeleteOutcome;
use clap::Args;
use serde::Serialize;

use super::{checkpoint_id, open, session_id, CliError};
use crate::cli::GlobalArgs;
use crate::output::{self, Ids};

/// Delete a checkpoint from the session and remove its tag. Its commit stays reachable under
/// refs/checkpoint-trash/ so the delete can be taken back.
///
/// Example: checkpoint-manager delete --session-id <UUID> --checkpoint-id <UUID>
#[derive(Debug, Args)]
pub struct DeleteArgs {
    /// The session (a UUID)
    #[arg(long, value_name = "UUID")]
    pub session_id: String,

    /// The checkpoint to delete (a UUID, or a unique prefix of at least 4 hex digits)
    #[arg(long, value_name = "UUID")]
    pub checkpoint_id: String,

    /// Keep the git tag checkpoint-<uuid>
    #[arg(long)]
    pub keep_tag: bool,

    /// Also delete the checkpoint's refs (and tag, unless --keep-tag) on this git remote,
    /// before deleting it here
    #[arg(long, value_name = "NAME")]
    pub remote: Option<String>,
}

/// `delete --remote`: the local outcome and the refs deleted on the remote.
#[derive(Debug, Serialize)]
struct DeletedBoth<'a> {
    #[serde(flatten)]
    outcome: &'a DeleteOutcome,
    remote: &'a str,
    remote_deleted: &'a [String],
}

pub fn run(global: &GlobalArgs, args: &DeleteArgs) -> Result<ExitCode, CliError> {
    let session = session_id(&args.session_id)?;
    let manager = open(global)?;
    let checkpoint = checkpoint_id(&manager, session, &args.checkpoint_id)?;
    let Some(remote) = &args.remote else {
        let outcome = manager.delete(session, checkpoint, !args.keep_tag)?;
        let ids = || Ids::of_sessions(&manager, [session], [checkpoint]);
        output::print_with_ids(global.output, ids, &outcome, output::delete)?;
        return Ok(ExitCode::SUCCESS);
    };
    // Refused here first when it is not here; then the remote: if that fails, nothing
    // changed here.
    manager.get(session, checkpoint)?;
    let remote_deleted =
        manager.delete_on_remote(Some(remote), session, checkpoint, !args.keep_tag)?;
    let outcome = manager.delete(session, checkpoint, !args.keep_tag)?;
    let both = DeletedBoth {
        outcome: &outcome,
        remote,
        remote_deleted: &remote_deleted,
    };
    let ids = || Ids::of_sessions(&manager, [session], [checkpoint]);
    output::print_with_ids(global.output, ids, &both, |out, style, b| {
        output::delete(out, style, b.outcome)?;
        for name in b.remote_deleted {
            writeln!(out, "deleted {name} on {}", b.remote)?;
        }
        Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}
