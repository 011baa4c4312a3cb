//! `mcp`: a Model Context Protocol server on stdio (the official Rust SDK, `rmcp`), so any
//! MCP-capable agent can checkpoint, look back and roll back on its own. Each tool returns what
//! the command line prints, as structured content and as text; a failure is a tool error with
//! the command line's one-line message, never the end of the server.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use checkpoint_manager::{
    CheckpointManager, CheckpointMode, CheckpointPhase, CheckpointType, CreateRequest, Error,
    Options, ResetMode, SessionId, StateSnapshot,
};
use clap::Args;
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{CallToolResult, ContentBlock, Implementation, ServerCapabilities, ServerConfig};
use rmcp::{tool, tool_handler, tool_router, ServerHandler, ServiceExt};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::session_for;
use crate::cli::GlobalArgs;
use crate::commands::{start_folder, CliError};

/// Serve checkpoints to an agent over the Model Context Protocol (stdio).
///
/// Tools: checkpoint_create, checkpoint_list, checkpoint_get, checkpoint_rollback,
/// checkpoint_undo, checkpoint_summary, checkpoint_diff, checkpoint_restore. The repository is --repo or the current folder; a tool
/// call without session_id uses this server's own session (a new UUID, named in every result).
/// Register it with the agent, e.g. `claude mcp add checkpoints -- checkpoint-manager mcp`.
///
/// Example: checkpoint-manager mcp --repo ~/src/project
#[derive(Debug, Args)]
pub struct McpArgs {}

pub fn run(global: &GlobalArgs, _args: &McpArgs) -> Result<ExitCode, CliError> {
    let folder = start_folder(global)?;
    let lock_timeout = Duration::try_from_secs_f64(global.lock_timeout).map_err(|_| {
        CliError::Usage(format!(
            "--lock-timeout {}: not a number of seconds",
            global.lock_timeout
        ))
    })?;
    let options = Options::from_env()?.with_lock_timeout(lock_timeout);
    let server = Checkpoints::new(folder, options, SessionId::new_random());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(CliError::Output)?;
    runtime.block_on(async {
        let service = server
            .serve(rmcp::transport::stdio())
            .await
            .map_err(|e| CliError::Output(std::io::Error::other(e.to_string())))?;
        service
            .waiting()
            .await
            .map_err(|e| CliError::Output(std::io::Error::other(e.to_string())))?;
        Ok::<(), CliError>(())
    })?;
    Ok(ExitCode::SUCCESS)
}

/// The server: where the repository is and this process's default session.
#[derive(Debug, Clone)]
pub struct Checkpoints {
    folder: PathBuf,
    options: Options,
    default_session: SessionId,
    tool_router: ToolRouter<Self>,
}

/// The session a call names; any agent session id is taken (a UUID as it is, anything else as
/// its UUID v5, as the hooks do).
#[derive(Debug, Deserialize, JsonSchema)]
pub struct SessionArgs {
    /// The checkpoint session (a UUID, or any id: it maps to a stable UUID). Default: this
    /// server's own session.
    pub session_id: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct CreateArgs {
    /// What this checkpoint is, for people (not empty)
    pub description: String,
    /// plan, generate_tasks, implement, validate or cleanup (default: implement)
    pub phase: Option<String>,
    /// phase_complete, task_group_complete, safe_state, pre_risky_operation, error_recovery or
    /// manual (default: manual)
    pub checkpoint_type: Option<String>,
    /// true (default): a private snapshot of files and index; branch, index and files stay as
    /// they are. false: commit everything on the current branch and tag it.
    pub snapshot: Option<bool>,
    /// Session state, e.g. {"tasks_completed": 3, "tests_passing": 12} (missing fields are 0)
    pub state_snapshot: Option<Value>,
    /// The checkpoint session (default: this server's own)
    pub session_id: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct CheckpointArgs {
    /// The checkpoint (a UUID, as checkpoint_list gives it, or a unique prefix of at least 4
    /// hex digits)
    pub checkpoint_id: String,
    /// The checkpoint session (default: this server's own)
    pub session_id: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct RollbackArgs {
    /// The checkpoint to return to (a UUID, or a unique prefix of at least 4 hex digits)
    pub checkpoint_id: String,
    /// true: also make the files what the checkpoint holds (everything overwritten or removed is
    /// kept in a safety snapshot that checkpoint_undo returns to); false (default): move HEAD
    /// and the index only
    pub hard_reset: Option<bool>,
    /// The checkpoint session (default: this server's own)
    pub session_id: Option<String>,
}

// Issue 10: restore of chosen paths.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct RestoreArgs {
    /// The checkpoint to take the files from (a UUID, or a unique prefix of at least 4 hex digits)
    pub checkpoint_id: String,
    /// Files or folders to bring back, relative to the top of the repository (or absolute
    /// inside it)
    pub paths: Vec<String>,
    /// true: also set those paths' index entries to the checkpoint's; false (default): the
    /// index stays as it is
    pub staged: Option<bool>,
    /// The checkpoint session (default: this server's own)
    pub session_id: Option<String>,
}

/// A failure, as the command line words it (one line).
fn tool_error(e: Error) -> CallToolResult {
    CallToolResult::error(vec![ContentBlock::text(e.to_string().replace('\n', " "))])
}

/// A result: `{"session_id": ..., "<key>": <what the command line prints>}`.
fn tool_result<T: Serialize>(session: SessionId, key: &str, value: &T) -> CallToolResult {
    match serde_json::to_value(value) {
        Ok(value) => {
            let result = json!({ "session_id": session.as_string(), key: value });
            let mut call = CallToolResult::structured(result.clone());
            if let Ok(pretty) = serde_json::to_string_pretty(&result) {
                call.content = vec![ContentBlock::text(pretty)];
            }
            call
        }
        Err(e) => CallToolResult::error(vec![ContentBlock::text(format!(
            "cannot render the result: {e}"
        ))]),
    }
}

#[tool_router]
impl Checkpoints {
    pub fn new(folder: PathBuf, options: Options, default_session: SessionId) -> Self {
        Checkpoints {
            folder,
            options,
            default_session,
            tool_router: Self::tool_router(),
        }
    }

    fn session(&self, given: Option<&str>) -> SessionId {
        given
            .filter(|s| !s.trim().is_empty())
            .map_or(self.default_session, session_for)
    }

    /// Opened for each call: the repository may change between calls (even be created).
    fn manager(&self) -> Result<CheckpointManager, Error> {
        CheckpointManager::with_options(&self.folder, self.options.clone())
    }

    /// Runs one call: the session, then `op` on the manager, rendered under `key`.
    fn call<T: Serialize>(
        &self,
        session: Option<&str>,
        key: &str,
        op: impl FnOnce(&CheckpointManager, SessionId) -> Result<T, Error>,
    ) -> CallToolResult {
        let session = self.session(session);
        match self.manager().and_then(|m| op(&m, session)) {
            Ok(value) => tool_result(session, key, &value),
            Err(e) => tool_error(e),
        }
    }

    #[tool(
        description = "Create a checkpoint of the repository's current state. By default a \
        private snapshot (files, deletions, untracked files and the index) that leaves branch, \
        index and files untouched; snapshot=false commits everything on the current branch."
    )]
    fn checkpoint_create(&self, Parameters(args): Parameters<CreateArgs>) -> CallToolResult {
        let request = match create_request(&args) {
            Ok(request) => request,
            Err(e) => return tool_error(e),
        };
        self.call(args.session_id.as_deref(), "checkpoint", |m, s| {
            m.create(s, &request)
        })
    }

    #[tool(description = "List the session's checkpoints, newest first.")]
    fn checkpoint_list(&self, Parameters(args): Parameters<SessionArgs>) -> CallToolResult {
        self.call(args.session_id.as_deref(), "checkpoints", |m, s| m.list(s))
    }

    #[tool(description = "Show one checkpoint of the session.")]
    fn checkpoint_get(&self, Parameters(args): Parameters<CheckpointArgs>) -> CallToolResult {
        self.call(args.session_id.as_deref(), "checkpoint", |m, s| {
            m.get(s, m.resolve_checkpoint(s, &args.checkpoint_id)?)
        })
    }

    #[tool(
        description = "Roll back to a checkpoint. A safety snapshot of the current state is \
        taken first (named in the result), so checkpoint_undo can always return to it."
    )]
    fn checkpoint_rollback(&self, Parameters(args): Parameters<RollbackArgs>) -> CallToolResult {
        let mode = if args.hard_reset.unwrap_or(false) {
            ResetMode::Hard
        } else {
            ResetMode::Mixed
        };
        self.call(args.session_id.as_deref(), "rollback", |m, s| {
            m.rollback(s, m.resolve_checkpoint(s, &args.checkpoint_id)?, mode)
        })
    }

    #[tool(
        description = "Undo the last rollback (or undo): branch, HEAD, index and every file \
        come back as they were. It takes its own safety snapshot, so it can be undone too."
    )]
    fn checkpoint_undo(&self, Parameters(args): Parameters<SessionArgs>) -> CallToolResult {
        self.call(args.session_id.as_deref(), "undo", |m, s| m.undo(s))
    }

    #[tool(
        description = "Summarise the session: totals, counts by type, rollbacks, the latest \
        checkpoint's commit."
    )]
    fn checkpoint_summary(&self, Parameters(args): Parameters<SessionArgs>) -> CallToolResult {
        self.call(args.session_id.as_deref(), "summary", |m, s| m.summary(s))
    }

    // Issue 10: restore of chosen paths.
    #[tool(
        description = "Bring back chosen files or folders exactly as a checkpoint holds them; \
        files under them that the checkpoint lacks are removed. A safety snapshot is taken \
        first, so checkpoint_undo takes the restore back. HEAD, the branch and every other file \
        stay as they are."
    )]
    fn checkpoint_restore(&self, Parameters(args): Parameters<RestoreArgs>) -> CallToolResult {
        let staged = args.staged.unwrap_or(false);
        self.call(args.session_id.as_deref(), "restore", |m, s| {
            let checkpoint = m.resolve_checkpoint(s, &args.checkpoint_id)?;
            // An agent names paths from the top of the repository, wherever the server runs.
            let paths: Vec<PathBuf> = args.paths.iter().map(|p| m.workdir().join(p)).collect();
            m.restore_paths(s, checkpoint, &paths, staged)
        })
    }

    // Issue 10: diff.
    #[tool(
        description = "What changed from one checkpoint to another, or to the files as they are \
        now when to_checkpoint_id is absent: each file's path, status (added, modified, \
        deleted, renamed, type_changed), lines added and removed, and with patch=true its \
        unified diff. Changes nothing."
    )]
    fn checkpoint_diff(&self, Parameters(args): Parameters<DiffArgs>) -> CallToolResult {
        let patch = args.patch.unwrap_or(false);
        self.call(args.session_id.as_deref(), "diff", |m, s| {
            let from = m.resolve_checkpoint(s, &args.from_checkpoint_id)?;
            let to = args
                .to_checkpoint_id
                .as_deref()
                .map(|to| m.resolve_checkpoint(s, to))
                .transpose()?;
            m.diff(s, from, to, patch)
        })
    }
}

// Issue 10: diff.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct DiffArgs {
    /// The checkpoint to compare from (a UUID, or a unique prefix of at least 4 hex digits)
    pub from_checkpoint_id: String,
    /// The checkpoint to compare to (a UUID or a unique prefix); absent: the files as they are now (tracked and
    /// untracked, not ignored)
    pub to_checkpoint_id: Option<String>,
    /// true: include each file's unified diff (default false)
    pub patch: Option<bool>,
    /// The checkpoint session (default: this server's own)
    pub session_id: Option<String>,
}

fn create_request(args: &CreateArgs) -> Result<CreateRequest, Error> {
    let phase: CheckpointPhase = args.phase.as_deref().unwrap_or("implement").parse()?;
    let checkpoint_type: CheckpointType = args
        .checkpoint_type
        .as_deref()
        .unwrap_or("manual")
        .parse()?;
    let state_snapshot = args
        .state_snapshot
        .as_ref()
        .map(|state| StateSnapshot::from_json(&state.to_string()))
        .transpose()?;
    let mode = if args.snapshot.unwrap_or(true) {
        CheckpointMode::Snapshot
    } else {
        CheckpointMode::Commit
    };
    Ok(CreateRequest::new(args.description.clone(), phase)
        .with_type(checkpoint_type)
        .with_state_snapshot(state_snapshot)
        .with_mode(mode))
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for Checkpoints {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new(
                "checkpoint-manager",
                env!("CARGO_PKG_VERSION"),
            ))
            .with_instructions(format!(
                "Git checkpoints of the repository at {}: create one before risky changes, roll \
                 back to any, undo any rollback. Calls without session_id use session {}.",
                self.folder.display(),
                self.default_session
            ))
    }
}
