//! The persistent stat cache of snapshots (issue 13): for each file a snapshot hashed (untracked
//! files above all, which the user's index never knows), its stat data and the blob it hashed
//! to, kept in `<git-dir>/checkpoint-manager/stat-cache`. A file whose stat data did not change
//! is not hashed again, nor run through a clean filter.
//!
//! It never changes what a snapshot captures:
//! - an entry is used only when size, mtime and ctime (to the nanosecond), inode, device and
//!   mode are all the same, and it was learned only if the file's mtime and ctime were older
//!   than the moment the snapshot that learned it started, by the file system's own clock
//!   ("racy git"): a later write, even in the same tick as the earlier one, changes the ctime;
//! - the whole cache is dropped when anything that decides what git's filters do may have
//!   changed: the conversion settings (`core.autocrlf`, `core.eol`, `filter.*`, ...), the index's
//!   tree (where tracked `.gitattributes` live), the stat data of every changed or untracked
//!   `.gitattributes` and of the attributes files outside the work tree;
//! - a blob it names must still exist (a `gc` may have pruned it), else the file is hashed;
//! - a batch git converted lossily (end-of-line) teaches it nothing.
//!
//! Crash-safe: it is replaced by rename and ends with the SHA-1 of its content; a missing,
//! torn or foreign file is an empty cache. Concurrent sessions: every snapshot runs under the
//! repository lock, so one process at a time reads and replaces it.

use std::collections::HashMap;
use std::fs;
use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::git::{self, KnownBlobs, Repo};

const FILE_NAME: &str = crate::defaults::STAT_CACHE_FILE;
const MAGIC: &str = "checkpoint-manager stat cache 1";

/// The stat data an entry must still have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stat {
    size: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
    ino: u64,
    dev: u64,
    mode: u32,
}

impl Stat {
    fn of(meta: &fs::Metadata) -> Stat {
        Stat {
            size: meta.size(),
            mtime: (meta.mtime(), meta.mtime_nsec()),
            ctime: (meta.ctime(), meta.ctime_nsec()),
            ino: meta.ino(),
            dev: meta.dev(),
            mode: meta.mode(),
        }
    }
}

/// The cache, loaded for one snapshot.
#[derive(Debug)]
pub(crate) struct StatCache {
    path: PathBuf,
    fingerprint: String,
    /// Entries for the paths of this snapshot whose blob exists.
    entries: HashMap<Vec<u8>, (Stat, String)>,
    /// What this snapshot used or learned: the next cache.
    next: HashMap<Vec<u8>, (Stat, String)>,
    /// The file system's clock when this snapshot started (before any file was looked at).
    started: Option<(i64, i64)>,
}

impl StatCache {
    /// Loads the cache for a snapshot of `paths` over the index tree `index_tree`.
    pub(crate) fn open(repo: &Repo, index_tree: &str, paths: &[Vec<u8>]) -> StatCache {
        let path = repo.private_dir().join(FILE_NAME);
        let fingerprint = fingerprint(repo, index_tree, paths);
        let mut entries = match fs::read(&path) {
            Ok(bytes) => parse(&bytes, &fingerprint).unwrap_or_default(),
            Err(_) => HashMap::new(),
        };
        let wanted: std::collections::HashSet<&[u8]> = paths.iter().map(Vec::as_slice).collect();
        entries.retain(|p, _| wanted.contains(p.as_slice()));
        drop_missing_blobs(repo, &mut entries);
        StatCache {
            started: fs_clock(&repo.private_dir()),
            path,
            fingerprint,
            entries,
            next: HashMap::new(),
        }
    }

    /// Replaces the cache file with what this snapshot used and learned (best effort: a cache
    /// that cannot be written is rebuilt next time).
    pub(crate) fn save(&self) {
        let mut out = format!("{MAGIC}\n{}\n", self.fingerprint).into_bytes();
        for (path, (stat, oid)) in &self.next {
            let _ = writeln!(
                out,
                "{oid} {} {} {} {} {} {} {} {} {}",
                stat.size,
                stat.mtime.0,
                stat.mtime.1,
                stat.ctime.0,
                stat.ctime.1,
                stat.ino,
                stat.dev,
                stat.mode,
                path.len()
            );
            out.extend_from_slice(path);
            out.push(b'\n');
        }
        let sum = sha1_smol::Sha1::from(&out).digest().to_string();
        out.extend_from_slice(sum.as_bytes());
        out.push(b'\n');
        let Some(dir) = self.path.parent() else {
            return;
        };
        let Ok(mut tmp) = tempfile::Builder::new()
            .prefix(".stat-cache.")
            .tempfile_in(dir)
        else {
            return;
        };
        if tmp.write_all(&out).is_ok() {
            let _ = tmp.persist(&self.path);
        }
    }
}

impl KnownBlobs for StatCache {
    fn known(&mut self, path: &[u8], meta: &fs::Metadata) -> Option<String> {
        let (stat, oid) = self.entries.get(path)?;
        if *stat != Stat::of(meta) {
            return None;
        }
        let oid = oid.clone();
        self.next.insert(path.to_vec(), (*stat, oid.clone()));
        Some(oid)
    }

    fn learn(&mut self, path: &[u8], meta: &fs::Metadata, oid: &str) {
        let stat = Stat::of(meta);
        let settled = self
            .started
            .is_some_and(|now| stat.mtime < now && stat.ctime < now);
        if settled {
            self.next.insert(path.to_vec(), (stat, oid.to_owned()));
        }
    }
}

/// The file system's current time, read as the mtime of a file made now in `dir`.
fn fs_clock(dir: &Path) -> Option<(i64, i64)> {
    let file = tempfile::Builder::new()
        .prefix(".clock.")
        .tempfile_in(dir)
        .ok()?;
    let meta = file.as_file().metadata().ok()?;
    Some((meta.mtime(), meta.mtime_nsec()))
}

/// What decides what git's filters make of a file, as one SHA-1.
fn fingerprint(repo: &Repo, index_tree: &str, paths: &[Vec<u8>]) -> String {
    let mut hasher = sha1_smol::Sha1::new();
    hasher.update(&repo.settings().conversion);
    hasher.update(index_tree.as_bytes());
    for var in [
        "GIT_ATTR_NOSYSTEM",
        "GIT_ATTR_SOURCE",
        "HOME",
        "XDG_CONFIG_HOME",
    ] {
        let value = std::env::var_os(var).unwrap_or_default();
        hasher.update(format!("{var}={}\n", value.to_string_lossy()).as_bytes());
    }
    let mut files: Vec<PathBuf> = attributes_files_outside(repo);
    files.extend(
        paths
            .iter()
            .filter(|p| git::is_attributes_file(p))
            .map(|p| repo.workdir().join(crate::paths::bytes_to_path(p))),
    );
    for file in files {
        let stat = fs::symlink_metadata(&file).map(|m| Stat::of(&m)).ok();
        hasher.update(format!("{}\n{stat:?}\n", file.display()).as_bytes());
    }
    hasher.digest().to_string()
}

/// The attributes files git reads besides the work tree's `.gitattributes`.
fn attributes_files_outside(repo: &Repo) -> Vec<PathBuf> {
    let mut files = vec![
        repo.common_dir().join("info/attributes"),
        PathBuf::from("/etc/gitattributes"),
    ];
    if let Some(xdg) = std::env::var_os("XDG_CONFIG_HOME").filter(|v| !v.is_empty()) {
        files.push(Path::new(&xdg).join("git/attributes"));
    }
    if let Some(home) = std::env::var_os("HOME").filter(|v| !v.is_empty()) {
        files.push(Path::new(&home).join(".config/git/attributes"));
    }
    // `core.attributesFile`, as git printed it (a leading `~/` is the home folder).
    let conversion = &repo.settings().conversion;
    for record in conversion.split(|b| *b == 0) {
        if let Some(value) = record
            .to_ascii_lowercase()
            .starts_with(b"core.attributesfile\n")
            .then(|| &record["core.attributesfile\n".len()..])
        {
            let value = String::from_utf8_lossy(value).into_owned();
            match (value.strip_prefix("~/"), std::env::var_os("HOME")) {
                (Some(rest), Some(home)) => files.push(Path::new(&home).join(rest)),
                _ => files.push(repo.workdir().join(value)),
            }
        }
    }
    files
}

/// Reads a cache file; `None` when it is torn, foreign or made under other settings.
fn parse(bytes: &[u8], fingerprint: &str) -> Option<HashMap<Vec<u8>, (Stat, String)>> {
    let body_end = bytes[..bytes.len().checked_sub(1)?]
        .iter()
        .rposition(|b| *b == b'\n')?
        + 1;
    let (body, sum) = bytes.split_at(body_end);
    if sum.strip_suffix(b"\n")? != sha1_smol::Sha1::from(body).digest().to_string().as_bytes() {
        return None;
    }
    let header = format!("{MAGIC}\n{fingerprint}\n");
    let mut rest = body.strip_prefix(header.as_bytes())?;
    let mut entries = HashMap::new();
    while !rest.is_empty() {
        let line_end = rest.iter().position(|b| *b == b'\n')?;
        let line = std::str::from_utf8(&rest[..line_end]).ok()?;
        let fields: Vec<&str> = line.split(' ').collect();
        let [oid, size, ms, mns, cs, cns, ino, dev, mode, len] = fields[..] else {
            return None;
        };
        if oid.len() != 40 || !oid.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let len: usize = len.parse().ok()?;
        let path = rest.get(line_end + 1..line_end + 1 + len)?.to_vec();
        if rest.get(line_end + 1 + len) != Some(&b'\n') {
            return None;
        }
        rest = &rest[line_end + len + 2..];
        let stat = Stat {
            size: size.parse().ok()?,
            mtime: (ms.parse().ok()?, mns.parse().ok()?),
            ctime: (cs.parse().ok()?, cns.parse().ok()?),
            ino: ino.parse().ok()?,
            dev: dev.parse().ok()?,
            mode: mode.parse().ok()?,
        };
        entries.insert(path, (stat, oid.to_owned()));
    }
    Some(entries)
}

/// Drops the entries whose blob the object store no longer holds: loose objects are looked at
/// directly, the rest asked of git in one process.
fn drop_missing_blobs(repo: &Repo, entries: &mut HashMap<Vec<u8>, (Stat, String)>) {
    // Elsewhere than the usual folder, only git knows where objects are.
    let objects = std::env::var_os("GIT_OBJECT_DIRECTORY")
        .is_none()
        .then(|| repo.common_dir().join("objects"));
    let loose = |oid: &str| {
        objects
            .as_ref()
            .is_some_and(|dir| dir.join(&oid[..2]).join(&oid[2..]).is_file())
    };
    let unsure: Vec<String> = entries
        .values()
        .map(|(_, oid)| oid)
        .filter(|oid| !loose(oid))
        .cloned()
        .collect();
    if unsure.is_empty() {
        return;
    }
    let found = git::resolve_objects(repo, &unsure).unwrap_or_default();
    let missing: std::collections::HashSet<&String> = unsure
        .iter()
        .enumerate()
        .filter(|(i, _)| !matches!(found.get(*i), Some(Some(_))))
        .map(|(_, oid)| oid)
        .collect();
    let missing: std::collections::HashSet<String> = missing.into_iter().cloned().collect();
    entries.retain(|_, (_, oid)| !missing.contains(oid));
}
