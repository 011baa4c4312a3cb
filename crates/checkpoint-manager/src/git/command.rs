//! The command builder every git call goes through.

use std::ffi::{OsStr, OsString};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::error::{Error, Result};

/// The oldest git we rely on (`rev-parse --path-format`, `update-ref --stdin` transactions).
pub const MIN_GIT_VERSION: &str = "2.31";

/// Config pinned on every call: no hooks (`core.hooksPath` at an empty place), no signing, no
/// auto-gc in the user's face, no pager (`NO_PAGER`, pinned unless asked for), and no recursion into submodules (their work is their
/// own repository's: a reset must never touch it).
const PINNED_CONFIG: &[&str] = &[
    "core.hooksPath=/dev/null",
    "commit.gpgSign=false",
    "tag.gpgSign=false",
    "gc.auto=0",
    "maintenance.auto=false",
    "advice.addEmbeddedRepo=false",
    "core.quotePath=false",
    "submodule.recurse=false",
];

/// A git invocation being built.
#[derive(Debug)]
pub struct GitCommand {
    command: Command,
    args: Vec<OsString>,
    stdin: Option<Vec<u8>>,
    /// The journal of the operation running in this work tree, which records the git steps
    /// that take lock files (see `journal`).
    journal: Option<std::sync::Arc<crate::journal::Active>>,
    /// Whether `GIT_INDEX_FILE` points at a private index (whose lock is not the user's).
    own_index: bool,
    /// Whether git sees the user's own pager settings (only to ask which pager they chose).
    user_pager: bool,
}

/// No pager, pinned on every call but the one that asks for the user's choice.
const NO_PAGER: &str = "core.pager=cat";

/// What a finished git process produced.
#[derive(Debug)]
pub struct GitOutput {
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub code: Option<i32>,
}

impl GitOutput {
    /// Returns stdout as text with the trailing newline removed.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).trim_end().to_owned()
    }
}

impl GitCommand {
    /// Starts a git command that runs in `dir`. It inherits the caller's `GIT_DIR`-style
    /// variables, as any git would; [`super::Repo::git`] pins them to what discovery found.
    pub fn new(dir: &Path) -> Self {
        let mut command = Command::new("git");
        command.current_dir(dir);
        command
            .env("LC_ALL", "C")
            .env("GIT_TERMINAL_PROMPT", "0")
            .env("GIT_PAGER", "cat")
            .env("GIT_OPTIONAL_LOCKS", "0")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut this = GitCommand {
            command,
            args: Vec::new(),
            stdin: None,
            journal: crate::journal::active_for(dir),
            own_index: false,
            user_pager: false,
        };
        for pinned in PINNED_CONFIG {
            this.command.arg("-c").arg(pinned);
        }
        this
    }

    /// Appends one argument.
    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Self {
        self.args.push(arg.as_ref().to_owned());
        self
    }

    /// Appends several arguments.
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.args
            .extend(args.into_iter().map(|a| a.as_ref().to_owned()));
        self
    }

    /// Sets an environment variable for this call only.
    pub fn env(mut self, key: &str, value: impl AsRef<OsStr>) -> Self {
        self.command.env(key, value);
        self
    }

    /// Points git at another index file, written in whatever format git would use.
    pub fn index_file(mut self, path: &Path) -> Self {
        self.own_index = true;
        self.env("GIT_INDEX_FILE", path)
    }

    /// Points git at a private index only this tool reads: written without its checksum and
    /// with compressed paths, which halves the cost of each rewrite on a big repository. (The
    /// user's index is never given this format.)
    pub fn scratch_index(mut self, path: &Path) -> Self {
        for setting in ["index.skipHash=true", "index.version=4"] {
            self.command.arg("-c").arg(setting);
        }
        self.index_file(path)
    }

    /// Lets git see the user's own pager settings (`GIT_PAGER` as the caller has it, and
    /// `core.pager`), for `git var GIT_PAGER`; every other call pins `cat`.
    pub fn with_user_pager(mut self) -> Self {
        match std::env::var_os("GIT_PAGER") {
            Some(pager) => self.command.env("GIT_PAGER", pager),
            None => self.command.env_remove("GIT_PAGER"),
        };
        self.user_pager = true;
        self
    }

    /// Appends the pager pin (unless the user's pager is asked for) and the arguments.
    fn add_args(&mut self) {
        if !self.user_pager {
            self.command.arg("-c").arg(NO_PAGER);
        }
        self.command.args(&self.args);
    }

    /// Feeds `bytes` to the process's stdin.
    pub fn stdin(mut self, bytes: Vec<u8>) -> Self {
        self.stdin = Some(bytes);
        self
    }

    /// Feeds a commit message on stdin (`commit-tree` reads it there when given no `-m`), so its
    /// size is limited by memory only, not by the kernel's limit on one argument (128 KiB). It
    /// ends with a newline, as `-m` would end it, so the commit is the one `-m` would make.
    pub fn message_on_stdin(self, message: &str) -> Self {
        let mut bytes = message.as_bytes().to_vec();
        if !bytes.is_empty() && !bytes.ends_with(b"\n") {
            bytes.push(b'\n');
        }
        self.stdin(bytes)
    }

    /// Names the call for error messages: the sub-command and its first arguments, without
    /// `-c key=value` settings.
    fn describe(&self) -> String {
        let mut words = Vec::new();
        let mut args = self.args.iter().map(|a| a.to_string_lossy().into_owned());
        while let Some(arg) = args.next() {
            if arg == "-c" {
                args.next();
                continue;
            }
            words.push(arg);
            if words.len() == 3 {
                break;
            }
        }
        words.join(" ")
    }

    /// Runs the command and returns its output whatever its exit code.
    pub fn output(mut self) -> Result<GitOutput> {
        self.add_args();
        if self.stdin.is_some() {
            self.command.stdin(Stdio::piped());
        }
        let journal = self.journal.take().filter(|journal| {
            let args: Vec<String> = self
                .args
                .iter()
                .map(|a| a.to_string_lossy().into_owned())
                .collect();
            journal.before_step(&args, self.stdin.as_deref(), self.own_index)
        });
        let spawned = self.command.spawn().map_err(spawn_error);
        if let Some(journal) = &journal {
            match &spawned {
                Ok(child) => journal.child_started(child.id()),
                Err(_) => journal.step_done(),
            }
        }
        let result = self.wait(spawned?);
        if let Some(journal) = journal {
            journal.step_done();
        }
        result
    }

    fn wait(&mut self, mut child: std::process::Child) -> Result<GitOutput> {
        if let Some(bytes) = self.stdin.take() {
            let mut pipe = child.stdin.take().expect("stdin was piped above");
            // Write from a thread so a git that fills stdout before reading all stdin cannot
            // deadlock with us.
            let writer = std::thread::spawn(move || {
                let _ = pipe.write_all(&bytes);
            });
            let out = child.wait_with_output();
            let _ = writer.join();
            return Self::finish(out);
        }
        Self::finish(child.wait_with_output())
    }

    fn finish(out: std::io::Result<std::process::Output>) -> Result<GitOutput> {
        let out = out.map_err(|source| Error::GitIo { source })?;
        Ok(GitOutput {
            stdout: out.stdout,
            stderr: out.stderr,
            code: out.status.code(),
        })
    }

    /// Starts the command with stdin and stdout piped, for a conversation (`cat-file --batch`).
    pub fn spawn_piped(mut self) -> Result<std::process::Child> {
        self.add_args();
        self.command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        self.command.spawn().map_err(spawn_error)
    }

    /// Runs the command and fails with git's stderr unless it exits 0. Warnings git prints on
    /// stderr with exit 0 (CRLF, embedded repositories) are not failures.
    pub fn run(self) -> Result<GitOutput> {
        let args = self.describe();
        let dir = self.command.get_current_dir().map(Path::to_path_buf);
        let out = self.output()?;
        if out.code == Some(0) {
            return Ok(out);
        }
        // An old git fails in its own words; say what is wrong instead (checked only on failure,
        // so the happy path pays no extra process).
        if let Some(dir) = dir {
            check_git_version(&dir)?;
        }
        Err(lock_error(&out.stderr).unwrap_or_else(|| git_error(args, &out)))
    }

    /// Runs the command and returns its trimmed stdout.
    pub fn run_text(self) -> Result<String> {
        self.run().map(|o| o.text())
    }
}

/// Says why git could not be started: missing (or not executable) means install it; anything
/// else (an argument list too long, no memory, too many processes) is named as it is.
fn spawn_error(source: std::io::Error) -> Error {
    match source.kind() {
        std::io::ErrorKind::NotFound | std::io::ErrorKind::PermissionDenied => Error::GitMissing {
            min: MIN_GIT_VERSION,
            source,
        },
        _ => Error::GitSpawn { source },
    }
}

/// Builds the error for a failed git call, keeping git's own words.
pub fn git_error(args: String, out: &GitOutput) -> Error {
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stderr = stderr
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("hint:"))
        .collect::<Vec<_>>()
        .join(" / ");
    Error::Git {
        args,
        code: out
            .code
            .map_or_else(|| "by signal".to_owned(), |c| c.to_string()),
        stderr,
    }
}

/// Recognises git's refusals that have their own error: an `index.lock` another process holds
/// ([`Error::IndexLocked`], as our own check before starting gives), and a ref that is not at
/// the value a compare-and-swap expected ([`Error::RefMoved`]).
pub fn lock_error(stderr: &[u8]) -> Option<Error> {
    let text = String::from_utf8_lossy(stderr);
    if let Some(rest) = text.split("Unable to create '").nth(1) {
        if let Some((path, _)) = rest.split_once("': File exists") {
            // Other lock files (a branch's) stay git failures with git's own words, which name
            // the file and the fix.
            let path = std::path::PathBuf::from(path);
            if path.file_name().is_some_and(|n| n == "index.lock") {
                return Some(Error::IndexLocked { path });
            }
        }
    }
    let rest = text.split("cannot lock ref '").nth(1)?;
    let (name, detail) = rest.split_once("': ")?;
    let detail = detail.lines().next().unwrap_or_default().trim();
    let moved = detail.starts_with("is at ")
        || detail.contains("reference already exists")
        || detail.contains("reference is missing")
        || detail.contains("unable to resolve reference");
    moved.then(|| Error::RefMoved {
        name: name.to_owned(),
        detail: detail.to_owned(),
    })
}

/// Fails with [`Error::GitTooOld`] when the installed git is older than [`MIN_GIT_VERSION`]; the
/// answer is computed once per process.
pub fn check_git_version(dir: &Path) -> Result<()> {
    static FOUND: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    let found = FOUND.get_or_init(|| {
        Command::new("git")
            .current_dir(dir)
            .arg("--version")
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
    });
    let Some(found) = found else { return Ok(()) };
    let min = parse_version(&format!("git version {MIN_GIT_VERSION}"));
    match (parse_version(found), min) {
        (Some(have), Some(need)) if have < need => Err(Error::GitTooOld {
            found: found.clone(),
            min: MIN_GIT_VERSION,
        }),
        _ => Ok(()),
    }
}

/// Parses `git version 2.47.3` into (2, 47).
pub(crate) fn parse_version(text: &str) -> Option<(u32, u32)> {
    let v = text.trim().strip_prefix("git version ")?;
    let mut parts = v.split(|c: char| !c.is_ascii_digit());
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

#[cfg(test)]
mod tests {
    use super::{lock_error, parse_version};
    use crate::error::Error;

    #[test]
    fn lock_refusals_get_their_own_errors() {
        let index = b"fatal: Unable to create '/r/.git/index.lock': File exists.\n\nAnother git";
        assert!(
            matches!(lock_error(index), Some(Error::IndexLocked { path })
            if path == std::path::Path::new("/r/.git/index.lock"))
        );
        let head = b"fatal: update_ref failed for ref 'HEAD': cannot lock ref 'HEAD': Unable to create '/r/.git/HEAD.lock': File exists.";
        assert!(
            lock_error(head).is_none(),
            "a ref's lock stays git's failure"
        );
        let moved = b"fatal: cannot lock ref 'HEAD': is at 0719 but expected dbdc\n";
        assert!(
            matches!(lock_error(moved), Some(Error::RefMoved { name, detail })
            if name == "HEAD" && detail == "is at 0719 but expected dbdc")
        );
        assert!(lock_error(b"fatal: bad object").is_none());
    }

    use super::GitCommand;

    /// A spawn that fails for another reason than a missing git says so, not "install git".
    #[test]
    fn an_argument_too_long_is_named_as_such() {
        let dir = tempfile::tempdir().expect("ok");
        let huge = "x".repeat(200_000);
        let err = GitCommand::new(dir.path())
            .args(["var", &huge])
            .output()
            .expect_err("fails");
        let text = err.to_string();
        assert!(text.contains("Argument list too long"), "{text}");
        assert!(!text.contains("install git"), "{text}");
        assert_eq!(err.kind(), crate::error::ErrorKind::Git);
    }

    /// A message far over the one-argument limit reaches git whole on stdin.
    #[test]
    fn a_message_on_stdin_has_no_size_limit() {
        let dir = tempfile::tempdir().expect("ok");
        let message = "m".repeat(1 << 20);
        let out = GitCommand::new(dir.path())
            .args(["hash-object", "--stdin"])
            .message_on_stdin(&message)
            .run_text()
            .expect("ok");
        let expected = GitCommand::new(dir.path())
            .args(["hash-object", "--stdin"])
            .stdin(format!("{message}\n").into_bytes())
            .run_text()
            .expect("ok");
        assert_eq!(out, expected);
        assert_eq!(out.len(), 40);
    }

    #[test]
    fn parses_git_versions() {
        assert_eq!(parse_version("git version 2.47.3\n"), Some((2, 47)));
        assert_eq!(
            parse_version("git version 2.39.2 (Apple Git-143)"),
            Some((2, 39))
        );
        assert_eq!(parse_version("git version 2.31.0.windows.1"), Some((2, 31)));
        assert_eq!(parse_version("nonsense"), None);
    }
}
