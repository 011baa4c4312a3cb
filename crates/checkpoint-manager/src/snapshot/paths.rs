//! Which paths a snapshot captures, and which it skips (and reports): nested repositories, work
//! inside submodules, untracked files over the size cap.

use std::fs;

use crate::git::{Repo, Status, StatusEntry};
use crate::model::{SkipReason, SkippedPath};
use crate::paths::bytes_to_path;

/// Lists the work-tree paths `status` says differ from the index, leaving out (and reporting)
/// nested repositories and untracked files over `max_file_size`.
pub fn paths_to_capture(
    repo: &Repo,
    status: &Status,
    max_file_size: Option<u64>,
) -> (Vec<Vec<u8>>, Vec<SkippedPath>) {
    let mut paths = Vec::new();
    let mut skipped = Vec::new();
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
                    skipped.push(SkippedPath {
                        path: String::from_utf8_lossy(path).into_owned(),
                        reason: SkipReason::SubmoduleChanges,
                        size: None,
                    });
                }
            }
            StatusEntry::Untracked { path } if path.ends_with(b"/") => {
                skipped.push(SkippedPath {
                    path: String::from_utf8_lossy(path).into_owned(),
                    reason: SkipReason::NestedRepository,
                    size: None,
                });
            }
            StatusEntry::Untracked { path } => {
                let size = fs::symlink_metadata(repo.workdir().join(bytes_to_path(path)))
                    .map(|m| m.len())
                    .unwrap_or(0);
                match max_file_size {
                    Some(cap) if size > cap => skipped.push(SkippedPath {
                        path: String::from_utf8_lossy(path).into_owned(),
                        reason: SkipReason::TooLarge,
                        size: Some(size),
                    }),
                    _ => paths.push(path.clone()),
                }
            }
            _ => {}
        }
    }
    (paths, skipped)
}

/// Returns true when `path` is `folder` or lies inside it.
pub(super) fn covers(folder: &[u8], path: &[u8]) -> bool {
    let path = path.strip_suffix(b"/").unwrap_or(path);
    path == folder || (path.starts_with(folder) && path.get(folder.len()) == Some(&b'/'))
}
