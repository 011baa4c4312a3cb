//! The tool's settings in git config (`checkpoint-manager.*`), read with git's own rules so a
//! user sets them per repository, per user or per machine. One git process reads them all.

use std::time::Duration;

use crate::error::{Error, Result};
use crate::git::{self, Repo};

/// `checkpoint-manager.keepLast`: how many checkpoints of a session retention keeps.
pub const KEEP_LAST_KEY: &str = "checkpoint-manager.keepLast";
/// `checkpoint-manager.maxAge`: how old a checkpoint may grow before retention removes it.
pub const MAX_AGE_KEY: &str = "checkpoint-manager.maxAge";
/// `checkpoint-manager.maxFileSize`: the untracked-file size cap in bytes (`0`: no cap).
pub const MAX_FILE_SIZE_KEY: &str = "checkpoint-manager.maxFileSize";
/// `checkpoint-manager.maxUntrackedDirFiles`: the untracked-folder file-count cap (`0`: none).
pub const MAX_UNTRACKED_DIR_FILES_KEY: &str = "checkpoint-manager.maxUntrackedDirFiles";

/// What git config says; `None` where a key is not set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settings {
    pub keep_last: Option<u64>,
    pub max_age: Option<Duration>,
    pub max_file_size: Option<u64>,
    pub max_untracked_dir_files: Option<u64>,
}

impl Settings {
    /// Reads the settings of `repo`; a value that does not parse is an error naming the key.
    pub fn read(repo: &Repo) -> Result<Settings> {
        let mut settings = Settings::default();
        for (key, value) in git::tool_values(repo)? {
            // git lower-cases section and key names.
            // Errors name the key as the documentation spells it.
            let (slot, name) = match key.as_str() {
                k if k == KEEP_LAST_KEY.to_ascii_lowercase() => {
                    (&mut settings.keep_last, KEEP_LAST_KEY)
                }
                k if k == MAX_FILE_SIZE_KEY.to_ascii_lowercase() => {
                    (&mut settings.max_file_size, MAX_FILE_SIZE_KEY)
                }
                k if k == MAX_UNTRACKED_DIR_FILES_KEY.to_ascii_lowercase() => (
                    &mut settings.max_untracked_dir_files,
                    MAX_UNTRACKED_DIR_FILES_KEY,
                ),
                k if k == MAX_AGE_KEY.to_ascii_lowercase() => {
                    settings.max_age = Some(parse_duration(MAX_AGE_KEY, &value)?);
                    continue;
                }
                _ => continue,
            };
            *slot = Some(parse_count(name, &value)?);
        }
        Ok(settings)
    }
}

/// Parses a whole number, with git's `k`, `m`, `g` suffixes (powers of 1024) as `git config
/// --type=int` reads them.
pub fn parse_count(what: &str, value: &str) -> Result<u64> {
    let text = value.trim();
    let (digits, scale) = match text.char_indices().last() {
        Some((i, 'k' | 'K')) => (&text[..i], 1 << 10),
        Some((i, 'm' | 'M')) => (&text[..i], 1 << 20),
        Some((i, 'g' | 'G')) => (&text[..i], 1 << 30),
        _ => (text, 1),
    };
    digits
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(scale))
        .ok_or_else(|| Error::InvalidSetting {
            what: what.to_owned(),
            value: value.to_owned(),
            expected: "a whole number (k, m or g suffixes allowed)",
        })
}

/// Parses a duration such as `90s`, `30m`, `12h`, `7d` or `2w` (a bare number is seconds).
pub fn parse_duration(what: &str, value: &str) -> Result<Duration> {
    let text = value.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let seconds: Option<u64> = match unit.trim() {
        "" | "s" => Some(1),
        "m" => Some(60),
        "h" => Some(3600),
        "d" => Some(86_400),
        "w" => Some(7 * 86_400),
        _ => None,
    };
    seconds
        .zip(digits.parse::<u64>().ok())
        .and_then(|(unit, n)| n.checked_mul(unit))
        .map(Duration::from_secs)
        .ok_or_else(|| Error::InvalidSetting {
            what: what.to_owned(),
            value: value.to_owned(),
            expected: "a duration such as 90s, 30m, 12h, 7d or 2w",
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_counts_parse_as_documented() -> Result<()> {
        assert_eq!(parse_duration("x", "7d")?, Duration::from_secs(7 * 86_400));
        assert_eq!(parse_duration("x", "90")?, Duration::from_secs(90));
        assert_eq!(parse_duration("x", "2w")?, Duration::from_secs(14 * 86_400));
        assert!(parse_duration("x", "3 fortnights").is_err());
        assert!(parse_duration("x", "").is_err());
        assert_eq!(parse_count("x", "10k")?, 10_240);
        assert_eq!(parse_count("x", "0")?, 0);
        assert!(parse_count("x", "-1").is_err());
        assert!(parse_count("x", "many").is_err());
        Ok(())
    }
}
