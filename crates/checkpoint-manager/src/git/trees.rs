//! Building a snapshot's work-tree tree without a second index: the index's tree, edited at the
//! few paths `git status` reported. The changed files are hashed by one `git hash-object`
//! (which applies the user's filters by path, exactly as `git add` does), the trees along the
//! changed paths are read through one `git cat-file --batch`, and the new trees are written as
//! loose objects. On a big repository this replaces rewriting and re-reading a whole index
//! (`update-index` + `write-tree`) with work proportional to the change.
//!
//! Only the plain case takes this road (SHA-1 objects written by us, `core.fileMode` and
//! `core.symlinks` on, regular files and symlinks only); anything else
//! returns `None` and the caller stages into a temporary index instead.

use std::collections::BTreeMap;
use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::process::{Child, ChildStdin, ChildStdout};

use super::{LooseObjects, ObjectKind, Repo};
use crate::error::{Error, Result};
use crate::paths::{behind_non_folder, bytes_to_path, c_quoted};

const TREE_MODE: &[u8] = b"40000";

/// A tree's entries by name: (mode, object id).
type Entries = BTreeMap<Vec<u8>, (Vec<u8>, String)>;

/// What becomes of one path.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Edit {
    Delete,
    Set { mode: &'static [u8], oid: String },
}

/// The work-tree tree and, when git's filters converted some file, the tree of their raw bytes.
#[derive(Debug)]
pub struct EditedTrees {
    pub tree: String,
    pub raw_tree: Option<String>,
}

/// What an earlier snapshot learned about regular files: the blob a file hashed to, while its
/// stat data stays the same (see `snapshot::stat_cache`).
pub trait KnownBlobs {
    /// The blob of `path` (filtered as `git add` would), if known for exactly this stat data.
    fn known(&mut self, path: &[u8], meta: &fs::Metadata) -> Option<String>;
    /// Learns that `path`, with stat data `meta` read before it was hashed, hashed to `oid`.
    fn learn(&mut self, path: &[u8], meta: &fs::Metadata, oid: &str);
}

/// Returns the tree of `base_tree` with `paths` set to what the work tree holds now (or removed
/// where they are gone), or `None` when this case is left to git's index machinery. Files
/// `known` knows are not hashed again.
pub fn edit_tree_from_worktree(
    repo: &Repo,
    base_tree: &str,
    paths: &[Vec<u8>],
    known: &mut dyn KnownBlobs,
) -> Result<Option<EditedTrees>> {
    let Some(objects) = repo.loose_objects() else {
        return Ok(None);
    };
    let settings = repo.settings();
    if !settings.file_mode || !settings.symlinks {
        return Ok(None);
    }
    let Some(mut plan) = plan_edits(repo, &objects, paths, known)? else {
        return Ok(None);
    };
    let mut raw_edits = hash_regular_files(repo, &plan.regular, &mut plan.edits)?;
    if raw_edits.is_empty() {
        // A batch git converted lossily teaches nothing: a known file is one that was not.
        for ((path, _), meta) in plan.regular.iter().zip(&plan.metas) {
            if let Some(Edit::Set { oid, .. }) = plan.edits.get(*path) {
                known.learn(path, meta, oid);
            }
        }
    } else if !plan.from_known.is_empty() {
        // As without the cache: every file of a lossy batch gets its raw bytes kept.
        let names: Vec<&[u8]> = plan.from_known.iter().map(|(p, _)| *p).collect();
        for ((path, mode), oid) in plan.from_known.iter().zip(hash_files_raw(repo, &names)?) {
            raw_edits.insert(path.to_vec(), Edit::Set { mode, oid });
        }
    }
    let edits = plan.edits;
    let mut trees = TreeReader::start(repo)?;
    let tree = build(&mut trees, &objects, Some(base_tree), &edits)?
        .map_or_else(|| objects.write(ObjectKind::Tree, b""), Ok)?;
    let raw_tree = if raw_edits.is_empty() {
        None
    } else {
        build(&mut trees, &objects, None, &raw_edits)?
    };
    Ok(Some(EditedTrees { tree, raw_tree }))
}

/// The edits of a snapshot's tree, planned before anything is hashed.
struct EditPlan<'p> {
    /// Edits known already (removals, symlinks, files the stat cache knows).
    edits: BTreeMap<Vec<u8>, Edit>,
    /// Regular files to hash through the user's filters, with their mode and stat data.
    regular: Vec<(&'p [u8], &'static [u8])>,
    metas: Vec<fs::Metadata>,
    /// Files the stat cache answered for.
    from_known: Vec<(&'p [u8], &'static [u8])>,
}

/// Plans the edit of each changed path; `None` when one is left to git's index machinery.
fn plan_edits<'p>(
    repo: &Repo,
    objects: &LooseObjects,
    paths: &'p [Vec<u8>],
    known: &mut dyn KnownBlobs,
) -> Result<Option<EditPlan<'p>>> {
    let mut plan = EditPlan {
        edits: BTreeMap::new(),
        regular: Vec::new(),
        metas: Vec::new(),
        from_known: Vec::new(),
    };
    for path in paths {
        match plan_path(repo, objects, path)? {
            Planned::Edit(edit) => {
                plan.edits.insert(path.clone(), edit);
            }
            Planned::Hash(mode, meta) => match known.known(path, &meta) {
                Some(oid) => {
                    plan.edits.insert(path.clone(), Edit::Set { mode, oid });
                    plan.from_known.push((path, mode));
                }
                None => {
                    plan.regular.push((path, mode));
                    plan.metas.push(meta);
                }
            },
            Planned::LeaveToGit => return Ok(None),
        }
    }
    Ok(Some(plan))
}

/// What to do with one changed path.
enum Planned {
    /// Known already: removed, or a symlink (its blob written).
    Edit(Edit),
    /// A regular file of this mode and stat data, to hash through the user's filters (in one
    /// batch).
    Hash(&'static [u8], fs::Metadata),
    /// A case only git's index machinery gets right.
    LeaveToGit,
}

/// Looks at one changed path in the work tree.
fn plan_path(repo: &Repo, objects: &LooseObjects, path: &[u8]) -> Result<Planned> {
    let full = repo.workdir().join(bytes_to_path(path));
    // Behind a folder that is now a symlink or a file, the path is gone for git.
    if behind_non_folder(repo.workdir(), path) {
        return Ok(Planned::Edit(Edit::Delete));
    }
    match fs::symlink_metadata(&full) {
        // git reads attributes from the index where the work tree has no .gitattributes
        // any more; hash-object does not see the index: leave that case to update-index.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && is_attributes_file(path) => {
            Ok(Planned::LeaveToGit)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Planned::Edit(Edit::Delete)),
        Err(e) => Err(Error::io(full, e)),
        Ok(meta) if meta.file_type().is_symlink() => {
            let target = fs::read_link(&full).map_err(|e| Error::io(&full, e))?;
            let oid = objects.write(ObjectKind::Blob, target.as_os_str().as_bytes())?;
            Ok(Planned::Edit(Edit::Set {
                mode: b"120000",
                oid,
            }))
        }
        Ok(meta) if meta.is_file() => {
            let executable = meta.permissions().mode() & 0o100 != 0;
            let mode: &'static [u8] = if executable { b"100755" } else { b"100644" };
            Ok(Planned::Hash(mode, meta))
        }
        // A folder (a submodule, a nested repository): git's own staging knows what to do.
        Ok(_) => Ok(Planned::LeaveToGit),
    }
}

/// Hashes the `regular` files through the user's filters into `edits`, and returns the edits
/// of a raw-bytes tree when git's end-of-line conversion changed some file's bytes.
fn hash_regular_files(
    repo: &Repo,
    regular: &[(&[u8], &'static [u8])],
    edits: &mut BTreeMap<Vec<u8>, Edit>,
) -> Result<BTreeMap<Vec<u8>, Edit>> {
    let names: Vec<&[u8]> = regular.iter().map(|(p, _)| *p).collect();
    let (filtered, lossy) = hash_files(repo, &names)?;
    let mut raw_edits: BTreeMap<Vec<u8>, Edit> = BTreeMap::new();
    if lossy {
        // Every file of the batch: git's check does not say which one, and a file stored
        // unchanged (LF under `core.autocrlf=true`) can still be converted on checkout.
        let raw = hash_files_raw(repo, &names)?;
        for ((path, mode), raw) in regular.iter().zip(raw) {
            raw_edits.insert(path.to_vec(), Edit::Set { mode, oid: raw });
        }
    }
    for ((path, mode), oid) in regular.iter().zip(filtered) {
        edits.insert(path.to_vec(), Edit::Set { mode, oid });
    }
    Ok(raw_edits)
}

/// Returns true for a `.gitattributes` file (in any folder).
pub fn is_attributes_file(path: &[u8]) -> bool {
    path.rsplit(|b| *b == b'/').next() == Some(b".gitattributes".as_slice())
}

/// Hashes and stores files through the user's filters; also tells whether an end-of-line
/// conversion changed some file's bytes (git's `core.safecrlf` check, in the same pass).
fn hash_files(repo: &Repo, paths: &[&[u8]]) -> Result<(Vec<String>, bool)> {
    match hash(
        repo,
        paths,
        &[
            "-c",
            "core.safecrlf=true",
            "hash-object",
            "-w",
            "--stdin-paths",
        ],
    ) {
        Ok(oids) => Ok((oids, false)),
        Err(Error::Git { stderr, .. }) if stderr.contains("would be replaced by") => Ok((
            hash(repo, paths, &["hash-object", "-w", "--stdin-paths"])?,
            true,
        )),
        Err(e) => Err(e),
    }
}

/// Hashes and stores files exactly as they are on disk.
pub fn hash_files_raw(repo: &Repo, paths: &[&[u8]]) -> Result<Vec<String>> {
    hash(
        repo,
        paths,
        &["hash-object", "-w", "--no-filters", "--stdin-paths"],
    )
}

/// Hashes files exactly as they are on disk, storing nothing.
pub fn hash_files_unstored(repo: &Repo, paths: &[&[u8]]) -> Result<Vec<String>> {
    hash(
        repo,
        paths,
        &["hash-object", "--no-filters", "--stdin-paths"],
    )
}

fn hash(repo: &Repo, paths: &[&[u8]], args: &[&str]) -> Result<Vec<String>> {
    if paths.is_empty() {
        return Ok(Vec::new());
    }
    // One name per line; git unquotes a line that starts with `"`, so names with a newline or
    // a leading quote go C-quoted (quoting any other name changes nothing).
    let mut input = Vec::new();
    for path in paths {
        input.extend_from_slice(&c_quoted(path));
        input.push(b'\n');
    }
    let out = repo.git().args(args).stdin(input).run()?;
    let oids: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect();
    if oids.len() != paths.len() {
        return Err(Error::GitOutput {
            args: "hash-object --stdin-paths".into(),
            detail: format!("{} ids for {} files", oids.len(), paths.len()),
        });
    }
    Ok(oids)
}

/// Edits by child folder name, each with paths relative to that folder.
type ByChild = BTreeMap<Vec<u8>, BTreeMap<Vec<u8>, Edit>>;

/// Edits grouped by the child folder they are below (paths relative to it), and the edits of
/// this tree's own entries.
fn split_by_child(edits: &BTreeMap<Vec<u8>, Edit>) -> (ByChild, Vec<(&[u8], &Edit)>) {
    let mut nested = ByChild::new();
    let mut direct: Vec<(&[u8], &Edit)> = Vec::new();
    for (path, edit) in edits {
        match path.iter().position(|b| *b == b'/') {
            Some(i) => {
                nested
                    .entry(path[..i].to_vec())
                    .or_default()
                    .insert(path[i + 1..].to_vec(), edit.clone());
            }
            None => direct.push((path, edit)),
        }
    }
    (nested, direct)
}

/// Applies `edits` (paths relative to this tree) to the tree `base` and writes the result;
/// `None` when nothing is left in it.
fn build(
    trees: &mut TreeReader,
    objects: &LooseObjects,
    base: Option<&str>,
    edits: &BTreeMap<Vec<u8>, Edit>,
) -> Result<Option<String>> {
    let mut entries: Entries = match base {
        Some(oid) => trees.read(oid)?,
        None => BTreeMap::new(),
    };
    let (nested, direct) = split_by_child(edits);
    let mut built_folders: Vec<Vec<u8>> = Vec::new();
    for (name, sub_edits) in &nested {
        let sub_base = entries
            .get(name)
            .filter(|(mode, _)| mode == TREE_MODE)
            .map(|(_, oid)| oid.clone());
        match build(trees, objects, sub_base.as_deref(), sub_edits)? {
            Some(oid) => {
                entries.insert(name.clone(), (TREE_MODE.to_vec(), oid));
                built_folders.push(name.clone());
            }
            None => {
                if entries.get(name).is_some_and(|(mode, _)| mode == TREE_MODE) {
                    entries.remove(name);
                }
            }
        }
    }
    for (name, edit) in direct {
        match edit {
            // A file replaced by a folder: the folder just built stays.
            Edit::Delete if built_folders.iter().any(|f| f == name) => {}
            Edit::Delete => {
                entries.remove(name);
            }
            Edit::Set { mode, oid } => {
                entries.insert(name.to_vec(), (mode.to_vec(), oid.clone()));
            }
        }
    }
    if entries.is_empty() {
        return Ok(None);
    }
    objects
        .write(ObjectKind::Tree, &serialize(&entries)?)
        .map(Some)
}

/// Writes tree entries in git's order: by name, a folder's name compared as if it ended in `/`.
fn serialize(entries: &Entries) -> Result<Vec<u8>> {
    let mut sorted: Vec<_> = entries.iter().collect();
    sorted.sort_by_key(|(name, (mode, _))| {
        let mut key = name.to_vec();
        if mode == TREE_MODE {
            key.push(b'/');
        }
        key
    });
    let mut out = Vec::new();
    for (name, (mode, oid)) in sorted {
        out.extend_from_slice(mode);
        out.push(b' ');
        out.extend_from_slice(name);
        out.push(0);
        out.extend_from_slice(&hex_to_bytes(oid)?);
    }
    Ok(out)
}

fn hex_to_bytes(hex: &str) -> Result<Vec<u8>> {
    let bad = || Error::GitOutput {
        args: "cat-file --batch".into(),
        detail: format!("not an object id: {hex:?}"),
    };
    if !hex.len().is_multiple_of(2) {
        return Err(bad());
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2).ok_or_else(bad)?, 16).map_err(|_| bad()))
        .collect()
}

/// One `git cat-file --batch` kept open to read trees on demand.
struct TreeReader {
    child: Child,
    input: Option<ChildStdin>,
    output: BufReader<ChildStdout>,
}

impl TreeReader {
    fn start(repo: &Repo) -> Result<TreeReader> {
        let mut child = repo.git().args(["cat-file", "--batch"]).spawn_piped()?;
        let input = child.stdin.take();
        let output = child.stdout.take().map(BufReader::new);
        match (input, output) {
            (Some(input), Some(output)) => Ok(TreeReader {
                child,
                input: Some(input),
                output,
            }),
            _ => Err(Error::GitOutput {
                args: "cat-file --batch".into(),
                detail: "no pipes".into(),
            }),
        }
    }

    /// Returns a tree's entries by name: (mode, object id).
    fn read(&mut self, oid: &str) -> Result<Entries> {
        let io = |e: std::io::Error| Error::GitOutput {
            args: "cat-file --batch".into(),
            detail: e.to_string(),
        };
        let input = self
            .input
            .as_mut()
            .ok_or_else(|| io(std::io::ErrorKind::BrokenPipe.into()))?;
        writeln!(input, "{oid}")
            .and_then(|()| input.flush())
            .map_err(io)?;
        let mut header = String::new();
        self.output.read_line(&mut header).map_err(io)?;
        let size = match super::objects::BatchHeader::parse(&header)? {
            Some(found) if found.kind == "tree" => found.size,
            _ => {
                return Err(super::objects::batch_error(&format!(
                    "{oid} is not a tree: {}",
                    header.trim()
                )))
            }
        };
        let mut body = vec![0; size + 1]; // the content, then a newline
        self.output.read_exact(&mut body).map_err(io)?;
        body.truncate(size);
        let mut entries = BTreeMap::new();
        let mut rest = body.as_slice();
        while !rest.is_empty() {
            let nul = rest.iter().position(|b| *b == 0);
            let space = nul.and_then(|nul| rest[..nul].iter().position(|b| *b == b' '));
            let (Some(space), Some(nul)) = (space, nul) else {
                break;
            };
            if rest.len() < nul + 21 {
                break;
            }
            let mode = rest[..space].to_vec();
            let name = rest[space + 1..nul].to_vec();
            let oid: String = rest[nul + 1..nul + 21]
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            entries.insert(name, (mode, oid));
            rest = &rest[nul + 21..];
        }
        Ok(entries)
    }
}

impl Drop for TreeReader {
    fn drop(&mut self) {
        drop(self.input.take());
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_entries_as_git_does() {
        let mut entries = BTreeMap::new();
        let oid = "0".repeat(40);
        for (name, mode) in [
            ("a.txt", "100644"),
            ("a", "40000"),
            ("a-b", "100644"),
            ("a0", "100644"),
        ] {
            entries.insert(
                name.as_bytes().to_vec(),
                (mode.as_bytes().to_vec(), oid.clone()),
            );
        }
        let bytes = serialize(&entries).expect("serialises");
        let names: Vec<String> = bytes
            .split(|b| *b == 0)
            .filter_map(|chunk| {
                let text = String::from_utf8_lossy(chunk);
                text.rsplit_once(' ').map(|(_, name)| name.to_owned())
            })
            .collect();
        // git: "a-b" < "a.txt" < "a/" (the folder) < "a0"
        assert_eq!(names, ["a-b", "a.txt", "a", "a0"]);
    }
}
