//! A discovered repository: its work tree, git dir and common dir, and the small facts about it
//! that are read straight from the git dir (operations in progress, the exclude file).

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::command::{git_error, GitCommand};
use crate::error::{Error, Result};

/// A non-bare repository with a work tree.
#[derive(Debug, Clone)]
pub struct Repo {
    workdir: PathBuf,
    git_dir: PathBuf,
    common_dir: PathBuf,
    /// The user's index (`GIT_INDEX_FILE` when set).
    index_file: PathBuf,
    /// Where objects are written (`GIT_OBJECT_DIRECTORY` when set).
    objects_dir: PathBuf,
    /// The `GIT_*` location variables of our environment, as absolute paths that resolve to
    /// the same places from the work tree: set on every git child, so each one works on the
    /// repository discovery found (a relative `GIT_DIR` would not survive a change of folder).
    pinned_env: Vec<(&'static str, PathBuf)>,
    settings: std::sync::OnceLock<Settings>,
}

/// The variables that move a repository's parts, which git obeys (and so do we).
const LOCATION_VARIABLES: &[&str] = &[
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_COMMON_DIR",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
];

fn env_is_set(name: &str) -> bool {
    std::env::var_os(name).is_some_and(|v| !v.is_empty())
}

/// The few settings that decide whether this tool may write objects and trees itself, read
/// once per process from git's effective configuration (every level, includes, any spelling of
/// a boolean).
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// `core.fileMode` (true unless set false): executable bits come from the file system.
    pub file_mode: bool,
    /// `core.symlinks` (true unless set false): symlinks are symlinks on disk.
    pub symlinks: bool,
    /// `core.sharedRepository` set: objects need group permissions git knows how to give.
    pub shared_repository: bool,
    /// `extensions.objectFormat` is not SHA-1.
    pub other_object_format: bool,
    /// Every setting that changes what a file hashes to through git's filters (`core.autocrlf`,
    /// `core.eol`, `core.attributesFile`, `filter.*`, ...), as git printed them: the stat
    /// cache is dropped when they change.
    pub conversion: Vec<u8>,
    /// The tool's own keys (`checkpoint-manager.*`, lower-cased by git) with their values, the
    /// last one of a key winning, as `git config --get` reads it: read in the same process.
    pub tool_values: Vec<(String, String)>,
}

/// The section of the tool's own keys in git config.
const TOOL_SECTION: &[u8] = b"checkpoint-manager.";

impl Settings {
    /// Keeps one `checkpoint-manager.*` record (`key\nvalue`); a later one of a key wins.
    fn add_tool_value(&mut self, record: &[u8]) {
        let text = String::from_utf8_lossy(record);
        let (key, value) = text.split_once('\n').unwrap_or((&text, ""));
        self.tool_values.retain(|(k, _)| k != key);
        self.tool_values.push((key.to_owned(), value.to_owned()));
    }

    fn read(repo: &Repo) -> Settings {
        let mut settings = Settings {
            file_mode: true,
            symlinks: true,
            ..Settings::default()
        };
        let out = repo
            .git()
            .args([
                "config",
                "-z",
                "--get-regexp",
                r"^(core\.(filemode|symlinks|sharedrepository|autocrlf|eol|safecrlf|attributesfile|checkroundtripencoding|bigfilethreshold)|extensions\.objectformat|filter\..*|checkpoint-manager\..*)$",
            ])
            .output();
        // Exit 1 is "none set"; anything else leaves us unsure: let git do the work itself.
        let out = match out {
            Ok(out) if matches!(out.code, Some(0) | Some(1)) => out,
            _ => {
                settings.other_object_format = true;
                return settings;
            }
        };
        for record in out.stdout.split(|b| *b == 0).filter(|r| !r.is_empty()) {
            if record.starts_with(TOOL_SECTION) {
                settings.add_tool_value(record);
                continue;
            }
            settings.conversion.extend_from_slice(record);
            settings.conversion.push(0);
            let text = String::from_utf8_lossy(record).to_ascii_lowercase();
            let (key, value) = text.split_once('\n').unwrap_or((text.as_str(), "true"));
            let falsy = matches!(value.trim(), "false" | "no" | "off" | "0" | "");
            match key {
                "core.filemode" => settings.file_mode = !falsy,
                "core.symlinks" => settings.symlinks = !falsy,
                "core.sharedrepository" => {
                    settings.shared_repository = !(falsy || value.trim() == "umask")
                }
                "extensions.objectformat" => settings.other_object_format = value.trim() != "sha1",
                _ => {}
            }
        }
        settings
    }
}

/// A git operation that, while in progress, forbids checkpoints and rollbacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OperationInProgress {
    Merge,
    Rebase,
    CherryPick,
    Revert,
    Bisect,
    Am,
}

impl OperationInProgress {
    /// Returns the operation's name as a user would say it.
    pub fn name(self) -> &'static str {
        match self {
            OperationInProgress::Merge => "a merge",
            OperationInProgress::Rebase => "a rebase",
            OperationInProgress::CherryPick => "a cherry-pick",
            OperationInProgress::Revert => "a revert",
            OperationInProgress::Bisect => "a bisect",
            OperationInProgress::Am => "a `git am`",
        }
    }
}

impl Repo {
    /// Finds the repository that contains `start` (any subdirectory works).
    pub fn discover(start: &Path) -> Result<Repo> {
        if !start.is_dir() {
            return Err(Error::NotARepository {
                path: start.to_owned(),
            });
        }
        // Reading `.git` ourselves saves a git process on every command (list and get then run
        // none at all); anything unusual is left to `git rev-parse`, which knows every rule.
        match find_plain_repo(start) {
            Some(repo) => Ok(repo),
            None => Self::discover_with_git(start),
        }
    }

    /// Asks git where everything is, variables included; every answer is absolute.
    fn discover_with_git(start: &Path) -> Result<Repo> {
        let out = GitCommand::new(start)
            .args([
                "rev-parse",
                "--path-format=absolute",
                "--show-toplevel",
                "--git-dir",
                "--git-common-dir",
                "--git-path",
                "index",
                "--git-path",
                "objects",
            ])
            .output()?;
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let lines: Vec<&str> = text.lines().collect();
        if out.code == Some(0) && lines.len() == 5 {
            let mut repo = Repo {
                workdir: PathBuf::from(lines[0]),
                git_dir: PathBuf::from(lines[1]),
                common_dir: PathBuf::from(lines[2]),
                index_file: PathBuf::from(lines[3]),
                objects_dir: PathBuf::from(lines[4]),
                pinned_env: Vec::new(),
                settings: std::sync::OnceLock::new(),
            };
            repo.pin_location_variables();
            return Ok(repo);
        }
        let stderr = String::from_utf8_lossy(&out.stderr);
        if out.code == Some(0)
            || stderr.contains("not a git repository")
            || stderr.contains("must be run in a work tree")
        {
            return Err(Error::NotARepository {
                path: start.to_owned(),
            });
        }
        super::command::check_git_version(start)?;
        Err(git_error("rev-parse --show-toplevel".to_owned(), &out))
    }

    /// Records, for each location variable set in our environment, the absolute place git
    /// resolved it to. With `GIT_DIR` or `GIT_WORK_TREE` set, both are pinned (git's answer for
    /// the other one depends on the folder it starts in).
    fn pin_location_variables(&mut self) {
        let moved = ["GIT_DIR", "GIT_WORK_TREE", "GIT_COMMON_DIR"]
            .iter()
            .any(|v| env_is_set(v));
        let mut pinned = Vec::new();
        if moved {
            pinned.push(("GIT_DIR", self.git_dir.clone()));
            pinned.push(("GIT_WORK_TREE", self.workdir.clone()));
        }
        if env_is_set("GIT_COMMON_DIR") {
            pinned.push(("GIT_COMMON_DIR", self.common_dir.clone()));
        }
        if env_is_set("GIT_INDEX_FILE") {
            pinned.push(("GIT_INDEX_FILE", self.index_file.clone()));
        }
        if env_is_set("GIT_OBJECT_DIRECTORY") {
            pinned.push(("GIT_OBJECT_DIRECTORY", self.objects_dir.clone()));
        }
        self.pinned_env = pinned;
    }

    /// Returns the top of the work tree.
    pub fn workdir(&self) -> &Path {
        &self.workdir
    }

    /// Returns this work tree's git dir (`.git`, or `.git/worktrees/<name>`).
    pub fn git_dir(&self) -> &Path {
        &self.git_dir
    }

    /// Returns the git dir shared by all work trees (refs, objects, `info/exclude`).
    pub fn common_dir(&self) -> &Path {
        &self.common_dir
    }

    /// Returns the user's index file (`GIT_INDEX_FILE` when set).
    pub fn index_path(&self) -> PathBuf {
        self.index_file.clone()
    }

    /// Returns the lock git takes to write the user's index: its name plus `.lock`.
    pub fn index_lock_path(&self) -> PathBuf {
        let mut name = self.index_file.clone().into_os_string();
        name.push(".lock");
        PathBuf::from(name)
    }

    /// Returns the folder where this tool keeps its private files (locks, temporary indexes).
    pub fn private_dir(&self) -> PathBuf {
        self.git_dir.join(crate::defaults::PRIVATE_DIR)
    }

    /// Returns the settings that decide what this tool may write itself (one git process, the
    /// first time).
    pub fn settings(&self) -> &Settings {
        self.settings.get_or_init(|| Settings::read(self))
    }

    /// Reads git config now (one process) and returns the tool's own keys as they are now; the
    /// settings that decide object writing are kept too, when this process has none yet.
    pub fn read_tool_values(&self) -> Vec<(String, String)> {
        let fresh = Settings::read(self);
        let values = fresh.tool_values.clone();
        let _ = self.settings.set(fresh);
        values
    }

    /// Returns a writer of loose objects when this repository allows writing them directly.
    pub fn loose_objects(&self) -> Option<super::LooseObjects> {
        let settings = self.settings();
        if settings.shared_repository || settings.other_object_format {
            return None;
        }
        super::LooseObjects::for_objects_dir(&self.objects_dir)
    }

    /// Starts a git command in the work tree, on this repository whatever the environment says.
    pub(super) fn git(&self) -> GitCommand {
        self.pinned_env
            .iter()
            .fold(GitCommand::new(&self.workdir), |git, (key, value)| {
                git.env(key, value)
            })
    }

    /// Returns the work tree (another than this one) that has `branch` (`refs/heads/...`)
    /// checked out, read from the HEAD files of the repository's work trees.
    pub fn worktree_with_branch(&self, branch: &str) -> Option<PathBuf> {
        let wanted = format!("ref: {branch}");
        let mut admins = vec![self.common_dir.clone()];
        if let Ok(entries) = fs::read_dir(self.common_dir.join("worktrees")) {
            admins.extend(entries.flatten().map(|e| e.path()));
        }
        admins.into_iter().find_map(|admin| {
            if admin == self.git_dir {
                return None;
            }
            let head = fs::read_to_string(admin.join("HEAD")).ok()?;
            if head.trim() != wanted {
                return None;
            }
            // A linked work tree records its `.git` file; the main one is the common dir's parent.
            Some(match fs::read_to_string(admin.join("gitdir")) {
                Ok(gitdir) => PathBuf::from(gitdir.trim())
                    .parent()
                    .map_or_else(|| admin.clone(), Path::to_path_buf),
                Err(_) => admin
                    .parent()
                    .map_or_else(|| admin.clone(), Path::to_path_buf),
            })
        })
    }

    /// Marks `paths` `assume-unchanged` in the user's index, those the index has (the list may
    /// come from the log, so nothing else is trusted of it; paths reach git on stdin).
    pub fn mark_assume_unchanged(&self, paths: &[String]) -> Result<()> {
        if paths.is_empty() {
            return Ok(());
        }
        let listed = self.git().args(["ls-files", "-z"]).run()?.stdout;
        let in_index: std::collections::HashSet<&[u8]> = listed
            .split(|b| *b == 0)
            .filter(|p| !p.is_empty())
            .collect();
        let mut input = Vec::new();
        for path in paths.iter().filter(|p| in_index.contains(p.as_bytes())) {
            input.extend_from_slice(path.as_bytes());
            input.push(0);
        }
        if input.is_empty() {
            return Ok(());
        }
        self.git()
            .args(["update-index", "--assume-unchanged", "-z", "--stdin"])
            .stdin(input)
            .run()
            .map(|_| ())
    }

    /// Returns the operation in progress, if any, read from marker files in the git dir.
    pub fn operation_in_progress(&self) -> Option<OperationInProgress> {
        let has = |name: &str| self.git_dir.join(name).exists();
        if has("rebase-merge") || (has("rebase-apply") && !has("rebase-apply/applying")) {
            Some(OperationInProgress::Rebase)
        } else if has("rebase-apply") {
            Some(OperationInProgress::Am)
        } else if has("MERGE_HEAD") {
            Some(OperationInProgress::Merge)
        } else if has("CHERRY_PICK_HEAD") {
            Some(OperationInProgress::CherryPick)
        } else if has("REVERT_HEAD") {
            Some(OperationInProgress::Revert)
        } else if has("BISECT_LOG") {
            Some(OperationInProgress::Bisect)
        } else {
            None
        }
    }

    /// Makes sure `pattern` is a line of the repository's `info/exclude`, so git never sees the
    /// tool's own folder: not in `git status`, not in `git add -A`, not in any checkpoint.
    pub fn ensure_excluded(&self, pattern: &str) -> Result<()> {
        let info = self.common_dir.join("info");
        let path = info.join("exclude");
        let current = match fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(Error::io(path, e)),
        };
        if current.lines().any(|l| l.trim() == pattern) {
            return Ok(());
        }
        fs::create_dir_all(&info).map_err(|e| Error::io(&info, e))?;
        let mut file = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| Error::io(&path, e))?;
        let sep = if current.is_empty() || current.ends_with('\n') {
            ""
        } else {
            "\n"
        };
        write!(
            file,
            "{sep}# checkpoint-manager: its session logs are never part of a checkpoint\n{pattern}\n"
        )
        .map_err(|e| Error::io(&path, e))
    }

    /// Returns the tree of each commit, in order (one `git rev-parse`). The commits must be
    /// object ids (hex), never options.
    pub fn tree_ids(&self, commits: &[&str]) -> Result<Vec<String>> {
        let specs = commits.iter().map(|c| format!("{c}^{{tree}}"));
        let text = self.git().arg("rev-parse").args(specs).run_text()?;
        Ok(text.lines().map(str::to_owned).collect())
    }
}

/// Finds an ordinary repository by walking up from `start` to the first `.git` (a folder, or a
/// `gitdir:` file as in linked worktrees and submodules). Returns `None` whenever git's own
/// discovery could disagree: `GIT_DIR`-style variables, `core.worktree`, ceilings, no HEAD.
fn find_plain_repo(start: &Path) -> Option<Repo> {
    const DISCOVERY: &[&str] = &["GIT_CEILING_DIRECTORIES", "GIT_DISCOVERY_ACROSS_FILESYSTEM"];
    let overridden = LOCATION_VARIABLES.iter().chain(DISCOVERY);
    if overridden
        .into_iter()
        .any(|v| std::env::var_os(v).is_some())
    {
        return None;
    }
    let start = fs::canonicalize(start).ok()?;
    let mut dir = start.as_path();
    loop {
        let dot_git = dir.join(".git");
        if let Ok(meta) = fs::symlink_metadata(&dot_git) {
            let git_dir = if meta.is_dir() {
                dot_git
            } else if meta.is_file() {
                let text = fs::read_to_string(&dot_git).ok()?;
                let target = text.strip_prefix("gitdir:")?.trim();
                fs::canonicalize(dir.join(target)).ok()?
            } else {
                return None;
            };
            if !git_dir.join("HEAD").is_file() || start.starts_with(&git_dir) {
                return None;
            }
            let common_dir = match fs::read_to_string(git_dir.join("commondir")) {
                Ok(rel) => fs::canonicalize(git_dir.join(rel.trim())).ok()?,
                Err(_) => git_dir.clone(),
            };
            let config = fs::read_to_string(common_dir.join("config")).unwrap_or_default();
            if config.contains("worktree") || config.contains("bare = true") {
                return None;
            }
            return Some(Repo {
                workdir: dir.to_owned(),
                index_file: git_dir.join("index"),
                objects_dir: common_dir.join("objects"),
                git_dir,
                common_dir,
                pinned_env: Vec::new(),
                settings: std::sync::OnceLock::new(),
            });
        }
        dir = dir.parent()?;
    }
}
