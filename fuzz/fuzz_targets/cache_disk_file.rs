//! A model-cache disk file with any content never makes the cache panic: it is loaded only if it is a valid
//! file of the key asked for, and otherwise ignored and reported. Goes through the public API: the bytes are
//! written as the key's file, then a `ModelCache` over that directory is asked for the key's list (the provider
//! fails at once without touching the network, so a list can only come from the file).
#![no_main]

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll, Waker};

use libfuzzer_sys::fuzz_target;
use modelroute::{
    BaseUrl, CacheKey, DiscoveryError, KeyFingerprint, ListSource, ModelCache, ModelCacheOptions,
    ModelDescriptor, Provider, ProviderKind, Secret,
};

/// Lists one model while `online` (once, to have the cache write the key's file and the directory's
/// fingerprint secret), then fails at once without touching the network.
#[derive(Debug)]
struct Offline {
    base: BaseUrl,
    fingerprint: KeyFingerprint,
    online: AtomicBool,
}

impl Provider for Offline {
    fn kind(&self) -> ProviderKind {
        ProviderKind::LiteLlm
    }
    fn base_url(&self) -> &BaseUrl {
        &self.base
    }
    fn credential_fingerprint(&self) -> Option<&KeyFingerprint> {
        Some(&self.fingerprint)
    }
    fn list_models<'a, 'b, 't>(
        &'a self,
        _client: &'b modelroute::reqwest::Client,
    ) -> Pin<Box<dyn Future<Output = Result<Vec<ModelDescriptor>, DiscoveryError>> + Send + 't>>
    where
        'a: 't,
        'b: 't,
        Self: 't,
    {
        let online = self.online.load(Ordering::Relaxed);
        Box::pin(async move {
            if online {
                return Ok(vec![ModelDescriptor::new("m")]);
            }
            Err(DiscoveryError::NotConfigured {
                provider: "litellm",
                reason: "fuzzing: no network".to_string(),
            })
        })
    }
}

struct Setup {
    dir: std::path::PathBuf,
    provider: Arc<Offline>,
    client: modelroute::reqwest::Client,
    file: std::path::PathBuf,
    key_json: String,
}

fn setup() -> &'static Setup {
    static SETUP: OnceLock<Setup> = OnceLock::new();
    SETUP.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("modelroute-fuzz-cache-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let provider = Arc::new(Offline {
            base: BaseUrl::parse("http://127.0.0.1:4000").expect("url"),
            fingerprint: Secret::new("sk-fuzz").fingerprint(),
            online: AtomicBool::new(true),
        });
        let client = modelroute::reqwest::Client::new();
        // One real write gives the file's name and the key parts as written (the fingerprint in them is
        // keyed with the directory's secret, which only the cache knows).
        let cache = ModelCache::new(ModelCacheOptions::new().disk_dir(&dir));
        poll_once(cache.get(&provider, &client))
            .expect("completes without waiting")
            .expect("the first list");
        provider.online.store(false, Ordering::Relaxed);
        let file = cache
            .disk_file(&CacheKey::of(&*provider))
            .expect("the key's file");
        let written = std::fs::read_to_string(&file).expect("the key's file");
        let start = written.find(r#""key":"#).expect("key parts") + r#""key":"#.len();
        let end = start + written[start..].find('}').expect("end of key parts") + 1;
        let key_json = written[start..end].to_string();
        Setup { dir, provider, client, file, key_json }
    })
}

fn poll_once<F: Future>(fut: F) -> Option<F::Output> {
    let mut fut = Box::pin(fut);
    match fut.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(out) => Some(out),
        Poll::Pending => None,
    }
}

fuzz_target!(|data: &[u8]| {
    let s = setup();
    // Half the inputs are wrapped in a valid envelope for this key, so the fuzzer reaches the models and
    // the fetch time rather than only the JSON syntax.
    let bytes = match data.split_first() {
        Some((0, rest)) => format!(
            r#"{{"format":"modelroute-model-list","version":2,"key":{},{}"#,
            s.key_json,
            String::from_utf8_lossy(rest)
        )
        .into_bytes(),
        _ => data.to_vec(),
    };
    std::fs::write(&s.file, &bytes).expect("write the cache file");
    let cache = ModelCache::new(ModelCacheOptions::new().disk_dir(&s.dir));
    // Disk read and the offline provider complete on the first poll.
    match poll_once(cache.get(&s.provider, &s.client)).expect("completes without waiting") {
        Ok(list) => assert_eq!(list.source(), ListSource::Disk),
        Err(e) => assert!(e.is_unavailable() && e.disk_issues().len() == 1, "{e:?}"),
    }
});
