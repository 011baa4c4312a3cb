//! The journal of the operation in progress: which process holds the repository lock, and which
//! git step (with the lock files it takes) it is running. A process killed together with its git
//! child (a harness killing the whole process group) leaves git's `index.lock` (or a ref lock)
//! behind, which blocks our next command and plain git. The next holder of the repository lock
//! reads the journal, and removes such a lock file only when it can prove it is the leftover of
//! that killed operation: the journal's process is gone (or its pid now names a process started
//! at another time), it was running a step that takes the lock, and that step's git child is
//! gone too.
//!
//! The journal lives in the git dir's private folder and is written as temp file + rename (no
//! fsync: it only has to survive the death of a process, not of the machine; after a power cut
//! a missing journal proves nothing, and a leftover lock is then reported, not removed).

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::model::Notice;

/// Where a repository's lock files live: the git dir (HEAD and per-worktree refs), the common
/// dir (shared refs, packed-refs) and the user's index lock (beside the index, which
/// `GIT_INDEX_FILE` may put elsewhere).
#[derive(Debug, Clone)]
pub struct LockPaths {
    pub git_dir: PathBuf,
    pub common_dir: PathBuf,
    pub index_lock: PathBuf,
}

use crate::defaults::JOURNAL_FILE;

/// What the journal holds.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
struct Record {
    pid: u32,
    /// The process's start time (clock ticks since boot), so a reused pid is not mistaken for it.
    start: Option<u64>,
    pgid: Option<u32>,
    step: Option<Step>,
}

/// A git step that takes lock files.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
struct Step {
    git: String,
    locks: Vec<PathBuf>,
    /// When the step began (ms since the epoch): a lock file older than that is not its own.
    since_ms: u128,
    /// The git child's pid and start time, once spawned.
    child: Option<(u32, Option<u64>)>,
}

/// The journal of this process's operation on one repository, found by git commands run there.
#[derive(Debug)]
pub struct Active {
    path: PathBuf,
    /// Where the repository's lock files live, for the door to git to name a step's locks.
    lock_paths: LockPaths,
    record: Mutex<Record>,
}

/// Journals of the operations this process runs, by work tree (where their git commands run).
static ACTIVE: Mutex<Option<HashMap<PathBuf, Arc<Active>>>> = Mutex::new(None);

/// Returns the journal of the operation running in `workdir`, if any.
pub fn active_for(workdir: &Path) -> Option<Arc<Active>> {
    let active = ACTIVE.lock().unwrap_or_else(|e| e.into_inner());
    active.as_ref()?.get(workdir).cloned()
}

/// A step this process runs itself (not a git child); it ends when this drops.
#[derive(Debug)]
pub struct OwnStep(Arc<Active>);

impl Drop for OwnStep {
    fn drop(&mut self) {
        self.0.step_done();
    }
}

/// Records that this process itself is about to take `locks` in `workdir` (as git would, such
/// as `index.lock` to install an index), when an operation's journal is kept there.
pub fn own_step(workdir: &Path, what: &str, locks: Vec<PathBuf>) -> Option<OwnStep> {
    let active = active_for(workdir)?;
    let me = std::process::id();
    active.set_step(Some(Step {
        git: what.to_owned(),
        locks,
        since_ms: now_ms(),
        child: Some((me, process_stat(me).map(|s| s.start))),
    }));
    Some(OwnStep(active))
}

/// A journal being kept; removed (file and registration) on drop.
#[derive(Debug)]
pub struct JournalGuard {
    workdir: PathBuf,
    active: Arc<Active>,
}

impl Drop for JournalGuard {
    fn drop(&mut self) {
        let mut active = ACTIVE.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(map) = active.as_mut() {
            map.remove(&self.workdir);
        }
        let _ = fs::remove_file(&self.active.path);
    }
}

/// Starts the journal of an operation; call with the repository lock held.
pub fn begin(
    workdir: &Path,
    git_dir: &Path,
    common_dir: &Path,
    index_lock: &Path,
    private_dir: &Path,
) -> JournalGuard {
    let me = std::process::id();
    let stat = process_stat(me);
    let active = Arc::new(Active {
        path: private_dir.join(JOURNAL_FILE),
        lock_paths: LockPaths {
            git_dir: git_dir.to_owned(),
            common_dir: common_dir.to_owned(),
            index_lock: index_lock.to_owned(),
        },
        record: Mutex::new(Record {
            pid: me,
            start: stat.map(|s| s.start),
            pgid: stat.map(|s| s.pgid),
            step: None,
        }),
    });
    active.save();
    let mut map = ACTIVE.lock().unwrap_or_else(|e| e.into_inner());
    map.get_or_insert_with(HashMap::new)
        .insert(workdir.to_owned(), Arc::clone(&active));
    JournalGuard {
        workdir: workdir.to_owned(),
        active,
    }
}

impl Active {
    /// Where the repository's lock files live.
    pub fn lock_paths(&self) -> &LockPaths {
        &self.lock_paths
    }

    /// Records that a git step (`what`, for people) taking `locks` is about to run; returns
    /// whether it takes any (a step that takes none is not recorded).
    pub fn before_step(&self, what: String, locks: Vec<PathBuf>) -> bool {
        if locks.is_empty() {
            return false;
        }
        self.set_step(Some(Step {
            git: what,
            locks,
            since_ms: now_ms(),
            child: None,
        }));
        true
    }

    /// Records the pid of the step's git child, once spawned.
    pub fn child_started(&self, pid: u32) {
        let start = process_stat(pid).map(|s| s.start);
        let mut record = self.lock();
        if let Some(step) = record.step.as_mut() {
            step.child = Some((pid, start));
        }
        let copy = record.clone();
        drop(record);
        self.write(&copy);
    }

    /// Records that the step ended (its git child exited: its locks are released).
    pub fn step_done(&self) {
        self.set_step(None);
    }

    fn set_step(&self, step: Option<Step>) {
        let mut record = self.lock();
        record.step = step;
        let copy = record.clone();
        drop(record);
        self.write(&copy);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Record> {
        self.record.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn save(&self) {
        let copy = self.lock().clone();
        self.write(&copy);
    }

    /// Temp file + rename: a reader sees the old journal or the new one, never half of one.
    /// A journal that cannot be written only weakens the recovery (a leftover lock is then
    /// reported instead of removed), so failures are ignored.
    fn write(&self, record: &Record) {
        let Ok(json) = serde_json::to_vec(record) else {
            return;
        };
        let temp = self
            .path
            .with_extension(format!("tmp-{}", std::process::id()));
        if fs::write(&temp, json).is_ok() && fs::rename(&temp, &self.path).is_err() {
            let _ = fs::remove_file(&temp);
        }
    }
}

/// Recovers after an operation that was killed while holding the repository lock (call with
/// the lock held): when the journal proves a lock file is its leftover, removes it. Returns a
/// notice per removed file, saying what was removed and why.
pub fn recover(private_dir: &Path, grace: Duration) -> Vec<Notice> {
    let path = private_dir.join(JOURNAL_FILE);
    let Some(record) = fs::read(&path)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<Record>(&bytes).ok())
    else {
        return Vec::new();
    };
    if is_alive(record.pid, record.start) {
        // Not a leftover: nothing to prove (it cannot hold the repository lock we hold).
        return Vec::new();
    }
    let Some(step) = &record.step else {
        let _ = fs::remove_file(&path);
        return Vec::new();
    };
    // Its git child may still be finishing (killed alone, git runs on): let it.
    let deadline = Instant::now() + grace;
    while step_may_run(&record, step) {
        if Instant::now() >= deadline {
            // Not provable: a lock it holds is reported by the command that needs it.
            return Vec::new();
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let mut notices = Vec::new();
    for lock in &step.locks {
        if created_during(lock, step) && fs::remove_file(lock).is_ok() {
            notices.push(Notice::LockRemoved {
                path: lock.clone(),
                pid: record.pid,
                step: step.git.clone(),
            });
        }
    }
    let _ = fs::remove_file(&path);
    notices
}

/// Returns true when `lock` exists and was made after `step` began (its inode change time, set
/// by creating or linking it, with a margin for the file system's coarser clock): one made
/// before is another git's.
fn created_during(lock: &Path, step: &Step) -> bool {
    use std::os::unix::fs::MetadataExt;
    let Ok(meta) = fs::metadata(lock) else {
        return false;
    };
    let changed_ms = i128::from(meta.ctime()) * 1000 + i128::from(meta.ctime_nsec()) / 1_000_000;
    changed_ms + 100 >= i128::try_from(step.since_ms).unwrap_or(i128::MAX)
}

fn now_ms() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis())
}

/// Returns true while the step's git child (or, when it was never recorded, a git process in
/// the killed process's group) may still be running.
fn step_may_run(record: &Record, step: &Step) -> bool {
    match step.child {
        Some((pid, start)) => is_alive(pid, start),
        None => record.pgid.is_none_or(live_git_in_group),
    }
}

#[derive(Debug, Clone, Copy)]
struct ProcStat {
    start: u64,
    pgid: u32,
    zombie: bool,
}

/// Reads `/proc/<pid>/stat` (Linux); `None` when the process does not exist or cannot be read.
fn process_stat(pid: u32) -> Option<ProcStat> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_stat(&stat)
}

fn parse_stat(stat: &str) -> Option<ProcStat> {
    // pid (comm) state ppid pgrp ... starttime is field 22; comm may hold spaces or parentheses.
    let after = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    Some(ProcStat {
        zombie: fields.first()? == &"Z",
        pgid: fields.get(2)?.parse().ok()?,
        start: fields.get(19)?.parse().ok()?,
    })
}

/// Returns true when `pid` names a live process started at `start` (when known). Without
/// `/proc`, every process counts as alive: nothing can be proven.
fn is_alive(pid: u32, start: Option<u64>) -> bool {
    if !Path::new("/proc/self/stat").exists() {
        return true;
    }
    match process_stat(pid) {
        None => false,
        Some(stat) if stat.zombie => false,
        Some(stat) => start.is_none_or(|s| s == stat.start),
    }
}

/// Returns true when a live `git` process belongs to process group `pgid`.
fn live_git_in_group(pgid: u32) -> bool {
    let Ok(entries) = fs::read_dir("/proc") else {
        return true;
    };
    entries.flatten().any(|entry| {
        let dir = entry.path();
        let Ok(stat) = fs::read_to_string(dir.join("stat")) else {
            return false;
        };
        let named_git = stat.contains("(git)") || stat.contains("(git-");
        named_git && parse_stat(&stat).is_some_and(|s| s.pgid == pgid && !s.zombie)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_proc_stat_with_odd_command_names() {
        let stat = "42 (a) b) c) S 1 42 42 0 -1 4194304 100 0 0 0 1 2 0 0 20 0 1 0 98765 1000 10";
        let parsed = parse_stat(stat).expect("parses");
        assert_eq!(parsed.pgid, 42);
        assert_eq!(parsed.start, 98765);
        assert!(!parsed.zombie);
    }

    #[test]
    fn this_process_is_alive_and_a_wrong_start_time_is_not() {
        let me = std::process::id();
        let start = process_stat(me).expect("own stat").start;
        assert!(is_alive(me, Some(start)));
        assert!(!is_alive(me, Some(start + 1)));
    }

    /// A private folder holding a journal of a process that ran `step` with `child`, and the
    /// lock file that step names, created now.
    fn leftover(
        owner: u32,
        child: Option<(u32, Option<u64>)>,
        since_ms: u128,
    ) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().expect("tempdir");
        let lock = dir.path().join("index.lock");
        let record = Record {
            pid: owner,
            start: process_stat(owner).map(|s| s.start),
            pgid: None,
            step: Some(Step {
                git: "git read-tree".into(),
                locks: vec![lock.clone()],
                since_ms,
                child,
            }),
        };
        fs::write(
            dir.path().join(JOURNAL_FILE),
            serde_json::to_vec(&record).expect("json"),
        )
        .expect("journal");
        fs::write(&lock, b"").expect("lock");
        (dir, lock)
    }

    fn dead_pid() -> u32 {
        let mut child = std::process::Command::new("true").spawn().expect("true");
        let pid = child.id();
        child.wait().expect("wait");
        pid
    }

    #[test]
    fn a_lock_left_by_a_killed_step_is_removed_with_a_notice() {
        let dead = dead_pid();
        let (dir, lock) = leftover(dead, Some((dead_pid(), None)), now_ms());
        let notices = recover(dir.path(), Duration::from_millis(50));
        assert!(!lock.exists());
        assert_eq!(notices.len(), 1, "{notices:?}");
        let line = notices[0].to_string();
        assert!(line.contains("index.lock") && line.contains(&dead.to_string()));
        assert!(
            !dir.path().join(JOURNAL_FILE).exists(),
            "the journal is done with"
        );
    }

    #[test]
    fn a_lock_that_cannot_be_proven_a_leftover_stays() {
        let me = std::process::id();
        // The journal's process is alive.
        let (dir, lock) = leftover(me, None, now_ms());
        assert!(recover(dir.path(), Duration::from_millis(50)).is_empty());
        assert!(lock.exists());
        // Its git child is alive (this process stands for it).
        let (dir, lock) = leftover(dead_pid(), Some((me, None)), now_ms());
        assert!(recover(dir.path(), Duration::from_millis(50)).is_empty());
        assert!(lock.exists());
        // The lock is older than the step: another git's.
        let (dir, lock) = leftover(dead_pid(), Some((dead_pid(), None)), now_ms() + 60_000);
        assert!(recover(dir.path(), Duration::from_millis(50)).is_empty());
        assert!(lock.exists());
    }
}
