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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_main_page_names_every_sub_command() {
        let mut page = Vec::new();
        clap_mangen::Man::new(Cli::command())
            .render(&mut page)
            .expect("renders");
        let page = String::from_utf8(page).expect("roff is text");
        assert!(page.starts_with(".ie") && page.contains(".TH checkpoint-manager 1"));
        for sub in Cli::command().get_subcommands() {
            // roff escapes the dash of `op-log`.
            let name = sub.get_name().replace('-', "\\-");
            assert!(page.contains(&name), "{}", sub.get_name());
        }
    }

    #[test]
    fn out_dir_writes_one_page_per_command() {
        let dir = tempfile::tempdir().expect("temp dir");
        run(&ManArgs {
            out_dir: Some(dir.path().join("man1")),
        })
        .expect("writes");
        let mut pages: Vec<String> = std::fs::read_dir(dir.path().join("man1"))
            .expect("folder")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        pages.sort();
        assert_eq!(pages.len(), 1 + Cli::command().get_subcommands().count());
        assert!(pages.contains(&"checkpoint-manager-rollback.1".to_owned()));
        let create = std::fs::read_to_string(dir.path().join("man1/checkpoint-manager-create.1"))
            .expect("page");
        assert!(create.contains("Example: checkpoint\\-manager create"));
    }
}
