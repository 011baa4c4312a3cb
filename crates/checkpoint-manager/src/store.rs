//! How checkpoints live in git: a private ref `refs/checkpoints/<session>/<checkpoint>` per
//! checkpoint, pointing at an annotated tag object whose message holds the checkpoint's immutable
//! metadata as JSON. `git gc` keeps everything a ref reaches, `git tag`/`git branch` stay clean,
//! and the log can always be rebuilt from git (`repair`).

use serde::{Deserialize, Serialize};

use crate::defaults::{CHECKPOINT_REFS, TRASH_REFS};
use crate::error::{Error, Result};
use crate::git::{self, Repo};
use crate::ids::{CheckpointId, SessionId};
use crate::model::{Checkpoint, Operation};

const METADATA_HEADER: &str = "checkpoint-manager metadata v1";

/// Returns the private ref that keeps a checkpoint alive.
pub fn private_ref(session: SessionId, checkpoint: CheckpointId) -> String {
    format!("{CHECKPOINT_REFS}{session}/{checkpoint}")
}

/// Returns the folder of a session's private refs.
pub fn session_refs(session: SessionId) -> String {
    format!("{CHECKPOINT_REFS}{session}/")
}

/// Returns where a deleted checkpoint stays reachable, so a delete can be taken back.
pub fn trash_ref(session: SessionId, checkpoint: CheckpointId) -> String {
    format!("{TRASH_REFS}{session}/{checkpoint}")
}

/// Returns the name of the spec's tag, `checkpoint-<uuid>`.
pub fn tag_name(checkpoint: CheckpointId) -> String {
    format!("checkpoint-{checkpoint}")
}

/// The metadata carried in git: everything but the mutable rollback counters, and for a safety
/// snapshot the operation that took it (so `repair` can rebuild the operation history and
/// recount the rollbacks).
#[derive(Debug, Serialize, Deserialize)]
struct Metadata {
    session_id: SessionId,
    #[serde(flatten)]
    checkpoint: Checkpoint,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    operation: Option<Operation>,
}

/// Writes the annotated tag object that carries `checkpoint`'s metadata and points at its commit.
pub fn write_metadata_tag(
    repo: &Repo,
    session: SessionId,
    checkpoint: &Checkpoint,
) -> Result<String> {
    write_metadata_tag_with(repo, session, checkpoint, None)
}

/// Writes the metadata tag of a safety snapshot, with the operation (kind, target, id, what it
/// undid) that took it.
pub fn write_metadata_tag_with(
    repo: &Repo,
    session: SessionId,
    checkpoint: &Checkpoint,
    operation: Option<&Operation>,
) -> Result<String> {
    let mut frozen = checkpoint.clone();
    frozen.rollback_used = false;
    frozen.rollback_count = 0;
    let json = serde_json::to_string(&Metadata {
        session_id: session,
        checkpoint: frozen,
        operation: operation.cloned(),
    })
    .map_err(|e| Error::Serialize {
        what: "checkpoint metadata",
        detail: e.to_string(),
    })?;
    let message = format!("{METADATA_HEADER}\n\n{json}\n");
    git::write_tag(
        repo,
        &checkpoint.commit_sha,
        &tag_name(checkpoint.checkpoint_id),
        &message,
    )
}

/// Parses the metadata out of a tag object's raw content (`git cat-file tag`).
pub fn parse_metadata_tag(raw: &[u8]) -> Option<(SessionId, Checkpoint)> {
    parse_metadata(raw).map(|m| (m.session_id, m.checkpoint))
}

fn parse_metadata(raw: &[u8]) -> Option<Metadata> {
    let text = String::from_utf8_lossy(raw);
    let (_, message) = text.split_once("\n\n")?;
    let json = message.strip_prefix(METADATA_HEADER)?.trim();
    serde_json::from_str(json).ok()
}

/// Returns the checkpoints the session's private refs carry, each with the operation that took
/// it (safety snapshots written since the operation history exists).
pub fn read_session_records(
    repo: &Repo,
    session: SessionId,
) -> Result<Vec<(Checkpoint, Option<Operation>)>> {
    let tags = git::tag_objects_under(repo, &session_refs(session))?;
    if tags.is_empty() {
        return Ok(Vec::new());
    }
    let contents = git::read_objects(repo, &tags)?;
    Ok(contents
        .into_iter()
        .flatten()
        .filter_map(|raw| parse_metadata(&raw))
        .filter(|m| m.session_id == session)
        .map(|m| (m.checkpoint, m.operation))
        .collect())
}

/// Returns which of `oids` exist as commits, in one git process.
pub fn existing_commits(repo: &Repo, oids: &[String]) -> Result<Vec<bool>> {
    let peeled: Vec<String> = oids.iter().map(|oid| format!("{oid}^{{commit}}")).collect();
    Ok(git::resolve_objects(repo, &peeled)?
        .into_iter()
        .map(|found| found.is_some())
        .collect())
}

/// Returns the checkpoint ids of the session's private refs stored as loose files, without
/// starting git (`None` when the folder cannot be read, e.g. another ref storage). Packed refs
/// are not seen: this is the cheap check that a log is not behind git, not a full listing.
pub fn loose_session_ref_ids(repo: &Repo, session: SessionId) -> Option<Vec<CheckpointId>> {
    let dir = repo.common_dir().join(session_refs(session));
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Some(Vec::new()),
        Err(_) => return None,
    };
    Some(
        entries
            .flatten()
            .filter_map(|e| CheckpointId::parse(&e.file_name().to_string_lossy()).ok())
            .collect(),
    )
}

/// Returns true when git holds at least one private ref of the session (one git process).
pub fn session_has_refs(repo: &Repo, session: SessionId) -> Result<bool> {
    git::any_ref_under(repo, &session_refs(session))
}
