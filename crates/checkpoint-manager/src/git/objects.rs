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

use super::{GitCommand, Repo};
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

use crate::defaults::{TOOL_EMAIL, TOOL_NAME};

/// Whose name a commit carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Author {
    /// The tool's: objects only this tool reads (snapshots).
    Tool,
    /// The user's configured identity, or the tool's when the repository has none (the commit
    /// a commit-mode checkpoint adds to the user's branch).
    UserOrTool,
}

/// The environment that gives a commit the tool's identity.
fn tool_identity() -> [(&'static str, &'static str); 4] {
    [
        ("GIT_AUTHOR_NAME", TOOL_NAME),
        ("GIT_AUTHOR_EMAIL", TOOL_EMAIL),
        ("GIT_COMMITTER_NAME", TOOL_NAME),
        ("GIT_COMMITTER_EMAIL", TOOL_EMAIL),
    ]
}

/// Writes a commit of `tree` with `parents` and `message`: the one commit writer.
pub fn write_commit(
    repo: &Repo,
    tree: &str,
    parents: &[&str],
    message: &str,
    author: Author,
) -> Result<String> {
    match author {
        Author::Tool => match repo.loose_objects() {
            Some(objects) => write_loose_commit(&objects, tree, parents, message),
            None => commit_tree(repo, tree, parents, message, true).run_text(),
        },
        Author::UserOrTool => commit_as_user(repo, tree, parents, message),
    }
}

/// Writes a tool commit straight into the object store (the bytes `commit-tree` would write).
fn write_loose_commit(
    objects: &LooseObjects,
    tree: &str,
    parents: &[&str],
    message: &str,
) -> Result<String> {
    let seconds = chrono::Utc::now().timestamp();
    let mut body = format!("tree {tree}\n");
    for parent in parents {
        body.push_str(&format!("parent {parent}\n"));
    }
    let ident = format!("{TOOL_NAME} <{TOOL_EMAIL}> {seconds} +0000");
    body.push_str(&format!("author {ident}\ncommitter {ident}\n\n{message}"));
    if !body.ends_with('\n') {
        body.push('\n');
    }
    objects.write(ObjectKind::Commit, body.as_bytes())
}

/// Builds `git commit-tree`, with the tool's identity when `as_tool`, else only the identity
/// the user configured (`user.useConfigOnly`: no guessed identity).
fn commit_tree(
    repo: &Repo,
    tree: &str,
    parents: &[&str],
    message: &str,
    as_tool: bool,
) -> GitCommand {
    let mut git = repo.git();
    if as_tool {
        for (key, value) in tool_identity() {
            git = git.env(key, value);
        }
    } else {
        git = git.args(["-c", "user.useConfigOnly=true"]);
    }
    git = git.args(["commit-tree", "--no-gpg-sign", tree]);
    for parent in parents {
        git = git.args(["-p", parent]);
    }
    git.message_on_stdin(message)
}

/// Commits with the user's identity, or the tool's when the repository has none.
fn commit_as_user(repo: &Repo, tree: &str, parents: &[&str], message: &str) -> Result<String> {
    // git's words when it has no identity to use (with `user.useConfigOnly`).
    const NO_IDENTITY: &[&str] = &[
        "identity unknown",
        "no email was given",
        "no name was given",
        "empty ident name",
        "unable to auto-detect",
    ];
    let first = commit_tree(repo, tree, parents, message, false).output()?;
    if first.code == Some(0) {
        return Ok(first.text());
    }
    let stderr = String::from_utf8_lossy(&first.stderr).to_ascii_lowercase();
    if NO_IDENTITY.iter().any(|words| stderr.contains(words)) {
        commit_tree(repo, tree, parents, message, true).run_text()
    } else {
        Err(super::git_error("commit-tree".to_owned(), &first))
    }
}

/// Writes an annotated tag object named `name` on `commit`, tagged by the tool, with `message`.
pub fn write_tag(repo: &Repo, commit: &str, name: &str, message: &str) -> Result<String> {
    let seconds = chrono::Utc::now().timestamp();
    let body = format!(
        "object {commit}\ntype commit\ntag {name}\ntagger {TOOL_NAME} <{TOOL_EMAIL}> {seconds} +0000\n\n{message}"
    );
    match repo.loose_objects() {
        Some(objects) => objects.write(ObjectKind::Tag, body.as_bytes()),
        None => repo.git().arg("mktag").stdin(body.into_bytes()).run_text(),
    }
}

/// The header `git cat-file --batch` prints before each object: `None` for a missing one.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct BatchHeader {
    pub kind: String,
    pub size: usize,
}

impl BatchHeader {
    /// Parses `<oid> <type> <size>`, or `<name> missing` / `<name> ambiguous` (`Ok(None)`).
    pub(super) fn parse(line: &str) -> Result<Option<BatchHeader>> {
        let line = line.trim_end();
        if line.ends_with(" missing") || line.ends_with(" ambiguous") {
            return Ok(None);
        }
        let mut fields = line.split(' ');
        match (fields.next(), fields.next(), fields.next().map(str::parse)) {
            (Some(_), Some(kind), Some(Ok(size))) => Ok(Some(BatchHeader {
                kind: kind.to_owned(),
                size,
            })),
            _ => Err(batch_error(&format!("bad header {line:?}"))),
        }
    }
}

pub(super) fn batch_error(detail: &str) -> Error {
    Error::GitOutput {
        args: "cat-file --batch".into(),
        detail: detail.to_owned(),
    }
}

/// Returns the raw content of each object (`None` where it is missing), in one git process.
pub fn read_objects(repo: &Repo, oids: &[String]) -> Result<Vec<Option<Vec<u8>>>> {
    let input: String = oids.iter().map(|oid| format!("{oid}\n")).collect();
    let out = repo
        .git()
        .args(["cat-file", "--batch"])
        .stdin(input.into_bytes())
        .run()?;
    let mut rest = out.stdout.as_slice();
    let mut result = Vec::with_capacity(oids.len());
    for _ in oids {
        let end = rest
            .iter()
            .position(|b| *b == b'\n')
            .ok_or_else(|| batch_error("truncated header"))?;
        let header = BatchHeader::parse(&String::from_utf8_lossy(&rest[..end]))?;
        rest = &rest[end + 1..];
        let Some(BatchHeader { size, .. }) = header else {
            result.push(None);
            continue;
        };
        if rest.len() < size + 1 {
            return Err(batch_error("truncated object"));
        }
        result.push(Some(rest[..size].to_vec()));
        rest = &rest[size + 1..];
    }
    Ok(result)
}

/// Resolves each of `revisions` (such as `<sha>^2^{tree}`) to an object id, `None` where it does
/// not resolve, in one git process.
pub fn resolve_objects(repo: &Repo, revisions: &[String]) -> Result<Vec<Option<String>>> {
    if revisions.is_empty() {
        return Ok(Vec::new());
    }
    let input: String = revisions.iter().map(|r| format!("{r}\n")).collect();
    let out = repo
        .git()
        .args(["cat-file", "--batch-check=%(objectname)"])
        .stdin(input.into_bytes())
        .run()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let answers: Vec<Option<String>> = text
        .lines()
        .map(|l| (!l.ends_with(" missing") && !l.ends_with(" ambiguous")).then(|| l.to_owned()))
        .collect();
    if answers.len() != revisions.len() {
        return Err(Error::GitOutput {
            args: "cat-file --batch-check".into(),
            detail: format!("{} answers for {} objects", answers.len(), revisions.len()),
        });
    }
    Ok(answers)
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
