//! Repository paths as git gives them (raw bytes, `/`-separated) turned into file-system paths.

use std::ffi::OsStr;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// Returns the path for git's raw bytes; file names need not be UTF-8.
pub fn bytes_to_path(bytes: &[u8]) -> &Path {
    Path::new(OsStr::from_bytes(bytes))
}

/// Returns true when a folder on the way to `path` exists but is not a folder (a symlink or a
/// file): git treats the path as gone ("beyond a symbolic link"), and nothing may be read,
/// written or removed through it (that could reach outside the work tree).
pub fn behind_non_folder(workdir: &Path, path: &[u8]) -> bool {
    path.iter()
        .enumerate()
        .filter(|(_, b)| **b == b'/')
        .any(|(i, _)| {
            fs::symlink_metadata(workdir.join(bytes_to_path(&path[..i]))).is_ok_and(|m| !m.is_dir())
        })
}

/// Joins paths for a `-z --stdin` git command: each one followed by a NUL.
pub fn nul_separated<'a>(paths: impl IntoIterator<Item = &'a [u8]>) -> Vec<u8> {
    let mut out = Vec::new();
    for path in paths {
        out.extend_from_slice(path);
        out.push(0);
    }
    out
}
