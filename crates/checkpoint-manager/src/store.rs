//! How checkpoints live in git: a private ref `refs/checkpoints/<session>/<checkpoint>` per
//! checkpoint, pointing at an annotated tag object whose message holds the checkpoint's immutable
//! metadata as JSON. `git gc` keeps everything a ref reaches, `git tag`/`git branch` stay clean,
//! and the log can always be rebuilt from git (`repair`).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::git::{ObjectKind, Repo};
use crate::ids::{CheckpointId, SessionId};
use crate::model::{Checkpoint, Operation};

/// The identity of objects only this tool reads (snapshot commits, metadata tags), and of
/// commits in a repository that has no identity configured.
pub const TOOL_NAME: &str = "checkpoint-manager";
/// See [`TOOL_NAME`].
pub const TOOL_EMAIL: &str = "checkpoint-manager@localhost";

const METADATA_HEADER: &str = "checkpoint-manager metadata v1";

/// Returns the private ref that keeps a checkpoint alive.
pub fn private_ref(session: SessionId, checkpoint: CheckpointId) -> String {
    format!("refs/checkpoints/{session}/{checkpoint}")
}

/// Returns the folder of a session's private refs.
pub fn session_refs(session: SessionId) -> String {
    format!("refs/checkpoints/{session}/")
}

/// Returns where a deleted checkpoint stays reachable, so a delete can be taken back.
pub fn trash_ref(session: SessionId, checkpoint: CheckpointId) -> String {
    format!("refs/checkpoint-trash/{session}/{checkpoint}")
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
    .map_err(|e| Error::GitOutput {
        args: "mktag".into(),
        detail: e.to_string(),
    })?;
    let seconds = chrono::Utc::now().timestamp();
    let body = format!(
        "object {commit}\ntype commit\ntag {tag}\ntagger {TOOL_NAME} <{TOOL_EMAIL}> {seconds} +0000\n\n{METADATA_HEADER}\n\n{json}\n",
        commit = checkpoint.commit_sha,
        tag = tag_name(checkpoint.checkpoint_id),
    );
    match repo.loose_objects() {
        Some(objects) => objects.write(ObjectKind::Tag, body.as_bytes()),
        None => repo.git().arg("mktag").stdin(body.into_bytes()).run_text(),
    }
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

/// A set of ref updates applied atomically by one `git update-ref --stdin`.
#[derive(Debug, Default)]
pub struct RefTransaction {
    lines: String,
}

impl RefTransaction {
    /// Creates `name`, which must not exist yet.
    pub fn create(&mut self, name: &str, oid: &str) -> &mut Self {
        self.lines.push_str(&format!("create {name} {oid}\n"));
        self
    }

    /// Moves `name` (following a symbolic ref such as HEAD) to `oid`, checking its old value.
    pub fn update(&mut self, name: &str, oid: &str, old: Option<&str>) -> &mut Self {
        let old = old.map_or_else(|| zero_oid(oid), str::to_owned);
        self.lines.push_str(&format!("update {name} {oid} {old}\n"));
        self
    }

    /// Checks that `name` is still `old` (`None`: does not exist), changing nothing: the whole
    /// transaction fails if it moved. `no-deref`: a plain `verify` of HEAD (or of the branch it
    /// points at) writes a bogus entry (new id all zeros, no message) into HEAD's reflog; with
    /// `no-deref` git still compares the value HEAD resolves to, and logs nothing.
    pub fn verify(&mut self, name: &str, old: Option<&str>) -> &mut Self {
        self.lines.push_str("option no-deref\n");
        match old {
            Some(old) => self.lines.push_str(&format!("verify {name} {old}\n")),
            None => self.lines.push_str(&format!("verify {name}\n")),
        }
        self
    }

    /// Points `name` at `oid` whatever it held before.
    pub fn set(&mut self, name: &str, oid: &str) -> &mut Self {
        self.lines.push_str(&format!("update {name} {oid}\n"));
        self
    }

    /// Deletes `name`, checking its old value.
    pub fn delete(&mut self, name: &str, old: &str) -> &mut Self {
        self.lines.push_str(&format!("delete {name} {old}\n"));
        self
    }

    /// Applies every update or none.
    pub fn commit(&self, repo: &Repo, reflog_message: &str) -> Result<()> {
        if self.lines.is_empty() {
            return Ok(());
        }
        repo.git()
            .args(["update-ref", "-m", reflog_message, "--stdin"])
            .stdin(self.lines.clone().into_bytes())
            .run()
            .map(|_| ())
    }
}

/// Returns the all-zero id of the same hash length as `oid` (sha1 or sha256).
fn zero_oid(oid: &str) -> String {
    "0".repeat(oid.len())
}

/// Returns the current value of each ref in `names` that exists.
pub fn read_refs(repo: &Repo, names: &[String]) -> Result<HashMap<String, String>> {
    let out = repo
        .git()
        .args(["for-each-ref", "--format=%(refname) %(objectname)"])
        .args(names)
        .run()?;
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_once(' '))
        .filter(|(name, _)| names.iter().any(|n| n == name))
        .map(|(name, oid)| (name.to_owned(), oid.to_owned()))
        .collect())
}

/// Returns the checkpoints whose metadata the session's private refs carry.
pub fn read_session_metadata(repo: &Repo, session: SessionId) -> Result<Vec<Checkpoint>> {
    Ok(read_session_records(repo, session)?
        .into_iter()
        .map(|(cp, _)| cp)
        .collect())
}

/// Returns the checkpoints the session's private refs carry, each with the operation that took
/// it (safety snapshots written since the operation history exists).
pub fn read_session_records(
    repo: &Repo,
    session: SessionId,
) -> Result<Vec<(Checkpoint, Option<Operation>)>> {
    let out = repo
        .git()
        .args([
            "for-each-ref",
            "--format=%(objectname) %(objecttype)",
            &session_refs(session),
        ])
        .run()?;
    let tags: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.strip_suffix(" tag"))
        .map(str::to_owned)
        .collect();
    if tags.is_empty() {
        return Ok(Vec::new());
    }
    let contents = cat_file_batch(repo, &tags)?;
    Ok(contents
        .into_iter()
        .flatten()
        .filter_map(|raw| parse_metadata(&raw))
        .filter(|m| m.session_id == session)
        .map(|m| (m.checkpoint, m.operation))
        .collect())
}

/// Returns the raw content of each object (`None` where it is missing), in one git process.
pub fn cat_file_batch(repo: &Repo, oids: &[String]) -> Result<Vec<Option<Vec<u8>>>> {
    let mut input = String::new();
    for oid in oids {
        input.push_str(oid);
        input.push('\n');
    }
    let out = repo
        .git()
        .args(["cat-file", "--batch"])
        .stdin(input.into_bytes())
        .run()?;
    let bad = |detail: &str| Error::GitOutput {
        args: "cat-file --batch".into(),
        detail: detail.to_owned(),
    };
    let mut rest = out.stdout.as_slice();
    let mut result = Vec::with_capacity(oids.len());
    for _ in oids {
        let end = rest
            .iter()
            .position(|b| *b == b'\n')
            .ok_or_else(|| bad("truncated header"))?;
        let header = String::from_utf8_lossy(&rest[..end]).into_owned();
        rest = &rest[end + 1..];
        if header.ends_with(" missing") || header.ends_with(" ambiguous") {
            result.push(None);
            continue;
        }
        let size: usize = header
            .rsplit(' ')
            .next()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| bad(&header))?;
        if rest.len() < size + 1 {
            return Err(bad("truncated object"));
        }
        result.push(Some(rest[..size].to_vec()));
        rest = &rest[size + 1..];
    }
    Ok(result)
}

/// Resolves each of `revisions` (such as `<sha>^2^{tree}`) to an object id, `None` where it does
/// not resolve, in one git process.
pub fn resolve_objects(repo: &Repo, revisions: &[String]) -> Result<Vec<Option<String>>> {
    if revisions.is_empty() {
        return Ok(Vec::new());
    }
    let mut input = String::new();
    for revision in revisions {
        input.push_str(revision);
        input.push('\n');
    }
    let out = repo
        .git()
        .args(["cat-file", "--batch-check=%(objectname)"])
        .stdin(input.into_bytes())
        .run()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let answers: Vec<Option<String>> = text
        .lines()
        .map(|l| (!l.ends_with(" missing") && !l.ends_with(" ambiguous")).then(|| l.to_owned()))
        .collect();
    if answers.len() != revisions.len() {
        return Err(Error::GitOutput {
            args: "cat-file --batch-check".into(),
            detail: format!("{} answers for {} objects", answers.len(), revisions.len()),
        });
    }
    Ok(answers)
}

/// Returns which of `oids` exist as commits, in one git process.
pub fn existing_commits(repo: &Repo, oids: &[String]) -> Result<Vec<bool>> {
    let peeled: Vec<String> = oids.iter().map(|oid| format!("{oid}^{{commit}}")).collect();
    Ok(resolve_objects(repo, &peeled)?
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
    let out = repo
        .git()
        .args([
            "for-each-ref",
            "--count=1",
            "--format=%(refname)",
            &session_refs(session),
        ])
        .run()?;
    Ok(!out.stdout.is_empty())
}
