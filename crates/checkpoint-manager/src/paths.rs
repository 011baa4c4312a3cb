//! Repository paths as git gives them (raw bytes, `/`-separated) turned into file-system paths.

use std::borrow::Cow;
use std::ffi::OsStr;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

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

/// Quotes a path the way git quotes names (and unquotes them where it reads one name per
/// line): names with a space, a double quote, a backslash or a control character are put in
/// double quotes with C-style escapes; other names, UTF-8 or not, are returned as they are.
pub fn c_quoted(path: &[u8]) -> Cow<'_, [u8]> {
    let special = |b: u8| b < 0x20 || b == 0x7f || b == b'"' || b == b'\\' || b == b' ';
    if !path.iter().any(|b| special(*b)) {
        return Cow::Borrowed(path);
    }
    let mut out: Vec<u8> = vec![b'"'];
    for &b in path {
        match b {
            0x07 => out.extend_from_slice(b"\\a"),
            0x08 => out.extend_from_slice(b"\\b"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\n' => out.extend_from_slice(b"\\n"),
            0x0b => out.extend_from_slice(b"\\v"),
            0x0c => out.extend_from_slice(b"\\f"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'"' | b'\\' => out.extend_from_slice(&[b'\\', b]),
            b if b < 0x20 || b == 0x7f => out.extend_from_slice(format!("\\{b:03o}").as_bytes()),
            b => out.push(b),
        }
    }
    out.push(b'"');
    Cow::Owned(out)
}

/// What stands where a plain folder (or file) of ours must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotPlain {
    Symlink,
    Other,
}

/// Checks each folder from `top` down along `relative` (each component, `top` excluded) with
/// `symlink_metadata`: every one that exists must be a plain folder, never a symlink that could
/// send a read or write elsewhere. Returns how many exist, or the first that is not plain.
pub fn plain_folders_along(top: &Path, relative: &Path) -> Result<usize, (PathBuf, NotPlain)> {
    let mut path = top.to_path_buf();
    let mut existing = 0;
    for component in relative.components() {
        path.push(component);
        match fs::symlink_metadata(&path) {
            Ok(meta) if meta.is_dir() => existing += 1,
            Ok(meta) if meta.file_type().is_symlink() => return Err((path, NotPlain::Symlink)),
            Ok(_) => return Err((path, NotPlain::Other)),
            Err(_) => break,
        }
    }
    Ok(existing)
}
