//! `checkpoints.json`: the spec's view of a session. It is read without a lock (writes replace it
//! atomically, so a reader sees the old file or the new one) and written under the session lock
//! as temp file + fsync + rename + fsync of the folder.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDateTime, SecondsFormat, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::ids::{CheckpointId, SessionId};
use crate::log_append::{AppendableLog, NotAppendable};
use crate::model::{Checkpoint, CheckpointSummary, Operation};
use crate::paths::NotPlain;

pub(crate) use crate::defaults::{SESSIONS_DIR, SESSIONS_EXCLUDE};

use crate::defaults::LOG_FILE;

/// The file as the spec lays it out.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[schemars(
    title = "checkpoints.json",
    description = "The checkpoints of one session (.flow/maestro/sessions/<id>/checkpoints.json)"
)]
pub(crate) struct LogFile {
    session_id: SessionId,
    #[serde(default)]
    generated_at: String,
    /// The checkpoints the user or orchestrator created (logs written before version 0.2 also
    /// hold safety snapshots here; they move to `safety_snapshots` on the next write).
    checkpoints: Vec<Checkpoint>,
    #[serde(default)]
    summary: CheckpointSummary,
    /// The automatic snapshots rollback, undo and redo take first; not part of the spec's views.
    #[serde(default)]
    safety_snapshots: Vec<Checkpoint>,
    /// The operation history (oldest first) that `undo` and `redo` walk.
    #[serde(default)]
    operations: Vec<Operation>,
}

/// What a session's log holds, in memory.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogContents {
    /// User checkpoints and safety snapshots together, in creation order (the file keeps them
    /// in two sections; [`Checkpoint::is_safety_snapshot`] tells them apart).
    pub checkpoints: Vec<Checkpoint>,
    /// The operation history, oldest first.
    pub operations: Vec<Operation>,
}

impl LogContents {
    /// Returns the checkpoints the user or orchestrator created, in creation order (moved, not
    /// copied: a session can hold 10,000 of them).
    pub fn into_user_checkpoints(self) -> Vec<Checkpoint> {
        self.checkpoints
            .into_iter()
            .filter(|c| !c.is_safety_snapshot())
            .collect()
    }
}

/// One session's log on disk.
#[derive(Debug, Clone)]
pub struct SessionLog {
    session: SessionId,
    dir: PathBuf,
    /// The top of the work tree: every folder from here to `dir` must be a plain folder.
    workdir: PathBuf,
}

impl SessionLog {
    /// Returns the log of `session` in the work tree `workdir`.
    pub fn new(workdir: &Path, session: SessionId) -> Self {
        let dir = workdir.join(SESSIONS_DIR).join(session.as_string());
        SessionLog {
            session,
            dir,
            workdir: workdir.to_owned(),
        }
    }

    /// The log's folder relative to the top of the work tree.
    fn relative_dir(&self) -> PathBuf {
        Path::new(SESSIONS_DIR).join(self.session.as_string())
    }

    /// Fails unless every folder from the top of the work tree to the session folder that
    /// exists is a plain folder and `checkpoints.json`, if present, a plain file: a symlink on
    /// the way would send the log outside the repository (and show up, as itself, in the next
    /// commit). Returns how many of those folders exist.
    pub(crate) fn check_path(&self) -> Result<usize> {
        // A symlink is refused as invalid state; a file (or folder) in the way is what it
        // always was, a file-system error.
        let not_plain = |path: PathBuf, what: NotPlain, expected: &str| match what {
            NotPlain::Symlink => Error::LogPathNotPlain {
                what: "a symlink",
                path,
            },
            NotPlain::Other => Error::io(
                path,
                std::io::Error::other(format!("in the way: the session log needs {expected} here")),
            ),
        };
        let existing = crate::paths::plain_folders_along(&self.workdir, &self.relative_dir())
            .map_err(|(path, what)| not_plain(path, what, "a folder"))?;
        match fs::symlink_metadata(self.path()) {
            Ok(meta) if meta.file_type().is_symlink() => {
                Err(not_plain(self.path(), NotPlain::Symlink, "a file"))
            }
            Ok(meta) if !meta.is_file() => Err(not_plain(self.path(), NotPlain::Other, "a file")),
            _ => Ok(existing),
        }
    }

    /// Creates the missing folders down to the session folder one at a time, each checked to
    /// be a plain folder (`mkdir` never follows a symlink at the name it creates).
    fn make_folders(&self) -> Result<()> {
        let existing = self.check_path()?;
        let mut path = self.workdir.clone();
        for (i, component) in self.relative_dir().components().enumerate() {
            path.push(component);
            if i < existing {
                continue;
            }
            match fs::create_dir(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(Error::io(&path, e)),
            }
        }
        self.check_path().map(|_| ())
    }

    /// Returns the path of `checkpoints.json`.
    pub fn path(&self) -> PathBuf {
        self.dir.join(LOG_FILE)
    }

    /// Reads the log (checkpoints in creation order); `None` when the session has no log yet.
    pub fn read(&self) -> Result<Option<LogContents>> {
        self.check_path()?;
        let path = self.path();
        let bytes = match fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io(path, e)),
        };
        let corrupt = |detail: String| Error::CorruptLog {
            path: path.clone(),
            session: self.session,
            detail,
        };
        // One UTF-8 check of the whole file is much cheaper than serde's per-string checks.
        let text = std::str::from_utf8(&bytes).map_err(|e| corrupt(e.to_string()))?;
        let file: LogFile = serde_json::from_str(text).map_err(|e| corrupt(e.to_string()))?;
        if file.session_id != self.session {
            return Err(corrupt(format!(
                "it belongs to session {}",
                file.session_id
            )));
        }
        let mut checkpoints = file.checkpoints;
        checkpoints.extend(file.safety_snapshots);
        Ok(Some(LogContents {
            checkpoints,
            operations: file.operations,
        }))
    }

    /// Replaces the log atomically with `checkpoints` (in creation order), `operations` and a
    /// fresh summary: user checkpoints under `checkpoints` (the spec's view), safety snapshots
    /// under `safety_snapshots`.
    pub fn write(&self, checkpoints: &[Checkpoint], operations: &[Operation]) -> Result<()> {
        self.make_folders()?;
        let json = self.render(checkpoints, operations, now_timestamp())?;
        // Checked again with the temporary file made, just before the rename.
        write_checked(&self.path(), &json, || self.check_inside())
    }

    /// The bytes [`SessionLog::write`] writes, with `generated_at` given.
    pub(crate) fn render(
        &self,
        checkpoints: &[Checkpoint],
        operations: &[Operation],
        generated_at: String,
    ) -> Result<Vec<u8>> {
        // The same layout as `LogFile`, borrowing the checkpoints instead of copying them.
        #[derive(Serialize)]
        struct LogFileView<'a> {
            session_id: SessionId,
            generated_at: String,
            checkpoints: Vec<&'a Checkpoint>,
            summary: CheckpointSummary,
            // Left out while empty: a session without rollbacks has exactly the spec's layout.
            #[serde(skip_serializing_if = "Vec::is_empty")]
            safety_snapshots: Vec<&'a Checkpoint>,
            #[serde(skip_serializing_if = "<[_]>::is_empty")]
            operations: &'a [Operation],
        }
        let summary = summarize(checkpoints);
        let (safety_snapshots, checkpoints): (Vec<_>, Vec<_>) =
            checkpoints.iter().partition(|c| c.is_safety_snapshot());
        let file = LogFileView {
            session_id: self.session,
            generated_at,
            checkpoints,
            summary,
            safety_snapshots,
            operations,
        };
        let mut json = serde_json::to_vec_pretty(&file).map_err(|e| Error::Serialize {
            what: "the checkpoints log",
            detail: e.to_string(),
        })?;
        json.push(b'\n');
        Ok(json)
    }

    /// Reads the log for appending one checkpoint (see [`crate::log_append`]): `None` when it
    /// does not exist or only a full rewrite can add to it. A corrupt log fails as in
    /// [`SessionLog::read`].
    pub(crate) fn read_appendable(&self) -> Result<Option<AppendableLog>> {
        self.check_path()?;
        let path = self.path();
        let bytes = match fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io(path, e)),
        };
        let corrupt = |detail: String| Error::CorruptLog {
            path: path.clone(),
            session: self.session,
            detail,
        };
        let text = String::from_utf8(bytes).map_err(|e| corrupt(e.utf8_error().to_string()))?;
        match AppendableLog::parse(text, self.session) {
            Ok(log) => Ok(Some(log)),
            Err(NotAppendable::NeedsRewrite) => Ok(None),
            Err(NotAppendable::Corrupt(detail)) => Err(corrupt(detail)),
        }
    }

    /// Reads one checkpoint (see [`crate::log_append::find_entry`]): the checkpoint if the log
    /// holds it, and every id the log holds; `None` when there is no log.
    pub(crate) fn read_entry(
        &self,
        wanted: CheckpointId,
    ) -> Result<Option<(Option<Checkpoint>, Vec<CheckpointId>)>> {
        self.check_path()?;
        let path = self.path();
        let bytes = match fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io(path, e)),
        };
        let corrupt = |detail: String| Error::CorruptLog {
            path: path.clone(),
            session: self.session,
            detail,
        };
        let text = std::str::from_utf8(&bytes).map_err(|e| corrupt(e.to_string()))?;
        crate::log_append::find_entry(text, self.session, wanted)
            .map(Some)
            .map_err(corrupt)
    }

    /// Appends `checkpoint` (a user checkpoint) to the log read as `log`, atomically: the new
    /// entry and summary spliced into its bytes. The caller holds the session lock since the
    /// read.
    pub(crate) fn append(&self, log: &AppendableLog, checkpoint: &Checkpoint) -> Result<()> {
        log.append_with(checkpoint, &now_timestamp(), |parts| {
            write_parts_checked(&self.path(), parts, || self.check_inside())
        })
    }

    /// [`SessionLog::check_path`], and the session folder, all links resolved, is inside the
    /// work tree: where the temporary file is made and renamed.
    fn check_inside(&self) -> Result<()> {
        self.check_path()?;
        let real = |path: &Path| fs::canonicalize(path).map_err(|e| Error::io(path, e));
        if real(&self.dir)?.starts_with(real(&self.workdir)?) {
            Ok(())
        } else {
            Err(Error::LogPathNotPlain {
                what: "outside the work tree",
                path: self.dir.clone(),
            })
        }
    }
}

/// Writes `bytes` to `path` so that a crash at any moment leaves the old file or the new one,
/// with `verify` run after the temporary file is written and before it
/// is renamed into place (a failure removes the temporary file and changes nothing).
/// Writes `bytes` to `path` so that a crash at any moment leaves the old file or the new one
/// (temp file in the same folder + fsync + rename + fsync of the folder).
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    write_checked(path, bytes, || Ok(()))
}

fn write_checked(path: &Path, bytes: &[u8], verify: impl Fn() -> Result<()>) -> Result<()> {
    write_parts_checked(path, &[bytes], verify)
}

/// [`write_checked`] of the concatenation of `parts`.
fn write_parts_checked(
    path: &Path,
    parts: &[&[u8]],
    verify: impl Fn() -> Result<()>,
) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(".checkpoints.json.")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(|e| Error::io(dir, e))?;
    for part in parts {
        tmp.write_all(part).map_err(|e| Error::io(tmp.path(), e))?;
    }
    tmp.as_file()
        .sync_all()
        .map_err(|e| Error::io(tmp.path(), e))?;
    verify()?;
    tmp.persist(path).map_err(|e| Error::io(path, e.error))?;
    // The rename is durable only once the folder's entry is on disk too.
    if let Ok(folder) = fs::File::open(dir) {
        let _ = folder.sync_all();
    }
    Ok(())
}

/// Returns the current time as the log writes it: ISO 8601, UTC, microseconds.
pub fn now_timestamp() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// Parses a timestamp written by us or by the original Python tool (which may omit the zone).
fn parse_timestamp(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
                .ok()
                .map(|n| n.and_utc())
        })
}

/// The order of timestamps: by instant where they parse, by text otherwise (parsed once per
/// checkpoint, not once per comparison: a session can hold 10,000 of them).
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
enum TimeKey<'a> {
    Text(&'a str),
    Instant(DateTime<Utc>),
}

/// [`TimeKey`] holding its text: kept across the read of a log (see [`crate::log_append`]).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum OwnedTimeKey {
    Text(String),
    Instant(DateTime<Utc>),
}

pub(crate) fn owned_time_key(text: &str) -> OwnedTimeKey {
    match time_key(text) {
        TimeKey::Text(text) => OwnedTimeKey::Text(text.to_owned()),
        TimeKey::Instant(instant) => OwnedTimeKey::Instant(instant),
    }
}

fn time_key(text: &str) -> TimeKey<'_> {
    parse_own_timestamp(text)
        .or_else(|| parse_timestamp(text))
        .map_or(TimeKey::Text(text), TimeKey::Instant)
}

/// Parses the one format this tool writes (`2024-01-07T13:00:00.123456Z`) by hand: ten times
/// cheaper than a general RFC 3339 parser, which matters across 10,000 checkpoints.
fn parse_own_timestamp(text: &str) -> Option<DateTime<Utc>> {
    let b = text.as_bytes();
    let shape_ok = b.len() == 27
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && b[16] == b':'
        && b[19] == b'.'
        && b[26] == b'Z';
    if !shape_ok {
        return None;
    }
    let num = |range: std::ops::Range<usize>| -> Option<u32> {
        b[range].iter().try_fold(0u32, |acc, d| {
            d.is_ascii_digit().then(|| acc * 10 + u32::from(d - b'0'))
        })
    };
    let date =
        chrono::NaiveDate::from_ymd_opt(i32::try_from(num(0..4)?).ok()?, num(5..7)?, num(8..10)?)?;
    let time = date.and_hms_micro_opt(num(11..13)?, num(14..16)?, num(17..19)?, num(20..26)?)?;
    Some(time.and_utc())
}

/// Orders two timestamps in time (by text where one does not parse).
pub fn compare_timestamps(a: &str, b: &str) -> std::cmp::Ordering {
    time_key(a).cmp(&time_key(b))
}

/// Returns the positions of `checkpoints` newest first; equal timestamps keep the later-created
/// one first.
fn newest_first_order(checkpoints: &[Checkpoint]) -> Vec<usize> {
    let mut order: Vec<(TimeKey<'_>, usize)> = checkpoints
        .iter()
        .enumerate()
        .map(|(i, cp)| (time_key(&cp.timestamp), i))
        .collect();
    order.sort_by(|a, b| b.cmp(a));
    order.into_iter().map(|(_, i)| i).collect()
}

/// Returns copies of the checkpoints, newest first (see [`into_newest_first`]).
pub fn newest_first(checkpoints: &[Checkpoint]) -> Vec<Checkpoint> {
    newest_first_order(checkpoints)
        .into_iter()
        .map(|i| checkpoints[i].clone())
        .collect()
}

/// Reorders the checkpoints newest first without copying them; equal timestamps keep the
/// later-created one first.
pub fn into_newest_first(checkpoints: Vec<Checkpoint>) -> Vec<Checkpoint> {
    let order = newest_first_order(&checkpoints);
    let mut slots: Vec<Option<Checkpoint>> = checkpoints.into_iter().map(Some).collect();
    order.into_iter().filter_map(|i| slots[i].take()).collect()
}

/// Computes the spec's summary of a session: over the checkpoints the user or orchestrator
/// created (safety snapshots are left out, whatever `checkpoints` holds).
pub fn summarize(checkpoints: &[Checkpoint]) -> CheckpointSummary {
    let user = || checkpoints.iter().filter(|c| !c.is_safety_snapshot());
    let mut summary = CheckpointSummary {
        total_checkpoints: user().count(),
        ..CheckpointSummary::default()
    };
    for cp in user() {
        *summary
            .checkpoints_by_type
            .entry(cp.checkpoint_type)
            .or_default() += 1;
        if cp.rollback_used {
            summary.checkpoints_used_for_rollback += 1;
        }
    }
    summary.latest_checkpoint = user()
        .enumerate()
        .max_by_key(|(i, cp)| (time_key(&cp.timestamp), *i))
        .map(|(_, cp)| cp.commit_sha.to_string());
    summary
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC_EXAMPLE: &str = r#"{
  "session_id": "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b",
  "generated_at": "2024-01-07T13:00:00Z",
  "checkpoints": [
    {
      "checkpoint_id": "0b7d2a57-3c4e-4f5a-9b6c-7d8e9f0a1b2c",
      "commit_sha": "abc123",
      "timestamp": "2024-01-07T13:00:00Z",
      "description": "Planning phase completed",
      "phase": "plan",
      "checkpoint_type": "phase_complete",
      "tags": ["checkpoint-0b7d2a57-3c4e-4f5a-9b6c-7d8e9f0a1b2c"],
      "rollback_used": false,
      "rollback_count": 0
    }
  ],
  "summary": {
    "total_checkpoints": 1,
    "checkpoints_by_type": {
      "phase_complete": 1
    },
    "checkpoints_used_for_rollback": 0,
    "latest_checkpoint": "abc123"
  }
}"#;

    #[test]
    fn round_trips_the_spec_example() {
        let file: LogFile = serde_json::from_str(SPEC_EXAMPLE).expect("spec example parses");
        assert_eq!(summarize(&file.checkpoints), file.summary);
        let again = serde_json::to_value(&file).expect("serializes");
        let original: serde_json::Value = serde_json::from_str(SPEC_EXAMPLE).expect("json");
        // Every field of the spec is written back unchanged; we add only `commit_message`
        // (a spec field the example leaves out) and `mode`.
        let cp = &again["checkpoints"][0];
        for (key, value) in original["checkpoints"][0].as_object().expect("object") {
            assert_eq!(&cp[key], value, "field {key}");
        }
        assert_eq!(cp["commit_message"], serde_json::Value::Null);
        assert_eq!(cp["mode"], "commit");
        assert_eq!(again["summary"], original["summary"]);
        assert_eq!(again["session_id"], original["session_id"]);
    }

    #[test]
    fn orders_newest_first_with_ties_by_creation_order() {
        let file: LogFile = serde_json::from_str(SPEC_EXAMPLE).expect("parses");
        let base = file.checkpoints[0].clone();
        let mk = |ts: &str, desc: &str| Checkpoint {
            timestamp: ts.into(),
            description: desc.into(),
            ..base.clone()
        };
        let cps = vec![
            mk("2024-01-07T13:00:00.000001Z", "a"),
            mk("2024-01-07T13:00:00.000002Z", "b"),
            mk("2024-01-07T13:00:00.000002Z", "c"),
            mk("2024-01-07T12:59:59", "d"),
        ];
        let order: Vec<_> = newest_first(&cps)
            .into_iter()
            .map(|c| c.description)
            .collect();
        assert_eq!(order, ["c", "b", "a", "d"]);
    }

    #[test]
    fn the_fast_timestamp_parser_agrees_with_the_general_one() {
        for ts in [
            "2024-01-07T13:00:00.000001Z",
            "1999-12-31T23:59:59.999999Z",
            "2024-02-29T00:00:00.500000Z",
        ] {
            assert_eq!(parse_own_timestamp(ts), parse_timestamp(ts), "{ts}");
            assert!(parse_own_timestamp(ts).is_some());
        }
        for other in [
            "2024-01-07T13:00:00Z",
            "2024-02-30T00:00:00.000000Z",
            "2024-01-07T13:00:00.00000xZ",
        ] {
            assert_eq!(parse_own_timestamp(other), None, "{other}");
        }
    }

    #[test]
    fn timestamps_are_utc_with_microseconds() {
        let ts = now_timestamp();
        assert_eq!(ts.len(), "2024-01-07T13:00:00.000000Z".len(), "{ts}");
        assert!(ts.ends_with('Z'));
        assert!(parse_timestamp(&ts).is_some());
    }
}
