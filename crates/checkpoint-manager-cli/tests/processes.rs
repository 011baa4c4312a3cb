//! Tests that need real processes of the `checkpoint-manager` binary: many creates at once, in
//! one session and across sessions; SIGKILL at random moments; busy locks.
//!
//! A test marked `#[ignore = "bug: ..."]` shows a bug that is still open; run it with
//! `cargo test -p checkpoint-manager-cli --test processes -- --ignored`.
#![allow(clippy::unwrap_used)]

#[path = "processes/common.rs"]
mod common;
#[path = "processes/concurrent.rs"]
mod concurrent;
#[path = "processes/group_kill.rs"]
mod group_kill;
#[path = "processes/history.rs"]
mod history;
#[path = "processes/kill.rs"]
mod kill;
#[path = "processes/locks.rs"]
mod locks;
#[path = "processes/races.rs"]
mod races;
