//! ModelCache behaviour against real HTTP servers on 127.0.0.1 (wiremock counts requests server-side).
//! Time is a ManualClock: no test sleeps to expire a TTL.

mod cache_util;

use std::sync::Arc;
use std::time::Duration;

use cache_util::{
    HttpList, client, dead_base, exclusive_server, models_body, requests, serve, serve_status,
    stop_server,
};
use modelroute::cache::validate;
use modelroute::{
    Availability, CacheError, CacheKey, DiskIssue, ListSource, ManualClock, ModelCache,
    ModelCacheOptions, ProviderKind, RefreshProblem,
};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const TTL: Duration = Duration::from_secs(300);
const NO_DELAY: Duration = Duration::ZERO;

fn ids(list: &modelroute::ModelList) -> Vec<&str> {
    list.ids().collect()
}

fn options(clock: &Arc<ManualClock>) -> ModelCacheOptions {
    ModelCacheOptions::new().ttl(TTL).clock(clock.clone())
}

fn disk_options(clock: &Arc<ManualClock>, dir: &std::path::Path) -> ModelCacheOptions {
    options(clock).disk_dir(dir)
}

/// How many model lists `dir` holds (its `.json` files; beside them is the directory's fingerprint secret).
fn lists_on_disk(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |entries| {
        entries
            .filter(|e| {
                e.as_ref()
                    .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "json"))
            })
            .count()
    })
}

#[tokio::test]
async fn a_memory_hit_shares_the_list_and_sends_no_request() {
    let server = MockServer::start().await;
    serve(&server, &["gpt-4o", "llama3"], NO_DELAY).await;
    let clock = Arc::new(ManualClock::new());
    let cache = ModelCache::new(options(&clock));
    let provider = HttpList::new(&server.uri(), Some("sk-a"));
    let client = client();

    let first = cache.get(&provider, &client).await.unwrap();
    assert_eq!(first.source(), ListSource::Fetched);
    assert_eq!(ids(&first), ["gpt-4o", "llama3"]);
    assert!(!first.is_stale());
    assert_eq!(first.age(), Duration::ZERO);

    clock.advance(Duration::from_secs(10));
    let second = cache.get(&provider, &client).await.unwrap();
    assert_eq!(second.source(), ListSource::Memory);
    assert!(
        Arc::ptr_eq(first.models(), second.models()),
        "the list must be shared, not copied"
    );
    assert_eq!(second.age(), Duration::from_secs(10));
    assert_eq!(second.fetched_at(), first.fetched_at());
    assert_eq!(requests(&server).await, 1);
    assert!(cache.cached(&CacheKey::of(&*provider)).is_some());
}

#[tokio::test]
async fn two_servers_and_two_keys_never_see_each_others_list() {
    let server_a = MockServer::start().await;
    let server_b = MockServer::start().await;
    serve(&server_a, &["gpt-4o", "balanced"], NO_DELAY).await;
    serve(&server_b, &["claude-3-5-sonnet"], NO_DELAY).await;
    // One server, two keys with different allowlists.
    let shared = MockServer::start().await;
    for (key, models) in [
        ("sk-only-gpt", &["gpt-4o"][..]),
        ("sk-only-balanced", &["balanced"][..]),
    ] {
        Mock::given(method("GET"))
            .and(path("/v1/models"))
            .and(header("authorization", format!("Bearer {key}").as_str()))
            .respond_with(ResponseTemplate::new(200).set_body_json(models_body(models)))
            .mount(&shared)
            .await;
    }
    let clock = Arc::new(ManualClock::new());
    let cache = ModelCache::new(options(&clock));
    let client = client();

    // Same provider kind and the same key everywhere: only the URL differs.
    let a = HttpList::new(&server_a.uri(), Some("sk-same"));
    let b = HttpList::new(&server_b.uri(), Some("sk-same"));
    assert_eq!(
        ids(&cache.get(&a, &client).await.unwrap()),
        ["gpt-4o", "balanced"]
    );
    assert_eq!(
        ids(&cache.get(&b, &client).await.unwrap()),
        ["claude-3-5-sonnet"]
    );
    assert_eq!(
        ids(&cache.get(&a, &client).await.unwrap()),
        ["gpt-4o", "balanced"]
    );

    let only_gpt = HttpList::new(&shared.uri(), Some("sk-only-gpt"));
    let only_balanced = HttpList::new(&shared.uri(), Some("sk-only-balanced"));
    assert_eq!(
        ids(&cache.get(&only_gpt, &client).await.unwrap()),
        ["gpt-4o"]
    );
    assert_eq!(
        ids(&cache.get(&only_balanced, &client).await.unwrap()),
        ["balanced"]
    );
    assert_eq!(
        ids(&cache.get(&only_gpt, &client).await.unwrap()),
        ["gpt-4o"]
    );
    assert_eq!(requests(&shared).await, 2);

    // Another kind on the same URL and key is another list too.
    let as_ollama = HttpList::of_kind(ProviderKind::Ollama, &server_a.uri(), Some("sk-same"));
    assert_eq!(
        cache.get(&as_ollama, &client).await.unwrap().source(),
        ListSource::Fetched
    );

    // An equivalent spelling of one URL is the same entry: no new request.
    let port = server_a.address().port();
    let respelled = HttpList::new(&format!("HTTP://127.0.0.1:{port}/"), Some("sk-same"));
    let hit = cache.get(&respelled, &client).await.unwrap();
    assert_eq!(hit.source(), ListSource::Memory);
    assert_eq!(requests(&server_a).await, 2); // `a` once, `as_ollama` once
    assert_eq!(requests(&server_b).await, 1);
}

#[tokio::test]
async fn a_stale_list_is_returned_at_once_and_refresh_updates_it() {
    let server = MockServer::start().await;
    serve(&server, &["old-model"], NO_DELAY).await;
    let clock = Arc::new(ManualClock::new());
    let cache = ModelCache::new(options(&clock));
    let provider = HttpList::new(&server.uri(), None);
    let client = client();
    cache.get(&provider, &client).await.unwrap();

    clock.advance(TTL - Duration::from_secs(1));
    assert!(!cache.get(&provider, &client).await.unwrap().is_stale());
    clock.advance(Duration::from_secs(1));
    serve(&server, &["new-model"], NO_DELAY).await; // resets the request count
    let stale = cache.get(&provider, &client).await.unwrap();
    assert!(stale.is_stale());
    assert_eq!(stale.source(), ListSource::Memory);
    assert_eq!(ids(&stale), ["old-model"]);
    assert_eq!(
        requests(&server).await,
        0,
        "a stale get must not wait for the server"
    );

    let refreshed = cache.refresh(&provider, &client).await.unwrap();
    assert_eq!(refreshed.source(), ListSource::Fetched);
    assert_eq!(ids(&refreshed), ["new-model"]);
    let after = cache.get(&provider, &client).await.unwrap();
    assert!(!after.is_stale());
    assert_eq!(ids(&after), ["new-model"]);
    assert_eq!(requests(&server).await, 1);
}

#[tokio::test]
async fn the_refresh_future_can_be_spawned_for_background_revalidation() {
    let server = MockServer::start().await;
    serve(&server, &["v1"], NO_DELAY).await;
    let clock = Arc::new(ManualClock::new());
    let cache = ModelCache::new(options(&clock));
    let provider = HttpList::new(&server.uri(), None);
    let client = client();
    cache.get(&provider, &client).await.unwrap();
    clock.advance(TTL);
    serve(&server, &["v2"], NO_DELAY).await;

    let stale = cache.get(&provider, &client).await.unwrap();
    assert!(stale.is_stale());
    // `'static`: it owns clones of the cache, provider and client.
    let task = tokio::spawn(cache.refresh(&provider, &client));
    drop(stale);
    assert_eq!(ids(&task.await.unwrap().unwrap()), ["v2"]);
    assert_eq!(ids(&cache.get(&provider, &client).await.unwrap()), ["v2"]);
}

#[tokio::test]
async fn a_server_that_goes_away_leaves_the_last_good_list_served_as_stale() {
    let server = exclusive_server().await;
    serve(&server, &["gpt-4o", "llama3"], NO_DELAY).await;
    let clock = Arc::new(ManualClock::new());
    let cache = ModelCache::new(options(&clock));
    let provider = HttpList::new(&server.uri(), None);
    let client = client();
    let good = cache.get(&provider, &client).await.unwrap();
    stop_server(server).await;

    clock.advance(TTL + Duration::from_secs(1));
    let stale = cache.get(&provider, &client).await.unwrap();
    assert!(stale.is_stale());
    let err = cache.refresh(&provider, &client).await.unwrap_err();
    match &err {
        CacheError::RefreshFailed {
            source,
            last_good_kept,
            ..
        } => {
            assert!(source.is_unreachable(), "{source:?}");
            assert!(*last_good_kept);
        }
        other => panic!("expected RefreshFailed, got {other:?}"),
    }
    assert!(err.is_quiet(), "an unreachable server is an expected state");

    let served = cache.get(&provider, &client).await.unwrap();
    assert!(Arc::ptr_eq(served.models(), good.models()));
    assert!(served.is_stale());
    assert!(
        matches!(served.refresh_problem(), Some(RefreshProblem::Failed(e)) if e.is_unreachable())
    );

    // The configured model is checked against the kept list, and kept as configured.
    let check = served.validate("llama3");
    assert!(check.is_available());
    assert!(check.list_is_stale());
    assert_eq!(check.configured_model(), "llama3");
    let missing = served.validate("gpt-4o-mini");
    assert_eq!(missing.configured_model(), "gpt-4o-mini");
    assert!(missing.is_not_listed());
    assert_eq!(missing.close_matches(), ["gpt-4o"]);
}

#[tokio::test]
async fn refresh_reports_its_own_error_even_while_the_list_is_fresh() {
    // Roo Code #9682: a refresh that failed was reported as a success because an old list was at hand.
    let server = MockServer::start().await;
    serve(&server, &["m"], NO_DELAY).await;
    let clock = Arc::new(ManualClock::new());
    let cache = ModelCache::new(options(&clock));
    let provider = HttpList::new(&server.uri(), Some("sk-x"));
    let client = client();
    cache.get(&provider, &client).await.unwrap();

    serve_status(&server, 500).await;
    let err = cache.refresh(&provider, &client).await.unwrap_err();
    assert_eq!(err.discovery_error().and_then(|e| e.status()), Some(500));
    assert!(!err.is_quiet());
    assert!(!err.to_string().contains("sk-x"));
    serve_status(&server, 401).await;
    let err = cache.refresh(&provider, &client).await.unwrap_err();
    assert!(err.discovery_error().unwrap().is_unauthorized());

    let still = cache.get(&provider, &client).await.unwrap();
    assert!(!still.is_stale());
    assert_eq!(ids(&still), ["m"]);
    assert!(
        matches!(still.refresh_problem(), Some(RefreshProblem::Failed(e)) if e.is_unauthorized())
    );

    // A successful refresh clears the problem.
    serve(&server, &["m", "n"], NO_DELAY).await;
    cache.refresh(&provider, &client).await.unwrap();
    let ok = cache.get(&provider, &client).await.unwrap();
    assert!(ok.refresh_problem().is_none());
    assert_eq!(ids(&ok), ["m", "n"]);
}

#[tokio::test]
async fn an_empty_refresh_never_replaces_a_good_list() {
    let server = MockServer::start().await;
    serve(&server, &["a", "b"], NO_DELAY).await;
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new());
    let cache = ModelCache::new(disk_options(&clock, dir.path()));
    let provider = HttpList::new(&server.uri(), None);
    let client = client();
    cache.get(&provider, &client).await.unwrap();

    serve(&server, &[], NO_DELAY).await;
    let err = cache.refresh(&provider, &client).await.unwrap_err();
    assert!(
        matches!(err, CacheError::EmptyRefresh { kept: 2, .. }),
        "{err:?}"
    );
    assert!(err.is_empty_refresh());
    let served = cache.get(&provider, &client).await.unwrap();
    assert_eq!(ids(&served), ["a", "b"]);
    assert!(matches!(
        served.refresh_problem(),
        Some(RefreshProblem::Empty)
    ));

    // The disk copy is still the good list.
    let restarted = ModelCache::new(disk_options(&clock, dir.path()));
    let from_disk = restarted.get(&provider, &client).await.unwrap();
    assert_eq!(from_disk.source(), ListSource::Disk);
    assert_eq!(ids(&from_disk), ["a", "b"]);

    // Invalidating accepts the empty answer: it is a list, not an error.
    cache.invalidate(&CacheKey::of(&*provider)).unwrap();
    let empty = cache.get(&provider, &client).await.unwrap();
    assert!(empty.is_empty());
    assert_eq!(empty.source(), ListSource::Fetched);
    assert!(empty.validate("a").is_not_listed());
    assert!(empty.validate("a").close_matches().is_empty());
}

#[tokio::test]
async fn an_empty_list_with_nothing_before_is_an_answer_kept_in_memory_only() {
    // Zoo Code #1732: a server with no model is a state, not an error.
    let server = MockServer::start().await;
    serve(&server, &[], NO_DELAY).await;
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new());
    let cache = ModelCache::new(disk_options(&clock, dir.path()));
    let provider = HttpList::of_kind(ProviderKind::LmStudio, &server.uri(), None);
    let client = client();

    let empty = cache.get(&provider, &client).await.unwrap();
    assert!(empty.is_empty());
    assert_eq!(empty.source(), ListSource::Fetched);
    assert!(empty.refresh_problem().is_none());
    let again = cache.get(&provider, &client).await.unwrap();
    assert_eq!(again.source(), ListSource::Memory);
    assert_eq!(requests(&server).await, 1);
    assert_eq!(lists_on_disk(dir.path()), 0, "no empty list on disk");

    // An empty refresh over an empty list is simply the answer.
    assert!(cache.refresh(&provider, &client).await.unwrap().is_empty());
    serve(&server, &["qwen"], NO_DELAY).await;
    assert_eq!(
        ids(&cache.refresh(&provider, &client).await.unwrap()),
        ["qwen"]
    );
}

#[tokio::test]
async fn a_restart_starts_from_disk_with_the_right_freshness() {
    let server = MockServer::start().await;
    serve(&server, &["gpt-4o"], NO_DELAY).await;
    let dir = tempfile::tempdir().unwrap();
    let provider = HttpList::new(&server.uri(), Some("sk-a"));
    let client = client();
    let clock = Arc::new(ManualClock::new());
    ModelCache::new(disk_options(&clock, dir.path()))
        .get(&provider, &client)
        .await
        .unwrap();

    // Restart a minute later: fresh from disk, no request.
    let later = Arc::new(ManualClock::new());
    later.advance(Duration::from_secs(60));
    let restarted = ModelCache::new(disk_options(&later, dir.path()));
    let list = restarted.get(&provider, &client).await.unwrap();
    assert_eq!(list.source(), ListSource::Disk);
    assert!(!list.is_stale());
    assert!(list.age() >= Duration::from_secs(60) && list.age() < Duration::from_secs(120));
    assert!(list.disk_issues().is_empty());
    assert_eq!(
        restarted.get(&provider, &client).await.unwrap().source(),
        ListSource::Memory
    );
    later.advance(TTL);
    assert!(restarted.get(&provider, &client).await.unwrap().is_stale());

    // Restart after the TTL: the disk list is served stale at once, then revalidated by the caller.
    let much_later = Arc::new(ManualClock::new());
    much_later.advance(TTL + Duration::from_secs(1));
    let restarted = ModelCache::new(disk_options(&much_later, dir.path()));
    let stale = restarted.get(&provider, &client).await.unwrap();
    assert_eq!(stale.source(), ListSource::Disk);
    assert!(stale.is_stale());
    assert_eq!(requests(&server).await, 1);
    serve(&server, &["gpt-4o", "o3"], NO_DELAY).await;
    assert_eq!(
        ids(&restarted.refresh(&provider, &client).await.unwrap()),
        ["gpt-4o", "o3"]
    );

    // A fetch time in the future (clock set back) is not trusted as fresh.
    let ahead = Arc::new(ManualClock::new());
    ahead.advance(Duration::from_secs(86_400));
    ModelCache::new(disk_options(&ahead, dir.path()))
        .refresh(&provider, &client)
        .await
        .unwrap();
    let now = Arc::new(ManualClock::new());
    let odd = ModelCache::new(disk_options(&now, dir.path()))
        .get(&provider, &client)
        .await
        .unwrap();
    assert_eq!(odd.source(), ListSource::Disk);
    assert!(odd.is_stale());
    assert_eq!(odd.age(), Duration::ZERO);
}

#[tokio::test]
async fn refresh_on_a_cold_key_reads_the_disk_before_accepting_an_empty_answer() {
    let server = MockServer::start().await;
    serve(&server, &["kept"], NO_DELAY).await;
    let dir = tempfile::tempdir().unwrap();
    let provider = HttpList::new(&server.uri(), None);
    let client = client();
    let clock = Arc::new(ManualClock::new());
    ModelCache::new(disk_options(&clock, dir.path()))
        .get(&provider, &client)
        .await
        .unwrap();

    serve(&server, &[], NO_DELAY).await;
    let restarted = ModelCache::new(disk_options(&clock, dir.path()));
    let err = restarted.refresh(&provider, &client).await.unwrap_err();
    assert!(
        matches!(err, CacheError::EmptyRefresh { kept: 1, .. }),
        "{err:?}"
    );
    assert_eq!(
        ids(&restarted.get(&provider, &client).await.unwrap()),
        ["kept"]
    );
    assert_eq!(requests(&server).await, 1);
}

#[tokio::test]
async fn disk_files_of_another_key_or_corrupt_ones_are_ignored_and_reported() {
    let server_a = MockServer::start().await;
    let server_b = MockServer::start().await;
    serve(&server_a, &["only-a"], NO_DELAY).await;
    serve(&server_b, &["only-b"], NO_DELAY).await;
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new());
    let a = HttpList::new(&server_a.uri(), None);
    let b = HttpList::new(&server_b.uri(), None);
    let client = client();
    let writer = ModelCache::new(disk_options(&clock, dir.path()));
    writer.get(&a, &client).await.unwrap();
    let file_of = |p: &HttpList| writer.disk_file(&CacheKey::of(p)).unwrap();
    std::fs::copy(file_of(&a), file_of(&b)).unwrap();

    let cache = ModelCache::new(disk_options(&clock, dir.path()));
    let list = cache.get(&b, &client).await.unwrap();
    assert_eq!(list.source(), ListSource::Fetched);
    assert_eq!(ids(&list), ["only-b"]);
    assert!(
        matches!(list.disk_issues(), [DiskIssue::KeyMismatch { .. }]),
        "{:?}",
        list.disk_issues()
    );
    // The bad file was replaced by b's own list.
    let again = ModelCache::new(disk_options(&clock, dir.path()));
    assert_eq!(ids(&again.get(&b, &client).await.unwrap()), ["only-b"]);

    // Corrupt file and server down: no list, and both problems are told.
    std::fs::write(file_of(&b), b"{\"format\":\"modelroute-model-list\",\"vers").unwrap();
    let down = HttpList::new(&dead_base(), None);
    std::fs::copy(file_of(&b), file_of(&down)).unwrap();
    let err = ModelCache::new(disk_options(&clock, dir.path()))
        .get(&down, &client)
        .await
        .unwrap_err();
    assert!(err.is_unavailable());
    assert!(err.is_quiet());
    assert!(
        matches!(err.disk_issues(), [DiskIssue::Corrupt { .. }]),
        "{err:?}"
    );
}

#[tokio::test]
async fn an_unwritable_disk_directory_is_reported_and_memory_keeps_working() {
    let server = MockServer::start().await;
    serve(&server, &["m"], NO_DELAY).await;
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("a-file");
    std::fs::write(&blocker, b"not a directory").unwrap();
    let clock = Arc::new(ManualClock::new());
    let cache = ModelCache::new(disk_options(&clock, &blocker.join("cache")));
    let provider = HttpList::new(&server.uri(), None);
    let client = client();

    let list = cache.get(&provider, &client).await.unwrap();
    assert_eq!(ids(&list), ["m"]);
    assert!(
        list.disk_issues().iter().any(DiskIssue::is_io),
        "{:?}",
        list.disk_issues()
    );
    assert_eq!(
        cache.get(&provider, &client).await.unwrap().source(),
        ListSource::Memory
    );
    assert_eq!(requests(&server).await, 1);
}

#[tokio::test]
async fn no_secret_reaches_a_file_name_a_file_or_a_message() {
    let secret = "sk-live-DO-NOT-LEAK-0123456789";
    let server = MockServer::start().await;
    serve(&server, &["m"], NO_DELAY).await;
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new());
    let cache = ModelCache::new(disk_options(&clock, dir.path()));
    let provider = HttpList::new(&server.uri(), Some(secret));
    let client = client();
    let list = cache.get(&provider, &client).await.unwrap();
    let mut seen = vec![
        format!("{list:?}"),
        format!("{cache:?}"),
        list.key().to_string(),
    ];
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let entry = entry.unwrap();
        seen.push(entry.file_name().to_string_lossy().into_owned());
        seen.push(std::fs::read_to_string(entry.path()).unwrap());
    }
    let down = HttpList::new(&dead_base(), Some(secret));
    let err = cache.get(&down, &client).await.unwrap_err();
    seen.push(format!("{err:?}"));
    seen.push(err.to_string());
    for text in &seen {
        assert!(!text.contains("DO-NOT-LEAK"), "secret found in: {text}");
    }
}

#[tokio::test]
async fn invalidate_forgets_memory_and_disk() {
    let server = MockServer::start().await;
    serve(&server, &["m"], NO_DELAY).await;
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new());
    let cache = ModelCache::new(disk_options(&clock, dir.path()));
    let provider = HttpList::new(&server.uri(), None);
    let client = client();
    cache.get(&provider, &client).await.unwrap();
    let key = CacheKey::of(&*provider);
    assert_eq!(lists_on_disk(dir.path()), 1);

    cache.invalidate(&key).unwrap();
    assert!(cache.cached(&key).is_none());
    assert_eq!(lists_on_disk(dir.path()), 0);
    assert_eq!(
        cache.get(&provider, &client).await.unwrap().source(),
        ListSource::Fetched
    );
    assert_eq!(requests(&server).await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_concurrent_cold_gets_send_one_request() {
    let server = MockServer::start().await;
    serve(&server, &["gpt-4o", "llama3"], Duration::from_millis(300)).await;
    let cache = ModelCache::new(ModelCacheOptions::new());
    let provider = HttpList::new(&server.uri(), Some("sk-a"));
    let client = client();

    let tasks: Vec<_> = (0..100)
        .map(|_| tokio::spawn(cache.get(&provider, &client)))
        .collect();
    let mut lists = Vec::new();
    for task in tasks {
        lists.push(task.await.unwrap().unwrap());
    }
    assert_eq!(requests(&server).await, 1);
    assert!(
        lists
            .iter()
            .all(|l| Arc::ptr_eq(l.models(), lists[0].models()))
    );
    assert!(lists.iter().all(|l| l.source() == ListSource::Fetched));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_caller_does_not_cancel_the_fetch_of_the_others() {
    let server = MockServer::start().await;
    serve(&server, &["m"], Duration::from_millis(400)).await;
    let cache = ModelCache::new(ModelCacheOptions::new());
    let provider = HttpList::new(&server.uri(), None);
    let client = client();

    let impatient = async {
        tokio::select! {
            result = cache.get(&provider, &client) => panic!("should have timed out: {result:?}"),
            () = tokio::time::sleep(Duration::from_millis(50)) => "gave up",
        }
    };
    let patient = cache.get(&provider, &client);
    // A third caller arrives after the first gave up, while the fetch is still running.
    let late = async {
        tokio::time::sleep(Duration::from_millis(150)).await;
        cache.get(&provider, &client).await
    };
    let (gave_up, patient, late) = tokio::join!(impatient, patient, late);
    assert_eq!(gave_up, "gave up");
    assert_eq!(ids(&patient.unwrap()), ["m"]);
    assert_eq!(ids(&late.unwrap()), ["m"]);
    assert_eq!(requests(&server).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_every_caller_gives_up_the_next_get_fetches_again() {
    let server = MockServer::start().await;
    serve(&server, &["m"], Duration::from_millis(300)).await;
    let cache = ModelCache::new(ModelCacheOptions::new());
    let provider = HttpList::new(&server.uri(), None);
    let client = client();
    assert!(
        tokio::time::timeout(Duration::from_millis(50), cache.get(&provider, &client))
            .await
            .is_err()
    );
    // The abandoned operation does not block the key: a new get runs (and completes) its own fetch.
    assert_eq!(ids(&cache.get(&provider, &client).await.unwrap()), ["m"]);
    assert_eq!(requests(&server).await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_and_get_of_a_cold_key_share_one_request() {
    let server = MockServer::start().await;
    serve(&server, &["m"], Duration::from_millis(200)).await;
    let cache = ModelCache::new(ModelCacheOptions::new());
    let provider = HttpList::new(&server.uri(), None);
    let client = client();
    let (got, refreshed) = tokio::join!(
        cache.get(&provider, &client),
        cache.refresh(&provider, &client)
    );
    assert!(Arc::ptr_eq(
        got.unwrap().models(),
        refreshed.unwrap().models()
    ));
    assert_eq!(requests(&server).await, 1);
}

#[tokio::test]
async fn validate_never_substitutes_a_model() {
    let server = MockServer::start().await;
    serve(
        &server,
        &[
            "gpt-4o",
            "openai/*",
            "openai/gpt-4*",
            "gpt-*-mini",
            "claude-3-5-sonnet",
        ],
        NO_DELAY,
    )
    .await;
    let cache = ModelCache::new(ModelCacheOptions::new());
    let client = client();
    let list = cache
        .get(&HttpList::new(&server.uri(), None), &client)
        .await;

    assert!(matches!(
        validate("gpt-4o", &list).availability(),
        Availability::Available
    ));
    assert!(matches!(
        validate("openai/gpt-4.1-mini", &list).availability(),
        Availability::AvailableViaPattern { pattern } if pattern == "openai/gpt-4*"
    ));
    assert!(matches!(
        validate("openai/o3", &list).availability(),
        Availability::AvailableViaPattern { pattern } if pattern == "openai/*"
    ));
    // Whole-name match: not LiteLLM's prefix match (#42090).
    assert!(validate("gpt-4o-mini-2024-07-18", &list).is_not_listed());
    assert!(validate("gpt-4o-mini", &list).is_available());
    let v = validate("claude-3.5-sonnet", &list);
    assert_eq!(v.configured_model(), "claude-3.5-sonnet");
    assert_eq!(v.close_matches(), ["claude-3-5-sonnet"]);

    let unavailable = cache.get(&HttpList::new(&dead_base(), None), &client).await;
    let v = validate("gpt-4o", &unavailable);
    assert_eq!(v.configured_model(), "gpt-4o");
    match v.availability() {
        Availability::ListUnavailable { why } => {
            assert!(why.discovery_error().unwrap().is_unreachable())
        }
        other => panic!("{other:?}"),
    }

    // Ollama resolves a name without a tag to `:latest`.
    serve(&server, &["llama3:latest", "qwen2.5:7b"], NO_DELAY).await;
    let ollama = HttpList::of_kind(ProviderKind::Ollama, &server.uri(), None);
    let list = cache.get(&ollama, &client).await.unwrap();
    assert!(matches!(
        list.validate("llama3").availability(),
        Availability::AvailableAs { listed_id } if listed_id == "llama3:latest"
    ));
    assert!(list.validate("qwen2.5").is_not_listed());
    assert_eq!(list.validate("qwen2.5").close_matches(), ["qwen2.5:7b"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fetch_in_flight_during_invalidate_answers_its_caller_but_is_not_stored() {
    let server = MockServer::start().await;
    serve(&server, &["m"], Duration::from_millis(300)).await;
    let dir = tempfile::tempdir().unwrap();
    let cache = ModelCache::new(ModelCacheOptions::new().disk_dir(dir.path()));
    let provider = HttpList::new(&server.uri(), None);
    let client = client();
    let key = CacheKey::of(&*provider);

    let in_flight = tokio::spawn(cache.get(&provider, &client));
    tokio::time::sleep(Duration::from_millis(100)).await;
    cache.invalidate(&key).unwrap();
    assert_eq!(ids(&in_flight.await.unwrap().unwrap()), ["m"]);
    assert!(
        cache.cached(&key).is_none(),
        "invalidated: not stored in memory"
    );
    assert_eq!(lists_on_disk(dir.path()), 0, "nor on disk");
}

#[tokio::test]
async fn the_cache_remembers_at_most_max_entries_keys_least_recently_used_first() {
    let server = MockServer::start().await;
    serve(&server, &["m"], NO_DELAY).await;
    let clock = Arc::new(ManualClock::new());
    let cache = ModelCache::new(options(&clock).max_entries(2));
    let client = client();
    let tenant = |key: &str| HttpList::new(&server.uri(), Some(key));
    let (a, b, c) = (tenant("sk-a"), tenant("sk-b"), tenant("sk-c"));

    cache.get(&a, &client).await.unwrap();
    cache.get(&b, &client).await.unwrap();
    // `a` is used again, so `b` is now the least recently used.
    assert_eq!(
        cache.get(&a, &client).await.unwrap().source(),
        ListSource::Memory
    );
    cache.get(&c, &client).await.unwrap();
    assert_eq!(cache.len(), 2);
    assert!(cache.cached(&CacheKey::of(&*b)).is_none(), "b forgotten");
    assert!(cache.cached(&CacheKey::of(&*a)).is_some());
    assert!(cache.cached(&CacheKey::of(&*c)).is_some());
    assert_eq!(requests(&server).await, 3);
    // A forgotten key is fetched again when asked for.
    assert_eq!(
        cache.get(&b, &client).await.unwrap().source(),
        ListSource::Fetched
    );
    assert_eq!(requests(&server).await, 4);

    // A thousand tenants leave two keys in memory.
    for i in 0..1_000 {
        cache
            .get(&tenant(&format!("sk-{i}")), &client)
            .await
            .unwrap();
    }
    assert_eq!(cache.len(), 2);

    // `max_entries(0)` means 1: the key just fetched is kept.
    let one = ModelCache::new(options(&clock).max_entries(0));
    one.get(&a, &client).await.unwrap();
    one.get(&b, &client).await.unwrap();
    assert_eq!(one.len(), 1);
    assert_eq!(
        one.get(&b, &client).await.unwrap().source(),
        ListSource::Memory
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_in_flight_is_never_forgotten_so_its_callers_still_share_one_fetch() {
    let server_a = MockServer::start().await;
    let server_b = MockServer::start().await;
    serve(&server_a, &["a"], Duration::from_millis(300)).await;
    serve(&server_b, &["b"], Duration::from_millis(300)).await;
    let cache = ModelCache::new(ModelCacheOptions::new().max_entries(1));
    let client = client();
    let a = HttpList::new(&server_a.uri(), None);
    let b = HttpList::new(&server_b.uri(), None);
    let tasks: Vec<_> = (0..20)
        .map(|i| tokio::spawn(cache.get(if i % 2 == 0 { &a } else { &b }, &client)))
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    assert_eq!(requests(&server_a).await, 1);
    assert_eq!(requests(&server_b).await, 1);
    assert_eq!(cache.len(), 1, "back to the bound once both are done");
}

#[tokio::test]
async fn a_failing_key_is_fetched_again_with_backoff_not_on_every_get() {
    let server = MockServer::start().await;
    serve_status(&server, 503).await;
    let clock = Arc::new(ManualClock::new());
    let cache = ModelCache::new(
        options(&clock).retry_backoff(Duration::from_secs(1), Duration::from_secs(4)),
    );
    let provider = HttpList::new(&server.uri(), None);
    let client = client();

    let first = cache.get(&provider, &client).await.unwrap_err();
    assert_eq!(first.discovery_error().and_then(|e| e.status()), Some(503));
    assert_eq!(first.retry_in(), None, "this one was fetched");
    // Many gets during the backoff: the last error, at once, without a request.
    for _ in 0..100 {
        let again = cache.get(&provider, &client).await.unwrap_err();
        assert!(again.is_unavailable());
        assert_eq!(again.discovery_error().and_then(|e| e.status()), Some(503));
        assert_eq!(again.retry_in(), Some(Duration::from_secs(1)));
    }
    assert_eq!(requests(&server).await, 1);
    assert!(
        cache
            .get(&provider, &client)
            .await
            .unwrap_err()
            .to_string()
            .contains("next fetch in 1.0 s")
    );

    // After 1 s one fetch; it fails again, so the wait doubles: 2 s, then 4 s (the cap), then 4 s.
    let mut expected_requests = 1;
    for wait in [1, 2, 4, 4] {
        clock.advance(Duration::from_secs(wait) - Duration::from_millis(1));
        assert!(
            cache
                .get(&provider, &client)
                .await
                .unwrap_err()
                .retry_in()
                .is_some()
        );
        assert_eq!(requests(&server).await, expected_requests);
        clock.advance(Duration::from_millis(1));
        assert_eq!(
            cache.get(&provider, &client).await.unwrap_err().retry_in(),
            None
        );
        expected_requests += 1;
        assert_eq!(requests(&server).await, expected_requests, "after {wait} s");
    }

    // An explicit refresh always fetches; its success ends the backoff.
    serve(&server, &["m"], NO_DELAY).await;
    assert_eq!(
        ids(&cache.refresh(&provider, &client).await.unwrap()),
        ["m"]
    );
    assert_eq!(requests(&server).await, 1);
    assert_eq!(
        cache.get(&provider, &client).await.unwrap().source(),
        ListSource::Memory
    );

    // A key with a good list keeps serving it while its refreshes fail.
    serve_status(&server, 503).await;
    clock.advance(TTL);
    assert!(cache.refresh(&provider, &client).await.is_err());
    let kept = cache.get(&provider, &client).await.unwrap();
    assert_eq!(ids(&kept), ["m"]);
    assert!(kept.is_stale());
    assert_eq!(requests(&server).await, 1);
}

#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fifo_at_a_cache_files_path_never_blocks_get() {
    use rustix::fs::{CWD, FileType, Mode, mknodat};
    let server = MockServer::start().await;
    serve(&server, &["m"], NO_DELAY).await;
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new());
    let provider = HttpList::new(&server.uri(), Some("sk-a"));
    let writer = ModelCache::new(disk_options(&clock, dir.path()));
    writer.get(&provider, &client()).await.unwrap();
    let file = writer.disk_file(&CacheKey::of(&*provider)).unwrap();
    let fifo = dir.path().join("planted-fifo");
    mknodat(CWD, &fifo, FileType::Fifo, Mode::RUSR | Mode::WUSR, 0).unwrap();
    std::fs::remove_file(&file).unwrap();
    std::os::unix::fs::symlink(&fifo, &file).unwrap();

    // A restart reads the disk first. Run it on a thread of its own, so a blocked `open` cannot hang the test.
    let (tx, rx) = std::sync::mpsc::channel();
    let (options, reader) = (disk_options(&clock, dir.path()), provider.clone());
    let worker = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let _ = tx.send(runtime.block_on(ModelCache::new(options).get(&reader, &client())));
    });
    let result = match rx.recv_timeout(Duration::from_secs(20)) {
        Ok(result) => result,
        Err(_) => {
            let _ = std::fs::OpenOptions::new().write(true).open(&fifo); // releases the blocked reader
            panic!("get blocked on a FIFO");
        }
    };
    worker.join().unwrap();
    let list = result.unwrap();
    assert_eq!(list.source(), ListSource::Fetched);
    assert!(
        matches!(list.disk_issues(), [issue @ DiskIssue::Corrupt { .. }] if issue.to_string().contains("not a regular file")),
        "{:?}",
        list.disk_issues()
    );
    // The fetched list replaced the symlink with a regular file.
    assert!(std::fs::symlink_metadata(&file).unwrap().is_file());
}

#[tokio::test]
async fn a_list_too_large_for_the_disk_limit_is_served_from_memory_and_not_written() {
    let server = MockServer::start().await;
    let many: Vec<String> = (0..200).map(|i| format!("model-{i}")).collect();
    serve(
        &server,
        &many.iter().map(String::as_str).collect::<Vec<_>>(),
        NO_DELAY,
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new());
    let small = || disk_options(&clock, dir.path()).max_disk_file_bytes(1_000);
    let provider = HttpList::new(&server.uri(), None);
    let client = client();

    let list = ModelCache::new(small())
        .get(&provider, &client)
        .await
        .unwrap();
    assert_eq!(list.len(), 200);
    match list.disk_issues() {
        [
            issue @ DiskIssue::TooLargeToWrite {
                size, limit: 1_000, ..
            },
        ] => {
            assert!(*size > 1_000);
            assert!(issue.is_too_large());
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        lists_on_disk(dir.path()),
        0,
        "never written, so never re-read and re-written"
    );
    // A restart finds nothing to ignore: it fetches, and says again why it cannot keep the list on disk.
    let again = ModelCache::new(small())
        .get(&provider, &client)
        .await
        .unwrap();
    assert_eq!(again.source(), ListSource::Fetched);
    assert!(matches!(
        again.disk_issues(),
        [DiskIssue::TooLargeToWrite { .. }]
    ));
}
