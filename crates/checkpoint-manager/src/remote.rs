//! Checkpoints across machines through any git remote. `push` sends our private refs
//! (`refs/checkpoints/<session>/<id>`, each a metadata tag reaching the checkpoint's commit and,
//! for a snapshot, its index and raw-bytes parents) and the spec's `checkpoint-<uuid>` tags with
//! explicit refspecs, creating only refs the remote lacks. `pull` fetches the remote's private
//! refs into a staging namespace, checks each one's metadata, creates the missing local refs
//! (never moving one that exists) and merges the log as `repair` does. Git talks to the remote.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Serialize;

use crate::error::{Error, Result};
use crate::git::RefTransaction;
use crate::git::{self, RemoteUpdate, Repo};
use crate::ids::{CheckpointId, SessionId};
use crate::lock;
use crate::manager::CheckpointManager;
use crate::model::{Checkpoint, CheckpointMode, OperationState};
use crate::ops::repair::recount_rollbacks;
use crate::store;

/// Where `pull` fetches to before checking; removed when the pull ends (and before it starts,
/// should a killed pull have left it). Only the holder of the repository lock writes here.
pub const STAGING_PREFIX: &str = "refs/checkpoint-manager/incoming/";
const PRIVATE_PREFIX: &str = crate::defaults::CHECKPOINT_REFS;
const TRASH_PREFIX: &str = crate::defaults::TRASH_REFS;
const TAG_PREFIX: &str = "refs/tags/checkpoint-";
/// `for-each-ref` matches a prefix only up to a slash: the spec tags need a glob.
const TAG_GLOB: &str = "refs/tags/checkpoint-*";

/// Which sessions `push` and `pull` carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sessions {
    One(SessionId),
    All,
}

impl Sessions {
    fn private_prefix(self) -> String {
        match self {
            Sessions::One(session) => store::session_refs(session),
            Sessions::All => PRIVATE_PREFIX.to_owned(),
        }
    }
}

/// A checkpoint named by session and id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct RemoteCheckpoint {
    pub session_id: SessionId,
    pub checkpoint_id: CheckpointId,
}

/// A checkpoint id both sides hold with different metadata or commit: left as it is, reported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct RemoteConflict {
    pub session_id: SessionId,
    pub checkpoint_id: CheckpointId,
    pub detail: String,
}

/// What `push` did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct PushOutcome {
    pub remote: String,
    /// The refs sent (private refs and spec tags); empty when the remote already had them all.
    pub pushed: Vec<String>,
    pub up_to_date: bool,
    pub conflicts: Vec<RemoteConflict>,
}

/// What `pull` did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct PullOutcome {
    pub remote: String,
    /// Checkpoints new here, now in the local refs and log.
    pub pulled: Vec<RemoteCheckpoint>,
    pub up_to_date: bool,
    /// Checkpoints this repository deleted (in its trash), not brought back.
    pub skipped_deleted: Vec<RemoteCheckpoint>,
    pub conflicts: Vec<RemoteConflict>,
}

/// Returns `(session, checkpoint)` for a name `<prefix><session>/<checkpoint>`.
fn parse_ref(name: &str, prefix: &str) -> Option<(SessionId, CheckpointId)> {
    let (session, checkpoint) = name.strip_prefix(prefix)?.split_once('/')?;
    Some((
        SessionId::parse(session).ok()?,
        CheckpointId::parse(checkpoint).ok()?,
    ))
}

/// Returns the remote to use: the one given, else git config's, else `origin`.
pub(crate) fn resolve_remote(repo: &Repo, remote: Option<&str>) -> Result<String> {
    let remote = match remote {
        Some(remote) => remote.to_owned(),
        None => git::default_remote(repo)?,
    };
    git::check_remote(&remote)?;
    Ok(remote)
}

/// Sends the sessions' private refs and spec tags the remote lacks, in one atomic push.
pub(crate) fn push(
    manager: &CheckpointManager,
    remote: &str,
    sessions: Sessions,
) -> Result<PushOutcome> {
    let repo = manager.repo();
    let ours = private_refs(repo, sessions)?;
    if let (Sessions::One(session), true) = (sessions, ours.is_empty()) {
        return Err(Error::SessionNotFound {
            session,
            path: manager.session_log(session).path(),
        });
    }
    let wanted = with_spec_tags(repo, ours)?;
    let theirs: HashMap<String, String> = git::ls_remote(
        repo,
        remote,
        &[sessions.private_prefix(), TAG_PREFIX.to_owned()],
    )?
    .into_iter()
    .collect();
    let (updates, conflicts) = plan_push(wanted, &theirs);
    git::push(repo, remote, &updates)?;
    Ok(PushOutcome {
        remote: remote.to_owned(),
        up_to_date: updates.is_empty() && conflicts.is_empty(),
        pushed: updates.into_iter().map(|u| u.target).collect(),
        conflicts,
    })
}

/// A local ref `push` offers: its name and object, and the checkpoint it belongs to.
struct OfferedRef {
    name: String,
    oid: String,
    session: SessionId,
    checkpoint: CheckpointId,
}

/// Returns the sessions' private refs that name a checkpoint and point at a metadata tag.
fn private_refs(repo: &Repo, sessions: Sessions) -> Result<Vec<OfferedRef>> {
    Ok(git::local_refs(repo, &sessions.private_prefix())?
        .into_iter()
        .filter(|(_, _, kind)| kind == "tag")
        .filter_map(|(name, oid, _)| {
            let (session, checkpoint) = parse_ref(&name, PRIVATE_PREFIX)?;
            Some(OfferedRef {
                name,
                oid,
                session,
                checkpoint,
            })
        })
        .collect())
}

/// Returns `ours` with, after each private ref, its checkpoint's spec tag when one exists here.
fn with_spec_tags(repo: &Repo, ours: Vec<OfferedRef>) -> Result<Vec<OfferedRef>> {
    let tags: HashMap<String, String> = git::local_refs(repo, TAG_GLOB)?
        .into_iter()
        .map(|(name, oid, _)| (name, oid))
        .collect();
    let mut wanted = Vec::new();
    for private in ours {
        let (session, checkpoint) = (private.session, private.checkpoint);
        wanted.push(private);
        let tag = format!("refs/tags/{}", store::tag_name(checkpoint));
        if let Some(tag_oid) = tags.get(&tag) {
            wanted.push(OfferedRef {
                name: tag,
                oid: tag_oid.clone(),
                session,
                checkpoint,
            });
        }
    }
    Ok(wanted)
}

/// Splits the offered refs into creations (the remote lacks them) and conflicts (the remote
/// holds another object); refs the remote already holds as they are drop out. Never overwrites.
fn plan_push(
    wanted: Vec<OfferedRef>,
    theirs: &HashMap<String, String>,
) -> (Vec<RemoteUpdate>, Vec<RemoteConflict>) {
    let mut updates = Vec::new();
    let mut conflicts = Vec::new();
    for OfferedRef {
        name,
        oid,
        session,
        checkpoint,
    } in wanted
    {
        match theirs.get(&name) {
            Some(remote_oid) if *remote_oid == oid => {}
            Some(remote_oid) => conflicts.push(RemoteConflict {
                session_id: session,
                checkpoint_id: checkpoint,
                detail: format!(
                    "the remote's {name} is {remote_oid}, not this repository's {oid}; it was left as it is"
                ),
            }),
            None => updates.push(RemoteUpdate {
                source: Some(name.clone()),
                target: name,
                expected: None,
            }),
        }
    }
    (updates, conflicts)
}

/// Removes every staging ref (ours alone: only the repository lock's holder writes there).
struct Staging<'a> {
    repo: &'a Repo,
}

impl Staging<'_> {
    fn clear(&self) -> Result<()> {
        let mut tx = RefTransaction::default();
        for (name, oid, _) in git::local_refs(self.repo, STAGING_PREFIX)? {
            tx.delete(&name, &oid);
        }
        tx.commit(self.repo, "checkpoint-manager: pull staging removed")
    }
}

impl Drop for Staging<'_> {
    fn drop(&mut self) {
        let _ = self.clear();
    }
}

/// A checkpoint fetched into staging, checked against its ref's name.
struct Incoming {
    session: SessionId,
    checkpoint: CheckpointId,
    tag_object: String,
    record: std::result::Result<Checkpoint, String>,
}

/// Fetches the sessions' private refs into staging, then, per session under its lock, creates
/// the local refs that are missing and merges the log. Conflicts are reported, never resolved.
pub(crate) fn pull(
    manager: &CheckpointManager,
    remote: &str,
    sessions: Sessions,
    include_deleted: bool,
) -> Result<PullOutcome> {
    let repo = manager.repo();
    let staging = Staging { repo };
    staging.clear()?;
    let staging_prefix = match sessions {
        Sessions::One(session) => format!("{STAGING_PREFIX}{session}/"),
        Sessions::All => STAGING_PREFIX.to_owned(),
    };
    git::fetch_into(repo, remote, &sessions.private_prefix(), &staging_prefix)?;
    let incoming = read_incoming(repo)?;
    if incoming.is_empty() {
        return Err(Error::RemoteHasNoCheckpoints {
            remote: remote.to_owned(),
            what: match sessions {
                Sessions::One(session) => format!("session {session}"),
                Sessions::All => "any session".to_owned(),
            },
        });
    }
    let mut outcome = PullOutcome {
        remote: remote.to_owned(),
        pulled: Vec::new(),
        up_to_date: false,
        skipped_deleted: Vec::new(),
        conflicts: Vec::new(),
    };
    for (session, items) in by_session(incoming) {
        merge_session(
            manager,
            remote,
            session,
            items,
            include_deleted,
            &mut outcome,
        )?;
    }
    staging.clear()?;
    outcome.up_to_date = outcome.pulled.is_empty() && outcome.conflicts.is_empty();
    Ok(outcome)
}

/// Groups the incoming checkpoints by session, sessions in order (each merged under its lock).
fn by_session(incoming: Vec<Incoming>) -> BTreeMap<SessionId, Vec<Incoming>> {
    let mut grouped: BTreeMap<SessionId, Vec<Incoming>> = BTreeMap::new();
    for item in incoming {
        grouped.entry(item.session).or_default().push(item);
    }
    grouped
}

/// Reads and parses every staged ref's metadata (one git process for all of them).
fn read_incoming(repo: &Repo) -> Result<Vec<Incoming>> {
    let staged: Vec<(SessionId, CheckpointId, String, String)> =
        git::local_refs(repo, STAGING_PREFIX)?
            .into_iter()
            .filter_map(|(name, oid, kind)| {
                let (session, checkpoint) = parse_ref(&name, STAGING_PREFIX)?;
                Some((session, checkpoint, oid, kind))
            })
            .collect();
    let oids: Vec<String> = staged.iter().map(|s| s.2.clone()).collect();
    let raw = if oids.is_empty() {
        Vec::new()
    } else {
        crate::git::read_objects(repo, &oids)?
    };
    Ok(staged
        .into_iter()
        .zip(raw)
        .map(|((session, checkpoint, tag_object, kind), raw)| {
            let parsed = raw.as_deref().and_then(store::parse_metadata_tag);
            let record = match parsed {
                _ if kind != "tag" => Err(format!(
                    "the remote's ref points at a {kind}, not at checkpoint metadata"
                )),
                Some((s, cp)) if s == session && cp.checkpoint_id == checkpoint => Ok(cp),
                Some(_) => {
                    Err("its metadata names another session or checkpoint than its ref".to_owned())
                }
                None => Err("the remote's ref does not carry checkpoint metadata".to_owned()),
            };
            Incoming {
                session,
                checkpoint,
                tag_object,
                record,
            }
        })
        .collect())
}

/// What this repository holds of one session, read under the session's lock.
struct LocalSession {
    /// Checkpoint id to commit, as the log records them.
    logged: HashMap<CheckpointId, String>,
    /// Private ref to metadata tag.
    refs: HashMap<String, String>,
    trash: HashSet<String>,
    tags: HashSet<String>,
}

/// What `pull` does with one incoming checkpoint.
enum Decision {
    /// Already here, the same.
    Present,
    Conflict(String),
    /// Deleted here: not brought back.
    Deleted,
    /// Create its private ref; and its spec tag on this commit (commit and tag-only modes).
    Create {
        tag_commit: Option<String>,
    },
}

impl LocalSession {
    fn read(repo: &Repo, log: &crate::log::SessionLog, session: SessionId) -> Result<Self> {
        let names = |prefix: &str| -> Result<HashSet<String>> {
            Ok(git::local_refs(repo, prefix)?
                .into_iter()
                .map(|(name, _, _)| name)
                .collect())
        };
        Ok(LocalSession {
            logged: log
                .read()?
                .map(|c| c.checkpoints)
                .unwrap_or_default()
                .into_iter()
                .map(|c| (c.checkpoint_id, c.commit_sha.to_string()))
                .collect(),
            refs: git::local_refs(repo, &store::session_refs(session))?
                .into_iter()
                .map(|(name, oid, _)| (name, oid))
                .collect(),
            trash: names(TRASH_PREFIX)?,
            tags: names(TAG_GLOB)?,
        })
    }

    /// Never overwrites: a local ref or log record that differs is a conflict; an id in the
    /// trash stays deleted unless `include_deleted`.
    fn decide(&self, repo: &Repo, item: Incoming, include_deleted: bool) -> Result<Decision> {
        let record = match item.record {
            Ok(record) => record,
            Err(detail) => return Ok(Decision::Conflict(detail)),
        };
        let private = store::private_ref(item.session, item.checkpoint);
        if let Some(oid) = self.refs.get(&private) {
            if *oid == item.tag_object || same_metadata(repo, oid, &record)? {
                return Ok(Decision::Present);
            }
            return Ok(Decision::Conflict(format!(
                "this repository's {private} holds other metadata or another commit than the \
                 remote's; both were left as they are"
            )));
        }
        if let Some(commit) = self.logged.get(&item.checkpoint) {
            if *commit != record.commit_sha {
                return Ok(Decision::Conflict(format!(
                    "the log here records commit {commit}, the remote {}; both were left as they are",
                    record.commit_sha
                )));
            }
        }
        if !include_deleted
            && self
                .trash
                .contains(&store::trash_ref(item.session, item.checkpoint))
        {
            return Ok(Decision::Deleted);
        }
        Ok(Decision::Create {
            tag_commit: (record.mode != CheckpointMode::Snapshot)
                .then_some(record.commit_sha.to_string()),
        })
    }
}

impl LocalSession {
    /// Decides each incoming checkpoint: creations go into `tx`, conflicts and checkpoints
    /// deleted here into `outcome`. Returns the checkpoints whose creation was queued.
    fn queue_creations(
        &self,
        repo: &Repo,
        items: Vec<Incoming>,
        include_deleted: bool,
        tx: &mut RefTransaction,
        outcome: &mut PullOutcome,
    ) -> Result<Vec<RemoteCheckpoint>> {
        let mut pulled = Vec::new();
        for item in items {
            let (session, checkpoint) = (item.session, item.checkpoint);
            let tag_object = item.tag_object.clone();
            let here = RemoteCheckpoint {
                session_id: session,
                checkpoint_id: checkpoint,
            };
            match self.decide(repo, item, include_deleted)? {
                Decision::Present => {}
                Decision::Conflict(detail) => outcome.conflicts.push(RemoteConflict {
                    session_id: session,
                    checkpoint_id: checkpoint,
                    detail,
                }),
                Decision::Deleted => outcome.skipped_deleted.push(here),
                Decision::Create { tag_commit } => {
                    self.queue_create(tx, &here, &tag_object, tag_commit);
                    pulled.push(here);
                }
            }
        }
        Ok(pulled)
    }

    /// Queues the checkpoint's private ref, and its spec tag when it has one and the tag is
    /// not here yet (an existing tag is never moved).
    fn queue_create(
        &self,
        tx: &mut RefTransaction,
        checkpoint: &RemoteCheckpoint,
        tag_object: &str,
        tag_commit: Option<String>,
    ) {
        let (session, id) = (checkpoint.session_id, checkpoint.checkpoint_id);
        tx.create(&store::private_ref(session, id), tag_object);
        let tag = format!("refs/tags/{}", store::tag_name(id));
        match tag_commit {
            Some(commit) if !self.tags.contains(&tag) => {
                tx.create(&tag, &commit);
            }
            _ => {}
        }
    }
}

/// Under the session's lock: creates the missing refs in one transaction (each created only
/// when absent), then merges the log with git as `repair` does and raises the rollback counters
/// to what the pulled operations record.
fn merge_session(
    manager: &CheckpointManager,
    remote: &str,
    session: SessionId,
    items: Vec<Incoming>,
    include_deleted: bool,
    outcome: &mut PullOutcome,
) -> Result<()> {
    let repo = manager.repo();
    let log = manager.session_log(session);
    log.check_path()?;
    let _session_lock = lock::acquire(&manager.session_lock_path(session), manager.lock_timeout())?;
    let local = LocalSession::read(repo, &log, session)?;
    let mut tx = RefTransaction::default();
    let pulled = local.queue_creations(repo, items, include_deleted, &mut tx, outcome)?;
    tx.commit(repo, &format!("checkpoint-manager: pull from {remote}"))?;
    if !pulled.is_empty() {
        // The log written below must stay out of git's sight, as `create` keeps it.
        repo.ensure_excluded(crate::log::SESSIONS_EXCLUDE)?;
        manager.rebuild(session, &log)?;
        raise_counters(repo, session, &log, &pulled)?;
    }
    outcome.pulled.extend(pulled);
    Ok(())
}

/// Returns true when the local metadata tag `local_tag` records the same checkpoint as `theirs`.
fn same_metadata(repo: &Repo, local_tag: &str, theirs: &Checkpoint) -> Result<bool> {
    let raw = crate::git::read_objects(repo, &[local_tag.to_owned()])?;
    Ok(raw
        .into_iter()
        .flatten()
        .filter_map(|raw| store::parse_metadata_tag(&raw))
        .any(|(_, ours)| ours == *theirs))
}

/// Counts, for each checkpoint, the operations the pulled safety snapshots record as restoring
/// it, and raises its counters to at least that (never lowers them).
fn raise_counters(
    repo: &Repo,
    session: SessionId,
    log: &crate::log::SessionLog,
    pulled: &[RemoteCheckpoint],
) -> Result<()> {
    let pulled: HashSet<CheckpointId> = pulled.iter().map(|p| p.checkpoint_id).collect();
    let operations: Vec<_> = store::read_session_records(repo, session)?
        .into_iter()
        .filter(|(cp, _)| pulled.contains(&cp.checkpoint_id))
        .filter_map(|(_, op)| op)
        .map(|op| crate::model::Operation {
            state: OperationState::Done,
            ..op
        })
        .collect();
    if operations.is_empty() {
        return Ok(());
    }
    let Some(contents) = log.read()? else {
        return Ok(());
    };
    let mut checkpoints = contents.checkpoints.clone();
    recount_rollbacks(&mut checkpoints, &operations);
    if checkpoints != contents.checkpoints {
        log.write(&checkpoints, &contents.operations)?;
    }
    Ok(())
}

/// Deletes the checkpoint's private ref (and its spec tag, with `with_tag`) on the remote, each
/// only if it still holds what `ls-remote` showed; returns the refs deleted.
pub(crate) fn delete_on_remote(
    repo: &Repo,
    remote: &str,
    session: SessionId,
    checkpoint: CheckpointId,
    with_tag: bool,
) -> Result<Vec<String>> {
    let private = store::private_ref(session, checkpoint);
    let tag = format!("refs/tags/{}", store::tag_name(checkpoint));
    let mut names = vec![private];
    if with_tag {
        names.push(tag);
    }
    let theirs = git::ls_remote(repo, remote, &names)?;
    let updates: Vec<RemoteUpdate> = theirs
        .into_iter()
        .filter(|(name, _)| names.contains(name))
        .map(|(name, oid)| RemoteUpdate {
            source: None,
            target: name,
            expected: Some(oid),
        })
        .collect();
    git::push(repo, remote, &updates)?;
    Ok(updates.into_iter().map(|u| u.target).collect())
}

/// Deletes those of `names` (private refs, spec tags) the remote has, each only if it still
/// holds what `ls-remote` showed, in one atomic push; returns them. With `dry_run`, only lists
/// them.
pub(crate) fn delete_refs_on_remote(
    repo: &Repo,
    remote: &str,
    names: &[String],
    dry_run: bool,
) -> Result<Vec<String>> {
    let wanted: HashSet<&str> = names.iter().map(String::as_str).collect();
    let prefixes = [PRIVATE_PREFIX.to_owned(), TAG_PREFIX.to_owned()];
    let updates: Vec<RemoteUpdate> = git::ls_remote(repo, remote, &prefixes)?
        .into_iter()
        .filter(|(name, _)| wanted.contains(name.as_str()))
        .map(|(name, oid)| RemoteUpdate {
            source: None,
            target: name,
            expected: Some(oid),
        })
        .collect();
    if !dry_run {
        git::push(repo, remote, &updates)?;
    }
    Ok(updates.into_iter().map(|u| u.target).collect())
}
