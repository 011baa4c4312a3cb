//! Issue 3, "Nothing lost": adversarial tests that try to make a snapshot touch something, a
//! restore lose a byte, a corrupt log get overwritten, or a random session of edits, creates,
//! rollbacks, undos and deletes leave a state the user had unrecoverable. All run against real
//! temporary repositories.
//!
//! A test marked `#[ignore = "bug: ..."]` shows a bug that is still open; run it with
//! `cargo test -p checkpoint-manager --test safety -- --ignored`.
#![allow(clippy::unwrap_used)]

#[path = "safety/branch_records.rs"]
mod branch_records;
#[path = "safety/caps.rs"]
mod caps;
#[path = "safety/common.rs"]
mod common;
#[path = "safety/edges.rs"]
mod edges;
#[path = "safety/history.rs"]
mod history;
#[path = "safety/holes.rs"]
mod holes;
#[path = "safety/log_symlinks.rs"]
mod log_symlinks;
#[path = "safety/names.rs"]
mod names;
#[path = "safety/props.rs"]
mod props;
#[path = "safety/prune.rs"]
mod prune;
#[path = "safety/repair.rs"]
mod repair;
#[path = "safety/round_trip.rs"]
mod round_trip;
#[path = "safety/tampered.rs"]
mod tampered;
#[path = "safety/touch_nothing.rs"]
mod touch_nothing;
#[path = "safety/untouchable.rs"]
mod untouchable;
// Issue 10: diff and the log timeline.
#[path = "safety/diff.rs"]
mod diff;
// Issue 10: restore of chosen paths.
#[path = "safety/restore_paths.rs"]
mod restore_paths;
// Issue 10: adversarial review of restore, prune and diff.
#[path = "safety/review_issue10.rs"]
mod review_issue10;
