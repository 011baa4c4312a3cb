//! JSON whose objects keep their keys in file order, for editing an agent's settings without
//! reordering them. serde_json's own `preserve_order` feature would do the same but is global to
//! the build: it would change the key order of everything else this workspace prints from a
//! `Value` (the committed JSON Schema among them).

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A JSON value; objects are ordered maps, everything else is serde_json's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Json {
    Object(IndexMap<String, Json>),
    Array(Vec<Json>),
    Other(Value),
}

impl Json {
    pub fn object() -> Json {
        Json::Object(IndexMap::new())
    }

    pub fn string(text: &str) -> Json {
        Json::Other(Value::String(text.to_owned()))
    }

    pub fn number(n: u64) -> Json {
        Json::Other(Value::from(n))
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Json::Other(Value::String(text)) => Some(text),
            _ => None,
        }
    }

    pub fn as_object_mut(&mut self) -> Option<&mut IndexMap<String, Json>> {
        match self {
            Json::Object(map) => Some(map),
            _ => None,
        }
    }

    pub fn as_object(&self) -> Option<&IndexMap<String, Json>> {
        match self {
            Json::Object(map) => Some(map),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&Vec<Json>> {
        match self {
            Json::Array(items) => Some(items),
            _ => None,
        }
    }

    pub fn as_array_mut(&mut self) -> Option<&mut Vec<Json>> {
        match self {
            Json::Array(items) => Some(items),
            _ => None,
        }
    }

    /// The text written to a settings file: two-space indentation and a final newline, as the
    /// agents write them.
    pub fn to_file_text(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).expect("JSON always serializes");
        text.push('\n');
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_keep_their_order_and_values_round_trip() {
        let text = "{\n  \"z\": 1,\n  \"a\": [\n    true,\n    null,\n    {\n      \"y\": \"é\",\n      \"b\": 2.5\n    }\n  ]\n}\n";
        let json: Json = serde_json::from_str(text).expect("test JSON");
        assert_eq!(json.to_file_text(), text);
    }
}
