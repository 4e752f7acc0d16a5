//! Normalized server base URLs.
//!
//! Two spellings of one server (`HTTP://Host:80/`, `http://host`) give one [`BaseUrl`]; two servers never do.
//! Normalization: scheme and host lower-cased, the scheme's default port dropped, trailing `/` dropped,
//! the path kept (a proxy mounted at `/litellm` is another server than one at `/`).
//! Credentials in the URL (`http://user:pass@host`), queries and fragments are refused: a base URL is an
//! identity that ends up in cache keys and file contents, so it must not carry secrets.

use std::fmt;

use crate::error::BaseUrlError;

/// A normalized `http` or `https` base URL. See the [module docs](self).
///
/// ```
/// use modelroute::BaseUrl;
/// let a = BaseUrl::parse("HTTP://LocalHost:80/")?;
/// let b = BaseUrl::parse("http://localhost")?;
/// assert_eq!(a, b);
/// assert_eq!(a.as_str(), "http://localhost");
/// assert_eq!(BaseUrl::parse("http://h:4000/v1/")?.endpoint("models"), "http://h:4000/v1/models");
/// assert!(BaseUrl::parse("http://user:pw@h").is_err());
/// # Ok::<(), modelroute::BaseUrlError>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BaseUrl(String);

impl BaseUrl {
    /// Parses and normalizes `input`.
    pub fn parse(input: &str) -> Result<Self, BaseUrlError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(BaseUrlError::Empty);
        }
        let url = url::Url::parse(trimmed).map_err(|e| BaseUrlError::Invalid {
            reason: e.to_string(),
        })?;
        match url.scheme() {
            "http" | "https" => {}
            other => {
                return Err(BaseUrlError::UnsupportedScheme {
                    scheme: other.to_string(),
                });
            }
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(BaseUrlError::CredentialsInUrl);
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(BaseUrlError::QueryOrFragment);
        }
        let host = url.host_str().ok_or(BaseUrlError::Invalid {
            reason: "no host".to_string(),
        })?;
        // `url` lower-cases the scheme and domain hosts and drops default ports for http(s).
        let mut out = format!("{}://{}", url.scheme(), host.to_ascii_lowercase());
        if let Some(port) = url.port() {
            out.push(':');
            out.push_str(&port.to_string());
        }
        out.push_str(url.path().trim_end_matches('/'));
        Ok(BaseUrl(out))
    }

    /// The normalized URL, without a trailing `/`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The URL of `path` under this base: `base/path` (leading `/` of `path` ignored).
    pub fn endpoint(&self, path: &str) -> String {
        format!("{}/{}", self.0, path.trim_start_matches('/'))
    }

    /// Whether the host is a loopback address or `localhost`.
    pub fn is_loopback(&self) -> bool {
        let Ok(url) = url::Url::parse(&self.0) else {
            return false;
        };
        match url.host() {
            Some(url::Host::Domain(d)) => d == "localhost" || d.ends_with(".localhost"),
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            None => false,
        }
    }
}

impl fmt::Debug for BaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BaseUrl({})", self.0)
    }
}

impl fmt::Display for BaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for BaseUrl {
    type Err = BaseUrlError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        BaseUrl::parse(s)
    }
}

impl serde::Serialize for BaseUrl {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for BaseUrl {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        BaseUrl::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equivalent_spellings_are_equal() {
        let same = [
            "http://host",
            "HTTP://Host:80/",
            "http://HOST/",
            "  http://host:80  ",
        ];
        for s in same {
            assert_eq!(BaseUrl::parse(s).unwrap().as_str(), "http://host", "{s}");
        }
        assert_eq!(
            BaseUrl::parse("https://h:443/a/b/").unwrap().as_str(),
            "https://h/a/b"
        );
    }

    #[test]
    fn different_servers_differ() {
        let urls = [
            "http://host",
            "https://host",
            "http://host:8080",
            "http://host/litellm",
            "http://other",
            "http://127.0.0.1:4000",
            "http://[::1]:4000",
        ];
        let parsed: std::collections::HashSet<_> =
            urls.iter().map(|u| BaseUrl::parse(u).unwrap()).collect();
        assert_eq!(parsed.len(), urls.len());
    }

    #[test]
    fn path_case_is_kept() {
        assert_eq!(
            BaseUrl::parse("http://h/API").unwrap().as_str(),
            "http://h/API"
        );
    }

    #[test]
    fn refuses_bad_input() {
        assert!(matches!(BaseUrl::parse(""), Err(BaseUrlError::Empty)));
        assert!(matches!(
            BaseUrl::parse("ftp://h"),
            Err(BaseUrlError::UnsupportedScheme { .. })
        ));
        assert!(matches!(
            BaseUrl::parse("http://u:p@h"),
            Err(BaseUrlError::CredentialsInUrl)
        ));
        assert!(matches!(
            BaseUrl::parse("http://h/?key=sk"),
            Err(BaseUrlError::QueryOrFragment)
        ));
        assert!(matches!(
            BaseUrl::parse("not a url"),
            Err(BaseUrlError::Invalid { .. })
        ));
        let err = BaseUrl::parse("http://u:sk-secret@h")
            .unwrap_err()
            .to_string();
        assert!(!err.contains("sk-secret"));
    }

    #[test]
    fn loopback() {
        assert!(BaseUrl::parse("http://127.0.0.1:1").unwrap().is_loopback());
        assert!(BaseUrl::parse("http://localhost").unwrap().is_loopback());
        assert!(BaseUrl::parse("http://[::1]").unwrap().is_loopback());
        assert!(!BaseUrl::parse("http://example.com").unwrap().is_loopback());
    }
}
