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
    settings: std::sync::OnceLock<Settings>,
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
}

impl Settings {
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
                r"^(core\.(filemode|symlinks|sharedrepository)|extensions\.objectformat)$",
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

    fn discover_with_git(start: &Path) -> Result<Repo> {
        let out = GitCommand::new(start)
            .args([
                "rev-parse",
                "--path-format=absolute",
                "--show-toplevel",
                "--git-dir",
                "--git-common-dir",
            ])
            .output()?;
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let lines: Vec<&str> = text.lines().collect();
        if out.code == Some(0) && lines.len() == 3 {
            return Ok(Repo {
                workdir: PathBuf::from(lines[0]),
                git_dir: PathBuf::from(lines[1]),
                common_dir: PathBuf::from(lines[2]),
                settings: std::sync::OnceLock::new(),
            });
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

    /// Returns the user's index file.
    pub fn index_path(&self) -> PathBuf {
        self.git_dir.join("index")
    }

    /// Returns the folder where this tool keeps its private files (locks, temporary indexes).
    pub fn private_dir(&self) -> PathBuf {
        self.git_dir.join("checkpoint-manager")
    }

    /// Returns the settings that decide what this tool may write itself (one git process, the
    /// first time).
    pub fn settings(&self) -> &Settings {
        self.settings.get_or_init(|| Settings::read(self))
    }

    /// Returns a writer of loose objects when this repository allows writing them directly.
    pub fn loose_objects(&self) -> Option<super::LooseObjects> {
        let settings = self.settings();
        if settings.shared_repository || settings.other_object_format {
            return None;
        }
        super::LooseObjects::for_common_dir(&self.common_dir)
    }

    /// Starts a git command in the work tree.
    pub fn git(&self) -> GitCommand {
        GitCommand::new(&self.workdir)
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
    const OVERRIDES: &[&str] = &[
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_COMMON_DIR",
        "GIT_CEILING_DIRECTORIES",
        "GIT_DISCOVERY_ACROSS_FILESYSTEM",
    ];
    if OVERRIDES.iter().any(|v| std::env::var_os(v).is_some()) {
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
                git_dir,
                common_dir,
                settings: std::sync::OnceLock::new(),
            });
        }
        dir = dir.parent()?;
    }
}
