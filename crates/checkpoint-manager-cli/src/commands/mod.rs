//! One module per sub-command (`<Name>Args` + `run`), and what they share: opening the
//! repository, parsing ids, and turning library errors into exit codes.

pub mod completions;
pub mod create;
pub mod delete;
pub mod get;
pub mod list;
pub mod man;
pub mod op_log;
pub mod redo;
pub mod remote;
pub mod repair;
pub mod rollback;
pub mod schema;
pub mod summary;
pub mod undo;
pub mod validate;
// Issue 10: the sessions list.
pub mod sessions;
// Issue 10: diff and the log timeline.
pub mod diff;
pub mod log;
// Issue 10: restore of chosen paths.
pub mod restore;
// Retention.
pub mod prune;

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::str::FromStr;
use std::time::Duration;

use checkpoint_manager::{
    CheckpointId, CheckpointManager, Error, ErrorKind, NoticeSink, Options, SessionId,
};

use crate::cli::{Cli, Command, GlobalArgs};

/// Runs the parsed command line.
pub fn run(cli: Cli) -> Result<ExitCode, CliError> {
    let global = &cli.global;
    match &cli.command {
        Command::Create(args) => create::run(global, args),
        Command::List(args) => list::run(global, args),
        Command::Get(args) => get::run(global, args),
        Command::Rollback(args) => rollback::run(global, args),
        Command::Undo(args) => undo::run(global, args),
        Command::Redo(args) => redo::run(global, args),
        Command::OpLog(args) => op_log::run(global, args),
        Command::Summary(args) => summary::run(global, args),
        Command::Delete(args) => delete::run(global, args),
        Command::Push(args) => remote::push(global, args),
        Command::Pull(args) => remote::pull(global, args),
        Command::Validate(args) => validate::run(global, args),
        Command::Repair(args) => repair::run(global, args),
        Command::Schema(args) => schema::run(args),
        Command::Completions(args) => completions::run(args),
        Command::Man(args) => man::run(args),
        Command::Hook(args) => crate::agents::hook::run(global, args),
        Command::Hooks(args) => crate::agents::install::run(global, args),
        Command::Mcp(args) => crate::agents::mcp::run(global, args),
        Command::Sessions(args) => sessions::run(global, args),
        // Issue 10: diff and the log timeline.
        Command::Diff(args) => diff::run(global, args),
        Command::Log(args) => log::run(global, args),
        Command::Restore(args) => restore::run(global, args),
        Command::Prune(args) => prune::run(global, args),
    }
}

/// A failure on its way to stderr and an exit code.
#[derive(Debug)]
pub enum CliError {
    Library(Error),
    Usage(String),
    Output(io::Error),
    /// The current folder is gone (deleted, or its parent renamed) and no `--repo` was given.
    NoCurrentFolder(io::Error),
    /// Invalid input found by the command line itself (exit 3, like the library's).
    Invalid(String),
}

impl From<Error> for CliError {
    fn from(e: Error) -> Self {
        CliError::Library(e)
    }
}

impl From<io::Error> for CliError {
    fn from(e: io::Error) -> Self {
        CliError::Output(e)
    }
}

/// The exit code of each kind of library error (README: 0 ok, 1 file I/O, 2 usage, 3 invalid
/// input or repository state, 4 not found, 5 git failed, 6 lock busy).
pub(crate) fn exit_code(kind: ErrorKind) -> u8 {
    match kind {
        ErrorKind::Invalid => 3,
        ErrorKind::NotFound => 4,
        ErrorKind::Git => 5,
        ErrorKind::Busy => 6,
        ErrorKind::Io => 1,
    }
}

impl CliError {
    /// Prints the one-line message and returns the exit code.
    pub fn report(self) -> ExitCode {
        let (message, code) = match self {
            CliError::Library(Error::NotARepository { path }) => (
                format!(
                    "{}: not inside a git work tree; cd into a repository or pass --repo <path> \
                     (or run `git init` there to make one)",
                    path.display()
                ),
                3,
            ),
            CliError::Library(e) => {
                let code = exit_code(e.kind());
                let message = match command_hint(&e) {
                    Some(hint) => format!("{e}; {hint}"),
                    None => e.to_string(),
                };
                (message, code)
            }
            CliError::Usage(message) => (message, 2),
            CliError::Invalid(message) => (message, 3),
            // A closed pipe (`| head`) is the reader's choice, not our failure.
            CliError::Output(e) if e.kind() == io::ErrorKind::BrokenPipe => {
                return ExitCode::SUCCESS
            }
            CliError::Output(e) => (format!("cannot write output: {e}"), 1),
            CliError::NoCurrentFolder(e) => (
                format!(
                    "the current folder no longer exists ({e}); cd into the repository again, \
                     or pass --repo <path>"
                ),
                3,
            ),
        };
        let one_line = message.replace('\n', " ");
        let _ = writeln!(io::stderr(), "checkpoint-manager: error: {one_line}");
        ExitCode::from(code)
    }
}

/// The command line that acts on a library error: the library names its operations (repair,
/// undo, list, tag-only checkpoints); the CLI adds the flags that run them.
fn command_hint(error: &Error) -> Option<String> {
    let hint = match error {
        Error::UncommittedChanges { .. } => {
            "drop `--no-commit` to commit them, or pass `--snapshot`".to_owned()
        }
        Error::NothingToTag => "drop `--no-commit`".to_owned(),
        Error::CorruptLog { session, .. }
        | Error::InvalidRecord { session, .. }
        | Error::MissingCommit { session, .. }
        | Error::NotLogged { session, .. } => {
            format!("run `checkpoint-manager repair --session-id {session}`")
        }
        Error::CheckpointNotFound { session, .. }
        | Error::CheckpointPrefixNotFound { session, .. } => {
            format!("`checkpoint-manager list --session-id {session}` shows them")
        }
        Error::Interrupted { session, .. } => {
            format!("run `checkpoint-manager undo --session-id {session}`")
        }
        _ => return None,
    };
    Some(hint)
}

/// Returns the folder to look for the repository from: `--repo`, or the current folder.
pub fn start_folder(global: &GlobalArgs) -> Result<PathBuf, CliError> {
    match &global.repo {
        Some(path) => Ok(path.clone()),
        None => std::env::current_dir().map_err(CliError::NoCurrentFolder),
    }
}

/// Opens the repository named by `--repo`, or the one around the current folder.
pub fn open(global: &GlobalArgs) -> Result<CheckpointManager, CliError> {
    let path = start_folder(global)?;
    let lock_timeout = Duration::try_from_secs_f64(global.lock_timeout).map_err(|_| {
        CliError::Usage(format!(
            "--lock-timeout {}: not a number of seconds",
            global.lock_timeout
        ))
    })?;
    let quiet = global.quiet;
    let options = Options::from_env()?
        .with_lock_timeout(lock_timeout)
        // What the library did on its own or left out: one line on stderr as it happens (so it
        // is seen even when the command then fails), stdout stays the command's result.
        .with_notice_sink(NoticeSink::new(move |notice| {
            if quiet {
                return;
            }
            let label = if notice.is_warning() {
                "warning"
            } else {
                "note"
            };
            crate::output::warn(label, &notice.to_string());
        }));
    // Bars for long steps, only on a terminal and never with --quiet.
    let options = match crate::progress::sink(global) {
        Some(sink) => options.with_progress_sink(sink),
        None => options,
    };
    let manager = CheckpointManager::with_options(path, options).map_err(|e| match e {
        // Named after the flag the user gave, with the fix that applies to it.
        Error::NotARepository { path } if global.repo.is_some() => CliError::Invalid(format!(
            "--repo {}: not inside a git repository; pass --repo a folder inside a git \
             repository (or run `git init` in it first)",
            path.display()
        )),
        e => CliError::Library(e),
    })?;
    Ok(manager)
}

/// Parses `--session-id`; a non-UUID is invalid input (exit 3), refused before any path exists.
pub fn session_id(raw: &str) -> Result<SessionId, CliError> {
    Ok(SessionId::parse(raw)?)
}

/// Resolves `--checkpoint-id` in `session`: a full UUID, or a unique prefix of at least 4 hex
/// digits of one of its checkpoints (the library's rule, shared by every face).
pub fn checkpoint_id(
    manager: &CheckpointManager,
    session: SessionId,
    raw: &str,
) -> Result<CheckpointId, CliError> {
    Ok(manager.resolve_checkpoint(session, raw)?)
}

/// A clap value parser for the library's string enums (phases, types): anything else is a
/// usage error listing the accepted values.
pub fn choice<T: FromStr<Err = Error>>(raw: &str) -> Result<T, String> {
    raw.parse().map_err(|e: Error| e.to_string())
}
