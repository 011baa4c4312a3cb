//! Defaults, paths, prefixes and names, side by side: every one is spelt here once.

use std::time::Duration;

/// How long a busy lock is waited for before giving up, unless configured otherwise.
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(60);

/// Untracked files larger than this are not captured by default (they are listed as skipped).
pub const DEFAULT_MAX_FILE_SIZE: u64 = 100 * 1024 * 1024;

/// Environment variable that sets `Options::max_file_size` in bytes (`0` or `none`: no cap).
pub const MAX_FILE_SIZE_ENV: &str = "CHECKPOINT_MANAGER_MAX_FILE_SIZE";

/// Untracked folders holding more files than this are not captured by default (they are listed
/// as skipped, with their file count): an `npm install` without a `.gitignore`.
pub const DEFAULT_MAX_UNTRACKED_DIR_FILES: u64 = 10_000;

/// How long to wait for the git child of a killed holder of the repository lock to finish (git
/// does not die with its parent) before judging the lock files it may hold.
pub(crate) const INDEX_LOCK_GRACE: Duration = Duration::from_secs(3);

macro_rules! sessions_dir {
    () => {
        ".flow/maestro/sessions"
    };
}

/// Where sessions live, relative to the top of the work tree (the original spec's layout).
pub const SESSIONS_DIR: &str = sessions_dir!();

/// [`SESSIONS_DIR`] as git spells the paths under it.
pub(crate) const SESSIONS_PREFIX: &[u8] = concat!(sessions_dir!(), "/").as_bytes();

/// The `info/exclude` line that hides [`SESSIONS_DIR`] from git.
pub(crate) const SESSIONS_EXCLUDE: &str = concat!("/", sessions_dir!(), "/");

/// The tool's private folder inside the git dir (locks, journal, temporary indexes, markers).
pub(crate) const PRIVATE_DIR: &str = "checkpoint-manager";

/// The name every temporary index file in [`PRIVATE_DIR`] starts with.
pub(crate) const TEMP_INDEX_PREFIX: &str = "index-";

/// The journal of the operation in progress, in [`PRIVATE_DIR`].
pub(crate) const JOURNAL_FILE: &str = "operation.json";

/// The persistent stat cache of snapshots, in [`PRIVATE_DIR`].
pub(crate) const STAT_CACHE_FILE: &str = "stat-cache";

/// A session's log, in its folder under [`SESSIONS_DIR`] (the original spec's name).
pub(crate) const LOG_FILE: &str = "checkpoints.json";

/// The repository lock, in [`PRIVATE_DIR`].
pub(crate) const REPO_LOCK_FILE: &str = "repo.lock";

/// Marker (in [`PRIVATE_DIR`]) that the commit notice was shown in this repository.
pub(crate) const COMMIT_NOTICE_MARKER: &str = "commit-notice-shown";

/// The folder of the private refs that keep checkpoints alive.
pub(crate) const CHECKPOINT_REFS: &str = "refs/checkpoints/";

/// The folder of the refs that keep deleted checkpoints reachable.
pub(crate) const TRASH_REFS: &str = "refs/checkpoint-trash/";

/// The identity of objects only this tool reads (snapshot commits, metadata tags), and of
/// commits in a repository that has no identity configured.
pub const TOOL_NAME: &str = "checkpoint-manager";
/// See [`TOOL_NAME`].
pub const TOOL_EMAIL: &str = "checkpoint-manager@localhost";
