//! Short checkpoint ids: a unique prefix of at least [`MIN_PREFIX_HEX`] hex digits of a
//! checkpoint's UUID names it, as an abbreviated commit id names a commit in git. Every face (the
//! command line, Python, MCP) resolves what a person typed here, in one place.

use crate::error::{Error, Result};
use crate::ids::{CheckpointId, SessionId};
use crate::manager::CheckpointManager;
use crate::model::Checkpoint;

/// The fewest hex digits a prefix may have: git's own minimum abbreviation.
pub const MIN_PREFIX_HEX: usize = 4;

impl CheckpointManager {
    /// Returns the checkpoint of `session` that `text` names: a full UUID as it is (no log
    /// read), or a unique prefix of at least 4 hex digits of one of the session's checkpoints
    /// (safety snapshots included), typed with or without the UUID's dashes, in either case.
    pub fn resolve_checkpoint(&self, session: SessionId, text: &str) -> Result<CheckpointId> {
        if let Ok(id) = CheckpointId::parse(text) {
            return Ok(id);
        }
        let prefix = Prefix::parse(text)?;
        let contents = self.read_existing_log(session)?;
        let matches: Vec<&Checkpoint> = contents
            .checkpoints
            .iter()
            .filter(|c| prefix.matches(c.checkpoint_id))
            .collect();
        match matches.as_slice() {
            [one] => Ok(one.checkpoint_id),
            [] => Err(Error::CheckpointPrefixNotFound {
                session,
                prefix: text.to_owned(),
            }),
            many => Err(Error::AmbiguousCheckpointId {
                session,
                prefix: text.to_owned(),
                candidates: many.iter().map(|c| candidate(c)).collect(),
            }),
        }
    }
}

/// One candidate of an ambiguous prefix, as the error lists it: the full id, phase and time.
fn candidate(cp: &Checkpoint) -> String {
    let kind = if cp.is_safety_snapshot() {
        "safety snapshot"
    } else {
        cp.phase.as_str()
    };
    format!("{} ({kind}, {})", cp.checkpoint_id, cp.timestamp)
}

/// What a person typed for a checkpoint, checked: lowercase, dashes kept where typed.
#[derive(Debug)]
struct Prefix(String);

impl Prefix {
    fn parse(text: &str) -> Result<Prefix> {
        let invalid = |problem: String| Error::InvalidCheckpointRef {
            value: text.to_owned(),
            problem,
        };
        if let Some(bad) = text.chars().find(|c| !c.is_ascii_hexdigit() && *c != '-') {
            return Err(invalid(format!("{bad:?} is not a hex digit")));
        }
        let digits = text.chars().filter(char::is_ascii_hexdigit).count();
        if digits < MIN_PREFIX_HEX {
            return Err(invalid(format!("only {digits} hex digit(s)")));
        }
        Ok(Prefix(text.to_ascii_lowercase()))
    }

    /// True when the id, spelt with its dashes or without them, starts with the prefix.
    fn matches(&self, id: CheckpointId) -> bool {
        let hyphenated = id.as_string();
        hyphenated.starts_with(&self.0) || hyphenated.replace('-', "").starts_with(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(text: &str) -> CheckpointId {
        CheckpointId::parse(text).expect("a test id")
    }

    #[test]
    fn a_prefix_matches_with_or_without_the_dashes_typed_so_far() {
        let cp = id("abcd1234-5678-4abc-8def-0123456789ab");
        for typed in [
            "abcd",
            "ABCD12",
            "abcd1234-56",
            "abcd123456",
            "abcd1234-5678-4a",
        ] {
            assert!(Prefix::parse(typed).expect(typed).matches(cp), "{typed}");
        }
        for typed in ["abce", "abcd1234-6", "abcd-1234", "bcd1"] {
            assert!(!Prefix::parse(typed).expect(typed).matches(cp), "{typed}");
        }
    }

    #[test]
    fn too_short_or_not_hex_is_refused_naming_the_rule() {
        for typed in ["", "-", "abc", "ab-c", "abcg", "../x", "{abcd}"] {
            let err = Prefix::parse(typed).expect_err(typed);
            assert!(
                matches!(err, Error::InvalidCheckpointRef { .. }),
                "{typed}: {err}"
            );
            assert!(err.to_string().contains("at least 4 hex digits"), "{err}");
        }
    }
}
