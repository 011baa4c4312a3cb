//! Repository paths as git gives them (raw bytes, `/`-separated) turned into file-system paths.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// Returns the path for git's raw bytes; file names need not be UTF-8.
pub fn bytes_to_path(bytes: &[u8]) -> &Path {
    Path::new(OsStr::from_bytes(bytes))
}
