//! Appending one checkpoint to `checkpoints.json` without parsing every checkpoint into memory
//! and writing the whole file out again: a session can hold 10,000 checkpoints (7 MB).
//!
//! The log is read once with only the fields the summary, the "log behind git" check and
//! `--if-changed` need (borrowed, never copied), and the parts that change (`generated_at`, the
//! end of the `checkpoints` array, `summary`) are located as byte ranges of the file. The new
//! file is the old bytes with the new entry and the new summary spliced in, written like any
//! log (temp file + fsync + rename, under the session lock). For a log this tool wrote, the
//! result is byte for byte what a full rewrite would write; a log it cannot splice exactly
//! (a legacy layout with safety snapshots among the checkpoints, no summary) is rewritten whole.

use std::borrow::Cow;
use std::ops::Range;

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::error::{Error, Result};
use crate::ids::{CheckpointId, SessionId};
use crate::log::{owned_time_key, OwnedTimeKey};
use crate::model::{Checkpoint, CheckpointPhase, CheckpointSummary, CheckpointType, Operation};

/// The log's top level, its changing parts left as raw text of the file.
#[derive(Deserialize)]
struct RawLog<'a> {
    session_id: SessionId,
    #[serde(borrow)]
    generated_at: Option<&'a RawValue>,
    #[serde(borrow)]
    checkpoints: &'a RawValue,
    #[serde(borrow)]
    summary: Option<&'a RawValue>,
    #[serde(borrow)]
    safety_snapshots: Option<&'a RawValue>,
    // Parsed in full: a log whose history does not parse is corrupt, and histories are short.
    #[serde(default)]
    operations: Vec<Operation>,
}

/// What one checkpoint entry must hold for the log to be read (the same required fields and
/// kinds as [`Checkpoint`]), keeping only what an append needs.
#[derive(Deserialize)]
struct EntryKey<'a> {
    checkpoint_id: CheckpointId,
    #[serde(borrow)]
    commit_sha: Cow<'a, str>,
    #[serde(borrow)]
    timestamp: Cow<'a, str>,
    // Required, as in `Checkpoint`, but not needed here.
    #[serde(borrow, rename = "description")]
    _description: Cow<'a, str>,
    #[serde(rename = "phase")]
    _phase: CheckpointPhase,
    checkpoint_type: CheckpointType,
    #[serde(default)]
    rollback_used: bool,
    #[serde(default)]
    snapshot: Option<SafetyFlag>,
}

#[derive(Deserialize)]
struct SafetyFlag {
    #[serde(default)]
    safety: bool,
}

/// A log read for appending: its bytes, where to splice, and what the summary needs.
#[derive(Debug)]
pub(crate) struct AppendableLog {
    text: String,
    generated_at: Range<usize>,
    /// Where the new entry goes: just after the last entry, or the whole `[]` of an empty array.
    insert: Range<usize>,
    array_empty: bool,
    summary_at: Range<usize>,
    summary: CheckpointSummary,
    /// The newest user checkpoint's time, for the summary's `latest_checkpoint`.
    latest_user: Option<OwnedTimeKey>,
    /// The newest checkpoint of either section: which section, and where in it.
    newest: Option<(OwnedTimeKey, usize, Section)>,
    /// Every checkpoint id in the log (both sections).
    pub(crate) ids: Vec<CheckpointId>,
    /// Entries in creation order across both sections (user ones first, as `read` returns).
    user_count: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Section {
    Checkpoints,
    SafetySnapshots,
}

/// Why a log cannot be read for appending.
pub(crate) enum NotAppendable {
    /// It is not valid: the message says why (the caller names the file).
    Corrupt(String),
    /// It is valid but laid out in a way only a full rewrite handles.
    NeedsRewrite,
}

impl AppendableLog {
    /// Reads `text` (the whole log) for appending to the log of `session`.
    pub(crate) fn parse(
        text: String,
        session: SessionId,
    ) -> std::result::Result<Self, NotAppendable> {
        let corrupt = |e: serde_json::Error| NotAppendable::Corrupt(e.to_string());
        let raw: RawLog<'_> = serde_json::from_str(&text).map_err(corrupt)?;
        if raw.session_id != session {
            let other = raw.session_id;
            return Err(NotAppendable::Corrupt(format!(
                "it belongs to session {other}"
            )));
        }
        let _ = raw.operations;
        let (Some(generated), Some(summary_raw)) = (raw.generated_at, raw.summary) else {
            return Err(NotAppendable::NeedsRewrite);
        };
        let user: Vec<EntryKey<'_>> =
            serde_json::from_str(raw.checkpoints.get()).map_err(corrupt)?;
        let safety: Vec<EntryKey<'_>> = match raw.safety_snapshots {
            Some(section) => serde_json::from_str(section.get()).map_err(corrupt)?,
            None => Vec::new(),
        };
        // Legacy logs keep safety snapshots among the checkpoints: the rewrite moves them.
        if user.iter().any(is_safety) || !safety.iter().all(is_safety) {
            return Err(NotAppendable::NeedsRewrite);
        }
        let span = |part: &RawValue| offset_of(&text, part.get());
        let (generated_at, array, summary_at) =
            (span(generated), span(raw.checkpoints), span(summary_raw));
        let (insert, array_empty) = insertion_point(&text, array);
        let mut log = AppendableLog {
            generated_at,
            insert,
            array_empty,
            summary_at,
            summary: CheckpointSummary::default(),
            latest_user: None,
            newest: None,
            ids: Vec::with_capacity(user.len() + safety.len()),
            user_count: user.len(),
            text: String::new(),
        };
        log.count(&user, Section::Checkpoints);
        log.count(&safety, Section::SafetySnapshots);
        drop((user, safety));
        log.text = text;
        Ok(log)
    }

    /// Adds the entries of one section to the summary, the ids and the newest.
    fn count(&mut self, entries: &[EntryKey<'_>], section: Section) {
        let offset = if section == Section::Checkpoints {
            0
        } else {
            self.user_count
        };
        for (i, entry) in entries.iter().enumerate() {
            self.ids.push(entry.checkpoint_id);
            let key = owned_time_key(&entry.timestamp);
            // Ties keep the later-created one, as `newest_first` does.
            if self.newest.as_ref().is_none_or(|(k, _, _)| key >= *k) {
                self.newest = Some((key.clone(), offset + i, section));
            }
            if section == Section::SafetySnapshots {
                continue;
            }
            self.summary.total_checkpoints += 1;
            *self
                .summary
                .checkpoints_by_type
                .entry(entry.checkpoint_type)
                .or_default() += 1;
            self.summary.checkpoints_used_for_rollback += usize::from(entry.rollback_used);
            if self.latest_user.as_ref().is_none_or(|k| key >= *k) {
                self.latest_user = Some(key);
                self.summary.latest_checkpoint = Some(entry.commit_sha.clone().into_owned());
            }
        }
    }

    /// Returns the newest checkpoint of the log (safety snapshots included; equal timestamps
    /// keep the later-created one), read in full.
    pub(crate) fn newest(&self) -> Option<Checkpoint> {
        let (_, position, section) = self.newest.as_ref()?;
        let raw: RawLog<'_> = serde_json::from_str(&self.text).ok()?;
        let (entries, index) = match section {
            Section::Checkpoints => (raw.checkpoints, *position),
            Section::SafetySnapshots => (raw.safety_snapshots?, position - self.user_count),
        };
        let entries: Vec<&RawValue> = serde_json::from_str(entries.get()).ok()?;
        serde_json::from_str(entries.get(index)?.get()).ok()
    }

    /// Returns the log's bytes with `checkpoint` (a user checkpoint) appended, the summary
    /// updated and `generated_at` set.
    #[cfg(test)]
    pub(crate) fn append(&self, checkpoint: &Checkpoint, generated_at: &str) -> Result<Vec<u8>> {
        self.append_with(checkpoint, generated_at, |parts| Ok(parts.concat()))
    }

    /// Hands `write` the new log as consecutive slices (the old bytes are never copied into a
    /// second 7 MB buffer): `checkpoint` (a user checkpoint) appended, the summary updated and
    /// `generated_at` set.
    pub(crate) fn append_with<T>(
        &self,
        checkpoint: &Checkpoint,
        generated_at: &str,
        write: impl FnOnce(&[&[u8]]) -> Result<T>,
    ) -> Result<T> {
        debug_assert!(!checkpoint.is_safety_snapshot());
        let mut summary = self.summary.clone();
        summary.total_checkpoints += 1;
        *summary
            .checkpoints_by_type
            .entry(checkpoint.checkpoint_type)
            .or_default() += 1;
        summary.checkpoints_used_for_rollback += usize::from(checkpoint.rollback_used);
        if self
            .latest_user
            .as_ref()
            .is_none_or(|k| owned_time_key(&checkpoint.timestamp) >= *k)
        {
            summary.latest_checkpoint = Some(checkpoint.commit_sha.to_string());
        }
        let entry = pretty_at(checkpoint, "    ")?;
        let inserted = if self.array_empty {
            [b"[\n    ".as_slice(), &entry, b"\n  ]"].concat()
        } else {
            [b",\n    ".as_slice(), &entry].concat()
        };
        // The three parts may come in any order (a log written by another tool).
        let mut parts = [
            (self.generated_at.clone(), json(&generated_at)?),
            (self.insert.clone(), inserted),
            (self.summary_at.clone(), pretty_at(&summary, "  ")?),
        ];
        parts.sort_by_key(|(range, _)| range.start);
        let text = self.text.as_bytes();
        let mut slices: Vec<&[u8]> = Vec::with_capacity(2 * parts.len() + 1);
        let mut at = 0;
        for (range, bytes) in &parts {
            slices.push(&text[at..range.start]);
            slices.push(bytes);
            at = range.end;
        }
        slices.push(&text[at..]);
        write(&slices)
    }
}

/// Finds one checkpoint in the log `text` of `session` without reading the others in full
/// (each is still checked as [`AppendableLog::parse`] checks it). Returns it, if there, and
/// every checkpoint id of the log.
pub(crate) fn find_entry(
    text: &str,
    session: SessionId,
    wanted: CheckpointId,
) -> std::result::Result<(Option<Checkpoint>, Vec<CheckpointId>), String> {
    let raw: RawLog<'_> = serde_json::from_str(text).map_err(|e| e.to_string())?;
    if raw.session_id != session {
        return Err(format!("it belongs to session {}", raw.session_id));
    }
    let mut found = None;
    let mut ids = Vec::new();
    for section in [Some(raw.checkpoints), raw.safety_snapshots]
        .into_iter()
        .flatten()
    {
        let entries: Vec<&RawValue> =
            serde_json::from_str(section.get()).map_err(|e| e.to_string())?;
        ids.reserve(entries.len());
        for entry in entries {
            let key: EntryKey<'_> = serde_json::from_str(entry.get()).map_err(|e| e.to_string())?;
            if key.checkpoint_id == wanted && found.is_none() {
                found = Some(serde_json::from_str(entry.get()).map_err(|e| e.to_string())?);
            }
            ids.push(key.checkpoint_id);
        }
    }
    Ok((found, ids))
}

fn is_safety(entry: &EntryKey<'_>) -> bool {
    entry.snapshot.as_ref().is_some_and(|s| s.safety)
}

/// The byte range of `part` (a slice of `text`) in `text`.
fn offset_of(text: &str, part: &str) -> Range<usize> {
    let start = part.as_ptr() as usize - text.as_ptr() as usize;
    start..start + part.len()
}

/// Where a new entry goes in the array at `array` (`[` to `]`): right after the last entry,
/// or (for an empty array) the whole array; and whether it is empty.
fn insertion_point(text: &str, array: Range<usize>) -> (Range<usize>, bool) {
    let inner = &text[array.start + 1..array.end - 1];
    match inner.trim_end().len() {
        0 => (array, true),
        end => {
            let at = array.start + 1 + end;
            (at..at, false)
        }
    }
}

/// `value` as the log writes it (pretty, two spaces), every line after the first indented by
/// `indent` (JSON strings never hold a raw newline).
fn pretty_at<T: serde::Serialize>(value: &T, indent: &str) -> Result<Vec<u8>> {
    let text = serde_json::to_string_pretty(value).map_err(|e| Error::Serialize {
        what: "the checkpoints log",
        detail: e.to_string(),
    })?;
    Ok(text.replace('\n', &format!("\n{indent}")).into_bytes())
}

fn json<T: serde::Serialize>(value: &T) -> Result<Vec<u8>> {
    serde_json::to_vec(value).map_err(|e| Error::Serialize {
        what: "the checkpoints log",
        detail: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::log::SessionLog;
    use crate::model::Operation;

    const SESSION: &str = "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b";

    fn session() -> SessionId {
        SessionId::parse(SESSION).expect("test data")
    }

    fn checkpoint(n: u8, timestamp: &str, kind: &str, extra: serde_json::Value) -> Checkpoint {
        let mut value = serde_json::json!({
            "checkpoint_id": format!("00000000-0000-4000-8000-0000000000{n:02x}"),
            "commit_sha": format!("{n:040x}"),
            "timestamp": timestamp,
            "description": format!("checkpoint {n}: \"quoted\"\nsecond line"),
            "phase": "implement",
            "checkpoint_type": kind,
            "tags": [format!("checkpoint-{n}")],
        });
        for (key, field) in extra.as_object().expect("test data") {
            value[key] = field.clone();
        }
        serde_json::from_value(value).expect("test data")
    }

    fn safety(n: u8, timestamp: &str) -> Checkpoint {
        let snapshot = serde_json::json!({"snapshot": {
            "base_commit": null, "branch": null, "index_tree": "t", "index_commit": "c",
            "safety": true
        }, "mode": "snapshot"});
        checkpoint(n, timestamp, "pre_risky_operation", snapshot)
    }

    fn operation() -> Operation {
        serde_json::from_value(serde_json::json!({
            "operation_id": "00000000-0000-4000-8000-0000000000ff",
            "kind": "rollback",
            "target_checkpoint_id": "00000000-0000-4000-8000-000000000001",
            "safety_checkpoint_id": "00000000-0000-4000-8000-000000000050",
            "mode": "hard",
            "timestamp": "2024-01-07T13:00:00.000000Z",
            "state": "done"
        }))
        .expect("test data")
    }

    fn render(all: &[Checkpoint], operations: &[Operation], at: &str) -> String {
        let log = SessionLog::new(Path::new("/nonexistent"), session());
        String::from_utf8(
            log.render(all, operations, at.to_owned())
                .expect("test data"),
        )
        .expect("test data")
    }

    /// The splice writes exactly what the full rewrite writes, whatever the log held before:
    /// empty, one, several checkpoints, safety snapshots and history after them, a newest
    /// checkpoint in the future (the summary keeps naming it), rollbacks counted.
    #[test]
    fn an_append_is_byte_for_byte_the_full_rewrite() {
        let used = serde_json::json!({"rollback_used": true, "rollback_count": 2});
        let earlier = [
            checkpoint(1, "2024-01-07T13:00:00.000001Z", "manual", used),
            checkpoint(
                2,
                "2099-01-01T00:00:00.000000Z",
                "safe_state",
                serde_json::json!({}),
            ),
            checkpoint(3, "2024-01-07T13:00:00", "manual", serde_json::json!({})),
        ];
        let new = checkpoint(
            9,
            "2025-05-05T05:05:05.000005Z",
            "phase_complete",
            serde_json::json!({}),
        );
        for n in 0..=earlier.len() {
            for extras in [false, true] {
                let (safeties, operations) = if extras {
                    (
                        vec![safety(0x50, "2024-01-07T13:00:00.000002Z")],
                        vec![operation()],
                    )
                } else {
                    (Vec::new(), Vec::new())
                };
                let before: Vec<Checkpoint> =
                    earlier[..n].iter().chain(&safeties).cloned().collect();
                let after: Vec<Checkpoint> = earlier[..n]
                    .iter()
                    .chain([&new])
                    .chain(&safeties)
                    .cloned()
                    .collect();
                let text = render(&before, &operations, "2024-01-01T00:00:00.000000Z");
                let read = AppendableLog::parse(text, session())
                    .ok()
                    .expect("appendable");
                let spliced = read
                    .append(&new, "2025-06-06T00:00:00.000000Z")
                    .expect("test data");
                let expected = render(&after, &operations, "2025-06-06T00:00:00.000000Z");
                assert_eq!(
                    String::from_utf8(spliced).expect("test data"),
                    expected,
                    "{n} {extras}"
                );
            }
        }
    }

    #[test]
    fn the_newest_checkpoint_is_read_in_full_from_either_section() {
        let user = checkpoint(
            1,
            "2024-01-07T13:00:00.000001Z",
            "manual",
            serde_json::json!({}),
        );
        let later = safety(0x50, "2024-01-07T13:00:00.000002Z");
        let text = render(&[user.clone(), later.clone()], &[], "x");
        let read = AppendableLog::parse(text, session())
            .ok()
            .expect("appendable");
        assert_eq!(read.newest(), Some(later));
        let text = render(std::slice::from_ref(&user), &[], "x");
        let read = AppendableLog::parse(text, session())
            .ok()
            .expect("appendable");
        assert_eq!(read.newest(), Some(user));
    }

    #[test]
    fn corrupt_foreign_and_legacy_logs_are_not_spliced() {
        let one = checkpoint(
            1,
            "2024-01-07T13:00:00.000001Z",
            "manual",
            serde_json::json!({}),
        );
        let text = render(&[one], &[], "x");
        let is_corrupt = |text: &str| {
            matches!(
                AppendableLog::parse(text.to_owned(), session()),
                Err(NotAppendable::Corrupt(_))
            )
        };
        assert!(is_corrupt(&text[..text.len() / 2]));
        assert!(is_corrupt(&text.replace("\"manual\"", "\"bogus\"")));
        assert!(is_corrupt(&text.replace("\"description\"", "\"descr\"")));
        assert!(is_corrupt(
            &text.replace(SESSION, "00000000-0000-4000-8000-000000000000")
        ));
        // A safety snapshot among the checkpoints (before version 0.2) or no summary: the full
        // rewrite lays the file out again.
        let mut legacy: serde_json::Value = serde_json::from_str(&text).expect("test data");
        legacy["checkpoints"]
            .as_array_mut()
            .expect("test data")
            .push(
                serde_json::to_value(safety(0x50, "2024-01-07T13:00:00.000002Z"))
                    .expect("test data"),
            );
        let no_summary = {
            let mut v: serde_json::Value = serde_json::from_str(&text).expect("test data");
            v.as_object_mut().expect("test data").remove("summary");
            v
        };
        for value in [legacy, no_summary] {
            assert!(matches!(
                AppendableLog::parse(value.to_string(), session()),
                Err(NotAppendable::NeedsRewrite)
            ));
        }
    }
}
