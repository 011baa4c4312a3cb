//! The temporary index a snapshot is built in, and how a finished copy replaces the user's index
//! (only when no other git wrote it meanwhile).

use std::fs;
use std::path::Path;

use crate::error::{Error, Result};
use crate::git::Repo;

/// A temporary index file in the git dir, removed on drop.
#[derive(Debug)]
pub struct TempIndex {
    path: tempfile::TempPath,
}

impl TempIndex {
    /// Makes a copy of the user's index (or an empty one when there is none yet).
    pub fn copy_of_user_index(repo: &Repo) -> Result<TempIndex> {
        let path = Self::new_path(repo)?;
        match fs::copy(repo.index_path(), &path) {
            Ok(_) => {
                // git trusts an entry's stat data only when the file was not modified in the
                // same tick as the index was written ("racy git"), judged by the index file's
                // own mtime: the copy must keep the original's, or a file changed within that
                // tick would look unchanged and keep its old content.
                let original = fs::metadata(repo.index_path())
                    .and_then(|m| m.modified())
                    .map_err(|e| Error::io(repo.index_path(), e))?;
                fs::File::options()
                    .write(true)
                    .open(&path)
                    .and_then(|f| f.set_modified(original))
                    .map_err(|e| Error::io(path.to_path_buf(), e))?;
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                fs::remove_file(&path).map_err(|e| Error::io(path.to_path_buf(), e))?;
            }
            Err(e) => return Err(Error::io(repo.index_path(), e)),
        }
        Ok(TempIndex { path })
    }

    /// Makes a path for a new, empty index.
    pub fn empty(repo: &Repo) -> Result<TempIndex> {
        let path = Self::new_path(repo)?;
        fs::remove_file(&path).map_err(|e| Error::io(path.to_path_buf(), e))?;
        Ok(TempIndex { path })
    }

    /// Reserves a fresh name in the private folder. (git treats a missing index as empty but an
    /// empty file as corrupt: callers fill the file or remove it.)
    fn new_path(repo: &Repo) -> Result<tempfile::TempPath> {
        let dir = repo.private_dir();
        fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        Ok(tempfile::Builder::new()
            .prefix(crate::defaults::TEMP_INDEX_PREFIX)
            .tempfile_in(&dir)
            .map_err(|e| Error::io(&dir, e))?
            .into_temp_path())
    }

    /// Returns the file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Makes this copy the user's index, as git installs an index: hard-linked to
    /// `index.lock` (which fails while another git holds it) and renamed over `index`. Nothing
    /// is replaced when, with the lock held, the user's index is no longer the version
    /// `original` stamped (another git wrote it: its version stays), or when `index.lock` stays
    /// held. Returns whether it replaced.
    pub fn replace_user_index(self, repo: &Repo, original: &IndexStamp) -> Result<bool> {
        let index = repo.index_path();
        let lock = repo.index_lock_path();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
        // Journaled: a kill while we hold `index.lock` leaves a lock the next command can prove
        // to be ours.
        let _step =
            crate::journal::own_step(repo.workdir(), "installing the index", vec![lock.clone()]);
        loop {
            match fs::hard_link(&self.path, &lock) {
                Ok(()) => break,
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    if std::time::Instant::now() >= deadline {
                        return Ok(false);
                    }
                    std::thread::sleep(std::time::Duration::from_millis(5));
                }
                Err(e) => return Err(Error::io(lock, e)),
            }
        }
        // The lock is ours: no git can write the index until we rename or remove it.
        let unchanged = IndexStamp::of(repo).map(|now| now == *original);
        if !matches!(unchanged, Ok(true)) {
            let _ = fs::remove_file(&lock);
            return unchanged.map(|_| false);
        }
        if let Err(e) = fs::rename(&lock, &index) {
            let _ = fs::remove_file(&lock);
            return Err(Error::io(index, e));
        }
        Ok(true)
    }
}

/// What identifies one version of the user's index file: written again, it changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexStamp(Option<(u64, u64, std::time::SystemTime)>);

impl IndexStamp {
    /// Reads the stamp of the user's index now (none when there is no index yet).
    pub fn of(repo: &Repo) -> Result<IndexStamp> {
        use std::os::unix::fs::MetadataExt;
        match fs::metadata(repo.index_path()) {
            Ok(m) => {
                let modified = m.modified().map_err(|e| Error::io(repo.index_path(), e))?;
                Ok(IndexStamp(Some((m.ino(), m.len(), modified))))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(IndexStamp(None)),
            Err(e) => Err(Error::io(repo.index_path(), e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::git::IndexFile;
    use crate::snapshot::stage_paths;

    #[test]
    fn an_index_another_git_rewrote_meanwhile_is_not_replaced() {
        let user = testutil::TestRepo::new();
        user.write("a.txt", "a\n");
        user.commit_all("base");
        let repo = Repo::discover(user.path()).expect("repo");
        let stamp = IndexStamp::of(&repo).expect("stamp");
        let copy = TempIndex::copy_of_user_index(&repo).expect("copy");
        // Another git stages something meanwhile.
        user.write("theirs.txt", "theirs\n");
        user.git(&["add", "theirs.txt"]);
        let replaced = copy.replace_user_index(&repo, &stamp).expect("replace");
        assert!(!replaced);
        assert!(
            user.git(&["ls-files"]).contains("theirs.txt"),
            "their staging stays"
        );
        assert!(!user.exists(".git/index.lock"));
    }

    #[test]
    fn an_unchanged_index_is_replaced_and_no_lock_is_left() {
        let user = testutil::TestRepo::new();
        user.write("a.txt", "a\n");
        user.commit_all("base");
        let repo = Repo::discover(user.path()).expect("repo");
        let stamp = IndexStamp::of(&repo).expect("stamp");
        let copy = TempIndex::copy_of_user_index(&repo).expect("copy");
        user.write("ours.txt", "ours\n");
        stage_paths(
            &repo,
            IndexFile::Replacement(copy.path()),
            &[b"ours.txt".to_vec()],
        )
        .expect("stage");
        assert!(copy.replace_user_index(&repo, &stamp).expect("replace"));
        assert!(user.git(&["ls-files"]).contains("ours.txt"));
        assert!(!user.exists(".git/index.lock"));
    }
}
