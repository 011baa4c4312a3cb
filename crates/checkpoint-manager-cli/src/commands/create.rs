//! `create`: commit the work (or tag HEAD, or snapshot it) and record a checkpoint.

use std::process::ExitCode;

use checkpoint_manager::{
    CheckpointMode, CheckpointPhase, CheckpointType, CreateRequest, StateSnapshot,
};
use clap::Args;

use super::{choice, open, session_id, CliError};
use crate::cli::GlobalArgs;
use crate::output;

/// Create a checkpoint: commit everything and tag it (default), tag HEAD (--no-commit), or take a
/// snapshot that leaves branch, index and files untouched (--snapshot).
///
/// What each mode leaves in the repository: a commit on the current branch, a lightweight tag
/// checkpoint-<uuid> and a private ref refs/checkpoints/<session>/<uuid> (default); the tag and
/// the private ref (--no-commit); only the private ref (--snapshot). Untracked files over
/// CHECKPOINT_MANAGER_MAX_FILE_SIZE bytes (else git config checkpoint-manager.maxFileSize,
/// default 100 MiB) and untracked folders of more than checkpoint-manager.maxUntrackedDirFiles
/// files (default 10000) stay out of commits and snapshots, untouched, and are listed as
/// skipped, with a warning on stderr in commit mode; --include brings them (or ignored paths)
/// in. Checkpoint commits run no hooks and are not signed.
///
/// Example: checkpoint-manager create --session-id 7c9e6679-7425-40de-944b-e07fc1f90ae7
/// --description "Planning complete" --phase plan --checkpoint-type phase_complete
#[derive(Debug, Args)]
pub struct CreateArgs {
    /// The session (a UUID)
    #[arg(long, value_name = "UUID")]
    pub session_id: String,

    /// What this checkpoint is, for people (any text, even one starting with "-"; not empty)
    #[arg(
        long,
        allow_hyphen_values = true,
        required_unless_present = "description_file"
    )]
    pub description: Option<String>,

    /// Read the description from this file (`-` for stdin), for descriptions of any size
    #[arg(long, value_name = "PATH", conflicts_with = "description")]
    pub description_file: Option<std::path::PathBuf>,

    /// plan, generate_tasks, implement, validate or cleanup
    #[arg(long, value_parser = choice::<CheckpointPhase>)]
    pub phase: CheckpointPhase,

    /// phase_complete, task_group_complete, safe_state, pre_risky_operation, error_recovery or manual
    #[arg(long, value_parser = choice::<CheckpointType>, default_value = "manual")]
    pub checkpoint_type: CheckpointType,

    /// Tag HEAD as it is instead of committing first; refused while there are uncommitted changes
    #[arg(long, conflicts_with = "snapshot")]
    pub no_commit: bool,

    /// Capture the work tree and index in a private snapshot; branch, index and files stay as they are
    #[arg(long)]
    pub snapshot: bool,

    /// Make nothing when the files are exactly those of the session's newest checkpoint: print
    /// that checkpoint with "unchanged": true instead (the output always has "unchanged")
    #[arg(long)]
    pub if_changed: bool,

    /// The session state as JSON, e.g. '{"tasks_completed": 15, "tests_passing": 42}' (missing fields are 0)
    #[arg(long, value_name = "JSON", allow_hyphen_values = true)]
    pub state_snapshot: Option<String>,

    /// Capture this file or folder even when ignored, too large or in a folder over the file
    /// cap (repeatable; inside the work tree)
    #[arg(long, value_name = "PATH", conflicts_with = "no_commit")]
    pub include: Vec<std::path::PathBuf>,
}

pub fn run(global: &GlobalArgs, args: &CreateArgs) -> Result<ExitCode, CliError> {
    let session = session_id(&args.session_id)?;
    let state_snapshot = args
        .state_snapshot
        .as_deref()
        .map(StateSnapshot::from_json)
        .transpose()?;
    let mode = if args.snapshot {
        CheckpointMode::Snapshot
    } else if args.no_commit {
        CheckpointMode::Tag
    } else {
        CheckpointMode::Commit
    };
    let description = description(args)?;
    let manager = open(global)?;
    let request = CreateRequest::new(description, args.phase)
        .with_type(args.checkpoint_type)
        .with_state_snapshot(state_snapshot)
        .with_mode(mode)
        .with_include(include_paths(args)?);
    // Files left out for their size and the once-per-repository note reach stderr through the
    // notice sink (see `open`).
    if args.if_changed {
        let created = manager.create_if_changed(session, &request)?;
        let marked = output::MaybeCreated {
            checkpoint: &created.checkpoint,
            unchanged: created.unchanged,
        };
        output::print(global.output, &marked, output::maybe_created)?;
    } else {
        let checkpoint = manager.create_with_notices(session, &request)?;
        output::print(global.output, &checkpoint, output::checkpoint)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// `--include` paths, relative ones taken from the current folder (the library takes them from
/// the top of the work tree).
fn include_paths(args: &CreateArgs) -> Result<Vec<std::path::PathBuf>, CliError> {
    if args.include.is_empty() {
        return Ok(Vec::new());
    }
    let here = std::env::current_dir().map_err(CliError::NoCurrentFolder)?;
    Ok(args.include.iter().map(|p| here.join(p)).collect())
}

/// The description given inline, or read from `--description-file` (`-`: stdin) as UTF-8.
fn description(args: &CreateArgs) -> Result<String, CliError> {
    let Some(path) = &args.description_file else {
        return Ok(args.description.clone().unwrap_or_default());
    };
    let read = if path.as_os_str() == "-" {
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut bytes).map(|_| bytes)
    } else {
        std::fs::read(path)
    };
    let bytes = read.map_err(|source| checkpoint_manager::Error::Io {
        path: path.clone(),
        source,
    })?;
    String::from_utf8(bytes).map_err(|_| {
        CliError::Usage(format!(
            "--description-file {}: the description is not UTF-8 text",
            path.display()
        ))
    })
}
