//! The `tracing` events a user turns on (feature `tracing`), captured by a real `tracing-subscriber`
//! registry: config entries skipped, route decisions, deployments skipped and why, cooldowns starting and
//! ending, usage limits reached, nothing available; with the fields a user filters on, and no secret
//! anywhere (keys, `api_base` credentials, `os.environ/` values are planted in the config and looked for in
//! every captured event).

use std::collections::{BTreeMap, HashMap};
use std::fmt::Debug;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use modelroute::config::RouterConfig;
use modelroute::router::{FailureKind, Outcome, RequestContext, Usage};
use modelroute::{ManualClock, Router};
use serde_json::json;
use tracing::Level;
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};

#[derive(Debug, Clone)]
struct Captured {
    target: String,
    level: Level,
    fields: BTreeMap<String, String>,
}

impl Captured {
    fn message(&self) -> &str {
        self.fields.get("message").map_or("", String::as_str)
    }
    fn field(&self, name: &str) -> Option<&str> {
        self.fields.get(name).map(String::as_str)
    }
}

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<Captured>>>);

struct Fields(BTreeMap<String, String>);

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        self.0
            .insert(field.name().to_string(), format!("{value:?}"));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_string(), value.to_string());
    }
}

impl<S: tracing::Subscriber> Layer<S> for Capture {
    fn on_event(&self, event: &tracing::Event<'_>, _ctx: Context<'_, S>) {
        let mut fields = Fields(BTreeMap::new());
        event.record(&mut fields);
        self.0.lock().unwrap().push(Captured {
            target: event.metadata().target().to_string(),
            level: *event.metadata().level(),
            fields: fields.0,
        });
    }
}

impl Capture {
    fn take(&self) -> Vec<Captured> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

fn find<'a>(events: &'a [Captured], target: &str, message: &str) -> Vec<&'a Captured> {
    events
        .iter()
        .filter(|e| e.target == target && e.message() == message)
        .collect()
}

const SECRET: &str = "SECRET";

fn config() -> serde_json::Value {
    let oa = json!({"model_name": "gpt-4o", "litellm_params": {"model": "openai/gpt-4o",
        "api_key": "sk-SECRET-inline-0001", "api_base": "https://user:SECRET-pass@eu.example/v1?key=SECRET-q"},
        "model_info": {"id": "oa"}});
    json!({
        "model_list": [
            oa,
            {"model_name": "gpt-4o", "litellm_params": {"model": "azure/gpt-4o", "api_key": "os.environ/MR_TRACE_KEY",
             "api_base": "https://SECRET-host.example"}, "model_info": {"id": "az"}},
            {"model_name": "gpt-4o", "litellm_params": {"model": "azure/gpt-4o-old", "api_key": "sk-SECRET-blocked"},
             "model_info": {"id": "blocked", "blocked": true}},
            {"model_name": "broken", "litellm_params": {"model": "openai/o3", "api_key": "sk-SECRET-broken",
             "rpm": "not-a-number"}},
            {"model_name": "smart", "litellm_params": {"model": "auto_router/complexity_router",
             "api_key": "sk-SECRET-marker"}},
            oa,
            {"model_name": "orgs", "litellm_params": {"model": "openai/o1", "organization": [],
             "api_key": "sk-SECRET-orgs"}},
            {"model_name": "openai/*", "litellm_params": {"model": "openai/*", "api_key": "sk-SECRET-wild",
             "api_base": "https://SECRET@wild.example"}, "model_info": {"id": "wild"}},
        ],
        "router_settings": {"routing_strategy": "fastest-first", "allowed_fails": 0, "cooldown_time": 30}
    })
}

#[test]
fn a_subscriber_sees_config_route_and_cooldown_events_with_their_fields_and_no_secret() {
    let capture = Capture::default();
    let subscriber = tracing_subscriber::registry().with(capture.clone());
    let env: HashMap<String, String> =
        [("MR_TRACE_KEY".to_string(), "sk-SECRET-env-0002".to_string())].into();
    let clock = Arc::new(ManualClock::new());
    let ctx = RequestContext::new();
    let mut all = Vec::new();

    tracing::subscriber::with_default(subscriber, || {
        // Config entries skipped, a duplicate, an empty organization list, an unknown strategy.
        let config = RouterConfig::loader()
            .env(&env)
            .lenient(true)
            .load_value(config())
            .unwrap();
        let events = capture.take();
        let skipped = find(&events, "modelroute::config", "model_list entry skipped");
        let fields: Vec<(Option<&str>, Option<&str>, Option<&str>)> = skipped
            .iter()
            .map(|e| (e.field("index"), e.field("model_name"), e.field("field")))
            .collect();
        assert_eq!(
            fields,
            [
                (Some("3"), Some("broken"), Some("litellm_params.rpm")),
                (Some("4"), Some("smart"), Some("litellm_params.model")),
            ]
        );
        assert!(skipped.iter().all(|e| e.level == Level::WARN));
        assert!(
            skipped[1]
                .field("reason")
                .unwrap()
                .contains("strategy-router marker")
        );
        let duplicate = find(
            &events,
            "modelroute::config",
            "duplicate model_list entry loaded once",
        );
        assert_eq!(duplicate.len(), 1);
        assert_eq!(duplicate[0].field("deployment"), Some("oa"));
        assert_eq!(duplicate[0].field("first_index"), Some("0"));
        assert_eq!(
            find(&events, "modelroute::config", "empty organization list").len(),
            1
        );
        let strategy = find(
            &events,
            "modelroute::config",
            "unsupported routing strategy replaced",
        );
        assert_eq!(strategy[0].field("value"), Some("fastest-first"));
        all.extend(events);

        let router = Router::builder()
            .config(config)
            .clock(clock.clone())
            .seed(3)
            .build()
            .unwrap();

        // A route decision, and the blocked deployment skipped.
        let route = router.route("gpt-4o", &ctx).unwrap();
        let first = route.id().to_string();
        let events = capture.take();
        let routed = find(&events, "modelroute::route", "routed");
        assert_eq!(routed.len(), 1);
        assert_eq!(routed[0].level, Level::DEBUG);
        assert_eq!(routed[0].field("model"), Some("gpt-4o"));
        assert_eq!(routed[0].field("deployment"), Some(first.as_str()));
        assert_eq!(routed[0].field("call"), Some(route.model()));
        assert!(
            routed[0]
                .field("reason")
                .unwrap()
                .contains("model `gpt-4o`")
        );
        let skipped = find(&events, "modelroute::route", "deployment skipped");
        assert_eq!(skipped.len(), 1);
        assert_eq!(skipped[0].field("deployment"), Some("blocked"));
        assert_eq!(skipped[0].field("why"), Some("blocked"));
        all.extend(events);

        // A failure starts a cooldown (allowed_fails 0); the next route skips the deployment.
        assert!(router.report(&route, Outcome::failure(FailureKind::Status(500))));
        let events = capture.take();
        let started = find(&events, "modelroute::health", "cooldown started");
        assert_eq!(started.len(), 1);
        assert_eq!(started[0].level, Level::WARN);
        assert_eq!(started[0].field("deployment"), Some(first.as_str()));
        assert_eq!(started[0].field("cooldown_secs"), Some("30.0"));
        assert_eq!(started[0].field("failure"), Some("InternalServerError"));
        assert_eq!(started[0].field("rule"), Some("router allowed_fails"));
        all.extend(events);
        let second = router.route("gpt-4o", &ctx).unwrap();
        assert_ne!(second.id().as_str(), first);
        let events = capture.take();
        let why: Vec<(Option<&str>, Option<&str>)> =
            find(&events, "modelroute::route", "deployment skipped")
                .iter()
                .map(|e| (e.field("deployment"), e.field("why")))
                .collect();
        assert!(
            why.contains(&(Some(first.as_str()), Some("cooling down"))),
            "{why:?}"
        );
        all.extend(events);

        // Both cooling down: nothing available, with the counts.
        assert!(router.report(&second, Outcome::failure(FailureKind::Timeout)));
        assert!(router.route("gpt-4o", &ctx).unwrap_err().is_unavailable());
        let events = capture.take();
        let none = find(&events, "modelroute::route", "no deployment available");
        assert_eq!(none.len(), 1);
        assert_eq!(none[0].level, Level::INFO);
        assert_eq!(none[0].field("group"), Some("gpt-4o"));
        assert_eq!(none[0].field("cooling_down"), Some("2"));
        assert_eq!(none[0].field("blocked"), Some("1"));
        all.extend(events);

        // After the cooldown, the first route to each deployment reports its end, once.
        clock.advance(Duration::from_secs(31));
        for _ in 0..50 {
            router.route("gpt-4o", &ctx).unwrap();
        }
        let events = capture.take();
        let mut ended: Vec<&str> = find(&events, "modelroute::health", "cooldown ended")
            .iter()
            .map(|e| e.field("deployment").unwrap())
            .collect();
        ended.sort();
        assert_eq!(ended, ["az", "oa"]);
        all.extend(events);

        // The provider retry shows in the reason; a name that resolves to nothing says what was tried.
        router.route("gpt-4o-mini", &ctx).unwrap();
        assert!(router.route("nope", &ctx).is_err());
        let events = capture.take();
        let routed = find(&events, "modelroute::route", "routed");
        assert!(
            routed[0]
                .field("reason")
                .unwrap()
                .contains("as `openai/gpt-4o-mini`")
        );
        let missing = find(&events, "modelroute::route", "no deployment");
        assert_eq!(missing[0].field("model"), Some("nope"));
        assert!(
            missing[0]
                .field("error")
                .unwrap()
                .contains("wildcards for `nope`")
        );
        all.extend(events);
    });

    assert!(all.len() >= 15, "{}", all.len());
    for event in &all {
        for (name, value) in &event.fields {
            assert!(!value.contains(SECRET), "secret in `{name}` of {event:?}");
        }
    }
}

#[test]
fn a_subscriber_sees_usage_limits_reached_and_what_they_keep_out() {
    let capture = Capture::default();
    let subscriber = tracing_subscriber::registry().with(capture.clone());
    let dep = |id: &str, params: serde_json::Value| {
        let mut litellm_params =
            json!({"model": format!("openai/{id}"), "api_key": "sk-SECRET-limits"});
        for (k, v) in params.as_object().unwrap() {
            litellm_params[k] = v.clone();
        }
        json!({"model_name": "g", "litellm_params": litellm_params, "model_info": {"id": id}})
    };
    let load = |strategy: &str, model_list: serde_json::Value| {
        let config = RouterConfig::from_json(
            &json!({"model_list": model_list, "router_settings": {"routing_strategy": strategy,
                "enable_pre_call_checks": true}})
            .to_string(),
        )
        .unwrap();
        Router::builder()
            .config(config)
            .clock(Arc::new(ManualClock::new()))
            .seed(3)
            .build()
            .unwrap()
    };
    let mut all = Vec::new();

    tracing::subscriber::with_default(subscriber, || {
        // usage-based-routing-v2 counts routes against rpm: the route that takes the last request says so.
        let router = load(
            "usage-based-routing-v2",
            json!([dep("a", json!({"rpm": 2})), dep("b", json!({"rpm": 1}))]),
        );
        for _ in 0..3 {
            router.route("g", &RequestContext::new()).unwrap();
        }
        let events = capture.take();
        let mut reached: Vec<[&str; 4]> = find(&events, "modelroute::usage", "usage limit reached")
            .iter()
            .map(|e| {
                assert_eq!(e.level, Level::INFO);
                ["deployment", "limit", "used", "max"].map(|name| e.field(name).unwrap_or("-"))
            })
            .collect();
        reached.sort();
        // `b`'s route also took its one slot while in flight (`max_parallel_requests` defaults to `rpm`).
        assert_eq!(
            reached,
            [
                ["a", "rpm", "2", "2"],
                ["b", "max_parallel_requests", "1", "1"],
                ["b", "rpm", "1", "1"],
            ]
        );
        all.extend(events);
        // Both at their limit: nothing available, with the count of deployments at a limit.
        let err = router.route("g", &RequestContext::new()).unwrap_err();
        assert!(err.is_rate_limited());
        let events = capture.take();
        let none = find(&events, "modelroute::route", "no deployment available");
        assert_eq!(none[0].field("limited"), Some("2"));
        all.extend(events);

        // usage-based-routing counts successes and tokens: the report that reaches tpm says so, once; the
        // next route skips the deployment at its limit, and says why.
        let router = load(
            "usage-based-routing",
            json!([
                dep("a", json!({"tpm": 100})),
                dep("b", json!({})),
                dep("small", json!({}))
            ]),
        );
        let tokens = |n| Outcome::success(Duration::from_millis(10)).with_usage(Usage::new(n, 0));
        router.report_id(&"a".into(), tokens(60)).unwrap();
        router.report_id(&"b".into(), tokens(500)).unwrap();
        router.report_id(&"small".into(), tokens(500)).unwrap();
        assert!(find(&capture.take(), "modelroute::usage", "usage limit reached").is_empty());
        router.report_id(&"a".into(), tokens(40)).unwrap();
        router.report_id(&"a".into(), tokens(1)).unwrap();
        let events = capture.take();
        let reached = find(&events, "modelroute::usage", "usage limit reached");
        assert_eq!(reached.len(), 1, "{reached:?}");
        assert_eq!(reached[0].field("deployment"), Some("a"));
        assert_eq!(reached[0].field("limit"), Some("tpm"));
        assert_eq!(reached[0].field("used"), Some("100"));
        all.extend(events);
        router.route("g", &RequestContext::new()).unwrap();
        let events = capture.take();
        let why: Vec<(Option<&str>, Option<&str>)> =
            find(&events, "modelroute::route", "deployment skipped")
                .iter()
                .map(|e| (e.field("deployment"), e.field("why")))
                .collect();
        assert!(
            why.contains(&(Some("a"), Some("at a usage limit"))),
            "{why:?}"
        );
        all.extend(events);

        // max_parallel_requests: the route that takes the last slot says so.
        let router = load(
            "simple-shuffle",
            json!([dep("p", json!({"max_parallel_requests": 1}))]),
        );
        let held = router.route("g", &RequestContext::new()).unwrap();
        let events = capture.take();
        let reached = find(&events, "modelroute::usage", "usage limit reached");
        assert_eq!(reached[0].field("limit"), Some("max_parallel_requests"));
        assert_eq!(reached[0].field("used"), Some("1"));
        all.extend(events);
        drop(held);
    });

    for event in &all {
        for (name, value) in &event.fields {
            assert!(!value.contains(SECRET), "secret in `{name}` of {event:?}");
        }
    }
}
