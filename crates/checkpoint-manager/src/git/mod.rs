//! The one door to git. Every git process this crate starts is built by [`Repo::git`] (or
//! [`GitCommand::new`] before a repository is known), which pins what must not vary: arguments as
//! a vector (never a shell), `LC_ALL=C`, no pager, no prompts, no hooks, no signing, no auto-gc.
//!
//! We drive the git CLI rather than an in-process library: it honours the user's filters (LFS,
//! CRLF), sparse checkouts, fsmonitor and every config, and measured faster than `git2` for both
//! snapshot and reset (see `docs/DESIGN.md`).

mod command;
mod history;
mod objects;
mod refname;
mod remote;
mod repo;
mod status;
mod trees;

pub use command::{git_error, GitCommand, GitOutput, MIN_GIT_VERSION};
pub use history::is_ancestor;
pub use objects::{LooseObjects, ObjectKind};
pub use refname::{is_valid_branch_name, is_valid_branch_ref};
pub use remote::{
    check_remote, default_remote, fetch_into, local_refs, ls_remote, push, RemoteUpdate,
    REMOTE_CONFIG_KEY,
};
pub use repo::{OperationInProgress, Repo, Settings};
pub use status::{Head, Status, StatusEntry};
pub use trees::{
    edit_tree_from_worktree, hash_files_raw, hash_files_unstored, is_attributes_file, EditedTrees,
};
