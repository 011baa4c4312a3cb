//! Issue 13's shapes of work beyond the benchmark state: many untracked files left unchanged
//! between snapshots, one large untracked file, untracked files accumulating round after round
//! (against `git status` and a shadow repository with its own persistent index, as Gemini CLI
//! and Cline keep), and LFS-filtered files when `git-lfs` is installed.

use std::fs;
use std::path::Path;

use anyhow::{Context, Result};

use super::cases::{self, Group, Prepared, Stats};
use super::measure::{self, Sample, Timer, Tools};
use super::repo::{BenchRepo, Rng};
use super::report::{Row, Target};

/// Untracked files of the "many untracked" row, and the folders they are spread over.
const UNTRACKED_FILES: usize = 2_000;
const UNTRACKED_FOLDERS: usize = 200;
/// The size of the "large untracked file" row's file (under the default 100 MiB cap).
const LARGE_FILE_BYTES: usize = 50 << 20;
/// The accumulating row: files added per round, and rounds.
const ADDED_PER_ROUND: usize = 16;
const ROUNDS: usize = 20;

/// `create --snapshot` against `git status`, on `repo` with what `add` leaves in it: the
/// files are written once (unchanged between snapshots), the 5 `edits` rewritten before each run.
fn unchanged_files_group<'a>(
    repo: &'a BenchRepo,
    tools: &'a Tools,
    name: &str,
    add: impl Fn(&Path) -> Result<()> + 'a,
    edits: usize,
) -> Result<Group<'a>> {
    repo.reset()?;
    add(&repo.path)?;
    let dir = &repo.path;
    let setup = move || -> Result<Prepared> {
        for i in 0..edits {
            let file = dir.join(repo.tracked_file(i));
            fs::write(&file, format!("edited {i}\n"))
                .with_context(|| format!("cannot write {}", file.display()))?;
        }
        Ok(Prepared::default())
    };
    Ok(cases::group(
        format!("{} {name}", repo.spec.name),
        Box::new(setup),
        vec![
            cases::side("ours", cases::ours_create(tools, dir, &["--snapshot"])),
            cases::side("status", move |_| status(tools, dir)),
        ],
    ))
}

fn status(tools: &Tools, dir: &Path) -> Result<Sample> {
    let mut timer = Timer::start();
    timer.output(&mut tools.git(dir, ["status", "--porcelain=v2", "-uall"]))?;
    Ok(timer.stop())
}

/// Writes `count` small text files spread over `folders` new folders.
fn write_untracked(dir: &Path, count: usize, folders: usize, seed: u64) -> Result<()> {
    let mut rng = Rng::new(seed);
    for i in 0..count {
        let path = dir.join(format!("untracked/dir{:03}/file{i:05}.txt", i % folders));
        let size = rng.between(512, 4096);
        write_file(
            &path,
            &super::repo::text(&mut rng, &path.to_string_lossy(), size),
        )?;
    }
    Ok(())
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))
}

/// The rows on unchanged untracked files: 2,000 in 200 folders plus 5 edits, and one 50 MB
/// file.
pub fn measure_unchanged(repo: &BenchRepo, tools: &Tools, runs: usize) -> Result<Vec<Row>> {
    let many = unchanged_files_group(
        repo,
        tools,
        "2,000 untracked",
        |dir| write_untracked(dir, UNTRACKED_FILES, UNTRACKED_FOLDERS, 0x2000),
        5,
    )?;
    let many = cases::measure(&many, tools, runs)?;
    let large = unchanged_files_group(
        repo,
        tools,
        "50 MB untracked",
        |dir| {
            let mut rng = Rng::new(0x50);
            let bytes = super::repo::text(&mut rng, "large", LARGE_FILE_BYTES);
            write_file(&dir.join("data/large.bin"), &bytes)
        },
        0,
    )?;
    let large = cases::measure(&large, tools, runs)?;
    repo.reset()?;
    repo.collect_garbage()?;
    let row = |stats: Vec<Stats>, operation: &str, ratio: f64| Row {
        repo: repo.spec.name,
        operation: operation.to_owned(),
        baseline: "`status --porcelain=v2 -uall`".to_owned(),
        ours: stats[0].clone(),
        base: stats[1].clone(),
        target: Target::Ratio(ratio),
    };
    Ok(vec![
        row(
            many,
            "`create --snapshot`, 2,000 untracked files in 200 folders unchanged, 5 edits",
            1.10,
        ),
        row(
            large,
            "`create --snapshot`, a 50 MB untracked file unchanged",
            1.20,
        ),
    ])
}

/// The accumulating row: before each of 20 rounds, 16 new files (never staged) join the ones
/// of earlier rounds; each round times ours, `git status` and the shadow repository in turn
/// (paired: a slow moment of the machine hits all three). The first snapshot and the shadow's
/// first commit are made before the rounds, untimed, as an agent's session would have them.
pub fn measure_accumulating(repo: &BenchRepo, tools: &Tools) -> Result<Vec<Row>> {
    repo.reset()?;
    repo.make_dirty()?;
    let dir = &repo.path;
    let shadow = repo.git_dir().join("bench-shadow");
    let _ = fs::remove_dir_all(&shadow);
    measure::run(tools.git(dir, ["init", "-q", "--bare"]).arg(&shadow))?;
    let sides: [&dyn Fn() -> Result<Sample>; 3] = [
        &|| cases::ours_create(tools, dir, &["--snapshot"])(&Prepared::default()),
        &|| status(tools, dir),
        &|| shadow_commit(tools, dir, &shadow),
    ];
    sides[0]()?;
    sides[2]()?;
    let mut stats = vec![Stats::default(); 3];
    let mut rng = Rng::new(0xacc);
    eprint!("  {:<30} ", format!("{} accumulating", repo.spec.name));
    for round in 0..ROUNDS {
        for i in 0..ADDED_PER_ROUND {
            let path = dir.join(format!("agent_new/r{round:02}/f{i:02}.rs"));
            let size = rng.between(1024, 9 * 1024);
            write_file(&path, &super::repo::text(&mut rng, "new", size))?;
        }
        for (side, stat) in sides.iter().zip(&mut stats) {
            stat.samples.push(side()?);
        }
        eprint!(".");
    }
    eprintln!(
        " ours {:.1} ms, status {:.1} ms, shadow {:.1} ms",
        stats[0].median_ms(),
        stats[1].median_ms(),
        stats[2].median_ms()
    );
    let _ = fs::remove_dir_all(&shadow);
    repo.reset()?;
    repo.collect_garbage()?;
    let operation = "`create --snapshot`, 16 untracked files added per round (20 rounds), 20 edits";
    let row = |base: usize, baseline: &str, ratio: f64| Row {
        repo: repo.spec.name,
        operation: operation.to_owned(),
        baseline: baseline.to_owned(),
        ours: stats[0].clone(),
        base: stats[base].clone(),
        target: Target::Ratio(ratio),
    };
    Ok(vec![
        row(1, "`status --porcelain=v2 -uall`", 1.05),
        row(
            2,
            "shadow repository (`git --git-dir=SHADOW --work-tree=. add -A && commit`)",
            0.8,
        ),
    ])
}

/// The peers' checkpoint: `add -A` into a repository of their own (persistent index) whose
/// work tree is the user's, then a commit.
fn shadow_commit(tools: &Tools, dir: &Path, shadow: &Path) -> Result<Sample> {
    let git_dir = format!("--git-dir={}", shadow.display());
    let mut timer = Timer::start();
    timer.run(&mut tools.git(dir, [git_dir.as_str(), "--work-tree=.", "add", "-A"]))?;
    timer.run(&mut tools.git(
        dir,
        [
            git_dir.as_str(),
            "--work-tree=.",
            "commit",
            "-q",
            "--allow-empty",
            "-m",
            "shadow",
        ],
    ))?;
    Ok(timer.stop())
}

/// Whether `git lfs` runs here; the LFS row is measured only then.
pub fn lfs_installed(tools: &Tools, dir: &Path) -> bool {
    measure::run(&mut tools.git(dir, ["lfs", "version"])).is_ok()
}

/// The LFS row: 500 files (200 MB in all) under a `filter=lfs` attribute, unchanged, against
/// `git status`. Needs `git-lfs`.
pub fn measure_lfs(repo: &BenchRepo, tools: &Tools, runs: usize) -> Result<Vec<Row>> {
    let dir = &repo.path;
    let group = unchanged_files_group(
        repo,
        tools,
        "LFS 500 files",
        |dir| {
            measure::run(&mut tools.git(dir, ["lfs", "install", "--local"]))?;
            write_file(
                &dir.join("assets/.gitattributes"),
                b"*.bin filter=lfs diff=lfs merge=lfs -text\n",
            )?;
            let mut rng = Rng::new(0x1f5);
            for i in 0..500 {
                let bytes = super::repo::text(&mut rng, "lfs", 400 * 1024);
                write_file(&dir.join(format!("assets/blob{i:03}.bin")), &bytes)?;
            }
            Ok(())
        },
        0,
    )?;
    let stats = cases::measure(&group, tools, runs)?;
    let _ = measure::run(&mut tools.git(dir, ["lfs", "uninstall", "--local"]));
    repo.reset()?;
    repo.collect_garbage()?;
    Ok(vec![Row {
        repo: repo.spec.name,
        operation: "`create --snapshot`, 500 LFS files (200 MB) unchanged".to_owned(),
        baseline: "`status --porcelain=v2 -uall`".to_owned(),
        ours: stats[0].clone(),
        base: stats[1].clone(),
        target: Target::Ratio(1.2),
    }])
}

/// The chart's sides at one repository size, in the benchmark's dirty state: ours
/// (`create --snapshot`), `git status`, the ghost commit and the shadow repository (whose
/// persistent index lives on between runs, as the peers keep it). Returns each side's median.
pub fn size_point(repo: &BenchRepo, tools: &Tools, runs: usize) -> Result<Vec<f64>> {
    let dir = &repo.path;
    let shadow = repo.git_dir().join("bench-shadow");
    let _ = fs::remove_dir_all(&shadow);
    measure::run(tools.git(dir, ["init", "-q", "--bare"]).arg(&shadow))?;
    let shadow_ref = &shadow;
    let group = cases::group(
        format!("{} snapshot cost", repo.spec.name),
        cases::dirty_setup(repo),
        vec![
            cases::side("ours", cases::ours_create(tools, dir, &["--snapshot"])),
            cases::side("status", move |_| status(tools, dir)),
            cases::side("ghost", move |_| {
                let mut timer = Timer::start();
                cases::ghost_commit(&mut timer, tools, repo)?;
                Ok(timer.stop())
            }),
            cases::side("shadow", move |_| shadow_commit(tools, dir, shadow_ref)),
        ],
    );
    let stats = cases::measure(&group, tools, runs)?;
    let _ = fs::remove_dir_all(&shadow);
    repo.reset()?;
    repo.collect_garbage()?;
    Ok(stats.iter().map(Stats::median_ms).collect())
}
