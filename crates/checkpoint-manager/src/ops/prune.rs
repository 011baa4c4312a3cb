//! Retention: checkpoints beyond a count (`keep_last`) or an age (`older_than`) leave the log
//! and go to the trash (`refs/checkpoint-trash/`, where `delete` puts them), so a prune can be
//! taken back; checkpoints already in the trash and beyond the same limits are deleted for good
//! (their objects go with the next `git gc`). Never pruned: the session's newest checkpoint, and
//! (unless asked) a safety snapshot that undo or redo can still return to.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::defaults::{CHECKPOINT_REFS, SESSIONS_DIR, TRASH_REFS};
use crate::error::{Error, Result};
use crate::git::{self, DatedRef, RefTransaction};
use crate::ids::{CheckpointId, ObjectId, SessionId};
use crate::log;
use crate::manager::CheckpointManager;
use crate::model::{Checkpoint, CheckpointPhase, CheckpointType, Notice, Operation};
use crate::ops::rollback::undo_stacks;
use crate::progress::Stage;
use crate::remote::Sessions;
use crate::session::LockedSession;
use crate::settings::{Settings, KEEP_LAST_KEY, MAX_AGE_KEY};
use crate::store;

/// What to prune and how: start from [`PruneRequest::new`], then the `with_*` builders
/// (non-exhaustive, so fields can be added without breaking callers). With neither limit set,
/// the limits configured in git config apply.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct PruneRequest {
    /// Keep this many of the newest checkpoints (0: no count limit).
    pub keep_last: Option<u64>,
    /// Remove checkpoints made longer ago than this (zero: no age limit).
    pub older_than: Option<Duration>,
    /// Also remove safety snapshots that undo or redo still return to.
    pub include_safety: bool,
    /// Report what would be removed; change nothing.
    pub dry_run: bool,
    /// Run `git gc --prune=now` afterwards, so the bytes are really reclaimed.
    pub gc: bool,
    /// Also delete the removed checkpoints' refs on this git remote.
    pub remote: Option<String>,
}

impl PruneRequest {
    /// No limit (the configured ones apply), nothing else.
    pub fn new() -> Self {
        PruneRequest::default()
    }

    /// Sets how many of the newest checkpoints to keep.
    pub fn with_keep_last(mut self, keep_last: Option<u64>) -> Self {
        self.keep_last = keep_last;
        self
    }

    /// Sets the age beyond which checkpoints are removed.
    pub fn with_older_than(mut self, older_than: Option<Duration>) -> Self {
        self.older_than = older_than;
        self
    }

    /// Sets whether safety snapshots undo or redo still need may go too.
    pub fn with_include_safety(mut self, include_safety: bool) -> Self {
        self.include_safety = include_safety;
        self
    }

    /// Sets whether to only report what would be removed.
    pub fn with_dry_run(mut self, dry_run: bool) -> Self {
        self.dry_run = dry_run;
        self
    }

    /// Sets whether to run `git gc --prune=now` afterwards.
    pub fn with_gc(mut self, gc: bool) -> Self {
        self.gc = gc;
        self
    }

    /// Sets the remote whose copies of the removed refs are deleted too.
    pub fn with_remote(mut self, remote: Option<String>) -> Self {
        self.remote = remote;
        self
    }
}

/// A checkpoint a prune removed (or would remove).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrunedCheckpoint {
    pub session_id: SessionId,
    pub checkpoint_id: CheckpointId,
    /// `None` for a trash entry without metadata (a record of an early version).
    pub phase: Option<CheckpointPhase>,
    pub checkpoint_type: Option<CheckpointType>,
    /// When it was made (ISO 8601).
    pub created: Option<String>,
    /// True for an automatic safety snapshot.
    pub safety: bool,
    pub commit_sha: ObjectId,
}

/// What a prune did (or, with `dry_run`, would do).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PruneOutcome {
    pub dry_run: bool,
    /// The limits applied (given, or from git config).
    pub keep_last: Option<u64>,
    pub older_than_seconds: Option<u64>,
    /// Checkpoints that left the log, moved to `refs/checkpoint-trash/` (recoverable).
    pub removed: Vec<PrunedCheckpoint>,
    /// Deleted checkpoints that aged out of the trash: their refs are deleted.
    pub purged: Vec<PrunedCheckpoint>,
    /// Spec tags (`checkpoint-<uuid>`) deleted with the removed checkpoints.
    pub removed_tags: Vec<String>,
    /// Disk bytes of the objects only the purged refs reached: what `git gc --prune=now`
    /// reclaims (or reclaimed, with `gc`).
    pub reclaimable_bytes: u64,
    /// True when `git gc --prune=now` ran.
    pub gc: bool,
    /// The remote whose copies were deleted too, and the refs deleted there.
    pub remote: Option<String>,
    pub remote_removed: Vec<String>,
}

/// The limits as applied: a count of newer checkpoints and the oldest creation time kept.
#[derive(Debug, Clone, Copy)]
struct Limits {
    keep_last: Option<usize>,
    oldest_kept: Option<DateTime<Utc>>,
}

impl Limits {
    /// Zero means "no limit", as for the other caps in git config.
    fn new(keep_last: Option<u64>, older_than: Option<Duration>, now: DateTime<Utc>) -> Self {
        Limits {
            keep_last: keep_last
                .filter(|n| *n > 0)
                .map(|n| usize::try_from(n).unwrap_or(usize::MAX)),
            oldest_kept: older_than
                .filter(|age| !age.is_zero())
                .and_then(|age| chrono::Duration::from_std(age).ok())
                .and_then(|age| now.checked_sub_signed(age)),
        }
    }

    fn is_empty(&self) -> bool {
        self.keep_last.is_none() && self.oldest_kept.is_none()
    }

    /// True when `newer` user checkpoints of the session are newer than it (at least
    /// `keep_last`), or it was made before the oldest time kept.
    fn beyond(&self, created: Option<DateTime<Utc>>, newer: usize) -> bool {
        self.keep_last.is_some_and(|n| newer >= n)
            || matches!((self.oldest_kept, created), (Some(oldest), Some(made)) if made < oldest)
    }
}

/// Parses a log timestamp (ours, or the original tool's without a zone) or a git date.
fn instant(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
                .ok()
                .map(|t| t.and_utc())
        })
}

/// A deleted checkpoint in the trash, with its metadata when its ref holds a metadata tag.
#[derive(Debug, Clone)]
struct TrashEntry {
    found: DatedRef,
    checkpoint_id: CheckpointId,
    record: Option<Checkpoint>,
}

impl TrashEntry {
    fn created(&self) -> Option<DateTime<Utc>> {
        match &self.record {
            Some(record) => instant(&record.timestamp),
            None => instant(&self.found.date),
        }
    }
}

/// What one session loses.
#[derive(Debug, Default)]
struct Plan {
    to_trash: Vec<Checkpoint>,
    to_purge: Vec<TrashEntry>,
}

/// What pruning one session did.
#[derive(Debug, Default)]
struct SessionPruned {
    removed: Vec<PrunedCheckpoint>,
    purged: Vec<PrunedCheckpoint>,
    removed_tags: Vec<String>,
    /// The trash refs deleted and the objects they held.
    purged_refs: Vec<(String, String)>,
}

impl CheckpointManager {
    /// Prunes the sessions under each one's locks, then measures (and with `gc` reclaims) the
    /// bytes under the repository lock, then deletes the refs on the remote.
    pub(crate) fn prune_sessions(
        &self,
        sessions: Sessions,
        request: &PruneRequest,
    ) -> Result<PruneOutcome> {
        let (keep_last, older_than) = self.retention_limits(request)?;
        if let Some(remote) = &request.remote {
            git::check_remote(remote)?;
        }
        let limits = Limits::new(keep_last, older_than, Utc::now());
        let mut outcome = PruneOutcome {
            dry_run: request.dry_run,
            keep_last,
            older_than_seconds: older_than.map(|age| age.as_secs()),
            remote: request.remote.clone(),
            ..PruneOutcome::default()
        };
        let mut purged_refs = Vec::new();
        for session in self.sessions_to_prune(sessions)? {
            let mut open = self.lock_session(session, false)?;
            let done = self.prune_locked(&mut open, session, &limits, request, None)?;
            outcome.removed.extend(done.removed);
            outcome.purged.extend(done.purged);
            outcome.removed_tags.extend(done.removed_tags);
            purged_refs.extend(done.purged_refs);
        }
        self.reclaim(&mut outcome, &purged_refs, request.gc)?;
        if let Some(remote) = &request.remote {
            self.prune_on_remote(remote, &mut outcome)?;
        }
        Ok(outcome)
    }

    /// The limits given, else those of git config; none at all is refused.
    fn retention_limits(&self, request: &PruneRequest) -> Result<(Option<u64>, Option<Duration>)> {
        if request.keep_last.is_some() || request.older_than.is_some() {
            return Ok((request.keep_last, request.older_than));
        }
        let settings = self.settings()?;
        if settings.keep_last.is_none() && settings.max_age.is_none() {
            return Err(Error::NoRetentionLimit {
                keys: format!("{KEEP_LAST_KEY} or {MAX_AGE_KEY}"),
            });
        }
        Ok((settings.keep_last, settings.max_age))
    }

    /// One session (which must exist: a log, private refs or trash refs), or every session.
    fn sessions_to_prune(&self, sessions: Sessions) -> Result<Vec<SessionId>> {
        match sessions {
            Sessions::One(session) => {
                let trash = format!("{TRASH_REFS}{session}/");
                let exists = self.session_log(session).path().exists()
                    || store::session_has_refs(&self.repo, session)?
                    || git::any_ref_under(&self.repo, &trash)?;
                if !exists {
                    return Err(Error::SessionNotFound {
                        session,
                        path: self.session_log(session).path(),
                    });
                }
                Ok(vec![session])
            }
            Sessions::All => self.every_session(),
        }
    }

    /// Every session with a log, private refs or deleted checkpoints in the trash.
    fn every_session(&self) -> Result<Vec<SessionId>> {
        let mut names = BTreeSet::new();
        for prefix in [CHECKPOINT_REFS, TRASH_REFS] {
            for (name, _, _) in git::local_refs(&self.repo, prefix)? {
                if let Some((session, _)) = name[prefix.len()..].split_once('/') {
                    names.insert(session.to_owned());
                }
            }
        }
        if let Ok(entries) = std::fs::read_dir(self.repo.workdir().join(SESSIONS_DIR)) {
            for entry in entries.flatten() {
                names.insert(entry.file_name().to_string_lossy().into_owned());
            }
        }
        Ok(names
            .iter()
            .filter_map(|name| SessionId::parse(name).ok())
            .collect())
    }

    /// Prunes one opened session: plans, then moves refs in one transaction and saves the log
    /// (unless `dry_run`). `protect` is never removed (the checkpoint `create` just made).
    fn prune_locked(
        &self,
        open: &mut LockedSession,
        session: SessionId,
        limits: &Limits,
        request: &PruneRequest,
        protect: Option<CheckpointId>,
    ) -> Result<SessionPruned> {
        let trash = read_trash(&self.repo, session)?;
        let plan = plan(
            &open.checkpoints,
            &open.operations,
            trash,
            limits,
            request.include_safety,
            protect,
        );
        let removed_tags = self.move_refs(session, &plan, request.dry_run)?;
        let leaving: HashSet<CheckpointId> =
            plan.to_trash.iter().map(|c| c.checkpoint_id).collect();
        if !request.dry_run && !leaving.is_empty() {
            open.checkpoints
                .retain(|c| !leaving.contains(&c.checkpoint_id));
            open.save()?;
        }
        Ok(SessionPruned {
            removed: plan
                .to_trash
                .iter()
                .map(|cp| pruned_record(session, cp))
                .collect(),
            purged: plan
                .to_purge
                .iter()
                .map(|entry| pruned_trash(session, entry))
                .collect(),
            removed_tags,
            purged_refs: plan
                .to_purge
                .iter()
                .map(|e| (e.found.name.clone(), e.found.oid.clone()))
                .collect(),
        })
    }

    /// Builds the transaction (private ref to the trash, spec tag deleted, aged-out trash refs
    /// deleted), each a compare-and-swap on what was read; commits it unless `dry_run`.
    /// Returns the spec tags it deletes.
    fn move_refs(&self, session: SessionId, plan: &Plan, dry_run: bool) -> Result<Vec<String>> {
        let mut names = Vec::new();
        for cp in &plan.to_trash {
            names.push(store::private_ref(session, cp.checkpoint_id));
            names.push(store::trash_ref(session, cp.checkpoint_id));
            names.push(spec_tag_ref(cp.checkpoint_id));
        }
        let current = if names.is_empty() {
            HashMap::new()
        } else {
            git::read_refs(&self.repo, &names)?
        };
        let without_ref: Vec<String> = plan
            .to_trash
            .iter()
            .filter(|cp| !current.contains_key(&store::private_ref(session, cp.checkpoint_id)))
            .map(|cp| cp.commit_sha.to_string())
            .collect();
        let commits_exist = store::existing_commits(&self.repo, &without_ref)?;
        let mut commit_exists = without_ref.iter().zip(commits_exist);
        let mut refs = RefTransaction::default();
        let mut removed_tags = Vec::new();
        for cp in &plan.to_trash {
            let private = store::private_ref(session, cp.checkpoint_id);
            let trash = store::trash_ref(session, cp.checkpoint_id);
            let old_trash = current.get(&trash).map(String::as_str);
            match current.get(&private) {
                Some(tag_object) => {
                    refs.delete(&private, tag_object);
                    refs.update(&trash, tag_object, old_trash);
                }
                // A record of an early version, without a private ref: its commit is kept.
                None if commit_exists.next().is_some_and(|(_, exists)| exists) => {
                    refs.update(&trash, &cp.commit_sha, old_trash);
                }
                None => {}
            }
            let tag = spec_tag_ref(cp.checkpoint_id);
            if let Some(oid) = current.get(&tag) {
                refs.delete(&tag, oid);
                removed_tags.push(store::tag_name(cp.checkpoint_id));
            }
        }
        for entry in &plan.to_purge {
            refs.delete(&entry.found.name, &entry.found.oid);
        }
        if !dry_run {
            refs.commit(
                &self.repo,
                &format!("checkpoint-manager: prune session {session}"),
            )?;
        }
        Ok(removed_tags)
    }

    /// Measures the bytes only the purged refs held; with `gc` (not in a dry run) reclaims
    /// them. Under the repository lock: a create in progress writes its objects before its refs,
    /// and `gc --prune=now` must not take them in between.
    fn reclaim(
        &self,
        outcome: &mut PruneOutcome,
        purged_refs: &[(String, String)],
        gc: bool,
    ) -> Result<()> {
        let _repo_lock = if outcome.dry_run {
            None
        } else {
            Some(self.lock_repo()?)
        };
        let (leaving, tips): (Vec<String>, Vec<String>) = purged_refs.iter().cloned().unzip();
        outcome.reclaimable_bytes = git::bytes_only_reachable_from(&self.repo, &tips, &leaving)?;
        if gc && !outcome.dry_run {
            let _collecting = self.progress(Stage::CollectingGarbage, None);
            git::gc_prune_now(&self.repo)?;
            outcome.gc = true;
        }
        Ok(())
    }

    /// Deletes the removed checkpoints' private refs and spec tags on `remote` (in a dry run:
    /// lists those the remote has). A failure after a real prune carries what was done here.
    fn prune_on_remote(&self, remote: &str, outcome: &mut PruneOutcome) -> Result<()> {
        let mut names: Vec<String> = outcome
            .removed
            .iter()
            .chain(&outcome.purged)
            .map(|p| store::private_ref(p.session_id, p.checkpoint_id))
            .collect();
        names.extend(
            outcome
                .removed_tags
                .iter()
                .map(|t| format!("refs/tags/{t}")),
        );
        if names.is_empty() {
            return Ok(());
        }
        match crate::remote::delete_refs_on_remote(&self.repo, remote, &names, outcome.dry_run) {
            Ok(deleted) => {
                outcome.remote_removed = deleted;
                Ok(())
            }
            Err(source) if outcome.dry_run => Err(source),
            Err(source) => Err(Error::PruneRemoteFailed {
                remote: remote.to_owned(),
                removed: outcome.removed.len(),
                purged: outcome.purged.len(),
                source: Box::new(source),
                outcome: Box::new(outcome.clone()),
            }),
        }
    }

    /// After `create` made `created`: prunes the session beyond the limits set in git config,
    /// if any, and says so. A failure here does not undo the checkpoint: it becomes a warning.
    pub(crate) fn prune_after_create(
        &self,
        open: &mut LockedSession,
        session: SessionId,
        settings: &Settings,
        created: CheckpointId,
    ) {
        let limits = Limits::new(settings.keep_last, settings.max_age, Utc::now());
        if limits.is_empty() {
            return;
        }
        let request = PruneRequest::new();
        match self.prune_locked(open, session, &limits, &request, Some(created)) {
            Ok(done) if done.removed.is_empty() && done.purged.is_empty() => {}
            Ok(done) => self.notify(Notice::Pruned {
                session: session.as_string(),
                removed: done.removed.len(),
                purged: done.purged.len(),
            }),
            Err(e) => self.notify(Notice::PruneFailed {
                session: session.as_string(),
                detail: e.to_string(),
            }),
        }
    }
}

/// Decides what leaves: user checkpoints past the newest `keep_last` or too old (never the
/// newest, never `protect`); safety snapshots likewise, counted against the user checkpoints
/// newer than them, unless undo or redo still return to them; trash entries likewise (an id
/// being moved to the trash now replaces its old entry instead).
fn plan(
    checkpoints: &[Checkpoint],
    operations: &[Operation],
    trash: Vec<TrashEntry>,
    limits: &Limits,
    include_safety: bool,
    protect: Option<CheckpointId>,
) -> Plan {
    let users: Vec<Checkpoint> = log::newest_first(checkpoints)
        .into_iter()
        .filter(|c| !c.is_safety_snapshot())
        .collect();
    let mut user_times: Vec<DateTime<Utc>> =
        users.iter().filter_map(|c| instant(&c.timestamp)).collect();
    user_times.sort_unstable_by(|a, b| b.cmp(a));
    let newer_users = |made: Option<DateTime<Utc>>| {
        made.map_or(0, |t| user_times.iter().take_while(|u| **u > t).count())
    };
    // The last one made stays too, even when a clock set ahead dated an older one later.
    let last_made = checkpoints
        .iter()
        .rfind(|c| !c.is_safety_snapshot())
        .map(|c| c.checkpoint_id);
    let mut to_trash: Vec<Checkpoint> = users
        .iter()
        .enumerate()
        .filter(|(rank, cp)| *rank > 0 && Some(cp.checkpoint_id) != protect)
        .filter(|(_, cp)| Some(cp.checkpoint_id) != last_made)
        .filter(|(rank, cp)| limits.beyond(instant(&cp.timestamp), *rank))
        .map(|(_, cp)| cp.clone())
        .collect();
    let needed = needed_by_history(checkpoints, operations);
    to_trash.extend(
        checkpoints
            .iter()
            .filter(|cp| cp.is_safety_snapshot())
            .filter(|cp| include_safety || !needed.contains(&cp.checkpoint_id))
            .filter(|cp| Some(cp.checkpoint_id) != protect)
            .filter(|cp| {
                let made = instant(&cp.timestamp);
                limits.beyond(made, newer_users(made))
            })
            .cloned(),
    );
    let leaving: HashSet<CheckpointId> = to_trash.iter().map(|c| c.checkpoint_id).collect();
    let mut to_purge: Vec<TrashEntry> = trash
        .into_iter()
        .filter(|entry| !leaving.contains(&entry.checkpoint_id))
        .filter(|entry| limits.beyond(entry.created(), newer_users(entry.created())))
        .collect();
    // Newest first, as the removed user checkpoints are listed.
    to_purge.sort_by_key(|entry| std::cmp::Reverse(entry.created()));
    Plan { to_trash, to_purge }
}

/// The safety snapshots undo and redo can still return to: those of the operations in effect
/// and of the undos redo can take back; for a log from before the history, the newest one.
fn needed_by_history(
    checkpoints: &[Checkpoint],
    operations: &[Operation],
) -> HashSet<CheckpointId> {
    let (in_effect, undos) = undo_stacks(operations);
    let mut needed: HashSet<CheckpointId> = in_effect
        .iter()
        .chain(&undos)
        .map(|op| op.safety_checkpoint_id)
        .collect();
    if operations.is_empty() {
        if let Some(newest) = log::newest_first(checkpoints)
            .into_iter()
            .find(Checkpoint::is_safety_snapshot)
        {
            needed.insert(newest.checkpoint_id);
        }
    }
    needed
}

/// Reads the session's trash refs, with the metadata of those that hold a metadata tag.
fn read_trash(repo: &git::Repo, session: SessionId) -> Result<Vec<TrashEntry>> {
    let prefix = format!("{TRASH_REFS}{session}/");
    let found = git::dated_refs(repo, &prefix)?;
    let tags: Vec<String> = found
        .iter()
        .filter(|r| r.kind == "tag")
        .map(|r| r.oid.clone())
        .collect();
    let mut records: HashMap<String, Checkpoint> = HashMap::new();
    if !tags.is_empty() {
        for (oid, raw) in tags.iter().zip(git::read_objects(repo, &tags)?) {
            if let Some((_, record)) = raw.and_then(|raw| store::parse_metadata_tag(&raw)) {
                records.insert(oid.clone(), record);
            }
        }
    }
    Ok(found
        .into_iter()
        .filter_map(|r| {
            let checkpoint_id = CheckpointId::parse(r.name.strip_prefix(&prefix)?).ok()?;
            Some(TrashEntry {
                record: records.get(&r.oid).cloned(),
                checkpoint_id,
                found: r,
            })
        })
        .collect())
}

fn spec_tag_ref(checkpoint: CheckpointId) -> String {
    format!("refs/tags/{}", store::tag_name(checkpoint))
}

fn pruned_record(session: SessionId, cp: &Checkpoint) -> PrunedCheckpoint {
    PrunedCheckpoint {
        session_id: session,
        checkpoint_id: cp.checkpoint_id,
        phase: Some(cp.phase),
        checkpoint_type: Some(cp.checkpoint_type),
        created: Some(cp.timestamp.clone()),
        safety: cp.is_safety_snapshot(),
        commit_sha: cp.commit_sha.clone(),
    }
}

fn pruned_trash(session: SessionId, entry: &TrashEntry) -> PrunedCheckpoint {
    match &entry.record {
        Some(record) => pruned_record(session, record),
        None => PrunedCheckpoint {
            session_id: session,
            checkpoint_id: entry.checkpoint_id,
            phase: None,
            checkpoint_type: None,
            created: (!entry.found.date.is_empty()).then(|| entry.found.date.clone()),
            safety: false,
            commit_sha: ObjectId::new(entry.found.oid.clone()),
        },
    }
}
