//! What is timed: each group puts the repository in the same state before every run, then times
//! its sides in turn (A B C A B C ...) so that a slow moment of the machine hits all of them.

use std::fs;
use std::path::Path;
use std::time::SystemTime;

use anyhow::{Context, Result};

use super::measure::{self, Mode, Sample, Timer, Tools};
use super::repo::BenchRepo;
use super::session_log::{self, SessionLog, SESSION};
use super::trace2::{self, Trace};

/// What a group's set-up leaves for its sides.
#[derive(Debug, Default)]
pub struct Prepared {
    /// The checkpoint a rollback returns to.
    checkpoint_id: Option<String>,
}

pub type Setup<'a> = Box<dyn Fn() -> Result<Prepared> + 'a>;
type Action<'a> = Box<dyn Fn(&Prepared) -> Result<Sample> + 'a>;

/// One side of a comparison. Its action may do untimed preparation before it starts its
/// [`Timer`].
pub struct Side<'a> {
    pub key: &'static str,
    action: Action<'a>,
}

impl std::fmt::Debug for Side<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Side").field("key", &self.key).finish()
    }
}

/// Sides timed against each other, each run after the same set-up.
pub struct Group<'a> {
    pub name: String,
    setup: Setup<'a>,
    pub sides: Vec<Side<'a>>,
}

impl std::fmt::Debug for Group<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Group")
            .field("name", &self.name)
            .field("sides", &self.sides)
            .finish()
    }
}

/// The timed runs of one side, the peak memory of its memory run and its traced run.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    pub samples: Vec<Sample>,
    pub peak_rss_kib: Option<u64>,
    /// The git processes of one traced run.
    pub trace: Option<Trace>,
}

impl Stats {
    fn sorted_ms(&self) -> Vec<f64> {
        let mut ms: Vec<f64> = self.samples.iter().map(|s| s.ms).collect();
        ms.sort_by(f64::total_cmp);
        ms
    }

    /// Returns the median wall time in milliseconds.
    pub fn median_ms(&self) -> f64 {
        let ms = self.sorted_ms();
        match ms.len() {
            0 => f64::NAN,
            n if n % 2 == 1 => ms[n / 2],
            n => (ms[n / 2 - 1] + ms[n / 2]) / 2.0,
        }
    }

    /// Returns the fastest and the slowest run in milliseconds.
    pub fn range_ms(&self) -> (f64, f64) {
        let ms = self.sorted_ms();
        (
            ms.first().copied().unwrap_or(f64::NAN),
            ms.last().copied().unwrap_or(f64::NAN),
        )
    }

    /// Returns the peak RSS of the memory run in MiB (the largest process of the side).
    pub fn peak_rss_mib(&self) -> f64 {
        self.peak_rss_kib
            .map_or(f64::NAN, |kib| kib as f64 / 1024.0)
    }
}

/// Runs `group`: one warm-up round, then `runs` timed rounds, every side once per round in
/// order, each after the group's set-up; then one memory round under `rss-probe` and one traced
/// round. Returns the stats of each side, in side order.
pub fn measure(group: &Group<'_>, tools: &Tools, runs: usize) -> Result<Vec<Stats>> {
    eprint!("  {:<30} ", group.name);
    let result = run_rounds(group, tools, runs);
    tools.set_mode(Mode::Plain);
    match &result {
        Ok(stats) => {
            let medians: Vec<String> = group
                .sides
                .iter()
                .zip(stats)
                .map(|(side, stat)| format!("{} {:.1} ms", side.key, stat.median_ms()))
                .collect();
            eprintln!(" {}", medians.join(", "));
        }
        Err(_) => eprintln!(),
    }
    result
}

fn run_rounds(group: &Group<'_>, tools: &Tools, runs: usize) -> Result<Vec<Stats>> {
    let mut stats = vec![Stats::default(); group.sides.len()];
    let (memory_round, trace_round) = (runs + 1, runs + 2);
    for round in 0..=trace_round {
        for (side, stat) in group.sides.iter().zip(&mut stats) {
            let prepared =
                (group.setup)().with_context(|| format!("set-up of {} failed", group.name))?;
            let mode = match round {
                r if r == memory_round => Mode::Memory,
                r if r == trace_round => Mode::Trace,
                _ => Mode::Plain,
            };
            if mode == Mode::Trace {
                let _ = fs::remove_file(tools.trace_path());
            }
            tools.set_mode(mode);
            let started = SystemTime::now();
            let sample = (side.action)(&prepared);
            tools.set_mode(Mode::Plain);
            let sample = sample.with_context(|| format!("{} / {} failed", group.name, side.key))?;
            match mode {
                Mode::Memory => stat.peak_rss_kib = sample.peak_rss_kib,
                Mode::Trace => {
                    stat.trace = Some(trace2::read(tools.trace_path(), started, sample.ms)?);
                }
                Mode::Plain if round > 0 => stat.samples.push(sample),
                Mode::Plain => {}
            }
        }
        eprint!(
            "{}",
            match round {
                0 => "w",
                r if r == memory_round => "m",
                r if r == trace_round => "t",
                _ => ".",
            }
        );
    }
    Ok(stats)
}

pub fn side<'a>(key: &'static str, action: impl Fn(&Prepared) -> Result<Sample> + 'a) -> Side<'a> {
    Side {
        key,
        action: Box::new(action),
    }
}

/// A group of `sides`, each run after `setup`.
pub fn group<'a>(name: String, setup: Setup<'a>, sides: Vec<Side<'a>>) -> Group<'a> {
    Group { name, setup, sides }
}

/// Base commit, clean tree, no refs but `main`, then the dirty state.
pub fn dirty_setup<'a>(repo: &'a BenchRepo) -> Setup<'a> {
    Box::new(move || {
        repo.reset()?;
        repo.make_dirty()?;
        Ok(Prepared::default())
    })
}

pub fn ours_create<'a>(
    tools: &'a Tools,
    dir: &'a Path,
    extra: &'a [&'a str],
) -> impl Fn(&Prepared) -> Result<Sample> + 'a {
    move |_| {
        let mut timer = Timer::start();
        timer.run(
            &mut tools.ours(
                dir,
                [
                    "create",
                    "--session-id",
                    SESSION,
                    "--description",
                    "Before a risky tool call",
                    "--phase",
                    "implement",
                ]
                .iter()
                .chain(extra),
            ),
        )?;
        Ok(timer.stop())
    }
}

/// Plain git's ghost commit: a temporary index copied from `.git/index`, `add -A`,
/// `write-tree`, `commit-tree`, `update-ref`.
pub fn ghost_commit(timer: &mut Timer, tools: &Tools, repo: &BenchRepo) -> Result<()> {
    let dir = &repo.path;
    let index = repo.git_dir().join("bench-ghost-index");
    fs::copy(repo.git_dir().join("index"), &index).context("cannot copy the index")?;
    timer.run(tools.git(dir, ["add", "-A"]).env("GIT_INDEX_FILE", &index))?;
    let tree = timer.output(tools.git(dir, ["write-tree"]).env("GIT_INDEX_FILE", &index))?;
    let commit =
        timer.output(&mut tools.git(dir, ["commit-tree", &tree, "-p", "HEAD", "-m", "ghost"]))?;
    timer.run(&mut tools.git(dir, ["update-ref", "refs/bench/ghost", &commit]))?;
    fs::remove_file(&index).context("cannot remove the temporary index")?;
    Ok(())
}

/// `create` (commit mode) against `git add -A && git commit && git tag`.
pub fn commit_group<'a>(repo: &'a BenchRepo, tools: &'a Tools) -> Group<'a> {
    let dir = &repo.path;
    Group {
        name: format!("{} create", repo.spec.name),
        setup: dirty_setup(repo),
        sides: vec![
            side("ours", ours_create(tools, dir, &[])),
            side("git", move |_| {
                let mut timer = Timer::start();
                timer.run(&mut tools.git(dir, ["add", "-A"]))?;
                timer.run(&mut tools.git(dir, ["commit", "-q", "-m", "x"]))?;
                timer.run(&mut tools.git(dir, ["tag", "bench-t"]))?;
                Ok(timer.stop())
            }),
        ],
    }
}

/// `create --snapshot` against plain git's ghost commit and against `git status` (the floor).
pub fn snapshot_group<'a>(repo: &'a BenchRepo, tools: &'a Tools) -> Group<'a> {
    let dir = &repo.path;
    Group {
        name: format!("{} create --snapshot", repo.spec.name),
        setup: dirty_setup(repo),
        sides: vec![
            side("ours", ours_create(tools, dir, &["--snapshot"])),
            side("ghost", move |_| {
                let mut timer = Timer::start();
                ghost_commit(&mut timer, tools, repo)?;
                Ok(timer.stop())
            }),
            side("status", move |_| {
                let mut timer = Timer::start();
                timer.output(&mut tools.git(dir, ["status", "--porcelain=v2", "-uall"]))?;
                Ok(timer.stop())
            }),
        ],
    }
}

/// `rollback --hard-reset` to a checkpoint of the base commit against `git reset --hard`
/// alone and after a ghost commit (the safety snapshot's plain-git equivalent).
pub fn rollback_group<'a>(repo: &'a BenchRepo, tools: &'a Tools) -> Group<'a> {
    let dir = &repo.path;
    Group {
        name: format!("{} rollback --hard-reset", repo.spec.name),
        setup: Box::new(move || {
            repo.reset()?;
            let json = measure::run(&mut tools.ours(
                dir,
                [
                    "create",
                    "--session-id",
                    SESSION,
                    "--description",
                    "Known good",
                    "--phase",
                    "implement",
                    "--no-commit",
                ],
            ))?;
            let value: serde_json::Value =
                serde_json::from_str(&json).context("create printed no JSON")?;
            let id = value["checkpoint_id"]
                .as_str()
                .context("create printed no checkpoint_id")?
                .to_owned();
            repo.make_dirty()?;
            Ok(Prepared {
                checkpoint_id: Some(id),
            })
        }),
        sides: vec![
            side("ours", move |prepared| {
                let id = prepared
                    .checkpoint_id
                    .as_deref()
                    .context("no checkpoint to roll back to")?;
                let mut timer = Timer::start();
                timer.run(&mut tools.ours(
                    dir,
                    [
                        "rollback",
                        "--session-id",
                        SESSION,
                        "--checkpoint-id",
                        id,
                        "--hard-reset",
                    ],
                ))?;
                Ok(timer.stop())
            }),
            side("ghost+reset", move |_| {
                let mut timer = Timer::start();
                ghost_commit(&mut timer, tools, repo)?;
                timer.run(&mut tools.git(dir, ["reset", "-q", "--hard"]))?;
                Ok(timer.stop())
            }),
            side("reset", move |_| {
                let mut timer = Timer::start();
                timer.run(&mut tools.git(dir, ["reset", "-q", "--hard"]))?;
                Ok(timer.stop())
            }),
        ],
    }
}

/// The session logs of the 10,000-checkpoint rows.
#[derive(Debug)]
pub struct Logs {
    pub many: SessionLog,
    pub one: SessionLog,
}

impl Logs {
    /// Generates a log of `many` checkpoints and one of a single checkpoint, on `repo`'s base.
    pub fn generate(repo: &BenchRepo, tools: &Tools, many: usize) -> Result<Self> {
        let tree = measure::run(&mut tools.git(
            &repo.path,
            ["rev-parse", &format!("{}^{{tree}}", repo.base)],
        ))?;
        Ok(Logs {
            many: session_log::generate(many, &repo.base, &tree)?,
            one: session_log::generate(1, &repo.base, &tree)?,
        })
    }
}

/// Writes `log` as the benchmark session's `checkpoints.json` in the work tree `dir`.
pub fn install_log(dir: &Path, log: &SessionLog) -> Result<()> {
    let path = session_log::path(dir);
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    fs::write(&path, &log.bytes).with_context(|| format!("cannot write {}", path.display()))
}

/// `list`, `get` or `create` with a long session log against the same with one checkpoint.
pub fn log_group<'a>(
    repo: &'a BenchRepo,
    tools: &'a Tools,
    logs: &'a Logs,
    command: &'static str,
) -> Group<'a> {
    let dir = &repo.path;
    let make = move |log: &'a SessionLog| {
        move |_: &Prepared| -> Result<Sample> {
            install_log(dir, log)?;
            // `get` asks for a checkpoint in the middle of the log.
            let middle = log.ids.get(log.ids.len() / 2).map_or("", String::as_str);
            let args: Vec<&str> = match command {
                "list" => vec!["list", "--session-id", SESSION],
                "get" => vec!["get", "--session-id", SESSION, "--checkpoint-id", middle],
                _ => vec![
                    "create",
                    "--session-id",
                    SESSION,
                    "--description",
                    "Before a risky tool call",
                    "--phase",
                    "implement",
                ],
            };
            let mut timer = Timer::start();
            timer.run(&mut tools.ours(dir, args))?;
            Ok(timer.stop())
        }
    };
    Group {
        name: format!("{} {command} (log size)", repo.spec.name),
        setup: dirty_setup(repo),
        sides: vec![side("many", make(&logs.many)), side("one", make(&logs.one))],
    }
}

/// The Claude Code `PreToolUse` event the hook row feeds to `hook claude-code`.
fn hook_payload(dir: &Path) -> serde_json::Value {
    serde_json::json!({
        "session_id": SESSION,
        "transcript_path": "/tmp/bench-transcript.jsonl",
        "cwd": dir,
        "permission_mode": "default",
        "hook_event_name": "PreToolUse",
        "tool_name": "Edit",
        "tool_input": {"file_path": dir.join("README.md"), "old_string": "a", "new_string": "b"},
        "tool_use_id": "toolu_bench"
    })
}

/// `hook claude-code` before a tool call on a tree that has not changed since the session's
/// last checkpoint (the common case: an agent's reads and repeated calls), against `git status`.
pub fn hook_group<'a>(repo: &'a BenchRepo, tools: &'a Tools) -> Group<'a> {
    let dir = &repo.path;
    Group {
        name: format!("{} hook (unchanged tree)", repo.spec.name),
        setup: Box::new(move || {
            repo.reset()?;
            repo.make_dirty()?;
            let path = hook_event_path(repo);
            fs::write(&path, hook_payload(dir).to_string())
                .with_context(|| format!("cannot write {}", path.display()))?;
            // The session's first checkpoint of this state; the timed call finds it unchanged.
            run_hook(&mut Timer::start(), tools, repo)?;
            // The hook exits 0 even when it fails: make sure it did its work.
            anyhow::ensure!(
                session_log::path(dir).exists(),
                "hook claude-code made no checkpoint"
            );
            Ok(Prepared::default())
        }),
        sides: vec![
            side("ours", move |_| {
                let mut timer = Timer::start();
                run_hook(&mut timer, tools, repo)?;
                Ok(timer.stop())
            }),
            side("status", move |_| {
                let mut timer = Timer::start();
                timer.output(&mut tools.git(dir, ["status", "--porcelain=v2", "-uall"]))?;
                Ok(timer.stop())
            }),
        ],
    }
}

fn hook_event_path(repo: &BenchRepo) -> std::path::PathBuf {
    repo.git_dir().join("bench-hook-event.json")
}

fn run_hook(timer: &mut Timer, tools: &Tools, repo: &BenchRepo) -> Result<()> {
    timer.run_with_stdin(
        &mut tools.ours(&repo.path, ["hook", "claude-code"]),
        &hook_event_path(repo),
    )
}
