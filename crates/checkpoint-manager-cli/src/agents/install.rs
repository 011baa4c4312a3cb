//! `hooks install|uninstall|status <agent>`: our entries in the agent's settings, merged in
//! without disturbing anything else there. JSON settings (Claude Code, Gemini CLI) keep their
//! keys in order; Codex's `config.toml` is edited with `toml_edit`, so its comments, order and
//! formatting stay. Ours are the hook commands `checkpoint-manager hook <agent>`; nothing else
//! is ever removed.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use serde::Serialize;

use super::ordered_json::Json;
use super::Agent;
use crate::cli::{GlobalArgs, OutputFormat};
use crate::commands::{open, CliError};

/// Set up, remove or show the agent hooks that take checkpoints (Claude Code, Codex, Gemini CLI).
///
/// install merges our entries into the agent's settings (.claude/settings.json,
/// .codex/config.toml, .gemini/settings.json in the repository, or under $HOME with
/// --scope user), keeping everything else as it is; running it again changes nothing.
/// uninstall removes only our entries; status says what is installed where.
///
/// Example: checkpoint-manager hooks install claude-code
#[derive(Debug, Args)]
pub struct HooksArgs {
    /// install: add our hooks (idempotent); uninstall: remove ours and only ours; status: say
    /// which agents have them, in the project and for the user
    #[arg(value_enum)]
    pub action: HooksAction,
    /// claude-code, codex or gemini (status: default all three)
    #[arg(value_enum)]
    pub agent: Option<Agent>,
    /// project: the repository's settings; user: the settings under $HOME
    #[arg(long, value_enum, default_value_t = Scope::Project)]
    pub scope: Scope,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum HooksAction {
    /// Add our hooks to the agent's settings
    Install,
    /// Remove our hooks from the agent's settings
    Uninstall,
    /// Show where our hooks are installed
    Status,
}

/// Whose settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// The repository's own settings (shared with everyone who clones it, if committed)
    Project,
    /// Your settings under $HOME (every repository you run the agent in)
    User,
}

/// What one event of an agent gets: the event name and the tools it is limited to.
struct EventHook {
    event: &'static str,
    matcher: Option<&'static str>,
}

/// Seconds (milliseconds for Gemini) the agent gives our hook before giving up on it.
const TIMEOUT_SECONDS: u64 = 30;

fn events(agent: Agent) -> [EventHook; 2] {
    match agent {
        Agent::ClaudeCode => [
            EventHook {
                event: "PreToolUse",
                matcher: Some("Bash|Edit|MultiEdit|Write|NotebookEdit"),
            },
            EventHook {
                event: "UserPromptSubmit",
                matcher: None,
            },
        ],
        Agent::Codex => [
            EventHook {
                event: "PreToolUse",
                matcher: Some("Bash|apply_patch"),
            },
            EventHook {
                event: "UserPromptSubmit",
                matcher: None,
            },
        ],
        Agent::Gemini => [
            EventHook {
                event: "BeforeTool",
                matcher: Some("write_file|replace|run_shell_command"),
            },
            EventHook {
                event: "BeforeAgent",
                matcher: None,
            },
        ],
    }
}

/// The command our entries run.
pub fn hook_command(agent: Agent) -> String {
    format!("checkpoint-manager hook {}", agent.name())
}

/// True for a command we installed (for any agent): `checkpoint-manager hook ...`, with or
/// without a folder in front of the program.
fn is_ours(command: &str) -> bool {
    let mut words = command.split_whitespace();
    let program = words.next().unwrap_or("");
    let program = program.rsplit('/').next().unwrap_or(program);
    program == "checkpoint-manager" && words.next() == Some("hook")
}

/// One settings file and what of ours is in it.
#[derive(Debug, Serialize)]
pub struct Report {
    pub agent: &'static str,
    pub scope: Scope,
    pub path: PathBuf,
    /// The events that run our hook.
    pub events: Vec<String>,
    /// For install/uninstall: whether the file was written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub changed: Option<bool>,
}

pub fn run(global: &GlobalArgs, args: &HooksArgs) -> Result<ExitCode, CliError> {
    let reports = match (args.action, args.agent) {
        (HooksAction::Status, agent) => status(global, agent)?,
        (action, Some(agent)) => vec![edit(
            global,
            agent,
            args.scope,
            action == HooksAction::Install,
        )?],
        (_, None) => {
            return Err(CliError::Usage(
                "hooks install|uninstall: name the agent: claude-code, codex or gemini (e.g. \
                 `checkpoint-manager hooks install claude-code`)"
                    .to_owned(),
            ))
        }
    };
    print(global.output, &reports)?;
    Ok(ExitCode::SUCCESS)
}

fn print(format: OutputFormat, reports: &Vec<Report>) -> io::Result<()> {
    let mut out = io::stdout().lock();
    match format {
        OutputFormat::Json => {
            serde_json::to_writer_pretty(&mut out, reports)?;
            writeln!(out)?;
        }
        OutputFormat::Pretty => {
            for r in reports {
                let what = if r.events.is_empty() {
                    "not installed".to_owned()
                } else {
                    format!("installed on {}", r.events.join(", "))
                };
                let changed = match r.changed {
                    Some(true) => " (written)",
                    Some(false) => " (already so, unchanged)",
                    None => "",
                };
                writeln!(
                    out,
                    "{:<12} {:<8} {what}{changed}: {}",
                    r.agent,
                    json_word(r.scope),
                    r.path.display()
                )?;
            }
        }
    }
    out.flush()
}

fn json_word(scope: Scope) -> &'static str {
    match scope {
        Scope::Project => "project",
        Scope::User => "user",
    }
}

/// The settings file of `agent` in `scope`.
fn settings_path(global: &GlobalArgs, agent: Agent, scope: Scope) -> Result<PathBuf, CliError> {
    let base = match scope {
        Scope::Project => open(global)?.workdir().to_path_buf(),
        Scope::User => std::env::var_os("HOME")
            .filter(|home| !home.is_empty())
            .map(PathBuf::from)
            .ok_or_else(|| {
                CliError::Invalid(
                    "--scope user: $HOME is not set; set HOME to your home folder, or use \
                     --scope project"
                        .to_owned(),
                )
            })?,
    };
    Ok(base.join(match agent {
        Agent::ClaudeCode => ".claude/settings.json",
        Agent::Codex => ".codex/config.toml",
        Agent::Gemini => ".gemini/settings.json",
    }))
}

fn status(global: &GlobalArgs, agent: Option<Agent>) -> Result<Vec<Report>, CliError> {
    let agents = agent.map_or(Agent::ALL.to_vec(), |a| vec![a]);
    let mut reports = Vec::new();
    for agent in agents {
        for scope in [Scope::Project, Scope::User] {
            let path =
                match settings_path(global, agent, scope) {
                    Ok(path) => path,
                    // Outside a repository there are only the user's settings to report.
                    Err(CliError::Library(checkpoint_manager::Error::NotARepository {
                        ..
                    })) if scope == Scope::Project => continue,
                    Err(e) => return Err(e),
                };
            let text = read(&path)?.unwrap_or_default();
            let events = if agent == Agent::Codex {
                codex::ours(&parse_toml(&path, &text)?)
            } else {
                json::ours(&parse_json(&path, &text)?)
            };
            reports.push(Report {
                agent: agent.name(),
                scope,
                path,
                events,
                changed: None,
            });
        }
    }
    Ok(reports)
}

/// Installs (or uninstalls) our entries in one settings file, writing it only if it changes.
fn edit(
    global: &GlobalArgs,
    agent: Agent,
    scope: Scope,
    install: bool,
) -> Result<Report, CliError> {
    let path = settings_path(global, agent, scope)?;
    let text = read(&path)?.unwrap_or_default();
    let (before, new_text, events) = if agent == Agent::Codex {
        let mut doc = parse_toml(&path, &text)?;
        let before = codex::ours(&doc);
        if install {
            codex::install(&path, &mut doc, agent)?;
        } else {
            codex::uninstall(&mut doc);
        }
        (before, doc.to_string(), codex::ours(&doc))
    } else {
        let mut settings = parse_json(&path, &text)?;
        let before = json::ours(&settings);
        if install {
            json::install(&path, &mut settings, agent)?;
        } else {
            json::uninstall(&mut settings);
        }
        (before, settings.to_file_text(), json::ours(&settings))
    };
    // Written only when ours changed: a file without our entries is never rewritten.
    let changed = before != events;
    if changed {
        write(&path, &new_text)?;
    }
    Ok(Report {
        agent: agent.name(),
        scope,
        path,
        events,
        changed: Some(changed),
    })
}

fn is_blank(text: &str) -> bool {
    text.trim().is_empty()
}

/// A file that could not be read or written (exit 1), named.
fn io_error(path: &Path, source: io::Error) -> CliError {
    CliError::Library(checkpoint_manager::Error::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// The file's text, or `None` when it does not exist.
fn read(path: &Path) -> Result<Option<String>, CliError> {
    match fs::read(path) {
        Ok(bytes) => String::from_utf8(bytes).map(Some).map_err(|_| {
            CliError::Invalid(format!(
                "{}: not UTF-8 text; fix or move the file, then run this again",
                path.display()
            ))
        }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_error(path, e)),
    }
}

/// Replaces the file atomically, through a symlink to its target, keeping its permissions.
fn write(path: &Path, text: &str) -> Result<(), CliError> {
    let target = fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let permissions = fs::metadata(&target).ok().map(|m| m.permissions());
    if let Some(dir) = target.parent() {
        fs::create_dir_all(dir).map_err(|e| io_error(dir, e))?;
    }
    checkpoint_manager::write_atomically(&target, text.as_bytes())?;
    let permissions = permissions.unwrap_or_else(|| {
        use std::os::unix::fs::PermissionsExt;
        fs::Permissions::from_mode(0o644)
    });
    fs::set_permissions(&target, permissions).map_err(|e| io_error(&target, e))
}

fn parse_json(path: &Path, text: &str) -> Result<Json, CliError> {
    if is_blank(text) {
        return Ok(Json::object());
    }
    let settings: Json = serde_json::from_str(text).map_err(|e| {
        CliError::Invalid(format!(
            "{}: not JSON we can edit ({e}); fix the file (comments are not supported), then \
             run this again",
            path.display()
        ))
    })?;
    if settings.as_object().is_none() {
        return Err(CliError::Invalid(format!(
            "{}: the settings are not a JSON object; fix the file, then run this again",
            path.display()
        )));
    }
    Ok(settings)
}

fn parse_toml(path: &Path, text: &str) -> Result<toml_edit::DocumentMut, CliError> {
    text.parse().map_err(|e: toml_edit::TomlError| {
        CliError::Invalid(format!(
            "{}: not TOML we can edit ({}); fix the file, then run this again",
            path.display(),
            e.to_string().lines().next().unwrap_or("")
        ))
    })
}

fn not_editable(path: &Path, what: &str) -> CliError {
    CliError::Invalid(format!(
        "{}: {what} is not in the shape the agent documents; fix it by hand, then run this again",
        path.display()
    ))
}

/// Claude Code and Gemini CLI: `"hooks": {"<Event>": [{"matcher": ..., "hooks": [{"type":
/// "command", "command": ...}]}]}`.
mod json {
    use super::*;

    pub fn install(path: &Path, settings: &mut Json, agent: Agent) -> Result<(), CliError> {
        let root = settings.as_object_mut().expect("checked by parse_json");
        let hooks = root.entry("hooks".to_owned()).or_insert_with(Json::object);
        let hooks = hooks
            .as_object_mut()
            .ok_or_else(|| not_editable(path, "\"hooks\""))?;
        for spec in events(agent) {
            let groups = hooks
                .entry(spec.event.to_owned())
                .or_insert_with(|| Json::Array(Vec::new()));
            let groups = groups
                .as_array_mut()
                .ok_or_else(|| not_editable(path, &format!("\"hooks\".\"{}\"", spec.event)))?;
            if groups.iter().any(group_is_ours) {
                continue;
            }
            groups.push(group(agent, &spec));
        }
        Ok(())
    }

    fn group(agent: Agent, spec: &EventHook) -> Json {
        let mut handler = indexmap::IndexMap::new();
        if agent == Agent::Gemini {
            handler.insert("name".to_owned(), Json::string("checkpoint-manager"));
        }
        handler.insert("type".to_owned(), Json::string("command"));
        handler.insert("command".to_owned(), Json::string(&hook_command(agent)));
        let timeout = match agent {
            Agent::Gemini => TIMEOUT_SECONDS * 1000,
            _ => TIMEOUT_SECONDS,
        };
        handler.insert("timeout".to_owned(), Json::number(timeout));
        let mut group = indexmap::IndexMap::new();
        if let Some(matcher) = spec.matcher {
            group.insert("matcher".to_owned(), Json::string(matcher));
        }
        group.insert("hooks".to_owned(), Json::Array(vec![Json::Object(handler)]));
        Json::Object(group)
    }

    fn handler_is_ours(handler: &Json) -> bool {
        handler
            .as_object()
            .and_then(|h| h.get("command"))
            .and_then(Json::as_str)
            .is_some_and(is_ours)
    }

    fn group_is_ours(group: &Json) -> bool {
        group
            .as_object()
            .and_then(|g| g.get("hooks"))
            .and_then(Json::as_array)
            .is_some_and(|handlers| handlers.iter().any(handler_is_ours))
    }

    /// Removes our handlers, then the groups, event lists and `hooks` object that only held
    /// them (containers that were empty before are left alone).
    pub fn uninstall(settings: &mut Json) {
        let Some(root) = settings.as_object_mut() else {
            return;
        };
        let Some(hooks) = root.get_mut("hooks").and_then(Json::as_object_mut) else {
            return;
        };
        let mut emptied_events = Vec::new();
        for (event, groups) in hooks.iter_mut() {
            let Some(groups) = groups.as_array_mut() else {
                continue;
            };
            let before = groups.len();
            groups.retain_mut(|group| {
                let Some(handlers) = group
                    .as_object_mut()
                    .and_then(|g| g.get_mut("hooks"))
                    .and_then(Json::as_array_mut)
                else {
                    return true;
                };
                let had = handlers.len();
                handlers.retain(|h| !handler_is_ours(h));
                !(handlers.is_empty() && had > 0)
            });
            if groups.is_empty() && before > 0 {
                emptied_events.push(event.clone());
            }
        }
        let had_events = !hooks.is_empty();
        for event in emptied_events {
            hooks.shift_remove(&event);
        }
        if had_events && hooks.is_empty() {
            root.shift_remove("hooks");
        }
    }

    pub fn ours(settings: &Json) -> Vec<String> {
        let hooks = settings
            .as_object()
            .and_then(|root| root.get("hooks"))
            .and_then(Json::as_object);
        hooks
            .into_iter()
            .flatten()
            .filter(|(_, groups)| {
                groups
                    .as_array()
                    .is_some_and(|groups| groups.iter().any(group_is_ours))
            })
            .map(|(event, _)| event.clone())
            .collect()
    }
}

/// Codex: `[[hooks.<Event>]]` tables with `matcher`, each with `[[hooks.<Event>.hooks]]`
/// handlers (`type`, `command`, `timeout`), in `config.toml`.
mod codex {
    use toml_edit::{value, ArrayOfTables, DocumentMut, Item, Table};

    use super::*;

    pub fn install(path: &Path, doc: &mut DocumentMut, agent: Agent) -> Result<(), CliError> {
        let hooks = doc.entry("hooks").or_insert_with(|| {
            let mut table = Table::new();
            table.set_implicit(true);
            Item::Table(table)
        });
        let hooks = hooks
            .as_table_mut()
            .ok_or_else(|| not_editable(path, "[hooks]"))?;
        for spec in events(agent) {
            let groups = hooks
                .entry(spec.event)
                .or_insert_with(|| Item::ArrayOfTables(ArrayOfTables::new()));
            let groups = groups
                .as_array_of_tables_mut()
                .ok_or_else(|| not_editable(path, &format!("hooks.{}", spec.event)))?;
            if groups.iter().any(group_is_ours) {
                continue;
            }
            let mut handler = Table::new();
            handler["type"] = value("command");
            handler["command"] = value(hook_command(agent));
            handler["timeout"] = value(TIMEOUT_SECONDS as i64);
            let mut handlers = ArrayOfTables::new();
            handlers.push(handler);
            let mut group = Table::new();
            if let Some(matcher) = spec.matcher {
                group["matcher"] = value(matcher);
            }
            group.insert("hooks", Item::ArrayOfTables(handlers));
            groups.push(group);
        }
        Ok(())
    }

    fn handler_is_ours(handler: &Table) -> bool {
        handler
            .get("command")
            .and_then(Item::as_str)
            .is_some_and(is_ours)
    }

    fn group_is_ours(group: &Table) -> bool {
        group
            .get("hooks")
            .and_then(Item::as_array_of_tables)
            .is_some_and(|handlers| handlers.iter().any(handler_is_ours))
    }

    /// Removes our handlers, then the groups, event arrays and `[hooks]` table that only held
    /// them; every other line, comment included, stays as it was.
    pub fn uninstall(doc: &mut DocumentMut) {
        let Some(hooks) = doc.get_mut("hooks").and_then(Item::as_table_mut) else {
            return;
        };
        let mut emptied_events = Vec::new();
        for (event, groups) in hooks.iter_mut() {
            let Some(groups) = groups.as_array_of_tables_mut() else {
                continue;
            };
            let before = groups.len();
            groups.retain(|group| !group_is_ours(group) || other_handlers(group));
            for group in groups.iter_mut() {
                if let Some(handlers) = group
                    .get_mut("hooks")
                    .and_then(Item::as_array_of_tables_mut)
                {
                    handlers.retain(|h| !handler_is_ours(h));
                }
            }
            if groups.is_empty() && before > 0 {
                emptied_events.push(event.get().to_owned());
            }
        }
        let had_events = !hooks.is_empty();
        for event in emptied_events {
            hooks.remove(&event);
        }
        if had_events && hooks.is_empty() && hooks.is_implicit() {
            doc.remove("hooks");
        }
    }

    fn other_handlers(group: &Table) -> bool {
        group
            .get("hooks")
            .and_then(Item::as_array_of_tables)
            .is_some_and(|handlers| handlers.iter().any(|h| !handler_is_ours(h)))
    }

    pub fn ours(doc: &DocumentMut) -> Vec<String> {
        let Some(hooks) = doc.get("hooks").and_then(Item::as_table) else {
            return Vec::new();
        };
        hooks
            .iter()
            .filter(|(_, groups)| {
                groups
                    .as_array_of_tables()
                    .is_some_and(|groups| groups.iter().any(group_is_ours))
            })
            .map(|(event, _)| event.to_owned())
            .collect()
    }
}
