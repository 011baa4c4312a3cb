//! Library-level tests of the core (issue 2): every rule of create, list, get, summary, rollback,
//! delete and validate, against real temporary git repositories (no mocks of git). One test
//! binary with a module per concern; each test builds its own repository, so they run in
//! parallel.
#![allow(clippy::unwrap_used)]

#[path = "core/support.rs"]
mod support;

#[path = "core/big_messages.rs"]
mod big_messages;
#[path = "core/create.rs"]
mod create;
#[path = "core/delete.rs"]
mod delete;
#[path = "core/if_changed.rs"]
mod if_changed;
#[path = "core/log.rs"]
mod log;
#[path = "core/open.rs"]
mod open;
#[path = "core/rollback.rs"]
mod rollback;
#[path = "core/tree_identity.rs"]
mod tree_identity;
#[path = "core/validate.rs"]
mod validate;

// Issue 10: short ids and the sessions list.
#[path = "core/short_ids.rs"]
mod short_ids;
