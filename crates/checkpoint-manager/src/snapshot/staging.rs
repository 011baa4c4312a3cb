//! Staging into a private index with git's own filters, and the raw-bytes tree kept when git's
//! end-of-line conversion would not give a file's bytes back.

use std::path::Path;

use crate::error::{Error, Result};
use crate::git::{self, Eol, IndexEntry, IndexFile, Repo};
use crate::paths::behind_non_folder;

use super::{write_tree, TempIndex};

/// Stages `paths` (work-tree content, deletions included) into `index`, like `git add -A` would.
pub fn stage_paths(repo: &Repo, index: IndexFile<'_>, paths: &[Vec<u8>]) -> Result<()> {
    stage(repo, index, paths, false).map(|_| ())
}

/// Stages like [`stage_paths`] and tells whether git's end-of-line conversion changed the bytes
/// of any file (git's `core.safecrlf` check, made in the same pass: no extra work when none did).
fn stage_paths_detecting_lossy(repo: &Repo, index: &Path, paths: &[Vec<u8>]) -> Result<bool> {
    match stage(repo, IndexFile::Scratch(index), paths, true) {
        Ok(()) => Ok(false),
        Err(Error::Git { stderr, .. }) if stderr.contains("would be replaced by") => {
            // The failed run wrote nothing; stage again, converting as `git add` does.
            stage(repo, IndexFile::Scratch(index), paths, false)?;
            Ok(true)
        }
        Err(e) => Err(e),
    }
}

fn stage(repo: &Repo, index: IndexFile<'_>, paths: &[Vec<u8>], strict_eol: bool) -> Result<()> {
    // A path behind a folder that is now a symlink or a file is gone for git, but update-index
    // refuses to look "beyond a symbolic link": such entries are removed outright.
    let (gone, present): (Vec<&Vec<u8>>, Vec<&Vec<u8>>) = paths
        .iter()
        .partition(|p| behind_non_folder(repo.workdir(), p));
    if !gone.is_empty() {
        git::remove_entries(repo, index, &gone)?;
    }
    if !present.is_empty() {
        let eol = if strict_eol {
            Eol::Refuse
        } else {
            Eol::Convert
        };
        git::add_paths(repo, index, &present, eol)?;
    }
    Ok(())
}

/// Returns a tree holding the exact bytes of every regular file among `paths` (called when git's
/// end-of-line conversion would not give some file's bytes back), or `None`.
fn raw_bytes_tree(repo: &Repo, index: &Path, paths: &[Vec<u8>]) -> Result<Option<String>> {
    // Staged blobs of the captured paths.
    let listed = git::staged_entries(repo, IndexFile::Scratch(index), &[])?;
    let staged: std::collections::HashMap<&[u8], &IndexEntry> =
        listed.iter().map(|e| (e.path.as_slice(), e)).collect();
    let files: Vec<&IndexEntry> = paths
        .iter()
        .filter_map(|p| staged.get(p.as_slice()).copied())
        .filter(|e| matches!(e.mode.as_slice(), b"100644" | b"100755"))
        .collect();
    if files.is_empty() {
        return Ok(None);
    }
    // Their bytes as they are, stored without any filter.
    let names: Vec<&[u8]> = files.iter().map(|e| e.path.as_slice()).collect();
    let raw_ids = crate::git::hash_files_raw(repo, &names)?;
    // Every file: one whose blob is its bytes (LF under `core.autocrlf=true`) can still be
    // converted on checkout, and git's check does not say which file it stopped at.
    let entries: Vec<IndexEntry> = files
        .iter()
        .zip(raw_ids)
        .map(|(e, oid)| IndexEntry {
            oid,
            stage: 0,
            ..(*e).clone()
        })
        .collect();
    if entries.is_empty() {
        return Ok(None);
    }
    let raw_index = TempIndex::empty(repo)?;
    git::add_entries(repo, IndexFile::Scratch(raw_index.path()), &entries)?;
    write_tree(repo, IndexFile::Scratch(raw_index.path())).map(Some)
}

/// Force-stages `paths` even when ignored (used for files a restore would overwrite).
fn force_stage(repo: &Repo, index: &Path, paths: &[Vec<u8>]) -> Result<()> {
    if paths.is_empty() {
        return Ok(());
    }
    git::force_add(repo, IndexFile::Scratch(index), paths)
}

/// Stages `paths` (and force-stages `force_paths`) with git's own staging in the private copy
/// `index`, and returns its tree with the raw-bytes tree when git's conversion was lossy.
pub(super) fn stage_in_copy(
    repo: &Repo,
    index: &Path,
    paths: &[Vec<u8>],
    force_paths: &[Vec<u8>],
    assume_unchanged: &[Vec<u8>],
) -> Result<(String, Option<String>)> {
    if !assume_unchanged.is_empty() {
        // In our copy only: drop the flag so that update-index looks at the file again.
        super::clear_assume_unchanged(repo, IndexFile::Scratch(index), assume_unchanged)?;
    }
    let lossy = stage_paths_detecting_lossy(repo, index, paths)?;
    let raw_tree = if lossy {
        raw_bytes_tree(repo, index, paths)?
    } else {
        None
    };
    force_stage(repo, index, force_paths)?;
    Ok((write_tree(repo, IndexFile::Scratch(index))?, raw_tree))
}
