//! ModelCache benchmarks: a memory hit (and that it does not copy the list), loading a 2,000-model list from
//! disk (a restart), and 100 concurrent cold gets against a local server (wiremock on 127.0.0.1).
//!
//! Lists are fetched with the real `LiteLlm` provider from wiremock serving real LiteLLM shapes:
//! - compact: `/v1/model/info` entries with a few `model_info` fields, ~200 bytes each;
//! - rich: `/v1/model/info` entries built from one captured from LiteLLM 1.109.1 (~9 KB each: LiteLLM
//!   sends ~190 `model_info` fields, most of them null), cached by default (no `raw`) and with
//!   `keep_raw(true)` (the entry without its nulls).

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use futures_util::FutureExt;
use modelroute::{ListSource, LiteLlm, ModelCache, ModelCacheOptions, Secret};
use serde_json::{Value, json};
use tokio::runtime::Runtime;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const MODELS: usize = 2_000;

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

fn compact_body() -> Value {
    let data: Vec<Value> = (0..MODELS)
        .map(|i| {
            json!({"model_name": format!("model-{i}"),
                   "litellm_params": {"model": format!("openai/model-{i}")},
                   "model_info": {"mode": "chat", "max_input_tokens": 128_000, "max_output_tokens": 16_384,
                                  "supports_function_calling": true}})
        })
        .collect();
    json!({"data": data})
}

fn rich_body() -> Value {
    let fixture: Value = serde_json::from_slice(include_bytes!(
        "../tests/fixtures/litellm/model_info_trimmed__master.json"
    ))
    .expect("fixture");
    let template = fixture["data"][0].clone();
    let data: Vec<Value> = (0..MODELS)
        .map(|i| {
            let mut entry = template.clone();
            entry["model_name"] = json!(format!("model-{i}"));
            entry
        })
        .collect();
    json!({"data": data})
}

async fn server_with(body: &Value) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/model/info"))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .mount(&server)
        .await;
    server
}

fn provider(server: &MockServer) -> Arc<LiteLlm> {
    Arc::new(LiteLlm::new(&server.uri(), Some(Secret::new("sk-bench"))).expect("base URL"))
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client")
}

fn memory_hit(c: &mut Criterion) {
    let rt = runtime();
    let body = compact_body();
    let server = rt.block_on(server_with(&body));
    let provider = provider(&server);
    let client = client();
    let cache = ModelCache::new(ModelCacheOptions::new());
    let first = rt.block_on(cache.get(&provider, &client)).expect("fetch");
    assert_eq!(first.len(), MODELS);
    let hit = cache
        .get(&provider, &client)
        .now_or_never()
        .expect("ready")
        .expect("hit");
    assert_eq!(hit.source(), ListSource::Memory);
    assert!(
        Arc::ptr_eq(first.models(), hit.models()),
        "a hit shares the list"
    );

    let mut group = c.benchmark_group("model_cache");
    group.bench_function("memory_hit_2000_models", |b| {
        b.iter(|| {
            let list = cache
                .get(black_box(&provider), &client)
                .now_or_never()
                .expect("a hit completes on first poll")
                .expect("hit");
            black_box(list)
        })
    });
    // For scale: what a hit would cost if it copied the list.
    group.bench_function("deep_clone_of_2000_models_for_comparison", |b| {
        b.iter(|| black_box(first.models().to_vec()))
    });
    group.finish();
}

fn disk_load(c: &mut Criterion) {
    let rt = runtime();
    let mut group = c.benchmark_group("model_cache");
    group.sample_size(20);
    for (name, body, keep_raw) in [
        ("disk_load_2000_models_compact", compact_body(), false),
        ("disk_load_2000_models_litellm_records", rich_body(), false),
        (
            "disk_load_2000_models_litellm_records_keep_raw",
            rich_body(),
            true,
        ),
    ] {
        let server = rt.block_on(server_with(&body));
        let provider = provider(&server);
        let client = client();
        let dir = tempfile::tempdir().expect("temp dir");
        let options = || {
            ModelCacheOptions::new()
                .disk_dir(dir.path())
                .keep_raw(keep_raw)
        };
        let fetched = rt
            .block_on(ModelCache::new(options()).get(&provider, &client))
            .expect("fetch");
        assert_eq!(fetched.len(), MODELS);
        let file_bytes: u64 = std::fs::read_dir(dir.path())
            .expect("dir")
            .map(|e| e.expect("entry").metadata().expect("metadata").len())
            .sum();
        eprintln!("{name}: disk file {:.1} MB", file_bytes as f64 / 1e6);
        let restarted = rt
            .block_on(ModelCache::new(options()).get(&provider, &client))
            .expect("load");
        assert_eq!(restarted.source(), ListSource::Disk);
        assert_eq!(restarted.models().as_ref(), fetched.models().as_ref());

        group.bench_function(name, |b| {
            b.iter(|| {
                // A restart: a new cache over the directory, whose first get reads the file.
                let cache = ModelCache::new(options());
                let list = rt.block_on(cache.get(&provider, &client)).expect("load");
                debug_assert_eq!(list.source(), ListSource::Disk);
                black_box(list)
            })
        });
    }
    group.finish();
}

fn concurrent_cold_gets(c: &mut Criterion) {
    let rt = runtime();
    let body = compact_body();
    let server = rt.block_on(server_with(&body));
    let provider = provider(&server);
    let client = client();

    // One request for 100 callers (counted by the server).
    rt.block_on(async {
        server.reset().await;
        Mock::given(method("GET"))
            .and(path("/v1/model/info"))
            .respond_with(ResponseTemplate::new(200).set_body_json(&body))
            .expect(1)
            .mount(&server)
            .await;
        let cache = ModelCache::new(ModelCacheOptions::new());
        let tasks: Vec<_> = (0..100)
            .map(|_| tokio::spawn(cache.get(&provider, &client)))
            .collect();
        for task in tasks {
            task.await.expect("task").expect("get");
        }
        server.verify().await;
        server.reset().await;
        Mock::given(method("GET"))
            .and(path("/v1/model/info"))
            .respond_with(ResponseTemplate::new(200).set_body_json(&body))
            .mount(&server)
            .await;
    });

    let mut group = c.benchmark_group("model_cache");
    group.sample_size(20);
    group.bench_function("cold_get_1_caller_2000_models", |b| {
        b.iter(|| {
            let cache = ModelCache::new(ModelCacheOptions::new());
            rt.block_on(cache.get(&provider, &client)).expect("get")
        })
    });
    group.bench_function("cold_get_100_concurrent_callers_2000_models", |b| {
        b.iter(|| {
            let cache = ModelCache::new(ModelCacheOptions::new());
            rt.block_on(async {
                let tasks: Vec<_> = (0..100)
                    .map(|_| tokio::spawn(cache.get(&provider, &client)))
                    .collect();
                for task in tasks {
                    black_box(task.await.expect("task").expect("get"));
                }
            })
        })
    });
    group.finish();
}

/// A provider that lists fixed ids without a server.
#[derive(Debug)]
struct Fixed(modelroute::BaseUrl, Vec<String>);

#[async_trait::async_trait]
impl modelroute::Provider for Fixed {
    fn kind(&self) -> modelroute::ProviderKind {
        modelroute::ProviderKind::LiteLlm
    }
    fn base_url(&self) -> &modelroute::BaseUrl {
        &self.0
    }
    fn credential_fingerprint(&self) -> Option<&modelroute::KeyFingerprint> {
        None
    }
    async fn list_models(
        &self,
        _: &reqwest::Client,
    ) -> Result<Vec<modelroute::ModelDescriptor>, modelroute::DiscoveryError> {
        Ok(self
            .1
            .iter()
            .map(modelroute::ModelDescriptor::new)
            .collect())
    }
}

/// `validate` of a model that is not listed (so close matches are searched) against 10,000 ids: short ones,
/// and 1,000-character ones that agree with the configured name until their end (the edit distance's
/// worst case). The second must stay within a small factor of the first.
fn validate_not_listed(c: &mut Criterion) {
    let rt = runtime();
    let client = client();
    let mut group = c.benchmark_group("model_cache");
    group.sample_size(20);
    let long_prefix = "m".repeat(994);
    for (name, ids, configured) in [
        (
            "validate_not_listed_10000_ids_of_20_chars",
            (0..10_000)
                .map(|i| format!("provider/model-{i:05}"))
                .collect::<Vec<_>>(),
            "provider/model-x".to_string(),
        ),
        (
            "validate_not_listed_10000_ids_of_1000_chars",
            (0..10_000)
                .map(|i| format!("{long_prefix}-{i:05}"))
                .collect(),
            format!("{long_prefix}-xxxxx"),
        ),
    ] {
        let provider = Arc::new(Fixed(
            modelroute::BaseUrl::parse("http://127.0.0.1:9").expect("url"),
            ids,
        ));
        let list = rt
            .block_on(ModelCache::new(ModelCacheOptions::new()).get(&provider, &client))
            .expect("list");
        assert!(list.validate(&configured).is_not_listed());
        group.bench_function(name, |b| {
            b.iter(|| black_box(list.validate(black_box(&configured))))
        });
    }
    group.finish();
}

criterion_group!(
    benches,
    memory_hit,
    disk_load,
    concurrent_cold_gets,
    validate_not_listed
);
criterion_main!(benches);
