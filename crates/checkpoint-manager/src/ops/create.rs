//! Creating a checkpoint: tag, commit (staging in a copy of the index, then the commit
//! written with the user's identity) or snapshot, recorded under both locks.

use crate::defaults::COMMIT_NOTICE_MARKER;
use crate::error::{Error, Result};
use crate::git::RefTransaction;
use crate::git::{Author, Status};
use crate::ids::{CheckpointId, ObjectId, SessionId};
use crate::log::{now_timestamp, SESSIONS_EXCLUDE};
use crate::manager::{CheckpointManager, CreateRequest, Created};
use crate::model::{Checkpoint, CheckpointMode, Notice, SkipReason, SkippedPath, SnapshotInfo};
use crate::ops::include::resolve_includes;
use crate::ops::rollback::is_object_id;
use crate::progress::Stage;
use crate::session::AppendSession;
use crate::snapshot::{self, Caps, Captured, IndexFile, IndexStamp, TempIndex};
use crate::store;
use crate::validate;

impl CheckpointManager {
    pub(crate) fn create_inner(
        &self,
        session: SessionId,
        request: &CreateRequest,
        announce: bool,
        if_changed: bool,
    ) -> Result<Created> {
        check_description(&request.description)?;
        let include = self.includes(request)?;
        // A corrupt log fails here, before anything changes.
        let mut open = self.lock_session_to_append(session)?;
        let read = self.read_for_create(request, include)?;
        let id = CheckpointId::new_random();
        let mut checkpoint = new_checkpoint(request, id);
        let mut refs = RefTransaction::default();
        let capturing = self.progress(Stage::CapturingFiles, None);
        let (new_index, made_commit) = self.write_by_mode(
            request,
            &read.status,
            (read.index_copy, read.capture.as_ref()),
            &mut checkpoint,
            &mut refs,
        )?;
        drop(capturing);
        if if_changed {
            if let Some(newest) = self.same_files_as_newest(open.newest(), &checkpoint) {
                return Ok(Created {
                    checkpoint: newest,
                    unchanged: true,
                });
            }
        }
        self.record_created(&mut open, session, request, &mut checkpoint, refs)?;
        // The commit is on the branch and logged: the user's index follows it.
        if let Some(staged) = new_index {
            self.install_staged_index(staged)
                .map_err(|e| Error::IndexNotUpdated {
                    source: Box::new(e),
                    checkpoint: id,
                })?;
        }
        if announce {
            self.announce(&checkpoint, made_commit, read.capture.map(|c| c.caps));
        }
        self.retain_after_create(open, session, &read.settings, id);
        Ok(Created {
            checkpoint,
            unchanged: false,
        })
    }

    /// Reads what a create needs (status, the index copy, the settings) and refuses a state
    /// or a setting that forbids it, before anything changes.
    fn read_for_create(
        &self,
        request: &CreateRequest,
        include: Vec<Vec<u8>>,
    ) -> Result<ReadForCreate> {
        self.repo.ensure_excluded(SESSIONS_EXCLUDE)?;
        let reading = self.progress(Stage::ReadingWorkTree, None);
        let state = snapshot::read_state(
            &self.repo,
            request.mode != CheckpointMode::Tag,
            request.mode == CheckpointMode::Snapshot,
        )?;
        drop(reading);
        validate::require_checkpointable(&self.repo, &state.status)?;
        // A value in git config that does not parse is refused (naming the key) before
        // anything changes: the caps and the retention limits come from there.
        let settings = state.settings?;
        let capture = match request.mode {
            CheckpointMode::Tag => None,
            _ => Some(Capture {
                caps: self.options.caps(&settings),
                include,
            }),
        };
        Ok(ReadForCreate {
            status: state.status,
            index_copy: state.index_copy,
            settings,
            capture,
        })
    }

    /// Publishes the checkpoint: its spec tag (not for snapshots), its metadata under the
    /// private ref, in one ref transaction with what `refs` holds already; then the log.
    fn record_created(
        &self,
        open: &mut AppendSession,
        session: SessionId,
        request: &CreateRequest,
        checkpoint: &mut Checkpoint,
        mut refs: RefTransaction,
    ) -> Result<()> {
        let id = checkpoint.checkpoint_id;
        if request.mode != CheckpointMode::Snapshot {
            let tag = store::tag_name(id);
            refs.create(&format!("refs/tags/{tag}"), &checkpoint.commit_sha);
            checkpoint.tags.push(tag);
        }
        let tag_object = store::write_metadata_tag(&self.repo, session, checkpoint)?;
        refs.create(&store::private_ref(session, id), &tag_object);
        let message = format!(
            "checkpoint-manager: checkpoint {id}: {}",
            first_line(&request.description)
        );
        refs.commit(&self.repo, &message)?;
        open.append(checkpoint.clone())
            .map_err(|e| Error::NotLogged {
                source: Box::new(e),
                session,
                checkpoint: id,
            })
    }

    /// Retention limits set in git config: prunes beyond them, never the new checkpoint. The
    /// whole log is read only when limits are configured.
    fn retain_after_create(
        &self,
        open: AppendSession,
        session: SessionId,
        settings: &crate::Settings,
        created: CheckpointId,
    ) {
        if settings.keep_last.is_none() && settings.max_age.is_none() {
            return;
        }
        match open.into_locked() {
            Ok(mut open) => self.prune_after_create(&mut open, session, settings, created),
            Err(e) => self.notify(Notice::PruneFailed {
                session: session.as_string(),
                detail: e.to_string(),
            }),
        }
    }

    /// The request's include paths as git spells them; a tag checkpoint captures no files.
    fn includes(&self, request: &CreateRequest) -> Result<Vec<Vec<u8>>> {
        match (request.mode, request.include.first()) {
            (CheckpointMode::Tag, Some(path)) => Err(Error::InvalidInclude {
                path: path.clone(),
                problem: "a tag checkpoint captures no files (make a snapshot or a commit \
                          checkpoint to include it)",
            }),
            _ => resolve_includes(&self.repo, &request.include),
        }
    }

    /// Returns the session's newest checkpoint when its tree is `candidate`'s. Only the objects
    /// of `candidate` exist yet (no ref, no log entry), so dropping it changes nothing. A
    /// newest checkpoint whose commit git cannot read counts as different: a new one is made.
    fn same_files_as_newest(
        &self,
        newest: Option<Checkpoint>,
        candidate: &Checkpoint,
    ) -> Option<Checkpoint> {
        let newest = newest?;
        if !is_object_id(&candidate.commit_sha) || !is_object_id(&newest.commit_sha) {
            return None;
        }
        let trees = self
            .repo
            .tree_ids(&[&candidate.commit_sha, &newest.commit_sha])
            .ok()?;
        (trees.len() == 2 && trees[0] == trees[1]).then_some(newest)
    }

    /// Writes what the mode asks for and fills `checkpoint` in: a tag checkpoint needs a clean
    /// HEAD; a commit checkpoint commits every change (the HEAD move joins `refs`); a snapshot
    /// captures the state. Returns the index to install after a commit and whether one was made.
    fn write_by_mode(
        &self,
        request: &CreateRequest,
        status: &Status,
        (index_copy, capture): (Option<Result<snapshot::IndexCopy>>, Option<&Capture>),
        checkpoint: &mut Checkpoint,
        refs: &mut RefTransaction,
    ) -> Result<(Option<StagedIndex>, bool)> {
        let mut new_index = None;
        let mut made_commit = false;
        match request.mode {
            CheckpointMode::Tag => {
                if status.has_changes() {
                    return Err(Error::UncommittedChanges {
                        count: status.entries.len(),
                    });
                }
                checkpoint.commit_sha = status.head.oid.clone().ok_or(Error::NothingToTag)?.into();
            }
            CheckpointMode::Commit => {
                let message = commit_message(request, checkpoint.checkpoint_id);
                let capture = capture.expect("a commit captures files");
                let (commit, staged, skipped) = self.commit_all(status, &message, capture)?;
                if staged.is_some() {
                    refs.update("HEAD", &commit, status.head.oid.as_deref());
                    checkpoint.commit_message = Some(message);
                    made_commit = true;
                }
                checkpoint.skipped = skipped;
                new_index = staged;
                checkpoint.commit_sha = commit.into();
            }
            CheckpointMode::Snapshot => {
                let message = format!("checkpoint-manager snapshot: {}", request.description);
                let copy = index_copy.expect("snapshot mode copies the index")?;
                let capture = capture.expect("a snapshot captures files");
                let assume_unchanged = copy.assume_unchanged().to_vec();
                let captured = snapshot::capture(
                    &self.repo,
                    status,
                    copy,
                    capture.caps,
                    &capture.include,
                    &[],
                    &message,
                )?;
                checkpoint.commit_sha = captured.commit.clone().into();
                checkpoint.commit_message = Some(message);
                checkpoint.snapshot = Some(snapshot_info(captured, false, &assume_unchanged));
            }
        }
        Ok((new_index, made_commit))
    }

    /// Tells the notice sink of the files a commit left out for their size and, on the first
    /// checkpoint commit in this repository, that such commits skip hooks and signing.
    fn announce(&self, checkpoint: &Checkpoint, made_commit: bool, caps: Option<Caps>) {
        let caps = caps.unwrap_or(Caps {
            max_file_size: None,
            max_untracked_dir_files: None,
        });
        for skipped in &checkpoint.skipped {
            self.notify(match (skipped.reason, skipped.files) {
                (SkipReason::TooManyFiles, Some(files)) => Notice::TooManyFiles {
                    path: skipped.path.clone(),
                    files,
                    cap: caps.max_untracked_dir_files.unwrap_or_default(),
                },
                _ => Notice::TooLarge {
                    path: skipped.path.clone(),
                    size: skipped.size,
                    cap: caps.max_file_size,
                },
            });
        }
        if made_commit && self.first_commit_notice() {
            self.notify(Notice::CommitsSkipHooks);
        }
    }

    /// True the first time it is asked in this repository (best effort: when the marker cannot
    /// be written, the notice is said again next time rather than never).
    pub(crate) fn first_commit_notice(&self) -> bool {
        let dir = self.repo.private_dir();
        let marker = dir.join(COMMIT_NOTICE_MARKER);
        if marker.exists() {
            return false;
        }
        let _ = std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&marker, b""));
        true
    }

    /// Stages everything (like `git add -A`) in a copy of the user's index and commits it; with
    /// nothing to commit it returns HEAD. Returns the commit and, when it is new, the staged
    /// index to put in place once the commit is on the branch (with the stamp of the index it
    /// was copied from: a version written meanwhile by another git is not overwritten). Untracked
    /// files over the size cap stay out, as in a snapshot, and are returned as skipped.
    pub(crate) fn commit_all(
        &self,
        status: &Status,
        message: &str,
        capture: &Capture,
    ) -> Result<(String, Option<StagedIndex>, Vec<SkippedPath>)> {
        let (paths, skipped) = commit_paths(&self.repo, status, capture)?;
        if !status.has_changes() && capture.include.is_empty() {
            if let Some(head) = &status.head.oid {
                return Ok((head.clone(), None, skipped));
            }
        }
        // Staged in a copy that replaces the user's index only once the commit is on the
        // branch: if anything fails before, the user's index (partial staging included) is as
        // it was. No `index.lock` is held meanwhile, so a kill -9 cannot leave one behind.
        self.require_index_unlocked()?;
        let stamp = IndexStamp::of(&self.repo)?;
        let copy = TempIndex::copy_of_user_index(&self.repo)?;
        let index = IndexFile::Replacement(copy.path());
        snapshot::stage_paths(&self.repo, index, &paths)?;
        if !capture.include.is_empty() {
            crate::git::force_add(&self.repo, index, &capture.include)?;
        }
        let tree = snapshot::write_tree(&self.repo, index)?;
        // Without staged changes the new tree is HEAD's plus work-tree changes, so it differs;
        // only staged changes can cancel out (staged, then reverted in the work tree), and a
        // submodule with work inside but the same commit changes nothing in the tree.
        // Files left out for their size can leave nothing to commit too.
        let may_equal_head = !skipped.is_empty()
            || !capture.include.is_empty()
            || has_staged_or_submodule_changes(status);
        if let (Some(head), true) = (&status.head.oid, may_equal_head) {
            let head_tree = crate::git::tree_of(&self.repo, head)?;
            if head_tree == tree {
                return Ok((head.clone(), None, skipped));
            }
        }
        let parents: Vec<&str> = status.head.oid.iter().map(String::as_str).collect();
        let commit =
            crate::git::write_commit(&self.repo, &tree, &parents, message, Author::UserOrTool)?;
        let forced = capture.include.clone();
        let staged = StagedIndex {
            copy,
            stamp,
            paths,
            forced,
        };
        Ok((commit, Some(staged), skipped))
    }

    /// Puts the staged copy in place of the user's index; when another git wrote the index
    /// meanwhile, stages the same paths into that version instead (as `git add -A` would now).
    pub(crate) fn install_staged_index(&self, staged: StagedIndex) -> Result<()> {
        let StagedIndex {
            copy,
            stamp,
            paths,
            forced,
        } = staged;
        if copy.replace_user_index(&self.repo, &stamp)? {
            return Ok(());
        }
        snapshot::stage_paths(&self.repo, IndexFile::User, &paths)?;
        if forced.is_empty() {
            return Ok(());
        }
        crate::git::force_add(&self.repo, IndexFile::User, &forced)
    }
}

/// What a create read before writing anything.
#[derive(Debug)]
struct ReadForCreate {
    status: Status,
    index_copy: Option<Result<snapshot::IndexCopy>>,
    settings: crate::Settings,
    capture: Option<Capture>,
}

/// What a commit checkpoint stages (`git add -A`'s paths, nested repositories as gitlinks)
/// and the files it reports as left out (too large or too many, less what is included).
fn commit_paths(
    repo: &crate::git::Repo,
    status: &Status,
    capture: &Capture,
) -> Result<(Vec<Vec<u8>>, Vec<SkippedPath>)> {
    let (paths, skipped) = snapshot::paths_to_capture(repo, status, capture.caps)?;
    // Nested repositories become gitlinks below, and a submodule's commit is what a commit
    // holds anyway: only files left out for their size or number are reported.
    let skipped = skipped
        .into_iter()
        .filter(|s| matches!(s.reason, SkipReason::TooLarge | SkipReason::TooManyFiles))
        .filter(|s| !capture.includes(s.path.as_bytes()))
        .collect();
    let paths = paths
        .into_iter()
        .chain(status.entries.iter().filter_map(|e| match e {
            // `git add -A` records an untracked nested repository as a gitlink.
            crate::git::StatusEntry::Untracked { path } if path.ends_with(b"/") => {
                Some(path[..path.len() - 1].to_vec())
            }
            _ => None,
        }))
        .collect();
    Ok((paths, skipped))
}

/// Staged changes, or a submodule with work inside: what can make a commit's tree equal
/// HEAD's although status lists changes.
fn has_staged_or_submodule_changes(status: &Status) -> bool {
    status.entries.iter().any(|e| {
        matches!(e, crate::git::StatusEntry::Changed { x, dirty_submodule, .. }
            if *x != '.' || *dirty_submodule)
    })
}

/// A description must say something, and git cannot store a NUL in a message.
fn check_description(description: &str) -> Result<()> {
    if description.trim().is_empty() {
        return Err(Error::EmptyText {
            what: "description",
        });
    }
    if description.contains('\0') {
        return Err(Error::NulInText {
            what: "description",
        });
    }
    Ok(())
}

/// What a snapshot or a commit captures beyond what git status lists: the caps in force and
/// the paths included whatever they are.
#[derive(Debug)]
pub(crate) struct Capture {
    pub(crate) caps: Caps,
    /// Paths as git spells them, forced in even when ignored or over a cap.
    pub(crate) include: Vec<Vec<u8>>,
}

impl Capture {
    /// True when `path` is, or lies in, an included path.
    fn includes(&self, path: &[u8]) -> bool {
        let path = path.strip_suffix(b"/").unwrap_or(path);
        self.include.iter().any(|i| {
            path == i.as_slice() || (path.starts_with(i) && path.get(i.len()) == Some(&b'/'))
        })
    }
}

/// A copy of the user's index with the commit's changes staged, waiting to replace it.
#[derive(Debug)]
pub(crate) struct StagedIndex {
    pub(crate) copy: TempIndex,
    /// The version of the user's index the copy was made from.
    pub(crate) stamp: IndexStamp,
    /// What was staged, to stage again if another git rewrote the index meanwhile.
    pub(crate) paths: Vec<Vec<u8>>,
    /// What was force-added (included), likewise.
    pub(crate) forced: Vec<Vec<u8>>,
}

pub(crate) fn snapshot_info(
    captured: Captured,
    safety: bool,
    assume_unchanged: &[Vec<u8>],
) -> SnapshotInfo {
    SnapshotInfo {
        // A name that is not UTF-8 cannot be logged; its flag alone is not restored.
        assume_unchanged: assume_unchanged
            .iter()
            .filter_map(|p| String::from_utf8(p.clone()).ok())
            .collect(),
        base_commit: captured.base.map(ObjectId::new),
        branch: captured.branch,
        index_tree: captured.index_tree.into(),
        index_commit: captured.index_commit.into(),
        skipped: captured.skipped,
        safety,
        raw_tree: captured.raw_tree.map(ObjectId::new),
    }
}

/// The message of a commit-mode checkpoint: the description, then trailers a tool can parse.
pub(crate) fn commit_message(request: &CreateRequest, id: CheckpointId) -> String {
    let description = request.description.trim();
    let (subject, body) = description.split_once('\n').unwrap_or((description, ""));
    let subject = if subject.trim().is_empty() {
        "checkpoint"
    } else {
        subject.trim()
    };
    let body = body.trim();
    let body = if body.is_empty() {
        String::new()
    } else {
        format!("{body}\n\n")
    };
    format!(
        "Checkpoint: {subject}\n\n{body}Checkpoint-Id: {id}\nCheckpoint-Phase: {}\nCheckpoint-Type: {}\n",
        request.phase, request.checkpoint_type
    )
}

/// The first line of `text`, cut to 200 bytes (it goes into a reflog message, an argument).
pub(crate) fn first_line(text: &str) -> &str {
    let line = text.lines().next().unwrap_or("");
    let mut end = line.len().min(200);
    while !line.is_char_boundary(end) {
        end -= 1;
    }
    &line[..end]
}

/// A new checkpoint record for `request`, before anything is written.
fn new_checkpoint(request: &CreateRequest, id: CheckpointId) -> Checkpoint {
    Checkpoint {
        checkpoint_id: id,
        commit_sha: ObjectId::new(String::new()),
        timestamp: now_timestamp(),
        description: request.description.clone(),
        phase: request.phase,
        checkpoint_type: request.checkpoint_type,
        commit_message: None,
        state_snapshot: request.state_snapshot,
        tags: Vec::new(),
        rollback_used: false,
        rollback_count: 0,
        mode: request.mode,
        snapshot: None,
        skipped: Vec::new(),
    }
}
