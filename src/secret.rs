//! Secrets (API keys) and their non-reversible fingerprints.
//!
//! A [`Secret`] prints as `***` in `Debug` and `Display`, so it never reaches a log, an error message,
//! a cache key or a file name by accident. Use [`Secret::expose`] at the one place that needs the value
//! (an `Authorization` header). A [`KeyFingerprint`] identifies a key without revealing it: it is what
//! cache keys and disk files hold.

use std::fmt;
use std::sync::Arc;

use sha2::{Digest, Sha256};

/// A secret string, such as an API key. `Debug` and `Display` print `***`.
///
/// ```
/// use modelroute::Secret;
/// let key = Secret::new("sk-live-123");
/// assert_eq!(format!("{key:?} {key}"), "*** ***");
/// assert_eq!(key.expose(), "sk-live-123");
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Secret(Arc<str>);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<Arc<str>>) -> Self {
        Secret(value.into())
    }

    /// The secret value. Call this only where the value must leave the process (a request header).
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The non-reversible fingerprint of this secret.
    pub fn fingerprint(&self) -> KeyFingerprint {
        KeyFingerprint::of(self.expose())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Secret::new(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Secret::new(value)
    }
}

/// A fingerprint of an API key: the first 128 bits of a domain-separated SHA-256, in hex.
///
/// Two different keys get different fingerprints (collisions are as unlikely as for any 128-bit hash),
/// the same key always gets the same one, and the key cannot be recovered from it.
///
/// ```
/// use modelroute::{KeyFingerprint, Secret};
/// let a = Secret::new("sk-a").fingerprint();
/// assert_eq!(a, KeyFingerprint::of("sk-a"));
/// assert_ne!(a, KeyFingerprint::of("sk-b"));
/// assert_eq!(a.as_str().len(), 32);
/// assert!(!a.as_str().contains("sk-a"));
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct KeyFingerprint(String);

impl KeyFingerprint {
    /// The fingerprint of `key`.
    pub fn of(key: &str) -> Self {
        let mut hasher = Sha256::new();
        hasher.update(b"modelroute/key-fingerprint/v1\0");
        hasher.update(key.as_bytes());
        let digest = hasher.finalize();
        KeyFingerprint(hex(&digest[..16]))
    }

    /// The fingerprint as 32 lower-case hex characters.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for KeyFingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyFingerprint({})", self.0)
    }
}

impl fmt::Display for KeyFingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Lower-case hex of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0x0f)] as char);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_never_prints_its_value() {
        let s = Secret::new("sk-very-secret");
        assert!(!format!("{s:?}").contains("sk-very"));
        assert!(!format!("{s}").contains("sk-very"));
        assert!(!format!("{:?}", Some(s.clone())).contains("sk-very"));
    }

    #[test]
    fn fingerprint_is_stable_hex_and_distinct() {
        let a = KeyFingerprint::of("k1");
        assert_eq!(a, KeyFingerprint::of("k1"));
        assert_ne!(a, KeyFingerprint::of("k2"));
        assert_ne!(KeyFingerprint::of(""), KeyFingerprint::of(" "));
        assert!(
            a.as_str()
                .chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
    }
}
