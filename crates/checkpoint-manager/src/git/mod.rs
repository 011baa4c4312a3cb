//! The one door to git. Every git process this crate starts is built here, by a command builder
//! private to this module that pins what must not vary: arguments as a vector (never a shell),
//! `LC_ALL=C`, no pager, no prompts, no hooks, no signing, no auto-gc. Each git operation is a
//! typed function beside the parser of its output, grouped by concern; nothing outside this
//! module names a git sub-command.
//!
//! We drive the git CLI rather than an in-process library: it honours the user's filters (LFS,
//! CRLF), sparse checkouts, fsmonitor and every config, and measured faster than `git2` for both
//! snapshot and reset (see `docs/DESIGN.md`).

mod checkout;
mod command;
mod config;
mod diff;
mod history;
mod index;
mod locks;
mod objects;
mod refname;
mod refs;
mod remote;
mod repo;
mod status;
mod trees;
mod untracked;
// Issue 10: diff and log.
mod numstat;
// Restoring chosen paths (issue 10).
mod checkout_paths;
// Retention (prune): dated refs, reclaimable bytes, gc.
mod prune;

use command::GitCommand;

pub use checkout::{checkout_tree, reset_index_to_commit};
pub use checkout_paths::{check_out_scratch, list_files_under, replace_entries, TreeEntry};
pub use command::git_error;
pub use config::{
    eol_attributes_set, eol_conversion_configured, ignored_paths, pager, tool_values,
};
pub use diff::{
    changed_paths, deleted_between, diff_index, list_tree_at, list_tree_files, RawDiff,
};
pub use history::is_ancestor;
pub use index::{
    add_entries, add_paths, empty_user_index, force_add, list_paths, read_tree, refresh_entries,
    remove_entries, reset_index_to, set_flag, skip_worktree_paths, staged_entries, tagged_entries,
    write_tree, EntryFlag, Eol, IndexEntry, IndexFile,
};
pub use numstat::{changed_files, diff_text, patch_sections, short_stats, DiffText, FileChange};
pub use objects::{
    read_objects, resolve_objects, write_commit, write_tag, Author, LooseObjects, ObjectKind,
};
pub use prune::{bytes_only_reachable_from, dated_refs, gc_prune_now, DatedRef};
pub use refname::is_valid_branch_ref;
pub use refs::{
    any_ref_under, delete_ref, move_ref, read_refs, resolve, set_symbolic_head, tag_objects_under,
    tree_of, RefTransaction,
};
pub use remote::{
    check_remote, default_remote, fetch_into, local_refs, ls_remote, push, RemoteUpdate,
};
pub use repo::Repo;
pub use status::{Head, Status, StatusEntry};
pub use trees::{
    edit_tree_from_worktree, hash_files_raw, hash_files_unstored, is_attributes_file, EditedTrees,
    KnownBlobs,
};
pub use untracked::untracked_top_folders;
