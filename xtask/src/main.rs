//! Project automation, run with `cargo run --release -p xtask -- <task>`.
//!
//! `bench` is the benchmark of issue 4: `checkpoint-manager` against plain git doing the same
//! work, on two generated repositories, written to `bench/RESULTS.md`.

mod bench;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Project automation for checkpoint-manager.
#[derive(Debug, Parser)]
#[command(name = "xtask")]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Debug, Subcommand)]
enum Task {
    Bench(bench::BenchArgs),
    Prepare(bench::PrepareArgs),
    /// Run a command and report its peak memory (used by `bench`).
    #[command(name = "rss-probe", hide = true)]
    RssProbe(bench::ProbeArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.task {
        Task::Bench(args) => bench::run(&args).map(|()| ExitCode::SUCCESS),
        Task::Prepare(args) => bench::prepare(&args).map(|()| ExitCode::SUCCESS),
        Task::RssProbe(args) => bench::probe(&args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("xtask: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
