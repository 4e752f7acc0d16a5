//! Secrets (API keys) and their non-reversible fingerprints.
//!
//! A [`Secret`] prints as `***` in `Debug` and `Display`, so it never reaches a log, an error message,
//! a cache key or a file name by accident. Use [`Secret::expose`] at the one place that needs the value
//! (an `Authorization` header). A [`KeyFingerprint`] identifies a key without revealing it: it is what
//! cache keys hold.
//!
//! # Fingerprints are keyed
//! A plain hash of a key lets anyone holding the hash test guesses offline: `sk-1234` is confirmed in one
//! SHA-256. So what is shown or stored is an HMAC-SHA-256 under a random secret:
//! - in memory, and in `Debug` / `Display` / error messages, under a secret drawn once per process:
//!   the same key gives the same fingerprint within a process, and the fingerprint means nothing outside it;
//! - on disk, the [`ModelCache`](crate::ModelCache) uses a secret kept in its directory (readable by its
//!   owner only), so a list survives a restart while a cache file alone does not help guessing the key.
//!
//! Both are computed from an unsalted SHA-256 of the key that stays in the process's memory (like the key
//! itself) and is never printed, serialized or written.

use std::fmt;
use std::sync::{Arc, OnceLock};

use hmac::{Hmac, Mac};
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

/// A fingerprint of an API key: 128 bits of an HMAC-SHA-256 of the key under a per-process random secret,
/// in hex (see the [module docs](self)).
///
/// Two different keys get different fingerprints (collisions are as unlikely as for any 128-bit hash),
/// the same key always gets the same one within a process, and neither the key nor a guess of it can be
/// checked against it without the process's secret.
///
/// ```
/// use modelroute::{KeyFingerprint, Secret};
/// let a = Secret::new("sk-a").fingerprint();
/// assert_eq!(a, KeyFingerprint::of("sk-a"));
/// assert_ne!(a, KeyFingerprint::of("sk-b"));
/// assert_eq!(a.as_str().len(), 32);
/// assert!(!a.as_str().contains("sk-a"));
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyFingerprint {
    /// Hex of the process-keyed HMAC: what is compared, hashed and shown.
    shown: String,
    /// The unsalted SHA-256 of the key, from which the disk layer derives its own keyed fingerprint.
    /// Never shown, serialized or written.
    unsalted: [u8; 32],
}

impl KeyFingerprint {
    /// The fingerprint of `key`.
    pub fn of(key: &str) -> Self {
        let mut hasher = Sha256::new();
        hasher.update(b"modelroute/key-fingerprint/v2\0");
        hasher.update(key.as_bytes());
        let unsalted: [u8; 32] = hasher.finalize().into();
        let shown = keyed_digest(
            process_secret(),
            b"modelroute/process-fingerprint/v1",
            &unsalted,
        );
        KeyFingerprint {
            shown: hex(&shown[..16]),
            unsalted,
        }
    }

    /// The fingerprint as 32 lower-case hex characters.
    pub fn as_str(&self) -> &str {
        &self.shown
    }

    /// The fingerprint keyed with `secret` (a cache directory's) instead of the process's, 32 hex characters.
    pub(crate) fn keyed_with(&self, secret: &[u8; 32]) -> String {
        hex(&keyed_digest(secret, b"modelroute/disk-fingerprint/v1", &self.unsalted)[..16])
    }
}

/// HMAC-SHA-256 of `domain`, a zero byte and `data` under `secret`.
pub(crate) fn keyed_digest(secret: &[u8; 32], domain: &[u8], data: &[u8]) -> [u8; 32] {
    // HMAC pads a key shorter than SHA-256's 64-byte block with zeros: this is HMAC under `secret`, built
    // with `new` (infallible) rather than `new_from_slice`.
    let mut key = [0u8; 64];
    key[..32].copy_from_slice(secret);
    let mut mac = <Hmac<Sha256> as Mac>::new(&key.into());
    mac.update(domain);
    mac.update(&[0]);
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// 32 random bytes from the operating system (`getrandom`).
pub(crate) fn random_secret() -> Result<[u8; 32], getrandom::Error> {
    let mut secret = [0u8; 32];
    getrandom::fill(&mut secret)?;
    Ok(secret)
}

/// The secret of this process's fingerprints, drawn on first use.
///
/// Should the operating system have no randomness to give (not seen on any supported platform), the secret
/// is derived from the time, the process id and an address instead: unpredictable enough for fingerprints
/// that only live in this process's memory and messages.
fn process_secret() -> &'static [u8; 32] {
    static SECRET: OnceLock<[u8; 32]> = OnceLock::new();
    SECRET.get_or_init(|| {
        random_secret().unwrap_or_else(|_| {
            let mut hasher = Sha256::new();
            hasher.update(b"modelroute/fallback-secret/v1\0");
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default();
            hasher.update(now.as_nanos().to_le_bytes());
            hasher.update(std::process::id().to_le_bytes());
            hasher.update((&raw const SECRET as usize).to_le_bytes());
            hasher.finalize().into()
        })
    })
}

impl fmt::Debug for KeyFingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyFingerprint({})", self.shown)
    }
}

impl fmt::Display for KeyFingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shown)
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
    fn a_fingerprint_is_not_a_plain_hash_of_the_key() {
        // What the fingerprint of `sk-1234` was: an unsalted, domain-separated SHA-256, which anyone could
        // recompute from a guess. Neither it nor any plain SHA-256 of the key is what is shown now.
        let guesses = [
            "modelroute/key-fingerprint/v1\0",
            "modelroute/key-fingerprint/v2\0",
            "",
        ]
        .map(|domain| hex(&Sha256::digest(format!("{domain}sk-1234"))[..16]));
        let fp = KeyFingerprint::of("sk-1234");
        for guess in &guesses {
            assert_ne!(fp.as_str(), guess);
            assert!(!format!("{fp:?} {fp}").contains(guess.as_str()));
        }
        // Keyed with a cache directory's secret: another secret, another fingerprint, and not the process's.
        let (one, two) = ([1u8; 32], [2u8; 32]);
        assert_eq!(
            fp.keyed_with(&one),
            KeyFingerprint::of("sk-1234").keyed_with(&one)
        );
        assert_ne!(fp.keyed_with(&one), fp.keyed_with(&two));
        assert_ne!(fp.keyed_with(&one), fp.as_str());
        assert_ne!(
            fp.keyed_with(&one),
            KeyFingerprint::of("sk-1235").keyed_with(&one)
        );
    }

    #[test]
    fn keyed_digest_is_hmac_sha256_of_domain_zero_and_data() {
        // HMAC by its definition (RFC 2104): H((K ^ opad) || H((K ^ ipad) || message)), K zero-padded to 64 bytes.
        let secret = [7u8; 32];
        let message = b"domain\0data";
        let mut k = [0u8; 64];
        k[..32].copy_from_slice(&secret);
        let inner = Sha256::new()
            .chain_update(k.map(|b| b ^ 0x36))
            .chain_update(message)
            .finalize();
        let outer: [u8; 32] = Sha256::new()
            .chain_update(k.map(|b| b ^ 0x5c))
            .chain_update(inner)
            .finalize()
            .into();
        assert_eq!(keyed_digest(&secret, b"domain", b"data"), outer);
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
