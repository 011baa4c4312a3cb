//! `CreateRequest::include`: paths a checkpoint captures even when ignored or over a cap,
//! checked before anything changes. Only paths inside the work tree, outside the git dir and
//! the tool's sessions folder, and that exist, are taken.

use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

use crate::defaults::SESSIONS_DIR;
use crate::error::{Error, Result};
use crate::git::Repo;

/// Returns each path of `include` as git spells it (relative to the top of the work tree),
/// or the first one that cannot be included.
pub(crate) fn resolve_includes(repo: &Repo, include: &[PathBuf]) -> Result<Vec<Vec<u8>>> {
    let top = canonical(repo.workdir())?;
    include
        .iter()
        .map(|path| resolve(repo, &top, path))
        .collect()
}

fn resolve(repo: &Repo, top: &Path, path: &Path) -> Result<Vec<u8>> {
    let refuse = |problem: &'static str| Error::InvalidInclude {
        path: path.to_path_buf(),
        problem,
    };
    let joined = lexically_normal(&repo.workdir().join(path));
    // The folders on the way are resolved (a symlink to outside the work tree lands outside);
    // the last name is not (a symlink is captured as itself).
    let (parent, name) = match (joined.parent(), joined.file_name()) {
        (Some(parent), Some(name)) => (parent, name),
        _ => return Err(refuse("it is outside the work tree")),
    };
    let parent = canonical(parent).map_err(|_| refuse("it does not exist"))?;
    let relative = match parent.join(name).strip_prefix(top) {
        Ok(relative) if !relative.as_os_str().is_empty() => relative.to_path_buf(),
        Ok(_) => {
            return Err(refuse(
                "it is the whole work tree; name files or folders in it",
            ))
        }
        Err(_) => return Err(refuse("it is outside the work tree")),
    };
    if relative.components().any(|c| c.as_os_str() == ".git") {
        return Err(refuse("it is inside a git dir"));
    }
    let sessions = Path::new(SESSIONS_DIR);
    if relative.starts_with(sessions) || sessions.starts_with(&relative) {
        return Err(refuse(
            "it holds or lies in the tool's sessions folder, which is never captured",
        ));
    }
    if std::fs::symlink_metadata(top.join(&relative)).is_err() {
        return Err(refuse("it does not exist"));
    }
    Ok(relative.as_os_str().as_bytes().to_vec())
}

fn canonical(path: &Path) -> Result<PathBuf> {
    path.canonicalize().map_err(|e| Error::io(path, e))
}

/// `path` with `.` and `..` taken out without reading the disk (as a shell's `cd -L` would).
fn lexically_normal(path: &Path) -> PathBuf {
    let mut normal = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                normal.pop();
            }
            other => normal.push(other),
        }
    }
    normal
}
