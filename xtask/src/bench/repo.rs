//! The two benchmark repositories, generated from a seed (no network, same bytes and commit ids
//! on every machine), and the dirty state every timed run starts from.

use std::fs;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::measure::{self, Tools};

/// Bumped whenever the generator's output changes, so that a cached repository is rebuilt.
pub const GENERATOR_VERSION: u32 = 1;

/// The shape of a generated repository: `tops` top-level folders of `leaves_per_top` folders,
/// each with `files_per_leaf` text files of `min_size..=max_size` bytes, plus a `.gitignore`,
/// a README, a symlink to it and an executable script.
#[derive(Debug, Clone, Copy)]
pub struct Spec {
    pub name: &'static str,
    tops: usize,
    leaves_per_top: usize,
    files_per_leaf: usize,
    min_size: usize,
    max_size: usize,
    seed: u64,
}

/// 200 files, ~2 MB.
pub const SMALL: Spec = Spec {
    name: "SMALL",
    tops: 5,
    leaves_per_top: 2,
    files_per_leaf: 20,
    min_size: 5 * 1024,
    max_size: 15 * 1024,
    seed: 0x5eed_5a11,
};

/// 30,000 files in 1,500 folders, ~150 MB of 1-9 KiB files (issue 13's accumulating row).
pub const MEDIUM: Spec = Spec {
    name: "MEDIUM",
    tops: 30,
    leaves_per_top: 50,
    files_per_leaf: 20,
    min_size: 1024,
    max_size: 9 * 1024,
    seed: 0x5eed_3e0d,
};

/// 1,000 files in 50 folders (a point of the size chart).
pub const ONE_K: Spec = Spec {
    name: "1k",
    tops: 5,
    leaves_per_top: 10,
    files_per_leaf: 20,
    min_size: 1024,
    max_size: 9 * 1024,
    seed: 0x5eed_0001,
};

/// 10,000 files in 500 folders (a point of the size chart).
pub const TEN_K: Spec = Spec {
    name: "10k",
    tops: 10,
    leaves_per_top: 50,
    files_per_leaf: 20,
    min_size: 1024,
    max_size: 9 * 1024,
    seed: 0x5eed_0010,
};

/// 250,000 files in 12,500 folders, ~1.25 GB (the size chart's last point; full run only).
pub const HUGE: Spec = Spec {
    name: "250k",
    tops: 250,
    leaves_per_top: 50,
    files_per_leaf: 20,
    min_size: 1024,
    max_size: 9 * 1024,
    seed: 0x5eed_0250,
};

/// 60,000 files in 3,000 folders, ~300 MB of 1-9 KiB files.
pub const LARGE: Spec = Spec {
    name: "LARGE",
    tops: 60,
    leaves_per_top: 50,
    files_per_leaf: 20,
    min_size: 1024,
    max_size: 9 * 1024,
    seed: 0x5eed_1a26,
};

const GITIGNORE: &str = "\
# build output and dependencies
/build/
node_modules/
*.tmp
# logs, except the ones we keep
*.log
!keep.log
";

const EXTENSIONS: [&str; 5] = ["rs", "py", "ts", "md", "json"];

impl Spec {
    /// Returns how many generated files the repository holds.
    pub fn file_count(&self) -> usize {
        self.leaves() * self.files_per_leaf
    }

    fn leaves(&self) -> usize {
        self.tops * self.leaves_per_top
    }

    fn leaf_dir(&self, leaf: usize) -> String {
        format!(
            "pkg{:02}/mod{:02}",
            leaf / self.leaves_per_top,
            leaf % self.leaves_per_top
        )
    }

    /// Returns the generated files (not the README, script, symlink or `.gitignore`), in
    /// generation order.
    pub fn files(&self) -> Vec<String> {
        let mut files = Vec::with_capacity(self.leaves() * self.files_per_leaf);
        for leaf in 0..self.leaves() {
            let dir = self.leaf_dir(leaf);
            for i in 0..self.files_per_leaf {
                files.push(format!(
                    "{dir}/file{i:02}.{}",
                    EXTENSIONS[i % EXTENSIONS.len()]
                ));
            }
        }
        files
    }
}

/// A SplitMix64 generator: tiny, fast and the same everywhere.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Returns a number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        let wide = u128::from(self.next_u64()) * n as u128;
        usize::try_from(wide >> 64).unwrap_or(0)
    }

    /// Returns a number in `lo..=hi`.
    pub fn between(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }
}

const WORDS: [&str; 48] = [
    "fn",
    "let",
    "mut",
    "self",
    "return",
    "match",
    "impl",
    "struct",
    "pub",
    "use",
    "if",
    "else",
    "for",
    "while",
    "loop",
    "value",
    "index",
    "count",
    "buffer",
    "result",
    "error",
    "config",
    "handle",
    "stream",
    "checkpoint",
    "session",
    "commit",
    "tree",
    "=",
    "+",
    "(",
    ")",
    "{",
    "}",
    ";",
    "->",
    "0",
    "1",
    "42",
    "None",
    "Some",
    "Ok",
    "Err",
    "vec",
    "map",
    "into",
    "iter",
    "len",
];

/// Returns `size` bytes of source-like text that starts with `header` (which makes every file's
/// content unique).
pub fn text(rng: &mut Rng, header: &str, size: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(size + 16);
    out.extend_from_slice(b"// ");
    out.extend_from_slice(header.as_bytes());
    out.push(b'\n');
    let mut column = 0;
    while out.len() < size {
        let word = WORDS[rng.below(WORDS.len())];
        out.extend_from_slice(word.as_bytes());
        column += word.len() + 1;
        if column > 72 {
            out.push(b'\n');
            column = 0;
        } else {
            out.push(b' ');
        }
    }
    out.truncate(size.saturating_sub(1));
    out.push(b'\n');
    out
}

/// A generated repository: its work tree and the base commit every run starts from.
#[derive(Debug, Clone)]
pub struct BenchRepo {
    pub spec: Spec,
    pub path: PathBuf,
    pub base: String,
    files: Vec<String>,
    tools: Tools,
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))
}

impl BenchRepo {
    /// Returns the repository at `path`, reusing it when a previous run generated it with this
    /// generator version (`<path>.ready` holds the version and the base commit), else
    /// generating it anew.
    pub fn open_or_generate(spec: Spec, path: &Path, tools: &Tools, fresh: bool) -> Result<Self> {
        let marker = path.with_extension("ready");
        let expected = format!("v{GENERATOR_VERSION} ");
        if !fresh && path.join(".git").is_dir() {
            if let Ok(text) = fs::read_to_string(&marker) {
                if let Some(base) = text.trim().strip_prefix(&expected) {
                    let repo = BenchRepo {
                        spec,
                        path: path.to_owned(),
                        base: base.to_owned(),
                        files: spec.files(),
                        tools: tools.clone(),
                    };
                    repo.reset()?;
                    repo.collect_garbage()?;
                    return Ok(repo);
                }
            }
        }
        let _ = fs::remove_file(&marker);
        let repo = Self::generate(spec, path, tools)?;
        fs::write(&marker, format!("{expected}{}\n", repo.base))
            .with_context(|| format!("cannot write {}", marker.display()))?;
        Ok(repo)
    }

    /// Writes the files and commits them with one `git add -A && git commit`, then packs the
    /// objects as a clone would have them.
    fn generate(spec: Spec, path: &Path, tools: &Tools) -> Result<Self> {
        if path.exists() {
            fs::remove_dir_all(path)
                .with_context(|| format!("cannot remove {}", path.display()))?;
        }
        fs::create_dir_all(path).with_context(|| format!("cannot create {}", path.display()))?;
        let git = |args: &[&str]| measure::run(&mut tools.git(path, args));
        git(&["init", "-q", "-b", "main"])?;
        git(&["config", "user.name", "Bench Author"])?;
        git(&["config", "user.email", "bench@example.com"])?;

        write_file(&path.join(".gitignore"), GITIGNORE.as_bytes())?;
        write_file(
            &path.join("README.md"),
            format!("# {} benchmark repository\n", spec.name).as_bytes(),
        )?;
        std::os::unix::fs::symlink("README.md", path.join("README.link"))
            .context("cannot create the symlink")?;
        let script = path.join("scripts/build.sh");
        write_file(&script, b"#!/bin/sh\necho building\n")?;
        fs::set_permissions(&script, fs::Permissions::from_mode(0o755))
            .context("cannot make the script executable")?;

        let files = spec.files();
        let mut rng = Rng::new(spec.seed);
        for file in &files {
            let size = rng.between(spec.min_size, spec.max_size);
            write_file(&path.join(file), &text(&mut rng, file, size))?;
        }
        // `core.bigFileThreshold=1` streams every blob into one pack as it is added (git's
        // bulk check-in) instead of 60,000 loose objects that would need a repack.
        git(&["-c", "core.bigFileThreshold=1", "add", "-A"])?;
        git(&["commit", "-q", "-m", "Base of the benchmark repository"])?;
        git(&["repack", "-d", "-q"])?;
        let base = git(&["rev-parse", "HEAD"])?;
        Ok(BenchRepo {
            spec,
            path: path.to_owned(),
            base,
            files,
            tools: tools.clone(),
        })
    }

    /// Returns the repository to its base commit with a clean work tree and no refs but `main`
    /// (plain git, outside any timed region).
    pub fn reset(&self) -> Result<()> {
        let git = |args: &[&str]| measure::run(&mut self.tools_git(args));
        git(&["symbolic-ref", "HEAD", "refs/heads/main"])?;
        git(&["reset", "-q", "--hard", &self.base])?;
        git(&["clean", "-ffdxq"])?;
        let refs = git(&["for-each-ref", "--format=%(refname)"])?;
        let deletes: String = refs
            .lines()
            .filter(|r| *r != "refs/heads/main")
            .map(|r| format!("delete {r}\n"))
            .collect();
        if !deletes.is_empty() {
            measure::run_with_input(
                &mut self.tools_git(&["update-ref", "--stdin"]),
                deletes.as_bytes(),
            )?;
        }
        Ok(())
    }

    /// Drops reflogs and unreachable objects, so that loose objects left by earlier runs never
    /// add up to a `git gc --auto` inside a timed run.
    pub fn collect_garbage(&self) -> Result<()> {
        measure::run(&mut self.tools_git(&["reflog", "expire", "--expire=now", "--all"]))?;
        measure::run(&mut self.tools_git(&["prune", "--expire=now"]))?;
        Ok(())
    }

    /// Produces the dirty state of every timed run: 20 files modified, 5 deleted, 16 new
    /// untracked files (one of them kept by a negated ignore rule) and 18 ignored files.
    pub fn make_dirty(&self) -> Result<()> {
        let mut rng = Rng::new(self.spec.seed ^ 0xd1e7_d1e7);
        let mut picks: Vec<usize> = (0..self.files.len()).collect();
        for i in 0..25 {
            let j = i + rng.below(picks.len() - i);
            picks.swap(i, j);
        }
        for (n, &i) in picks[..20].iter().enumerate() {
            let path = self.path.join(&self.files[i]);
            let mut file = fs::OpenOptions::new()
                .append(true)
                .open(&path)
                .with_context(|| format!("cannot open {}", path.display()))?;
            file.write_all(&text(&mut rng, &format!("edit {n}"), 200))
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        for &i in &picks[20..25] {
            let path = self.path.join(&self.files[i]);
            fs::remove_file(&path).with_context(|| format!("cannot remove {}", path.display()))?;
        }
        let leaf = |i: usize| {
            let file = &self.files[picks[i]];
            file.rsplit_once('/').map_or("", |(dir, _)| dir).to_owned()
        };
        let mut untracked: Vec<String> = (0..8)
            .map(|i| format!("feature_new/{}/part{i}.rs", ["a", "b"][i % 2]))
            .collect();
        untracked.extend((0..7).map(|i| format!("{}/new_{i}.rs", leaf(i))));
        untracked.push("logs/keep.log".to_owned());
        let mut ignored: Vec<String> = (0..8).map(|i| format!("build/obj{i}.o")).collect();
        ignored.extend((0..4).map(|i| format!("{}/debug.log", leaf(i + 7))));
        ignored.extend((0..4).map(|i| format!("node_modules/left-pad/index{i}.js")));
        ignored.extend((0..2).map(|i| format!("{}/scratch.tmp", leaf(i + 11))));
        for path in untracked.iter().chain(&ignored) {
            let size = rng.between(1024, 9 * 1024);
            write_file(&self.path.join(path), &text(&mut rng, path, size))?;
        }
        Ok(())
    }

    /// Returns a tracked file of the base commit (the `i`th, spread over the repository).
    pub fn tracked_file(&self, i: usize) -> &str {
        &self.files[(i * 7919) % self.files.len()]
    }

    /// Returns the git directory.
    pub fn git_dir(&self) -> PathBuf {
        self.path.join(".git")
    }

    fn tools_git(&self, args: &[&str]) -> std::process::Command {
        self.tools.git(&self.path, args)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generator_is_deterministic() {
        let a = text(&mut Rng::new(7), "x", 1000);
        let b = text(&mut Rng::new(7), "x", 1000);
        assert_eq!(a, b);
        assert_eq!(a.len(), 1000);
        assert_eq!(SMALL.files().len(), 200);
        assert_eq!(LARGE.files().len(), 60_000);
        assert_eq!(LARGE.leaves(), 3_000);
    }
}
