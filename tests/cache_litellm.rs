//! The Zoo Code #638 scenarios end to end: the real `LiteLlm` provider, the `ModelCache` with a disk directory,
//! and two real LiteLLM 1.109.1 proxies (tests/support/litellm.rs; configs A and B on two ports).
//!
//! The proxies start once (10-30 s each, in parallel) and every scenario runs in sequence in one test, with a
//! message naming the scenario on failure. The request count of the 100-concurrent-gets scenario is checked
//! against wiremock (a real HTTP server on 127.0.0.1 that counts what it receives), since the proxy cannot count.

mod support;

use std::sync::Arc;
use std::time::Duration;

use modelroute::{
    CacheError, CacheKey, ListSource, LiteLlm, ManualClock, ModelCache, ModelCacheOptions,
    RefreshProblem, Secret,
};
use support::litellm::{LiteLlmProxy, ProxyConfig};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const TTL: Duration = Duration::from_secs(300);

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(60))
        // No idle connection kept: a stopped proxy is then "unreachable", not a dead pooled connection.
        .pool_max_idle_per_host(0)
        .build()
        .expect("reqwest client")
}

fn provider(base: &str, key: &str) -> Arc<LiteLlm> {
    Arc::new(LiteLlm::new(base, Some(Secret::new(key))).expect("valid base URL"))
}

fn cache(clock: &Arc<ManualClock>, dir: &std::path::Path) -> ModelCache {
    ModelCache::new(
        ModelCacheOptions::new()
            .ttl(TTL)
            .clock(clock.clone())
            .disk_dir(dir),
    )
}

fn ids(list: &modelroute::ModelList) -> Vec<String> {
    list.ids().map(str::to_string).collect()
}

fn has(list: &modelroute::ModelList, id: &str) -> bool {
    list.contains(id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zoo_code_638_scenarios_against_two_real_litellm_proxies() {
    let start_a = tokio::task::spawn_blocking(|| LiteLlmProxy::start(ProxyConfig::A));
    let start_b = tokio::task::spawn_blocking(|| LiteLlmProxy::start(ProxyConfig::B));
    let proxy_a = start_a.await.expect("proxy A start");
    let mut proxy_b = start_b.await.expect("proxy B start");
    let (base_a, base_b) = (proxy_a.base_url(), proxy_b.base_url());
    assert_ne!(base_a, base_b, "two proxies, two ports");
    let dir = tempfile::tempdir().expect("temp dir");
    let clock = Arc::new(ManualClock::new());
    let client = client();

    // --- 1. Profiles A and B: two proxies, the SAME key, one cache. Each gets its own list.
    let cache1 = cache(&clock, dir.path());
    let a = provider(&base_a, LiteLlmProxy::MASTER_KEY);
    let b = provider(&base_b, LiteLlmProxy::MASTER_KEY);
    let list_a = cache1.get(&a, &client).await.expect("1: proxy A lists");
    let list_b = cache1.get(&b, &client).await.expect("1: proxy B lists");
    assert_eq!(list_a.source(), ListSource::Fetched, "1: A fetched");
    assert_eq!(
        list_b.source(),
        ListSource::Fetched,
        "1: B fetched, not A's list"
    );
    for id in ["gpt-4o", "balanced", "llama3"] {
        assert!(has(&list_a, id), "1: A lists {id}: {:?}", ids(&list_a));
        assert!(
            !has(&list_b, id),
            "1: B must not list A's {id}: {:?}",
            ids(&list_b)
        );
    }
    assert_eq!(
        ids(&list_b),
        ["claude-3-5-sonnet", "mistral-large"],
        "1: B's own list"
    );
    assert!(
        !has(&list_a, "claude-3-5-sonnet"),
        "1: A must not list B's model"
    );
    // Again, from memory: still apart.
    assert_eq!(
        ids(&cache1.get(&a, &client).await.unwrap()),
        ids(&list_a),
        "1: A from memory"
    );
    assert_eq!(
        ids(&cache1.get(&b, &client).await.unwrap()),
        ids(&list_b),
        "1: B from memory"
    );

    // --- 2. One proxy, two keys with different allowlists: each key gets its own list.
    let only_gpt4o = provider(&base_a, LiteLlmProxy::KEY_ONLY_GPT4O);
    let only_balanced = provider(&base_a, LiteLlmProxy::KEY_ONLY_BALANCED);
    let list_gpt4o = cache1
        .get(&only_gpt4o, &client)
        .await
        .expect("2: only-gpt-4o key lists");
    let list_balanced = cache1
        .get(&only_balanced, &client)
        .await
        .expect("2: only-balanced key lists");
    assert_eq!(
        ids(&list_gpt4o),
        ["gpt-4o"],
        "2: the gpt-4o key sees only gpt-4o"
    );
    assert_eq!(
        ids(&list_balanced),
        ["balanced"],
        "2: the balanced key sees only balanced"
    );
    assert_eq!(
        list_balanced.source(),
        ListSource::Fetched,
        "2: not the other key's entry"
    );
    // The configured model is checked against the key's own list, and kept as configured.
    let check = list_gpt4o.validate("balanced");
    assert!(
        check.is_not_listed(),
        "2: balanced is not allowed for the gpt-4o key"
    );
    assert_eq!(
        check.configured_model(),
        "balanced",
        "2: configured model kept"
    );
    assert!(
        list_balanced.validate("balanced").is_available(),
        "2: allowed for its key"
    );
    // A key the proxy refuses gets an error, not someone else's list.
    let wrong = provider(&base_a, "sk-test-not-a-key");
    let err = cache1
        .get(&wrong, &client)
        .await
        .expect_err("2: a refused key has no list");
    assert!(
        err.discovery_error().is_some_and(|e| e.is_unauthorized()),
        "2: unauthorized, got {err:?}"
    );
    assert!(
        !format!("{err:?} {err}").contains("sk-test-not-a-key"),
        "2: no key in the error"
    );

    // --- 3. Restart: a new cache over the same directory serves every list from disk, each its own.
    let files = std::fs::read_dir(dir.path())
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "json"))
        })
        .count();
    assert_eq!(
        files, 4,
        "3: one file per server and key (A, B, two restricted keys)"
    );
    let restart_clock = Arc::new(ManualClock::new());
    let cache2 = cache(&restart_clock, dir.path());
    for (who, p, expected) in [
        ("A", &a, &list_a),
        ("B", &b, &list_b),
        ("only-gpt-4o", &only_gpt4o, &list_gpt4o),
        ("only-balanced", &only_balanced, &list_balanced),
    ] {
        let list = cache2
            .get(p, &client)
            .await
            .unwrap_or_else(|e| panic!("3: {who} after restart: {e}"));
        assert_eq!(list.source(), ListSource::Disk, "3: {who} from disk");
        assert!(!list.is_stale(), "3: {who} fresh");
        assert_eq!(
            ids(&list),
            ids(expected),
            "3: {who} has its own list after restart"
        );
        assert!(
            list.disk_issues().is_empty(),
            "3: {who}: {:?}",
            list.disk_issues()
        );
        assert_eq!(
            list.models().as_ref(),
            expected.models().as_ref(),
            "3: {who} descriptors round-trip"
        );
    }

    // --- 4. A proxy that goes away: the last good list is served as stale; the configured model is never replaced.
    let pid_b = proxy_b.pid();
    proxy_b.stop();
    restart_clock.advance(TTL + Duration::from_secs(1));
    let stale = cache2
        .get(&b, &client)
        .await
        .expect("4: B's last good list");
    assert!(stale.is_stale(), "4: marked stale");
    assert_eq!(ids(&stale), ids(&list_b), "4: still B's list");
    let err = cache2
        .refresh(&b, &client)
        .await
        .expect_err("4: refresh of a stopped proxy fails");
    match &err {
        CacheError::RefreshFailed {
            source,
            last_good_kept,
            ..
        } => {
            assert!(
                source.is_unreachable(),
                "4: unreachable after stopping pid {pid_b}, got {source:?}"
            );
            assert!(*last_good_kept, "4: last good list kept");
        }
        other => panic!("4: expected RefreshFailed, got {other:?}"),
    }
    let served = cache2.get(&b, &client).await.expect("4: B still served");
    assert_eq!(
        ids(&served),
        ids(&list_b),
        "4: last good list after the failed refresh"
    );
    assert!(
        matches!(served.refresh_problem(), Some(RefreshProblem::Failed(e)) if e.is_unreachable()),
        "4: the result says the refresh failed: {:?}",
        served.refresh_problem()
    );
    let configured = served.validate("claude-3-5-sonnet");
    assert!(
        configured.is_available() && configured.list_is_stale(),
        "4: available, from a stale list"
    );
    let not_there = served.validate("gpt-4o");
    assert!(not_there.is_not_listed(), "4: A's model is not B's");
    assert_eq!(
        not_there.configured_model(),
        "gpt-4o",
        "4: configured model kept, no default"
    );
    // Proxy A is unaffected: a refresh still works.
    let refreshed_a = cache2.refresh(&a, &client).await.expect("4: A refreshes");
    assert_eq!(ids(&refreshed_a), ids(&list_a), "4: A's list unchanged");

    // --- 5. Restart while B is down: B's disk copy is served (stale), a cold refresh reports its own error.
    let later = Arc::new(ManualClock::new());
    later.advance(TTL + Duration::from_secs(60));
    let cache3 = cache(&later, dir.path());
    let b_down = cache3
        .get(&b, &client)
        .await
        .expect("5: B from disk while down");
    assert_eq!(
        (b_down.source(), b_down.is_stale()),
        (ListSource::Disk, true),
        "5: disk, stale"
    );
    assert_eq!(ids(&b_down), ids(&list_b), "5: B's own list");
    assert!(
        cache3
            .refresh(&b, &client)
            .await
            .unwrap_err()
            .discovery_error()
            .is_some_and(|e| e.is_unreachable()),
        "5: refresh reports unreachable"
    );

    // --- 6. 100 concurrent gets of one cold key on a real proxy share one fetch (one list, shared).
    let cold = ModelCache::new(ModelCacheOptions::new());
    let tasks: Vec<_> = (0..100)
        .map(|_| tokio::spawn(cold.get(&only_gpt4o, &client)))
        .collect();
    let mut lists = Vec::new();
    for task in tasks {
        lists.push(task.await.unwrap().expect("6: concurrent get"));
    }
    assert!(
        lists
            .iter()
            .all(|l| Arc::ptr_eq(l.models(), lists[0].models())),
        "6: all 100 callers got the one fetched list"
    );
    assert_eq!(ids(&lists[0]), ["gpt-4o"], "6: the key's own list");

    drop(proxy_a);
    assert_eq!(
        CacheKey::of(&*a).base_url().as_str(),
        base_a,
        "the cache key holds the normalized URL the proxy was reached at"
    );
}

/// The real `LiteLlm` provider behind 100 concurrent cold gets: exactly one request reaches the server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_concurrent_cold_gets_with_the_litellm_provider_send_one_request() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/model/info"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw(
                    include_bytes!("fixtures/litellm/model_info_trimmed__master.json").to_vec(),
                    "application/json",
                )
                .set_delay(Duration::from_millis(300)),
        )
        .mount(&server)
        .await;
    let cache = ModelCache::new(ModelCacheOptions::new());
    let proxy = provider(&server.uri(), LiteLlmProxy::MASTER_KEY);
    let client = client();

    let tasks: Vec<_> = (0..100)
        .map(|_| tokio::spawn(cache.get(&proxy, &client)))
        .collect();
    let mut lists = Vec::new();
    for task in tasks {
        lists.push(task.await.unwrap().expect("get"));
    }
    let received = server
        .received_requests()
        .await
        .expect("recording on")
        .len();
    assert_eq!(received, 1, "one request for 100 concurrent gets");
    assert!(
        lists
            .iter()
            .all(|l| Arc::ptr_eq(l.models(), lists[0].models()))
    );
    assert!(lists[0].contains("gpt-4o"));
}
