//! Short ids for people (issue 10): an id's shortest unique prefix in a set, highlighted, and
//! the column helpers that keep coloured ids aligned.

use super::Style;

/// How many hex digits a short id shows at least: the UUID's first group. As jj does, the
/// width stays put while the highlighted unique part grows with the session.
const SHORT_ID_HEX: usize = 8;

/// A set of UUIDs (checkpoint or operation ids) that ids are abbreviated against: an id's
/// unique prefix is the shortest no other id of the set shares, and never shorter than the
/// library accepts back ([`checkpoint_manager::MIN_PREFIX_HEX`]).
#[derive(Debug, Default)]
pub struct Ids {
    /// The ids' hex digits (no dashes), sorted.
    sorted: Vec<String>,
}

impl Ids {
    pub fn new<D: std::fmt::Display>(ids: impl IntoIterator<Item = D>) -> Ids {
        let mut sorted: Vec<String> = ids.into_iter().map(|id| hex_digits(&id)).collect();
        sorted.sort_unstable();
        sorted.dedup();
        Ids { sorted }
    }

    /// The checkpoints of `session`, safety snapshots included (the library resolves prefixes
    /// against all of them); none when the log cannot be read, which only costs longer ids.
    pub fn of_session(
        manager: &checkpoint_manager::CheckpointManager,
        session: checkpoint_manager::SessionId,
    ) -> Ids {
        let all = manager.list_all(session).unwrap_or_default();
        Ids::new(all.iter().map(|c| c.checkpoint_id))
    }

    /// The checkpoints of `sessions` and `also` (those an outcome names that left the logs:
    /// deleted, pruned). A prefix unique among all of them is unique in each id's own session,
    /// where the library resolves it; the shown width stays [`SHORT_ID_HEX`] for all.
    pub fn of_sessions(
        manager: &checkpoint_manager::CheckpointManager,
        sessions: impl IntoIterator<Item = checkpoint_manager::SessionId>,
        also: impl IntoIterator<Item = checkpoint_manager::CheckpointId>,
    ) -> Ids {
        let sessions: std::collections::BTreeSet<_> = sessions.into_iter().collect();
        let listed = sessions
            .into_iter()
            .flat_map(|session| manager.list_all(session).unwrap_or_default());
        Ids::new(listed.map(|c| c.checkpoint_id).chain(also))
    }

    /// Returns how many hex digits of `id` no other id of the set starts with.
    pub fn unique_hex(&self, id: &impl std::fmt::Display) -> usize {
        let hex = hex_digits(id);
        let at = self.sorted.partition_point(|other| *other < hex);
        let around = &self.sorted[at.saturating_sub(1)..(at + 2).min(self.sorted.len())];
        let shared = around
            .iter()
            .filter(|other| **other != hex)
            .map(|other| common_prefix(other, &hex))
            .max()
            .unwrap_or(0);
        (shared + 1).clamp(checkpoint_manager::MIN_PREFIX_HEX, hex.len().max(1))
    }

    /// `id` cut to its unique prefix (at least [`SHORT_ID_HEX`] digits shown), the prefix
    /// highlighted and the rest dimmed on a terminal.
    pub(super) fn short(&self, style: &Style, id: &impl std::fmt::Display) -> String {
        let text = id.to_string();
        let unique = self.unique_hex(id);
        let shown = &text[..text_len(&text, unique.max(SHORT_ID_HEX))];
        highlight(style, shown, text_len(&text, unique))
    }

    /// The whole of `id`, its unique prefix highlighted.
    pub(super) fn full(&self, style: &Style, id: &impl std::fmt::Display) -> String {
        let text = id.to_string();
        let unique = self.unique_hex(id);
        highlight(style, &text, text_len(&text, unique))
    }
}

fn highlight(style: &Style, text: &str, split: usize) -> String {
    let (prefix, rest) = text.split_at(split.min(text.len()));
    if rest.is_empty() {
        return style.paint("1;35", prefix);
    }
    format!("{}{}", style.paint("1;35", prefix), style.dim(rest))
}

fn hex_digits(id: &impl std::fmt::Display) -> String {
    id.to_string().chars().filter(|c| *c != '-').collect()
}

fn common_prefix(a: &str, b: &str) -> usize {
    a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count()
}

/// The length of the start of `text` (an id, dashes and all) that holds `hex` hex digits.
fn text_len(text: &str, hex: usize) -> usize {
    let mut seen = 0;
    for (i, c) in text.char_indices() {
        if seen == hex {
            return i;
        }
        if c != '-' {
            seen += 1;
        }
    }
    text.len()
}

/// `text` padded with spaces to `width` visible characters (colour codes take no room).
pub fn pad(text: &str, width: usize) -> String {
    format!(
        "{text}{}",
        " ".repeat(width.saturating_sub(visible_len(text)))
    )
}

/// How many characters of `text` show (colour codes take no room).
pub fn visible_len(text: &str) -> usize {
    let mut visible = 0;
    let mut in_escape = false;
    for c in text.chars() {
        match (in_escape, c) {
            (false, '\u{1b}') => in_escape = true,
            (true, 'm') => in_escape = false,
            (false, _) => visible += 1,
            (true, _) => {}
        }
    }
    visible
}

/// Ids rendered for a column, and the column's width (at least its heading's).
pub(super) fn id_column(ids: Vec<String>, heading: &str) -> (Vec<String>, usize) {
    let width = ids
        .iter()
        .map(|id| visible_len(id))
        .fold(heading.len(), usize::max);
    (ids, width)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::Style;

    fn plain(ids: &Ids) -> Style {
        Style {
            color: false,
            ids: Ids::new(ids.sorted.iter()),
        }
    }

    #[test]
    fn ids_show_eight_digits_and_more_only_where_the_set_needs_them() {
        let a = "abcd1234-5678-4abc-8def-0123456789ab";
        let b = "abcd1234-5699-4abc-8def-0123456789ab";
        let c = "ffff0000-0000-4000-8000-000000000000";
        let ids = Ids::new([a, b, c]);
        let style = plain(&ids);
        assert_eq!(style.id(&a), "abcd1234-567");
        assert_eq!(style.id(&b), "abcd1234-569");
        assert_eq!(style.id(&c), "ffff0000");
        assert_eq!(
            ids.unique_hex(&c),
            4,
            "never fewer than the library accepts"
        );
        assert_eq!(style.full_id(&c), c);
    }

    #[test]
    fn on_a_terminal_the_unique_prefix_is_bold_and_the_rest_dim() {
        let ids = Ids::new(["abcd1234-5678-4abc-8def-0123456789ab"]);
        let style = Style { color: true, ids };
        let shown = style.id(&"abcd1234-5678-4abc-8def-0123456789ab");
        assert_eq!(shown, "\u{1b}[1;35mabcd\u{1b}[0m\u{1b}[2m1234\u{1b}[0m");
        assert_eq!(pad(&shown, 10), format!("{shown}  "));
    }
}
