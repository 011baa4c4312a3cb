//! End-to-end tests of the `checkpoint-manager` binary (issue 2): the wiring of every command
//! and flag, exit codes, one-line error messages with an empty stdout, the JSON printed (parsed
//! and compared field by field) and the `--output pretty` text (inline snapshots). Each test
//! runs the real binary in its own temporary repository.
#![allow(clippy::unwrap_used)]

#[path = "cli/support.rs"]
mod support;

#[path = "cli/big_messages.rs"]
mod big_messages;
#[path = "cli/caps.rs"]
mod caps;
#[path = "cli/create.rs"]
mod create;
#[path = "cli/delete.rs"]
mod delete;
#[path = "cli/errors.rs"]
mod errors;
#[path = "cli/git_env.rs"]
mod git_env;
#[path = "cli/history.rs"]
mod history;
#[path = "cli/hooks.rs"]
mod hooks;
#[path = "cli/hooks_install.rs"]
mod hooks_install;
#[path = "cli/list.rs"]
mod list;
#[path = "cli/locks.rs"]
mod locks;
#[path = "cli/mcp.rs"]
mod mcp;
#[path = "cli/pager.rs"]
mod pager;
#[path = "cli/pretty.rs"]
mod pretty;
#[path = "cli/prune.rs"]
mod prune;
#[path = "cli/remote.rs"]
mod remote;
#[path = "cli/rollback.rs"]
mod rollback;
#[path = "cli/validate.rs"]
mod validate;
#[path = "cli/views.rs"]
mod views;

// Issue 10: short ids and the sessions list.
#[path = "cli/sessions.rs"]
mod sessions;
#[path = "cli/short_ids.rs"]
mod short_ids;
// Issue 10: diff and the log timeline.
#[path = "cli/diff.rs"]
mod diff;
// Issue 10: restore of chosen paths.
#[path = "cli/restore.rs"]
mod restore;
