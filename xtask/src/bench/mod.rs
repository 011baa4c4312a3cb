//! `xtask bench`: issue 4's benchmark of checkpoint-manager against plain git doing the same
//! work, on a SMALL and a LARGE generated repository; and `xtask prepare`, which leaves one of
//! them in the benchmark's dirty state for profiling by hand.

mod cases;
mod chart;
mod measure;
mod repo;
mod report;
mod session_log;
mod shapes;
mod trace2;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{bail, Context, Result};
use clap::Args;

use cases::{Group, Logs, Stats};
use measure::Tools;
use repo::{BenchRepo, Spec, GENERATOR_VERSION, HUGE, LARGE, MEDIUM, ONE_K, SMALL, TEN_K};
use report::{Row, Target};

/// Checkpoints in the long session log.
const LONG_LOG: usize = 10_000;

/// Time checkpoint-manager against plain git and write bench/RESULTS.md.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// SMALL repository only (a few seconds); used by CI so that the harness never rots.
    #[arg(long)]
    quick: bool,
    /// Where to write the Markdown results [default: bench/RESULTS.md].
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Timed runs per side, after one warm-up (at least 5) [default: 5 with --quick, else 11].
    #[arg(long, value_parser = clap::value_parser!(u16).range(5..))]
    runs: Option<u16>,
    /// A line printed above the results, e.g. about the machine's load.
    #[arg(long)]
    note: Option<String>,
    #[command(flatten)]
    common: CommonArgs,
}

/// Put a benchmark repository in the dirty state of a timed run and print its path.
#[derive(Debug, Args)]
pub struct PrepareArgs {
    /// The LARGE repository instead of SMALL.
    #[arg(long)]
    large: bool,
    /// Also give the benchmark's session a log of this many checkpoints (e.g. 10000, to
    /// profile `list` and `get`).
    #[arg(long, value_name = "N")]
    checkpoints: Option<usize>,
    #[command(flatten)]
    common: CommonArgs,
}

#[derive(Debug, Args)]
struct CommonArgs {
    /// Where the generated repositories live [default: target/bench-repos].
    #[arg(long, value_name = "DIR")]
    work_dir: Option<PathBuf>,
    /// The checkpoint-manager binary to measure [default: built with
    /// `cargo build --release -p checkpoint-manager-cli`].
    #[arg(long, value_name = "PATH")]
    bin: Option<PathBuf>,
    /// Generate the repositories again even if a cached copy exists.
    #[arg(long)]
    regenerate: bool,
}

/// The top of the workspace (the parent of `xtask/`).
fn workspace_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_owned()
}

/// Everything a benchmark needs: the tools and where the repositories live.
#[derive(Debug)]
struct Bench {
    tools: Tools,
    work: PathBuf,
    regenerate: bool,
}

impl Bench {
    fn new(common: &CommonArgs) -> Result<Self> {
        let root = workspace_root();
        let ours = match &common.bin {
            Some(bin) => bin.clone(),
            None => build_ours(&root)?,
        };
        let work = common
            .work_dir
            .clone()
            .unwrap_or_else(|| root.join("target/bench-repos"));
        let home = work.join("home");
        fs::create_dir_all(&home).with_context(|| format!("cannot create {}", home.display()))?;
        let work = work
            .canonicalize()
            .with_context(|| format!("cannot resolve {}", work.display()))?;
        let probe = std::env::current_exe().context("cannot find the xtask binary")?;
        Ok(Bench {
            tools: Tools::new(ours, probe, &work.join("home"), work.join("trace2.json")),
            work,
            regenerate: common.regenerate,
        })
    }

    fn repo(&self, spec: Spec) -> Result<BenchRepo> {
        let path = self
            .work
            .join(format!("{}-v{GENERATOR_VERSION}", spec.name.to_lowercase()));
        eprintln!("{}: {}", spec.name, path.display());
        let started = std::time::Instant::now();
        let repo = BenchRepo::open_or_generate(spec, &path, &self.tools, self.regenerate)?;
        eprintln!(
            "{}: ready in {:.1} s (base {})",
            spec.name,
            started.elapsed().as_secs_f64(),
            repo.base
        );
        Ok(repo)
    }
}

/// Builds the CLI in release mode and returns the path of its binary.
fn build_ours(root: &Path) -> Result<PathBuf> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(cargo)
        .current_dir(root)
        .args([
            "build",
            "--release",
            "-p",
            "checkpoint-manager-cli",
            "--bin",
            "checkpoint-manager",
            "--message-format=json-render-diagnostics",
        ])
        .stderr(Stdio::inherit())
        .output()
        .context("cannot run cargo build")?;
    if !output.status.success() {
        bail!(
            "cargo build of checkpoint-manager failed ({})",
            output.status
        );
    }
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|v| v["target"]["name"] == "checkpoint-manager")
        .find_map(|v| v["executable"].as_str().map(PathBuf::from))
        .context("cargo build reported no checkpoint-manager executable")
}

/// Runs the benchmark and writes the results.
pub fn run(args: &BenchArgs) -> Result<()> {
    let bench = Bench::new(&args.common)?;
    let runs = usize::from(args.runs.unwrap_or(if args.quick { 5 } else { 11 }));
    let mut rows = Vec::new();

    let small = bench.repo(SMALL)?;
    rows.extend(measure_repo(&small, &bench.tools, runs)?);
    rows.extend(measure_logs(&small, &bench.tools, runs)?);
    rows.extend(shapes::measure_unchanged(&small, &bench.tools, runs)?);
    let mut notes: Vec<String> = args.note.iter().cloned().collect();
    if shapes::lfs_installed(&bench.tools, &small.path) {
        rows.extend(shapes::measure_lfs(&small, &bench.tools, runs)?);
    } else {
        notes.push("The LFS row was skipped: `git lfs` is not installed here.".to_owned());
    }
    if !args.quick {
        let medium = bench.repo(MEDIUM)?;
        rows.extend(shapes::measure_accumulating(&medium, &bench.tools)?);
        let large = bench.repo(LARGE)?;
        rows.extend(measure_repo(&large, &bench.tools, runs)?);
        large.reset()?;
        large.collect_garbage()?;
    }
    small.reset()?;
    let sizes: &[Spec] = if args.quick {
        &[ONE_K]
    } else {
        &[ONE_K, TEN_K, LARGE, HUGE]
    };
    let series = measure_sizes(&bench, sizes, runs)?;

    let mut ctx = context(&bench.tools, runs, args)?;
    ctx.note = (!notes.is_empty()).then(|| notes.join(" "));
    let mut text = report::markdown(&ctx, &rows);
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| workspace_root().join("bench/RESULTS.md"));
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let svg = out.with_file_name(CHART_FILE);
    chart::write_svg(&svg, &series)?;
    text.push_str(&format!(
        "\n## Snapshot cost against repository size\n\n![Snapshot cost against repository size]({CHART_FILE})\n"
    ));
    fs::write(&out, text).with_context(|| format!("cannot write {}", out.display()))?;
    eprintln!("chart written to {}", svg.display());
    println!("{}", report::table(&rows));
    eprintln!("results written to {}", out.display());
    Ok(())
}

/// The chart beside the results file.
const CHART_FILE: &str = "snapshot-cost.svg";

/// Measures the chart's sides at each repository size.
fn measure_sizes(bench: &Bench, sizes: &[Spec], runs: usize) -> Result<Vec<chart::Series>> {
    let names = [
        "ours (create --snapshot)",
        "git status",
        "ghost commit",
        "shadow repository",
    ];
    let mut series: Vec<chart::Series> = names
        .iter()
        .map(|&name| chart::Series {
            name,
            points: Vec::new(),
        })
        .collect();
    for &spec in sizes {
        let repo = bench.repo(spec)?;
        let medians = shapes::size_point(&repo, &bench.tools, runs)?;
        for (line, ms) in series.iter_mut().zip(medians) {
            line.points.push((spec.file_count() as f64, ms));
        }
    }
    Ok(series)
}

/// Arguments of the hidden `rss-probe` task (see [`measure`]).
#[derive(Debug, Args)]
pub struct ProbeArgs {
    #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true)]
    command: Vec<std::ffi::OsString>,
}

/// Runs a command and reports its peak memory on stderr.
pub fn probe(args: &ProbeArgs) -> Result<std::process::ExitCode> {
    let (program, rest) = args
        .command
        .split_first()
        .context("rss-probe needs a command")?;
    measure::probe(program, rest)
}

/// Leaves a repository in the dirty state of a timed run.
pub fn prepare(args: &PrepareArgs) -> Result<()> {
    let bench = Bench::new(&args.common)?;
    let repo = bench.repo(if args.large { LARGE } else { SMALL })?;
    repo.reset()?;
    repo.make_dirty()?;
    if let Some(count) = args.checkpoints {
        let log = Logs::generate(&repo, &bench.tools, count)?;
        cases::install_log(&repo.path, &log.many)?;
        eprintln!(
            "session {} has {count} checkpoints; the middle one is {}",
            session_log::SESSION,
            log.many.ids.get(count / 2).map_or("-", String::as_str)
        );
    }
    println!("{}", repo.path.display());
    eprintln!(
        "dirty state ready; run with GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1 LC_ALL=C, \
         e.g. `GIT_TRACE2_PERF=/tmp/perf {} create --session-id {} --description d --phase \
         implement --snapshot`",
        bench.tools.ours_path().display(),
        session_log::SESSION
    );
    Ok(())
}

fn measure_groups(groups: &[Group<'_>], tools: &Tools, runs: usize) -> Result<Vec<Vec<Stats>>> {
    groups
        .iter()
        .map(|g| cases::measure(g, tools, runs))
        .collect()
}

/// The git comparisons (create, snapshot, rollback) on `repo`.
fn measure_repo(repo: &BenchRepo, tools: &Tools, runs: usize) -> Result<Vec<Row>> {
    let large = repo.spec.name == LARGE.name;
    let small_target = Target::Small {
        ratio: 1.2,
        overhead_ms: 5.0,
    };
    let groups = [
        cases::commit_group(repo, tools),
        cases::snapshot_group(repo, tools),
        cases::rollback_group(repo, tools),
        cases::hook_group(repo, tools),
    ];
    let mut stats = Vec::new();
    for group in &groups {
        stats.push(cases::measure(group, tools, runs)?);
        // Loose objects of earlier groups must never add up to a `gc --auto`.
        repo.reset()?;
        repo.collect_garbage()?;
    }
    let row = |group: usize, side: usize, operation: &str, baseline: &str, target| Row {
        repo: repo.spec.name,
        operation: operation.to_owned(),
        baseline: baseline.to_owned(),
        ours: stats[group][0].clone(),
        base: stats[group][side].clone(),
        target,
    };
    Ok(vec![
        row(
            0,
            1,
            "`create`",
            "`add -A && commit && tag`",
            if large {
                Target::Ratio(1.05)
            } else {
                small_target
            },
        ),
        row(
            1,
            1,
            "`create --snapshot`",
            "ghost commit (temp index)",
            if large { Target::Info } else { small_target },
        ),
        row(
            1,
            2,
            "`create --snapshot`",
            "`status --porcelain=v2 -uall`",
            if large {
                Target::Ratio(1.0)
            } else {
                Target::Info
            },
        ),
        row(
            2,
            1,
            "`rollback --hard-reset`",
            "ghost commit + `reset --hard`",
            if large {
                Target::Ratio(1.05)
            } else {
                small_target
            },
        ),
        row(
            2,
            2,
            "`rollback --hard-reset`",
            "`reset --hard`",
            Target::Info,
        ),
        row(
            3,
            1,
            "`hook claude-code` (PreToolUse, unchanged tree)",
            "`status --porcelain=v2 -uall`",
            // Issue 13: on SMALL both are mostly process start-up; the target is LARGE's.
            if large {
                Target::Ratio(1.10)
            } else {
                Target::Info
            },
        ),
    ])
}

/// `list`, `get` and `create` with a 10,000-checkpoint session log against a 1-checkpoint one.
fn measure_logs(repo: &BenchRepo, tools: &Tools, runs: usize) -> Result<Vec<Row>> {
    let logs = Logs::generate(repo, tools, LONG_LOG)?;
    let groups = [
        cases::log_group(repo, tools, &logs, "list"),
        cases::log_group(repo, tools, &logs, "get"),
        cases::log_group(repo, tools, &logs, "create"),
    ];
    let stats = measure_groups(&groups, tools, runs)?;
    repo.reset()?;
    repo.collect_garbage()?;
    let absolute = Target::Absolute {
        ms: 20.0,
        rss_mib: 50.0,
    };
    let targets = [absolute, absolute, Target::Delta { ms: 10.0 }];
    Ok(["list", "get", "create"]
        .iter()
        .zip(stats)
        .zip(targets)
        .map(|((command, stats), target)| Row {
            repo: repo.spec.name,
            operation: format!("`{command}`, 10,000 checkpoints"),
            baseline: "same, 1 checkpoint".to_owned(),
            ours: stats[0].clone(),
            base: stats[1].clone(),
            target,
        })
        .collect())
}

fn first_line_of(cmd: &mut Command) -> String {
    cmd.output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .next()
                .map(str::to_owned)
        })
        .unwrap_or_else(|| "unknown".to_owned())
}

/// Says which code was measured: the workspace's HEAD, with or without local changes, or a
/// binary given with `--bin`.
fn describe_build(tools: &Tools, root: &Path, given: bool) -> String {
    let head = first_line_of(&mut tools.git(root, ["rev-parse", "--short", "HEAD"]));
    if given {
        return format!("a binary given with `--bin` (workspace at commit {head})");
    }
    let changes = first_line_of(&mut tools.git(
        root,
        [
            "status",
            "--porcelain",
            "--untracked-files=no",
            "--",
            "crates/checkpoint-manager",
            "crates/checkpoint-manager-cli",
            "Cargo.lock",
        ],
    ));
    if changes == "unknown" {
        format!("release build of commit {head}")
    } else {
        format!("release build of commit {head} with uncommitted changes to its sources")
    }
}

fn context(tools: &Tools, runs: usize, args: &BenchArgs) -> Result<report::Context> {
    let cpu = fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let root = workspace_root();
    Ok(report::Context {
        date: chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string(),
        cores: std::thread::available_parallelism().map_or(1, usize::from),
        cpu,
        kernel: first_line_of(Command::new("uname").arg("-r")),
        git_version: first_line_of(&mut tools.git(&root, ["--version"])),
        ours_version: first_line_of(&mut tools.ours(&root, ["--version"])),
        build: describe_build(tools, &root, args.common.bin.is_some()),
        runs,
        quick: args.quick,
        note: args.note.clone(),
    })
}
