//! `restore`: bring back chosen files or folders from a checkpoint, after a safety snapshot.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use super::{checkpoint_id, open, session_id, CliError};
use crate::cli::GlobalArgs;
use crate::output;

/// Bring back chosen files or folders as a checkpoint holds them, after a safety snapshot that
/// `undo` returns to; HEAD, the branch, the index and every other file stay as they are.
///
/// A file under a named path that the checkpoint lacks is removed (it is in the safety
/// snapshot). Paths are relative to the current folder, like git's; absolute paths must be
/// inside the work tree.
///
/// Example: checkpoint-manager restore --session-id <UUID> --checkpoint-id <UUID> -- src/app.py docs
#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// The session (a UUID)
    #[arg(long, value_name = "UUID")]
    pub session_id: String,

    /// The checkpoint to take the files from (its id, or a unique prefix of 4+ hex digits)
    #[arg(long, value_name = "UUID")]
    pub checkpoint_id: String,

    /// Also set the index entries of those paths to the checkpoint's
    #[arg(long)]
    pub staged: bool,

    /// The files or folders to bring back (put `--` before a path starting with `-`)
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
}

pub fn run(global: &GlobalArgs, args: &RestoreArgs) -> Result<ExitCode, CliError> {
    let session = session_id(&args.session_id)?;
    let manager = open(global)?;
    let checkpoint = checkpoint_id(&manager, session, &args.checkpoint_id)?;
    let outcome = manager.restore_paths(session, checkpoint, &args.paths, args.staged)?;
    output::print_in_session(global, &manager, session, &outcome, output::path_restore)?;
    Ok(ExitCode::SUCCESS)
}
