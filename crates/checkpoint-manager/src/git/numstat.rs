//! What changed between two trees, as git's own `diff-tree` says it: file records (`--raw`
//! with `--numstat`, renames found with `-M`), the unified patch, the text git prints for
//! people (`-p`, `--stat`, `--name-status`), and short statistics of many pairs in one process.

use super::Repo;
use crate::error::{Error, Result};

/// One changed file between two trees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileChange {
    /// git's status letter: `A`, `M`, `D`, `R`, `C`, `T`.
    pub status: u8,
    /// The path before, for renames and copies.
    pub old_path: Option<Vec<u8>>,
    pub path: Vec<u8>,
    /// Lines added and removed; `None` for a binary file (git prints `-`).
    pub lines: Option<(u64, u64)>,
}

/// The text git prints for people.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiffText {
    /// A unified diff (`-p`).
    Patch,
    /// `--stat`.
    Stat,
    /// `--name-status`.
    NameStatus,
}

/// Lines changed between two trees (`--shortstat`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ShortStat {
    pub files: u64,
    pub insertions: u64,
    pub deletions: u64,
}

/// Lists the files that differ from tree-ish `from` to `to`, renames included.
pub fn changed_files(repo: &Repo, from: &str, to: &str) -> Result<Vec<FileChange>> {
    let out = repo
        .git()
        .args([
            "diff-tree",
            "-r",
            "-z",
            "-M",
            "--raw",
            "--numstat",
            from,
            to,
            "--",
        ])
        .run()?;
    parse_raw_and_numstat(&out.stdout).ok_or_else(|| Error::GitOutput {
        args: "diff-tree --raw --numstat".to_owned(),
        detail: "raw and numstat records do not pair up".to_owned(),
    })
}

/// Returns what git prints for people from `from` to `to`; with `color`, coloured as git
/// colours a terminal.
pub fn diff_text(
    repo: &Repo,
    from: &str,
    to: &str,
    text: DiffText,
    color: bool,
) -> Result<Vec<u8>> {
    let view = match text {
        DiffText::Patch => "-p",
        DiffText::Stat => "--stat",
        DiffText::NameStatus => "--name-status",
    };
    let color = if color {
        "--color=always"
    } else {
        "--no-color"
    };
    let out = repo
        .git()
        .args(["diff-tree", "-r", "-M", view, color, from, to, "--"])
        .run()?;
    Ok(out.stdout)
}

/// Cuts an uncoloured patch into its `diff --git` sections, in git's order (a type change
/// has two: the old file deleted, the new one added).
pub fn patch_sections(patch: &[u8]) -> Vec<&[u8]> {
    let mut starts: Vec<usize> = Vec::new();
    let mut at = 0;
    for line in patch.split_inclusive(|b| *b == b'\n') {
        if line.starts_with(b"diff --git ") {
            starts.push(at);
        }
        at += line.len();
    }
    starts.push(patch.len());
    starts.windows(2).map(|w| &patch[w[0]..w[1]]).collect()
}

/// Returns the short statistics of each `(new, old)` pair of commits, in one `diff-tree
/// --stdin`; `None` where nothing differs.
pub fn short_stats(repo: &Repo, pairs: &[(&str, &str)]) -> Result<Vec<Option<ShortStat>>> {
    if pairs.is_empty() {
        return Ok(Vec::new());
    }
    let input: String = pairs
        .iter()
        .map(|(new, old)| format!("{new} {old}\n"))
        .collect();
    let out = repo
        .git()
        .args([
            "diff-tree",
            "--stdin",
            "-r",
            "-M",
            "--always",
            "--shortstat",
        ])
        .stdin(input.into_bytes())
        .run()?;
    let mut stats: Vec<Option<ShortStat>> = Vec::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        if line.starts_with(' ') {
            if let Some(last) = stats.last_mut() {
                *last = Some(parse_short_stat(line));
            }
        } else if !line.is_empty() {
            stats.push(None);
        }
    }
    if stats.len() != pairs.len() {
        return Err(Error::GitOutput {
            args: "diff-tree --stdin --shortstat".to_owned(),
            detail: format!("{} results for {} pairs", stats.len(), pairs.len()),
        });
    }
    Ok(stats)
}

/// Parses ` 3 files changed, 10 insertions(+), 2 deletions(-)` (either count may be absent).
fn parse_short_stat(line: &str) -> ShortStat {
    let mut stat = ShortStat::default();
    for part in line.split(',') {
        let mut words = part.split_whitespace();
        let number = words.next().and_then(|n| n.parse().ok()).unwrap_or(0);
        match words.next() {
            Some(w) if w.starts_with("file") => stat.files = number,
            Some(w) if w.starts_with("insertion") => stat.insertions = number,
            Some(w) if w.starts_with("deletion") => stat.deletions = number,
            _ => {}
        }
    }
    stat
}

/// Parses `-z --raw --numstat` output: every raw record (`:<modes> <oids> <status>\0<path>\0`,
/// two paths for renames and copies), then one numstat record per file (`<added>\t<deleted>\t
/// <path>\0`, or `<added>\t<deleted>\t\0<old>\0<new>\0` for renames), in the same order.
/// Returns `None` when the two lists do not pair up.
fn parse_raw_and_numstat(out: &[u8]) -> Option<Vec<FileChange>> {
    let mut fields = out.split(|b| *b == 0);
    let mut changes = Vec::new();
    let mut lines = Vec::new();
    while let Some(field) = fields.next() {
        if field.is_empty() {
            continue;
        }
        if let Some(meta) = field.strip_prefix(b":") {
            let status = *meta.split(|b| *b == b' ').nth(4)?.first()?;
            let first = fields.next()?.to_vec();
            let (old_path, path) = if matches!(status, b'R' | b'C') {
                (Some(first), fields.next()?.to_vec())
            } else {
                (None, first)
            };
            changes.push(FileChange {
                status,
                old_path,
                path,
                lines: None,
            });
        } else {
            let mut parts = field.splitn(3, |b| *b == b'\t');
            let added = std::str::from_utf8(parts.next()?).ok()?;
            let deleted = std::str::from_utf8(parts.next()?).ok()?;
            if parts.next()?.is_empty() {
                // A rename: the two paths follow as fields of their own.
                fields.next()?;
                fields.next()?;
            }
            lines.push(added.parse().ok().zip(deleted.parse().ok()));
        }
    }
    if lines.len() != changes.len() {
        return None;
    }
    for (change, counted) in changes.iter_mut().zip(lines) {
        change.lines = counted;
    }
    Some(changes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_and_numstat_pair_up_renames_and_binaries() {
        let out = b":100644 100644 a b M\0f\0:100644 100644 a b R094\0r\0r2\0-\t-\tf\0\
                    1\t2\t\0r\0r2\0";
        let changes = parse_raw_and_numstat(out).expect("records pair up");
        assert_eq!(changes[0].lines, None);
        assert_eq!(changes[1].old_path.as_deref(), Some(&b"r"[..]));
        assert_eq!(changes[1].path, b"r2");
        assert_eq!(changes[1].lines, Some((1, 2)));
    }

    #[test]
    fn short_stats_read_every_count() {
        let stat = parse_short_stat(" 3 files changed, 10 insertions(+), 1 deletion(-)");
        assert_eq!((stat.files, stat.insertions, stat.deletions), (3, 10, 1));
        let stat = parse_short_stat(" 1 file changed, 2 deletions(-)");
        assert_eq!((stat.files, stat.insertions, stat.deletions), (1, 0, 2));
    }

    #[test]
    fn patches_split_at_each_file() {
        let patch = b"diff --git a/x b/x\n-a\n+diff --git\ndiff --git a/y b/y\n+b\n";
        let sections = patch_sections(patch);
        assert_eq!(sections.len(), 2);
        assert_eq!(sections[1], b"diff --git a/y b/y\n+b\n");
    }
}
