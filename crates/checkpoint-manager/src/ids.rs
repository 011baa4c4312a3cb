//! Session and checkpoint ids: validated UUID newtypes. An id that is not a UUID never becomes a
//! path or a ref name, so `../x` and friends are refused before anything is touched.

use std::fmt;
use std::str::FromStr;

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use uuid::Uuid;

use crate::error::Error;

fn parse_uuid(what: &'static str, value: &str) -> Result<Uuid, Error> {
    // Only the canonical hyphenated form: braces, `urn:uuid:` and bare hex would give the same
    // session two spellings on disk.
    let invalid = || Error::InvalidId {
        what,
        value: value.to_owned(),
    };
    if value.len() != 36 {
        return Err(invalid());
    }
    Uuid::try_parse(value).map_err(|_| invalid())
}

/// What [`parse_uuid`] accepts, as a JSON Schema pattern: the hyphenated form, in either case.
const UUID_PATTERN: &str =
    "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$";

macro_rules! uuid_id {
    ($name:ident, $what:literal, $doc:literal) => {
        #[doc = $doc]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, JsonSchema)]
        #[schemars(extend("pattern" = UUID_PATTERN))]
        pub struct $name(Uuid);

        impl $name {
            /// Returns a fresh random (v4) id.
            pub fn new_random() -> Self {
                Self(Uuid::new_v4())
            }

            /// Parses a hyphenated UUID; anything else is an [`Error::InvalidId`].
            pub fn parse(value: &str) -> Result<Self, Error> {
                parse_uuid($what, value).map(Self)
            }

            /// Returns the lowercase hyphenated form used in paths, refs and JSON.
            pub fn as_string(&self) -> String {
                self.0.hyphenated().to_string()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0.hyphenated(), f)
            }
        }

        impl FromStr for $name {
            type Err = Error;
            fn from_str(s: &str) -> Result<Self, Error> {
                Self::parse(s)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(&self.0.hyphenated())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let raw = String::deserialize(d)?;
                Self::parse(&raw).map_err(serde::de::Error::custom)
            }
        }
    };
}

uuid_id!(
    SessionId,
    "session id",
    "The id of an orchestration session (a UUID)."
);
uuid_id!(
    CheckpointId,
    "checkpoint id",
    "The id of one checkpoint (a UUID)."
);
uuid_id!(
    OperationId,
    "operation id",
    "The id of one entry of a session's operation history (a UUID)."
);

// It holds what git printed, or what a log says: a log's value is checked against the repository
// before it is used (a record naming a missing commit is reported, not followed), so reading one
// does not fail here.
/// A git object id (a commit's or a tree's), in git's lowercase hex.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(transparent)]
#[schemars(inline)]
pub struct ObjectId(String);

impl ObjectId {
    /// Wraps an object id git printed (or a log recorded).
    pub fn new(hex: impl Into<String>) -> Self {
        ObjectId(hex.into())
    }

    /// Returns the hex digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::ops::Deref for ObjectId {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for ObjectId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl AsRef<std::ffi::OsStr> for ObjectId {
    fn as_ref(&self) -> &std::ffi::OsStr {
        self.0.as_ref()
    }
}

impl fmt::Display for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<String> for ObjectId {
    fn from(hex: String) -> Self {
        ObjectId(hex)
    }
}

impl From<ObjectId> for String {
    fn from(id: ObjectId) -> Self {
        id.0
    }
}

impl PartialEq<str> for ObjectId {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for ObjectId {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl PartialEq<String> for ObjectId {
    fn eq(&self, other: &String) -> bool {
        &self.0 == other
    }
}

impl PartialEq<ObjectId> for String {
    fn eq(&self, other: &ObjectId) -> bool {
        *self == other.0
    }
}

impl PartialEq<ObjectId> for str {
    fn eq(&self, other: &ObjectId) -> bool {
        self == other.0
    }
}

impl PartialEq<ObjectId> for &str {
    fn eq(&self, other: &ObjectId) -> bool {
        *self == other.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_canonical_uuids_and_lowercases_them() {
        let id = SessionId::parse("123E4567-E89B-12D3-A456-426614174000").expect("valid");
        assert_eq!(id.to_string(), "123e4567-e89b-12d3-a456-426614174000");
    }

    #[test]
    fn refuses_everything_else() {
        for bad in [
            "",
            "../x",
            "..",
            "123e4567e89b12d3a456426614174000",
            "{123e4567-e89b-12d3-a456-426614174000}",
            "urn:uuid:123e4567-e89b-12d3-a456-426614174000",
            "123e4567-e89b-12d3-a456-42661417400/",
            "123e4567-e89b-12d3-a456-4266141740000",
            "not-a-uuid-at-all-but-36-characters!",
        ] {
            let err = CheckpointId::parse(bad).expect_err(bad);
            assert!(matches!(err, Error::InvalidId { .. }), "{bad}: {err}");
        }
    }
}
