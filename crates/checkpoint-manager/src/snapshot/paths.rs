//! Which paths a snapshot captures, and which it skips (and reports): nested repositories, work
//! inside submodules, untracked files over the size cap, untracked folders over the file cap.

use std::collections::HashMap;
use std::fs;

use crate::error::Result;
use crate::git::{self, Repo, Status, StatusEntry};
use crate::model::{SkipReason, SkippedPath};
use crate::paths::bytes_to_path;

/// The caps in force for one operation (`None`: no cap).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caps {
    /// Untracked files larger than this many bytes are skipped.
    pub max_file_size: Option<u64>,
    /// Untracked folders holding more files than this are skipped as a whole.
    pub max_untracked_dir_files: Option<u64>,
}

/// Lists the work-tree paths `status` says differ from the index, leaving out (and reporting)
/// nested repositories, untracked files over the size cap and untracked folders over the file
/// cap. `status` must list every untracked file.
pub fn paths_to_capture(
    repo: &Repo,
    status: &Status,
    caps: Caps,
) -> Result<(Vec<Vec<u8>>, Vec<SkippedPath>)> {
    let crowded = crowded_folders(repo, status, caps.max_untracked_dir_files)?;
    let mut paths = Vec::new();
    let mut skipped: Vec<SkippedPath> = crowded
        .iter()
        .map(|(folder, files)| SkippedPath {
            path: String::from_utf8_lossy(folder).into_owned(),
            reason: SkipReason::TooManyFiles,
            size: None,
            files: Some(*files),
        })
        .collect();
    for entry in &status.entries {
        match entry {
            StatusEntry::Changed {
                y,
                path,
                dirty_submodule,
                ..
            } if *y != '.' => {
                paths.push(path.clone());
                // The submodule's commit is captured; the work inside it is its own repository's.
                if *dirty_submodule {
                    skipped.push(skipped_path(path, SkipReason::SubmoduleChanges, None));
                }
            }
            StatusEntry::Untracked { path } if crowded.iter().any(|(f, _)| covers(f, path)) => {}
            StatusEntry::Untracked { path } if path.ends_with(b"/") => {
                skipped.push(skipped_path(path, SkipReason::NestedRepository, None));
            }
            StatusEntry::Untracked { path } => {
                let size = fs::symlink_metadata(repo.workdir().join(bytes_to_path(path)))
                    .map(|m| m.len())
                    .unwrap_or(0);
                match caps.max_file_size {
                    Some(cap) if size > cap => {
                        skipped.push(skipped_path(path, SkipReason::TooLarge, Some(size)));
                    }
                    _ => paths.push(path.clone()),
                }
            }
            _ => {}
        }
    }
    Ok((paths, skipped))
}

fn skipped_path(path: &[u8], reason: SkipReason, size: Option<u64>) -> SkippedPath {
    SkippedPath {
        path: String::from_utf8_lossy(path).into_owned(),
        reason,
        size,
        files: None,
    }
}

/// Returns the top-most untracked folders (ending in `/`) holding more than `cap` untracked
/// files, with their counts, sorted. Costs a git process only when the work tree holds more
/// untracked files than the cap in all, so the common case pays nothing.
fn crowded_folders(repo: &Repo, status: &Status, cap: Option<u64>) -> Result<Vec<(Vec<u8>, u64)>> {
    let Some(cap) = cap else {
        return Ok(Vec::new());
    };
    let untracked = status
        .entries
        .iter()
        .filter_map(|e| match e {
            StatusEntry::Untracked { path } => Some(path),
            _ => None,
        })
        .collect::<Vec<_>>();
    if untracked.len() as u64 <= cap {
        return Ok(Vec::new());
    }
    let mut counts: HashMap<Vec<u8>, u64> = git::untracked_top_folders(repo)?
        .into_iter()
        .map(|folder| (folder, 0))
        .collect();
    for path in untracked {
        // The folder is one of the path's own folders: look each of them up.
        let mut ends = path.iter().enumerate().filter(|(_, b)| **b == b'/');
        let folder = ends.find_map(|(i, _)| counts.contains_key(&path[..=i]).then(|| &path[..=i]));
        if let Some(n) = folder.and_then(|f| counts.get_mut(f)) {
            *n += 1;
        }
    }
    let mut crowded: Vec<(Vec<u8>, u64)> = counts.into_iter().filter(|(_, n)| *n > cap).collect();
    crowded.sort();
    Ok(crowded)
}

/// Returns true when `path` is `folder` or lies inside it.
pub(super) fn covers(folder: &[u8], path: &[u8]) -> bool {
    let folder = folder.strip_suffix(b"/").unwrap_or(folder);
    let path = path.strip_suffix(b"/").unwrap_or(path);
    path == folder || (path.starts_with(folder) && path.get(folder.len()) == Some(&b'/'))
}
