//! Writing the small objects only this tool creates (snapshot commits, metadata tags) straight
//! into the object store as loose objects: three fewer git processes per snapshot. Used only in
//! the plain case (SHA-1, no shared-repository permissions), into the object directory git would
//! use (`GIT_OBJECT_DIRECTORY` included); git writes them otherwise.

use std::fs;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use flate2::write::ZlibEncoder;
use flate2::Compression;

use crate::error::{Error, Result};

/// Writes loose objects into one object directory. Get one from [`super::Repo::loose_objects`],
/// which first checks the repository's settings.
#[derive(Debug, Clone)]
pub struct LooseObjects {
    dir: PathBuf,
}

/// The kinds of object this tool writes itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectKind {
    Blob,
    Tree,
    Commit,
    Tag,
}

impl ObjectKind {
    fn name(self) -> &'static str {
        match self {
            ObjectKind::Blob => "blob",
            ObjectKind::Tree => "tree",
            ObjectKind::Commit => "commit",
            ObjectKind::Tag => "tag",
        }
    }
}

impl LooseObjects {
    /// Returns a writer into the object directory `dir` (the common dir's `objects`, or where
    /// `GIT_OBJECT_DIRECTORY` says), or `None` when it is not a folder: git then writes them.
    pub fn for_objects_dir(dir: &std::path::Path) -> Option<LooseObjects> {
        dir.is_dir().then(|| LooseObjects {
            dir: dir.to_owned(),
        })
    }

    /// Stores `body` as an object of `kind` and returns its id, exactly as
    /// `git hash-object -w -t <kind>` would.
    pub fn write(&self, kind: ObjectKind, body: &[u8]) -> Result<String> {
        let header = format!("{} {}\0", kind.name(), body.len());
        let mut hasher = sha1_smol::Sha1::new();
        hasher.update(header.as_bytes());
        hasher.update(body);
        let id = hasher.digest().to_string();
        let fan_out = self.dir.join(&id[..2]);
        let path = fan_out.join(&id[2..]);
        if path.exists() {
            return Ok(id);
        }
        fs::create_dir_all(&fan_out).map_err(|e| Error::io(&fan_out, e))?;
        let tmp = tempfile::Builder::new()
            .prefix("tmp_obj_")
            .tempfile_in(&fan_out)
            .map_err(|e| Error::io(&fan_out, e))?;
        let mut encoder = ZlibEncoder::new(tmp, Compression::default());
        encoder
            .write_all(header.as_bytes())
            .and_then(|()| encoder.write_all(body))
            .map_err(|e| Error::io(&path, e))?;
        let tmp = encoder.finish().map_err(|e| Error::io(&path, e))?;
        let _ = tmp
            .as_file()
            .set_permissions(fs::Permissions::from_mode(0o444));
        match tmp.persist_noclobber(&path) {
            Ok(_) => Ok(id),
            // Someone (another snapshot of the same state) wrote it first: same bytes.
            Err(_) if path.exists() => Ok(id),
            Err(e) => Err(Error::io(&path, e.error)),
        }
    }
}

impl super::Repo {
    /// Returns the type of the object `oid` names (`commit`, `tree`, `blob`, `tag`), or `None`
    /// when the repository does not have it.
    pub fn object_type(&self, oid: &str) -> Result<Option<String>> {
        let out = self
            .git()
            .args(["cat-file", "-t", "--end-of-options", oid])
            .output()?;
        Ok((out.code == Some(0)).then(|| out.text()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_the_same_objects_git_would() {
        let repo = testutil::TestRepo::new();
        repo.write("a.txt", "a\n");
        let head = repo.commit_all("base");
        let tree = repo.git(&["rev-parse", "HEAD^{tree}"]);
        let objects =
            LooseObjects::for_objects_dir(&repo.join(".git/objects")).expect("plain repo");
        let body = format!(
            "tree {tree}\nparent {head}\nauthor A <a@b> 1700000000 +0000\ncommitter A <a@b> 1700000000 +0000\n\nmessage é\n"
        );
        let id = objects
            .write(ObjectKind::Commit, body.as_bytes())
            .expect("written");
        let file = repo.write("commit.txt", &body);
        let expected = repo.git(&["hash-object", "-t", "commit", file.to_str().expect("utf-8")]);
        assert_eq!(id, expected);
        assert_eq!(repo.git(&["cat-file", "-t", &id]), "commit");
        assert_eq!(repo.git(&["cat-file", "commit", &id]), body.trim_end());
        // Writing it again is a no-op, not an error.
        assert_eq!(
            objects
                .write(ObjectKind::Commit, body.as_bytes())
                .expect("again"),
            id
        );
        repo.git(&["fsck", "--strict", "--no-dangling"]);
    }

    #[test]
    fn leaves_sha256_and_shared_repositories_to_git() {
        let repo = testutil::TestRepo::new();
        let plain = crate::git::Repo::discover(repo.path()).expect("repo");
        assert!(plain.loose_objects().is_some());
        repo.git(&["config", "core.sharedRepository", "group"]);
        let shared = crate::git::Repo::discover(repo.path()).expect("repo");
        assert!(shared.loose_objects().is_none());
        let dir = tempfile::tempdir().expect("tempdir");
        let init = std::process::Command::new("git")
            .args(["init", "-q", "--object-format=sha256"])
            .arg(dir.path())
            .status()
            .expect("git init");
        assert!(init.success());
        let sha256 = crate::git::Repo::discover(dir.path()).expect("repo");
        assert!(sha256.loose_objects().is_none());
    }

    #[test]
    fn reads_booleans_in_any_spelling_git_accepts() {
        let repo = testutil::TestRepo::new();
        repo.git(&["config", "core.fileMode", "no"]);
        repo.git(&["config", "core.symlinks", "off"]);
        let settings = crate::git::Repo::discover(repo.path())
            .expect("repo")
            .settings()
            .clone();
        assert!(!settings.file_mode && !settings.symlinks);
        repo.git(&["config", "core.fileMode", "yes"]);
        repo.git(&["config", "--unset", "core.symlinks"]);
        let settings = crate::git::Repo::discover(repo.path())
            .expect("repo")
            .settings()
            .clone();
        assert!(settings.file_mode && settings.symlinks);
    }
}
