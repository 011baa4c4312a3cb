//! `git status --porcelain=v2 -z --branch`: one process that yields HEAD, the branch, unmerged
//! paths and every path whose work-tree content differs from the index.

use crate::error::{Error, Result};
use crate::paths::c_quoted;

/// Where HEAD points.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Head {
    /// The commit, or `None` in a repository without commits.
    pub oid: Option<String>,
    /// The branch name without `refs/heads/`, or `None` when HEAD is detached.
    pub branch: Option<String>,
}

/// One line of porcelain v2 status. Paths are raw bytes: a file name need not be UTF-8.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatusEntry {
    /// A tracked path changed in the index (`x`) and/or the work tree (`y`); `.` means unchanged.
    Changed {
        x: char,
        y: char,
        path: Vec<u8>,
        /// A submodule whose own work tree has uncommitted or untracked changes.
        dirty_submodule: bool,
    },
    /// A path with merge conflicts.
    Unmerged { path: Vec<u8> },
    /// A path git does not track; a trailing `/` marks a nested repository.
    Untracked { path: Vec<u8> },
}

/// A parsed status.
#[derive(Debug, Clone, Default)]
pub struct Status {
    pub head: Head,
    pub entries: Vec<StatusEntry>,
}

impl Status {
    /// Runs `git status`; `all_untracked` lists every untracked file instead of folding
    /// untracked directories into one line.
    pub fn read(repo: &super::Repo, all_untracked: bool) -> Result<Status> {
        let untracked = if all_untracked {
            "--untracked-files=all"
        } else {
            "--untracked-files=normal"
        };
        let out = repo
            .git()
            .args([
                "status",
                "--porcelain=v2",
                "-z",
                "--branch",
                "--no-renames",
                "--ignore-submodules=none",
                untracked,
            ])
            .run()?;
        Status::parse(&out.stdout)
    }

    /// Parses NUL-separated porcelain v2 output.
    pub fn parse(bytes: &[u8]) -> Result<Status> {
        let mut status = Status::default();
        let mut records = bytes.split(|b| *b == 0).filter(|r| !r.is_empty());
        while let Some(record) = records.next() {
            let (tag, rest) = split_field(record);
            match tag {
                b"#" => status.head.read_header(rest),
                b"1" | b"2" => {
                    status.entries.push(parse_changed(record, tag, rest)?);
                    if tag == b"2" {
                        records.next(); // the original path of a rename
                    }
                }
                b"u" => status.entries.push(parse_unmerged(record, rest)?),
                b"?" => status.entries.push(StatusEntry::Untracked {
                    path: rest.to_vec(),
                }),
                b"!" => {}
                _ => return Err(bad_entry("unknown", record)),
            }
        }
        Ok(status)
    }

    /// Forgets every entry under `prefix` (a folder, ending in `/`).
    pub fn drop_paths_under(&mut self, prefix: &[u8]) {
        self.entries.retain(|e| {
            let (StatusEntry::Changed { path, .. }
            | StatusEntry::Unmerged { path }
            | StatusEntry::Untracked { path }) = e;
            !path.starts_with(prefix)
        });
    }

    /// Returns true when anything differs from HEAD: staged, unstaged or untracked.
    pub fn has_changes(&self) -> bool {
        !self.entries.is_empty()
    }

    /// Returns the paths with merge conflicts.
    pub fn unmerged(&self) -> impl Iterator<Item = &[u8]> {
        self.entries.iter().filter_map(|e| match e {
            StatusEntry::Unmerged { path } => Some(path.as_slice()),
            _ => None,
        })
    }

    /// Renders the entries the way `git status --porcelain` (v1) shows them, names quoted as git
    /// quotes them (so that a crafted file name cannot forge a status line).
    pub fn porcelain_v1(&self) -> String {
        let mut out = String::new();
        for entry in &self.entries {
            let (xy, path) = match entry {
                StatusEntry::Changed { x, y, path, .. } => {
                    let dot = |c: char| if c == '.' { ' ' } else { c };
                    (format!("{}{}", dot(*x), dot(*y)), path)
                }
                StatusEntry::Unmerged { path } => ("UU".to_owned(), path),
                StatusEntry::Untracked { path } => ("??".to_owned(), path),
            };
            out.push_str(&xy);
            out.push(' ');
            out.push_str(&quote_path(path));
            out.push('\n');
        }
        out
    }
}

/// Quotes a path as git's status output does with `core.quotePath=false` (UTF-8 names stay
/// readable), so that a crafted file name cannot forge a status line.
fn quote_path(path: &[u8]) -> String {
    String::from_utf8_lossy(&c_quoted(path)).into_owned()
}

impl Head {
    /// Reads a `# branch.oid` or `# branch.head` header line (others say nothing about HEAD).
    fn read_header(&mut self, rest: &[u8]) {
        let rest = String::from_utf8_lossy(rest);
        if let Some(oid) = rest.strip_prefix("branch.oid ") {
            self.oid = (oid != "(initial)").then(|| oid.to_owned());
        } else if let Some(head) = rest.strip_prefix("branch.head ") {
            self.branch = (head != "(detached)").then(|| head.to_owned());
        }
    }
}

/// Parses an ordinary (`1`) or renamed (`2`) entry; `rest` follows the tag.
fn parse_changed(record: &[u8], tag: &[u8], rest: &[u8]) -> Result<StatusEntry> {
    // 1 XY sub mH mI mW hH hI path ; 2 adds a score field, then path NUL origPath.
    let skip = if tag == b"1" { 7 } else { 8 };
    let (xy, rest) = split_field(rest);
    // sub: "N..." for a path, "S<c><m><u>" for a submodule.
    let (sub, rest) = split_field(rest);
    let path = skip_fields(rest, skip - 2);
    if path.is_empty() || xy.len() != 2 {
        return Err(bad_entry("short", record));
    }
    Ok(StatusEntry::Changed {
        x: char::from(xy[0]),
        y: char::from(xy[1]),
        path: path.to_vec(),
        // A submodule with modified content (m) or untracked files (u) inside.
        dirty_submodule: sub.first() == Some(&b'S')
            && (sub.get(2) == Some(&b'M') || sub.get(3) == Some(&b'U')),
    })
}

/// Parses an unmerged (`u`) entry: nine fields, then the path.
fn parse_unmerged(record: &[u8], rest: &[u8]) -> Result<StatusEntry> {
    let path = skip_fields(rest, 9);
    if path.is_empty() {
        return Err(bad_entry("short", record));
    }
    Ok(StatusEntry::Unmerged {
        path: path.to_vec(),
    })
}

/// The error for an entry this parser cannot read.
fn bad_entry(what: &str, record: &[u8]) -> Error {
    let line = String::from_utf8_lossy(record);
    Error::GitOutput {
        args: "status --porcelain=v2".to_owned(),
        detail: format!("{what} entry {line:?}"),
    }
}

/// Drops `n` space-separated fields.
fn skip_fields(mut bytes: &[u8], n: usize) -> &[u8] {
    for _ in 0..n {
        bytes = split_field(bytes).1;
    }
    bytes
}

/// Splits off the first space-separated field.
fn split_field(bytes: &[u8]) -> (&[u8], &[u8]) {
    match bytes.iter().position(|b| *b == b' ') {
        Some(i) => (&bytes[..i], &bytes[i + 1..]),
        None => (bytes, &[]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_kind_of_entry() {
        let raw = b"# branch.oid 1111111111111111111111111111111111111111\0# branch.head main\0\
1 .M N... 100644 100644 100644 aaaa bbbb dir/a file.txt\0\
2 R. N... 100644 100644 100644 aaaa bbbb R100 new name\0old name\0\
u UU N... 100644 100644 100644 100644 aaaa bbbb cccc conflict.txt\0\
? untracked \xc3\xa9.txt\0? nested/\0! ignored.log\0";
        let status = Status::parse(raw).expect("parses");
        assert_eq!(
            status.head,
            Head {
                oid: Some("1".repeat(40)),
                branch: Some("main".into())
            }
        );
        assert_eq!(
            status.entries,
            vec![
                StatusEntry::Changed {
                    x: '.',
                    y: 'M',
                    path: b"dir/a file.txt".to_vec(),
                    dirty_submodule: false,
                },
                StatusEntry::Changed {
                    x: 'R',
                    y: '.',
                    path: b"new name".to_vec(),
                    dirty_submodule: false,
                },
                StatusEntry::Unmerged {
                    path: b"conflict.txt".to_vec()
                },
                StatusEntry::Untracked {
                    path: "untracked é.txt".as_bytes().to_vec()
                },
                StatusEntry::Untracked {
                    path: b"nested/".to_vec()
                },
            ]
        );
        assert_eq!(
            status.unmerged().collect::<Vec<_>>(),
            vec![b"conflict.txt".as_slice()]
        );
        assert_eq!(
            status.porcelain_v1(),
            " M \"dir/a file.txt\"\nR  \"new name\"\nUU conflict.txt\n?? \"untracked é.txt\"\n?? nested/\n"
        );
    }

    #[test]
    fn reads_unborn_and_detached_heads() {
        let status = Status::parse(b"# branch.oid (initial)\0# branch.head main\0").expect("ok");
        assert_eq!(status.head.oid, None);
        assert_eq!(status.head.branch.as_deref(), Some("main"));
        let status = Status::parse(b"# branch.oid abc\0# branch.head (detached)\0").expect("ok");
        assert_eq!(status.head.branch, None);
        assert!(!status.has_changes());
    }
}
