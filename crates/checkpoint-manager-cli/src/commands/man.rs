//! `man`: manual pages in roff, generated from the clap definitions.

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, CommandFactory};

use super::CliError;
use crate::cli::Cli;

/// Print the manual page (roff), or write one page per command into a folder.
///
/// Example: checkpoint-manager man | man -l -
#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write checkpoint-manager.1 and a checkpoint-manager-<command>.1 per sub-command into
    /// this folder instead of printing the main page
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
}

pub fn run(args: &ManArgs) -> Result<ExitCode, CliError> {
    let command = Cli::command();
    match &args.out_dir {
        Some(dir) => {
            std::fs::create_dir_all(dir)?;
            clap_mangen::generate_to(command, dir)?;
        }
        None => {
            let mut page = Vec::new();
            clap_mangen::Man::new(command).render(&mut page)?;
            let mut out = io::stdout().lock();
            out.write_all(&page)?;
            out.flush()?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
