//! `hook <agent>`: run by an agent's hook with the event's JSON on stdin. Before a tool that can
//! change files, and when the user submits a prompt, it takes a snapshot checkpoint unless
//! nothing changed since the session's newest one. It never stands in the agent's way: exit 0
//! always, stdout only what the agent's protocol allows, a one-line warning on stderr on failure.

use std::io::{self, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use checkpoint_manager::{
    CheckpointManager, CheckpointMode, CheckpointPhase, CheckpointType, CreateRequest, Error,
    Options,
};
use clap::Args;
use serde::Deserialize;
use serde_json::Value;

use super::{one_line, session_for, Agent};
use crate::cli::GlobalArgs;
use crate::commands::CliError;

/// Longest description a hook writes (the tool's target or the prompt's first line).
const MAX_DESCRIPTION: usize = 200;

/// A hook waits at most this long for another checkpoint-manager process (an agent waits for it).
const HOOK_LOCK_TIMEOUT: Duration = Duration::from_secs(10);

/// Take a checkpoint from an agent's hook: reads the hook event's JSON on stdin.
///
/// Before a tool that can change files (Claude Code and Codex PreToolUse, Gemini BeforeTool) and
/// when a prompt is submitted (UserPromptSubmit, Gemini BeforeAgent), takes a snapshot
/// checkpoint in the event's cwd, in the session named by the agent's session id (a UUID as it
/// is, any other id as a UUID v5), unless the files are those of the session's newest
/// checkpoint. Reads and searches are skipped. Always exits 0; outside a repository it does
/// nothing. Set it up with `checkpoint-manager hooks install <agent>`.
///
/// Example: checkpoint-manager hook claude-code < event.json
#[derive(Debug, Args)]
pub struct HookArgs {
    /// The agent whose event this is: claude-code, codex or gemini
    #[arg(value_enum)]
    pub agent: Agent,
}

/// The fields of a hook event we read; all three agents share these names.
#[derive(Debug, Default, Deserialize)]
struct Event {
    session_id: Option<String>,
    cwd: Option<PathBuf>,
    hook_event_name: Option<String>,
    tool_name: Option<String>,
    tool_input: Option<Value>,
    prompt: Option<String>,
}

/// What an event asks of us.
#[derive(Debug, PartialEq, Eq)]
enum Action {
    Skip,
    Checkpoint {
        description: String,
        checkpoint_type: CheckpointType,
    },
}

pub fn run(global: &GlobalArgs, args: &HookArgs) -> Result<ExitCode, CliError> {
    if let Err(problem) = handle(global, args.agent) {
        let _ = writeln!(
            io::stderr(),
            "checkpoint-manager: warning: {} hook: no checkpoint taken: {}",
            args.agent.name(),
            problem.replace('\n', " ")
        );
    }
    // Gemini CLI reads stdout as JSON and nothing else; Claude Code and Codex add a prompt
    // hook's stdout to the model's context, so they get nothing.
    if args.agent == Agent::Gemini {
        let mut out = io::stdout().lock();
        let _ = writeln!(out, "{{}}").and_then(|()| out.flush());
    }
    Ok(ExitCode::SUCCESS)
}

fn handle(global: &GlobalArgs, agent: Agent) -> Result<(), String> {
    let mut input = String::new();
    io::stdin()
        .read_to_string(&mut input)
        .map_err(|e| format!("cannot read the event on stdin: {e}"))?;
    let event: Event = serde_json::from_str(&input)
        .map_err(|e| format!("the event on stdin is not the hook JSON expected: {e}"))?;
    let Action::Checkpoint {
        description,
        checkpoint_type,
    } = action(agent, &event)
    else {
        return Ok(());
    };
    let session = event
        .session_id
        .as_deref()
        .filter(|s| !s.trim().is_empty())
        .map(session_for)
        .ok_or("the event has no session_id")?;
    let folder = match (&global.repo, &event.cwd) {
        (Some(repo), _) => repo.clone(),
        (None, Some(cwd)) => cwd.clone(),
        (None, None) => std::env::current_dir().map_err(|e| e.to_string())?,
    };
    let lock_timeout = Duration::try_from_secs_f64(global.lock_timeout)
        .unwrap_or(HOOK_LOCK_TIMEOUT)
        .min(HOOK_LOCK_TIMEOUT);
    let options = Options::from_env()
        .map_err(|e| e.to_string())?
        .with_lock_timeout(lock_timeout);
    let manager = match CheckpointManager::with_options(&folder, options) {
        Ok(manager) => manager,
        // Not our business: the agent works outside any repository.
        Err(Error::NotARepository { .. }) => return Ok(()),
        Err(e) => return Err(e.to_string()),
    };
    let request = CreateRequest::new(description, CheckpointPhase::Implement)
        .with_type(checkpoint_type)
        .with_mode(CheckpointMode::Snapshot);
    manager
        .create_if_changed(session, &request)
        .map(drop)
        .map_err(|e| e.to_string())
}

/// Decides what an event asks for: a checkpoint before a tool that may change files or before
/// a prompt is worked on, nothing otherwise.
fn action(agent: Agent, event: &Event) -> Action {
    let name = event.hook_event_name.as_deref().unwrap_or("");
    let (before_tool, prompt_submitted) = match agent {
        Agent::ClaudeCode | Agent::Codex => ("PreToolUse", "UserPromptSubmit"),
        Agent::Gemini => ("BeforeTool", "BeforeAgent"),
    };
    if name == before_tool {
        let tool = event.tool_name.as_deref().unwrap_or("");
        if tool.is_empty() || only_reads(tool) {
            return Action::Skip;
        }
        let target = event
            .tool_input
            .as_ref()
            .and_then(target_of)
            .unwrap_or_default();
        let target = one_line(&target, MAX_DESCRIPTION);
        let description = if target.is_empty() {
            one_line(&format!("before {tool}"), MAX_DESCRIPTION)
        } else {
            one_line(&format!("before {tool}: {target}"), MAX_DESCRIPTION)
        };
        return Action::Checkpoint {
            description,
            checkpoint_type: CheckpointType::PreRiskyOperation,
        };
    }
    if name == prompt_submitted {
        let prompt = one_line(event.prompt.as_deref().unwrap_or(""), MAX_DESCRIPTION);
        let description = if prompt.is_empty() {
            "before a prompt".to_owned()
        } else {
            format!("before prompt: {prompt}")
        };
        return Action::Checkpoint {
            description: one_line(&description, MAX_DESCRIPTION),
            checkpoint_type: CheckpointType::SafeState,
        };
    }
    Action::Skip
}

/// Tools that only read or search, by the names the three agents give them. Any other tool
/// (edits, writes, patches, shell commands, notebook edits, MCP tools) may change files.
fn only_reads(tool: &str) -> bool {
    const READERS: &[&str] = &[
        // Claude Code
        "Read",
        "Glob",
        "Grep",
        "LS",
        "WebFetch",
        "WebSearch",
        "TodoWrite",
        "Task",
        "ExitPlanMode",
        "BashOutput",
        // Codex
        "view_image",
        "web_search",
        "update_plan",
        // Gemini CLI
        "read_file",
        "read_many_files",
        "glob",
        "search_file_content",
        "grep_search",
        "list_directory",
        "web_fetch",
        "google_web_search",
        "save_memory",
        "write_todos",
    ];
    READERS.contains(&tool)
}

/// What a tool acts on, for the description: its file, the files of a patch, or its command.
fn target_of(input: &Value) -> Option<String> {
    for key in ["file_path", "notebook_path", "path", "absolute_path"] {
        if let Some(path) = input.get(key).and_then(Value::as_str) {
            return Some(path.to_owned());
        }
    }
    let command = match input.get("command")? {
        Value::String(text) => text.clone(),
        // Codex may pass argv as a list.
        Value::Array(words) => words
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(" "),
        _ => return None,
    };
    Some(patched_files(&command).unwrap_or(command))
}

/// The files an `apply_patch` envelope (`*** Begin Patch`) touches, comma-separated.
fn patched_files(patch: &str) -> Option<String> {
    if !patch.trim_start().starts_with("*** Begin Patch") {
        return None;
    }
    let files: Vec<&str> = patch
        .lines()
        .filter_map(|line| {
            ["*** Add File: ", "*** Update File: ", "*** Delete File: "]
                .iter()
                .find_map(|prefix| line.strip_prefix(prefix))
        })
        .map(str::trim)
        .collect();
    (!files.is_empty()).then(|| files.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(json: &str) -> Event {
        serde_json::from_str(json).expect("test JSON")
    }

    #[test]
    fn events_map_to_actions() {
        let edit = event(
            r#"{"hook_event_name":"PreToolUse","tool_name":"Edit","tool_input":{"file_path":"/r/src/a.rs"}}"#,
        );
        assert_eq!(
            action(Agent::ClaudeCode, &edit),
            Action::Checkpoint {
                description: "before Edit: /r/src/a.rs".into(),
                checkpoint_type: CheckpointType::PreRiskyOperation
            }
        );
        let read = event(r#"{"hook_event_name":"PreToolUse","tool_name":"Read"}"#);
        assert_eq!(action(Agent::ClaudeCode, &read), Action::Skip);
        // Gemini's names are not Claude's.
        assert_eq!(action(Agent::Gemini, &edit), Action::Skip);
        let stop = event(r#"{"hook_event_name":"Stop"}"#);
        assert_eq!(action(Agent::Codex, &stop), Action::Skip);
    }

    #[test]
    fn a_command_is_described_by_its_first_non_blank_line() {
        let bash = event(
            r#"{"hook_event_name":"PreToolUse","tool_name":"Bash","tool_input":{"command":"\n  cargo test\nmore"}}"#,
        );
        assert_eq!(
            action(Agent::ClaudeCode, &bash),
            Action::Checkpoint {
                description: "before Bash: cargo test".into(),
                checkpoint_type: CheckpointType::PreRiskyOperation
            }
        );
    }

    #[test]
    fn a_patch_is_described_by_its_files() {
        let patch = "*** Begin Patch\n*** Update File: src/a.rs\n@@\n-x\n+y\n*** Add File: b.txt\n+hi\n*** End Patch";
        assert_eq!(patched_files(patch).as_deref(), Some("src/a.rs, b.txt"));
        assert_eq!(patched_files("ls -la"), None);
    }
}
