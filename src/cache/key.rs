//! [`CacheKey`]: the identity of one model list (provider kind + normalized base URL + key fingerprint).

use std::borrow::Borrow;
use std::fmt;
use std::hash::{Hash, Hasher};

use sha2::{Digest, Sha256};

use crate::base_url::BaseUrl;
use crate::provider::{Provider, ProviderKind};
use crate::secret::{KeyFingerprint, hex};

/// The identity of one model list: which kind of server, which server, which credential.
///
/// Every layer of the [`ModelCache`](super::ModelCache) (memory, disk, in-flight fetches) is keyed by the
/// whole key, so two servers, or two keys on one server, never share an entry (the Zoo Code #638 bug was a
/// cache keyed by provider name only). Equivalent spellings of one URL give one key, because [`BaseUrl`] is
/// normalized. The credential is held only as its [`KeyFingerprint`] (a truncated HMAC-SHA-256 under a
/// per-process secret): `Debug` and `Display` show the fingerprint, never the key, and neither the key nor a
/// guess of it can be checked against it outside the process.
///
/// ```
/// use modelroute::{BaseUrl, CacheKey, ProviderKind, Secret};
/// let key = |url: &str, secret: &str| {
///     CacheKey::new(ProviderKind::LiteLlm, BaseUrl::parse(url).unwrap(), Some(Secret::new(secret).fingerprint()))
/// };
/// assert_eq!(key("HTTP://Proxy:80/", "sk-a"), key("http://proxy", "sk-a"));
/// assert_ne!(key("http://proxy", "sk-a"), key("http://proxy", "sk-b"));
/// assert_ne!(key("http://proxy:4000", "sk-a"), key("http://proxy:4001", "sk-a"));
/// assert!(!format!("{:?} {}", key("http://proxy", "sk-a"), key("http://proxy", "sk-a")).contains("sk-a"));
/// ```
#[derive(Clone)]
pub struct CacheKey {
    kind: ProviderKind,
    base_url: BaseUrl,
    fingerprint: Option<KeyFingerprint>,
}

impl CacheKey {
    /// The key of the list `kind` at `base_url` shows to the credential with `fingerprint` (`None`: no credential).
    pub fn new(kind: ProviderKind, base_url: BaseUrl, fingerprint: Option<KeyFingerprint>) -> Self {
        CacheKey {
            kind,
            base_url,
            fingerprint,
        }
    }

    /// The key of `provider`'s list.
    pub fn of<P: Provider + ?Sized>(provider: &P) -> Self {
        KeyRef::of(provider).to_owned_key()
    }

    /// The provider kind.
    pub fn kind(&self) -> ProviderKind {
        self.kind
    }

    /// The normalized base URL.
    pub fn base_url(&self) -> &BaseUrl {
        &self.base_url
    }

    /// The credential's fingerprint, `None` if the provider sends no credential.
    pub fn fingerprint(&self) -> Option<&KeyFingerprint> {
        self.fingerprint.as_ref()
    }

    /// A SHA-256 of the whole key with `fingerprint` standing for its credential (the disk layer passes the
    /// fingerprint keyed with its directory's secret), 64 lower-case hex characters: the name of the key's
    /// disk file. Domain-separated and length-prefixed, so no two keys give the same input.
    pub(crate) fn file_digest(&self, fingerprint: Option<&str>) -> String {
        self.as_ref_key().file_digest(fingerprint)
    }

    pub(crate) fn as_ref_key(&self) -> KeyRef<'_> {
        KeyRef {
            kind: self.kind,
            base_url: &self.base_url,
            fingerprint: self.fingerprint.as_ref(),
        }
    }
}

/// A borrowed view of a key: what a provider exposes, looked up without allocating.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct KeyRef<'a> {
    pub(crate) kind: ProviderKind,
    pub(crate) base_url: &'a BaseUrl,
    pub(crate) fingerprint: Option<&'a KeyFingerprint>,
}

impl<'a> KeyRef<'a> {
    pub(crate) fn of<P: Provider + ?Sized>(provider: &'a P) -> Self {
        KeyRef {
            kind: provider.kind(),
            base_url: provider.base_url(),
            fingerprint: provider.credential_fingerprint(),
        }
    }

    pub(crate) fn to_owned_key(self) -> CacheKey {
        CacheKey::new(self.kind, self.base_url.clone(), self.fingerprint.cloned())
    }

    fn file_digest(self, fingerprint: Option<&str>) -> String {
        fn part(hasher: &mut Sha256, bytes: &[u8]) {
            hasher.update((bytes.len() as u64).to_be_bytes());
            hasher.update(bytes);
        }
        let mut hasher = Sha256::new();
        hasher.update(b"modelroute/cache-key/v2\0");
        part(&mut hasher, self.kind.as_str().as_bytes());
        part(&mut hasher, self.base_url.as_str().as_bytes());
        match fingerprint {
            None => hasher.update([0u8]),
            Some(fp) => {
                hasher.update([1u8]);
                part(&mut hasher, fp.as_bytes());
            }
        }
        hex(&hasher.finalize())
    }
}

/// Lets a `HashMap<CacheKey, _>` be searched with a [`KeyRef`] (no key built, nothing allocated on a hit).
pub(crate) trait KeyView {
    fn view(&self) -> KeyRef<'_>;
}

impl KeyView for CacheKey {
    fn view(&self) -> KeyRef<'_> {
        self.as_ref_key()
    }
}

impl KeyView for KeyRef<'_> {
    fn view(&self) -> KeyRef<'_> {
        *self
    }
}

impl<'a> Borrow<dyn KeyView + 'a> for CacheKey {
    fn borrow(&self) -> &(dyn KeyView + 'a) {
        self
    }
}

impl Hash for dyn KeyView + '_ {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.view().hash(state);
    }
}

impl PartialEq for dyn KeyView + '_ {
    fn eq(&self, other: &Self) -> bool {
        self.view() == other.view()
    }
}

impl Eq for dyn KeyView + '_ {}

// Hash and Eq of CacheKey go through the view, so they agree with `dyn KeyView` (required by `Borrow`).
impl Hash for CacheKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_ref_key().hash(state);
    }
}

impl PartialEq for CacheKey {
    fn eq(&self, other: &Self) -> bool {
        self.as_ref_key() == other.as_ref_key()
    }
}

impl Eq for CacheKey {}

impl fmt::Debug for CacheKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CacheKey")
            .field("kind", &self.kind)
            .field("base_url", &self.base_url)
            .field("fingerprint", &self.fingerprint)
            .finish()
    }
}

/// `litellm http://127.0.0.1:4000 key:1a2b3c4d` (the first 8 hex characters of the fingerprint),
/// or `ollama http://127.0.0.1:11434 no key`.
impl fmt::Display for CacheKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} ", self.kind, self.base_url)?;
        match &self.fingerprint {
            Some(fp) => {
                f.write_str("key:")?;
                fp.as_str()
                    .chars()
                    .take(8)
                    .try_for_each(|c| fmt::Write::write_char(f, c))
            }
            None => f.write_str("no key"),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{HashMap, HashSet};

    use super::*;
    use crate::secret::Secret;

    fn digest(k: &CacheKey) -> String {
        k.file_digest(k.fingerprint().map(KeyFingerprint::as_str))
    }

    fn key(kind: ProviderKind, url: &str, secret: Option<&str>) -> CacheKey {
        CacheKey::new(
            kind,
            BaseUrl::parse(url).unwrap(),
            secret.map(|s| Secret::new(s).fingerprint()),
        )
    }

    #[test]
    fn servers_kinds_and_keys_never_share_a_key_or_a_digest() {
        let keys = [
            key(ProviderKind::LiteLlm, "http://127.0.0.1:4000", Some("sk-a")),
            key(ProviderKind::LiteLlm, "http://127.0.0.1:4000", Some("sk-b")),
            key(ProviderKind::LiteLlm, "http://127.0.0.1:4000", None),
            key(ProviderKind::LiteLlm, "http://127.0.0.1:4001", Some("sk-a")),
            key(
                ProviderKind::LiteLlm,
                "http://127.0.0.1:4000/v2",
                Some("sk-a"),
            ),
            key(ProviderKind::Ollama, "http://127.0.0.1:4000", Some("sk-a")),
            key(ProviderKind::LmStudio, "http://127.0.0.1:4000", None),
        ];
        let set: HashSet<_> = keys.iter().cloned().collect();
        assert_eq!(set.len(), keys.len());
        let digests: HashSet<_> = keys.iter().map(digest).collect();
        assert_eq!(digests.len(), keys.len());
    }

    #[test]
    fn equivalent_spellings_share_key_and_digest() {
        let a = key(ProviderKind::LiteLlm, "HTTP://Host:80/", Some("k"));
        let b = key(ProviderKind::LiteLlm, "http://host", Some("k"));
        assert_eq!(a, b);
        assert_eq!(digest(&a), digest(&b));
        assert_eq!(digest(&a).len(), 64);
        assert!(digest(&a).bytes().all(|c| c.is_ascii_hexdigit()));
    }

    #[test]
    fn lookup_by_borrowed_view_finds_the_owned_key() {
        let owned = key(ProviderKind::LiteLlm, "http://h:1", Some("k"));
        let mut map = HashMap::new();
        map.insert(owned.clone(), 7);
        let view = owned.as_ref_key();
        assert_eq!(map.get(&view as &dyn KeyView), Some(&7));
        let other = key(ProviderKind::LiteLlm, "http://h:1", Some("k2"));
        assert_eq!(map.get(&other.as_ref_key() as &dyn KeyView), None);
    }

    #[test]
    fn no_secret_in_debug_display_or_digest() {
        let secret = "sk-super-secret-value";
        let k = key(ProviderKind::LiteLlm, "http://h", Some(secret));
        for text in [format!("{k:?}"), k.to_string(), digest(&k)] {
            assert!(!text.contains(secret), "{text}");
            assert!(!text.contains("super-secret"), "{text}");
        }
        assert_eq!(
            k.to_string(),
            format!(
                "litellm http://h key:{}",
                &Secret::new(secret).fingerprint().as_str()[..8]
            )
        );
        assert_eq!(
            key(ProviderKind::Ollama, "http://h", None).to_string(),
            "ollama http://h no key"
        );
    }
}
