//! `push` and `pull`: checkpoints across machines through any git remote.

use std::io::Write;
use std::process::ExitCode;

use checkpoint_manager::{CheckpointId, CheckpointManager, RemoteConflict, SessionId, Sessions};
use clap::Args;

use super::{open, session_id, CliError};
use crate::cli::GlobalArgs;
use crate::output::{self, Ids};

/// Which sessions to carry: one, or all of them.
#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub struct SessionChoice {
    /// The session (a UUID)
    #[arg(long, value_name = "UUID")]
    pub session_id: Option<String>,

    /// Every session of the repository
    #[arg(long)]
    pub all_sessions: bool,
}

impl SessionChoice {
    pub(crate) fn sessions(&self) -> Result<Sessions, CliError> {
        match &self.session_id {
            Some(raw) => Ok(Sessions::One(session_id(raw)?)),
            None => Ok(Sessions::All),
        }
    }
}

/// Send checkpoints to a git remote (their private refs and checkpoint-<uuid> tags only, never
/// a branch); a second push sends nothing.
///
/// The remote is --remote, else git config checkpoint-manager.remote, else origin. Git talks to
/// it, with your credentials and config.
///
/// Example: checkpoint-manager push --session-id <UUID> --remote origin
#[derive(Debug, Args)]
pub struct PushArgs {
    /// The git remote (a name or a URL); default: checkpoint-manager.remote, else origin
    #[arg(long, value_name = "NAME")]
    pub remote: Option<String>,

    #[command(flatten)]
    pub sessions: SessionChoice,
}

/// Fetch checkpoints from a git remote and merge them into this repository's logs; then list,
/// get, rollback and undo work on them as on local ones.
///
/// Nothing local is dropped or overwritten: an id both sides hold differently is reported
/// (exit 3, after everything else is done). Checkpoints deleted here stay deleted unless
/// --include-deleted.
///
/// Example: checkpoint-manager pull --session-id <UUID> --remote origin
#[derive(Debug, Args)]
pub struct PullArgs {
    /// The git remote (a name or a URL); default: checkpoint-manager.remote, else origin
    #[arg(long, value_name = "NAME")]
    pub remote: Option<String>,

    #[command(flatten)]
    pub sessions: SessionChoice,

    /// Bring back checkpoints this repository deleted (they are in refs/checkpoint-trash/)
    #[arg(long)]
    pub include_deleted: bool,
}

pub fn push(global: &GlobalArgs, args: &PushArgs) -> Result<ExitCode, CliError> {
    let sessions = args.sessions.sessions()?;
    let manager = open(global)?;
    let outcome = manager.push(args.remote.as_deref(), sessions)?;
    let conflicting = outcome.conflicts.iter();
    let ids = || {
        named_ids(
            &manager,
            conflicting.map(|c| (c.session_id, c.checkpoint_id)),
        )
    };
    output::print_with_ids(global.output, ids, &outcome, output::push)?;
    Ok(conflicts_exit(&outcome.conflicts))
}

pub fn pull(global: &GlobalArgs, args: &PullArgs) -> Result<ExitCode, CliError> {
    let sessions = args.sessions.sessions()?;
    let manager = open(global)?;
    let outcome = manager.pull(args.remote.as_deref(), sessions, args.include_deleted)?;
    let named = outcome.pulled.iter().chain(&outcome.skipped_deleted);
    let pairs = named.map(|c| (c.session_id, c.checkpoint_id)).chain(
        outcome
            .conflicts
            .iter()
            .map(|c| (c.session_id, c.checkpoint_id)),
    );
    let ids = || named_ids(&manager, pairs);
    output::print_with_ids(global.output, ids, &outcome, output::pull)?;
    Ok(conflicts_exit(&outcome.conflicts))
}

/// Ids abbreviated against the checkpoints an outcome names and their sessions' checkpoints.
fn named_ids(
    manager: &CheckpointManager,
    named: impl Iterator<Item = (SessionId, CheckpointId)>,
) -> Ids {
    let (sessions, ids): (Vec<_>, Vec<_>) = named.unzip();
    Ids::of_sessions(manager, sessions, ids)
}

/// Exit 3 with one line on stderr when ids conflicted (the result was printed already).
fn conflicts_exit(conflicts: &[RemoteConflict]) -> ExitCode {
    let Some(first) = conflicts.first() else {
        return ExitCode::SUCCESS;
    };
    let _ = writeln!(
        std::io::stderr(),
        "checkpoint-manager: error: {} checkpoint id(s) differ between this repository and the \
         remote and were left as they are (first: {} in session {}: {}); compare them with `get`",
        conflicts.len(),
        first.checkpoint_id,
        first.session_id,
        first.detail.replace('\n', " ")
    );
    ExitCode::from(3)
}
