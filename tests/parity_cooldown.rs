//! Differential tests: LiteLLM 1.109.1's own `Router` and modelroute's `Router` run the same scenarios (same
//! config, same sequence of answers at the same times) and must decide the same: which deployments are
//! eligible before each call, which class each failure is (from the HTTP status and body LiteLLM's own client
//! received), which deployments are cooling down after each step and for how long, what tag filtering and
//! pre-call checks leave, and when nothing is left.
//!
//! LiteLLM's side is `tests/litellm/cooldown_parity.py` (see its docs for what is real and what is steered),
//! run once for every scenario of this file, with the venv the harness installs (`tests/support/litellm.rs`).
//! modelroute's side builds its router from the same config (`router_settings` = the scenario's router
//! arguments), classifies each answer with `FailureKind::classify_for` and reports it with `report_id`, with a
//! `ManualClock` at the step's time.
//!
//! `MODELROUTE_PARITY_DUMP=<file>` writes the scenarios given to LiteLLM to that file, to rerun its side by hand.

mod support;

use std::collections::{BTreeMap, HashMap};
use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::sync::{Arc, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use modelroute::config::RouterConfig;
use modelroute::router::{CandidateStatus, FailureKind, Outcome, RequestContext};
use modelroute::{ManualClock, Router};
use serde_json::{Value, json};

/// How long LiteLLM may take for every scenario (its import alone takes 3-20 s on a busy machine).
const PYTHON_TIMEOUT: Duration = Duration::from_secs(600);

/// One scenario: LiteLLM `Router` arguments (= `router_settings`), a `model_list`, and steps.
struct Scenario {
    name: &'static str,
    router: Value,
    model_list: Value,
    steps: Vec<Value>,
}

fn dep(group: &str, id: &str) -> Value {
    json!({"model_name": group, "litellm_params": {"model": format!("openai/{id}")}, "model_info": {"id": id}})
}

fn with(mut d: Value, section: &str, key: &str, value: Value) -> Value {
    d[section][key] = value;
    d
}

fn call(at: f64, model: &str, deployment: &str, answer: Value) -> Value {
    json!({"at": at, "call": {"model": model, "deployment": deployment, "answer": answer}})
}

fn route(at: f64, model: &str) -> Value {
    json!({"at": at, "route": {"model": model}})
}

fn tagged(mut step: Value, tags: &[&str]) -> Value {
    let kind = if step.get("call").is_some() {
        "call"
    } else {
        "route"
    };
    step[kind]["tags"] = json!(tags);
    step
}

fn tokens(mut step: Value, n: u64) -> Value {
    let kind = if step.get("call").is_some() {
        "call"
    } else {
        "route"
    };
    step[kind]["input_tokens"] = json!(n);
    step
}

fn ok() -> Value {
    json!("success")
}

/// An OpenAI-style error answer.
fn fail(status: u16, message: &str) -> Value {
    json!({"status": status, "body": json!({"error": {"message": message, "type": "api_error"}}).to_string()})
}

fn raw(status: u16, body: &str) -> Value {
    json!({"status": status, "body": body})
}

fn scenario(
    name: &'static str,
    router: Value,
    model_list: Vec<Value>,
    steps: Vec<Value>,
) -> Scenario {
    Scenario {
        name,
        router,
        model_list: Value::Array(model_list),
        steps,
    }
}

/// Every scenario, by name.
fn scenarios() -> Vec<Scenario> {
    let g2 = || vec![dep("g", "a"), dep("g", "b")];
    let mut out = vec![
        // --- LiteLLM's default rule (no allowed_fails, no allowed_fails_policy) ---
        scenario(
            "default_429",
            json!({}),
            vec![dep("g", "a"), dep("g", "b"), dep("solo", "s")],
            vec![
                call(0.0, "g", "a", fail(429, "slow down")),
                route(1.0, "g"),
                call(2.0, "solo", "s", fail(429, "slow down")),
                route(3.0, "solo"),
                route(5.5, "g"),
            ],
        ),
        scenario(
            "default_share",
            json!({}),
            g2(),
            vec![
                call(0.0, "g", "a", ok()),
                call(1.0, "g", "a", ok()),
                call(2.0, "g", "a", ok()),
                call(3.0, "g", "a", fail(500, "boom")),
                call(4.0, "g", "a", fail(503, "down")),
                // 3 of 6 failed: 50% is not above the threshold.
                call(5.0, "g", "a", fail(500, "boom")),
                // 4 of 7.
                call(6.0, "g", "a", fail(502, "bad gateway")),
                route(7.0, "g"),
            ],
        ),
        scenario(
            "default_share_needs_five_requests",
            json!({}),
            g2(),
            vec![
                call(0.0, "g", "a", fail(500, "boom")),
                call(1.0, "g", "a", fail(500, "boom")),
                call(2.0, "g", "a", fail(500, "boom")),
                call(3.0, "g", "a", fail(500, "boom")),
                route(4.0, "g"),
                call(5.0, "g", "a", fail(500, "boom")),
                route(6.0, "g"),
            ],
        ),
        scenario(
            "default_minute_window",
            json!({}),
            vec![
                dep("g", "a"),
                dep("g", "b"),
                dep("h", "c"),
                dep("h", "d"),
                dep("k", "e"),
                dep("k", "f"),
            ],
            vec![
                // g: the successes' minute (0-60) ends before the failures' (30-90).
                call(0.0, "g", "a", ok()),
                call(10.0, "g", "a", ok()),
                call(20.0, "g", "a", ok()),
                call(30.0, "g", "a", fail(500, "boom")),
                call(40.0, "g", "a", fail(500, "boom")),
                call(61.0, "g", "a", fail(500, "boom")),
                call(62.0, "g", "a", fail(500, "boom")),
                route(62.5, "g"),
                call(63.0, "g", "a", fail(500, "boom")),
                route(64.0, "g"),
                // h: four failures, then the minute is over.
                call(100.0, "h", "c", fail(500, "boom")),
                call(110.0, "h", "c", fail(500, "boom")),
                call(120.0, "h", "c", fail(500, "boom")),
                call(130.0, "h", "c", fail(500, "boom")),
                call(161.0, "h", "c", fail(500, "boom")),
                route(162.0, "h"),
                // k: a failure at the very end of the minute still counts in it.
                call(200.0, "k", "e", fail(500, "boom")),
                call(215.0, "k", "e", fail(500, "boom")),
                call(230.0, "k", "e", fail(500, "boom")),
                call(245.0, "k", "e", fail(500, "boom")),
                call(260.0, "k", "e", fail(500, "boom")),
                route(261.0, "k"),
            ],
        ),
        scenario(
            "default_request_faults_count_in_the_share",
            json!({}),
            g2(),
            vec![
                call(0.0, "g", "a", fail(400, "bad")),
                call(1.0, "g", "a", fail(422, "unprocessable")),
                call(
                    2.0,
                    "g",
                    "a",
                    fail(400, "This model's maximum context length is 10 tokens"),
                ),
                call(3.0, "g", "a", json!("connection")),
                route(4.0, "g"),
                call(5.0, "g", "a", fail(500, "boom")),
                route(6.0, "g"),
            ],
        ),
        scenario(
            "default_not_retryable_cools_at_once",
            json!({}),
            vec![
                dep("solo401", "s1"),
                dep("solo404", "s2"),
                dep("solo402", "s3"),
                dep("g", "a"),
                dep("g", "b"),
                dep("solo403", "s4"),
            ],
            vec![
                call(0.0, "solo401", "s1", fail(401, "invalid key")),
                call(0.0, "solo404", "s2", fail(404, "no such model")),
                call(0.0, "solo402", "s3", fail(402, "pay up")),
                call(0.0, "g", "a", fail(402, "pay up")),
                call(0.0, "solo403", "s4", fail(403, "forbidden")),
                call(1.0, "g", "b", json!("timeout")),
            ],
        ),
        scenario(
            "cooldown_times",
            json!({"cooldown_time": 30}),
            vec![
                dep("g", "a"),
                with(dep("g", "b"), "model_info", "cooldown_time", json!(2)),
                with(dep("g", "c"), "litellm_params", "cooldown_time", json!(7.5)),
                with(dep("g", "d"), "model_info", "cooldown_time", json!(0)),
                with(
                    with(dep("g", "e"), "model_info", "cooldown_time", json!(3)),
                    "litellm_params",
                    "cooldown_time",
                    json!(9),
                ),
            ],
            vec![
                call(0.0, "g", "a", fail(429, "slow")),
                call(0.0, "g", "b", fail(429, "slow")),
                call(0.0, "g", "c", fail(429, "slow")),
                call(0.0, "g", "d", fail(429, "slow")),
                call(0.0, "g", "e", fail(429, "slow")),
                route(1.0, "g"),
                route(2.5, "g"),
                route(8.0, "g"),
            ],
        ),
        scenario(
            "disable_cooldowns",
            json!({"disable_cooldowns": true}),
            g2(),
            vec![
                call(0.0, "g", "a", fail(429, "slow")),
                call(1.0, "g", "a", fail(401, "key")),
                route(2.0, "g"),
            ],
        ),
        scenario(
            "wildcards_never_cool",
            json!({"allowed_fails": 0}),
            vec![
                json!({"model_name": "openai/*", "litellm_params": {"model": "openai/*"}, "model_info": {"id": "w"}}),
                json!({"model_name": "openai/*", "litellm_params": {"model": "openai/*"}, "model_info": {"id": "w2"}}),
            ],
            vec![
                call(0.0, "openai/gpt-x", "w", fail(404, "no such model")),
                call(1.0, "openai/gpt-x", "w", fail(429, "slow")),
                route(2.0, "openai/gpt-y"),
            ],
        ),
        // --- allowed_fails ---
        scenario(
            "allowed_fails",
            json!({"allowed_fails": 1, "cooldown_time": 10}),
            g2(),
            vec![
                call(0.0, "g", "a", fail(500, "boom")),
                call(5.0, "g", "a", fail(429, "slow")),
                route(6.0, "g"),
                // The counter lives 10 s from the first failure (0): b's failures at 11 and 22 do not add up.
                call(11.0, "g", "b", fail(500, "boom")),
                call(22.0, "g", "b", fail(500, "boom")),
                route(23.0, "g"),
                call(24.0, "g", "b", fail(503, "down")),
                route(25.0, "g"),
            ],
        ),
        scenario(
            "allowed_fails_spares_a_lone_deployment",
            json!({"allowed_fails": 0}),
            vec![dep("solo", "s"), dep("h", "f")],
            vec![
                call(0.0, "solo", "s", fail(500, "boom")),
                call(1.0, "solo", "s", fail(401, "key")),
                call(2.0, "solo", "s", fail(429, "slow")),
                route(3.0, "solo"),
            ],
        ),
        scenario(
            "allowed_fails_with_fallbacks_cools_a_single_deployment",
            json!({"allowed_fails": 0, "fallbacks": [{"solo": ["h"]}]}),
            vec![dep("solo", "s"), dep("h", "f"), dep("other", "o")],
            vec![
                call(0.0, "solo", "s", fail(500, "boom")),
                call(1.0, "other", "o", fail(500, "boom")),
            ],
        ),
        scenario(
            "default_fallbacks_make_no_deployment_lone",
            json!({"allowed_fails": 0, "default_fallbacks": ["h"]}),
            vec![dep("solo", "s"), dep("h", "f")],
            vec![call(0.0, "solo", "s", fail(500, "boom"))],
        ),
        // --- allowed_fails_policy (router) ---
        scenario(
            "router_policy",
            json!({"allowed_fails_policy": {"RateLimitErrorAllowedFails": 2, "BadRequestErrorAllowedFails": 0, "TimeoutErrorAllowedFails": 0}, "cooldown_time": 20}),
            vec![dep("g", "a"), dep("g", "b"), dep("g", "c")],
            vec![
                call(0.0, "g", "a", fail(429, "slow")),
                call(1.0, "g", "a", fail(429, "slow")),
                route(2.0, "g"),
                call(3.0, "g", "a", fail(429, "slow")),
                route(4.0, "g"),
                // A router policy entry does not make a 400 cool a deployment down.
                call(5.0, "g", "b", fail(400, "bad")),
                call(
                    6.0,
                    "g",
                    "b",
                    fail(400, "This model's maximum context length is 5"),
                ),
                // A class without an entry: allowed_fails (LiteLLM's 3).
                call(7.0, "g", "b", fail(500, "boom")),
                call(8.0, "g", "b", fail(500, "boom")),
                call(9.0, "g", "b", fail(500, "boom")),
                route(10.0, "g"),
                call(11.0, "g", "b", fail(500, "boom")),
                route(12.0, "g"),
                call(13.0, "g", "c", json!("timeout")),
                route(14.0, "g"),
            ],
        ),
        scenario(
            "router_policy_and_lone_deployments",
            json!({"allowed_fails_policy": {"RateLimitErrorAllowedFails": 0}}),
            vec![dep("solo", "s"), dep("solo2", "t")],
            vec![
                call(0.0, "solo2", "t", fail(500, "boom")),
                call(0.0, "solo2", "t", fail(500, "boom")),
                call(0.0, "solo2", "t", fail(500, "boom")),
                call(0.0, "solo2", "t", fail(500, "boom")),
                call(1.0, "solo", "s", fail(429, "slow")),
            ],
        ),
        // --- per-deployment allowed_fails / allowed_fails_policy (model_info) ---
        scenario(
            "deployment_policy",
            json!({"cooldown_time": 10}),
            vec![
                with(
                    dep("g", "a"),
                    "model_info",
                    "allowed_fails_policy",
                    json!({"BadRequestErrorAllowedFails": 1, "RateLimitErrorAllowedFails": 0}),
                ),
                with(dep("g", "b"), "model_info", "allowed_fails", json!(2)),
                dep("g", "c"),
            ],
            vec![
                // A deployment's own policy entry makes a 400 count; each class its own counter.
                call(0.0, "g", "a", fail(400, "bad")),
                call(
                    1.0,
                    "g",
                    "a",
                    fail(400, "This model's maximum context length is 5"),
                ),
                route(2.0, "g"),
                call(3.0, "g", "a", fail(400, "bad")),
                route(4.0, "g"),
                call(15.0, "g", "a", fail(429, "slow")),
                route(16.0, "g"),
                call(30.0, "g", "b", fail(429, "slow")),
                call(31.0, "g", "b", fail(500, "boom")),
                route(32.0, "g"),
                call(33.0, "g", "b", fail(500, "boom")),
                route(34.0, "g"),
            ],
        ),
        scenario(
            "deployment_policy_on_a_lone_deployment",
            json!({}),
            vec![
                with(
                    dep("s1", "p"),
                    "model_info",
                    "allowed_fails_policy",
                    json!({"InternalServerErrorAllowedFails": 0}),
                ),
                with(dep("s2", "q"), "model_info", "allowed_fails", json!(0)),
                with(
                    dep("s3", "r"),
                    "model_info",
                    "allowed_fails_policy",
                    json!({"RateLimitErrorAllowedFails": 0}),
                ),
            ],
            vec![
                call(0.0, "s1", "p", fail(500, "boom")),
                call(0.0, "s2", "q", fail(500, "boom")),
                call(0.0, "s2", "q", fail(401, "key")),
                call(0.0, "s3", "r", fail(500, "boom")),
                call(0.0, "s3", "r", fail(401, "key")),
            ],
        ),
        // --- pre-call checks ---
        scenario(
            "pre_call_checks",
            json!({"enable_pre_call_checks": true, "allowed_fails": 0}),
            vec![
                with(
                    dep("g", "small"),
                    "model_info",
                    "max_input_tokens",
                    json!(100),
                ),
                with(
                    dep("g", "large"),
                    "model_info",
                    "max_input_tokens",
                    json!(1000),
                ),
                dep("g", "unknown"),
                with(dep("h", "h1"), "model_info", "max_input_tokens", json!(100)),
                with(dep("h", "h2"), "model_info", "max_input_tokens", json!(200)),
            ],
            vec![
                tokens(route(0.0, "g"), 50),
                tokens(route(0.0, "g"), 100),
                tokens(route(0.0, "g"), 101),
                tokens(route(0.0, "g"), 5000),
                route(0.0, "g"),
                tokens(route(0.0, "h"), 201),
                tokens(route(0.0, "h"), 150),
                tokens(call(1.0, "h", "h2", fail(500, "boom")), 150),
                // h2 cooling: h1 alone is too small.
                tokens(route(2.0, "h"), 150),
                tokens(route(2.0, "h"), 90),
            ],
        ),
        scenario(
            "pre_call_checks_off",
            json!({}),
            vec![with(
                dep("g", "small"),
                "model_info",
                "max_input_tokens",
                json!(100),
            )],
            vec![tokens(route(0.0, "g"), 5000)],
        ),
        // --- tags ---
        scenario(
            "tags_match_any",
            json!({"enable_tag_filtering": true, "allowed_fails": 0}),
            vec![
                with(
                    dep("g", "eu"),
                    "litellm_params",
                    "tags",
                    json!(["eu", "fast"]),
                ),
                with(dep("g", "us"), "litellm_params", "tags", json!(["us"])),
                with(
                    dep("g", "def"),
                    "litellm_params",
                    "tags",
                    json!(["default"]),
                ),
                dep("g", "plain"),
            ],
            vec![
                tagged(route(0.0, "g"), &["eu"]),
                tagged(route(0.0, "g"), &["eu", "us"]),
                tagged(route(0.0, "g"), &["asia"]),
                route(0.0, "g"),
                tagged(route(0.0, "g"), &["!eu"]),
                tagged(route(0.0, "g"), &["&fast"]),
                tagged(route(0.0, "g"), &["us", "!us"]),
                tagged(route(0.0, "g"), &["&nothing"]),
                tagged(call(1.0, "g", "us", fail(500, "boom")), &["us"]),
                // "us" is known to the group but cooling: no default substitute.
                tagged(route(2.0, "g"), &["us"]),
                tagged(route(2.0, "g"), &["asia", "us"]),
            ],
        ),
        scenario(
            "tags_match_all",
            json!({"enable_tag_filtering": true, "tag_filtering_match_any": false}),
            vec![
                with(
                    dep("g", "eu"),
                    "litellm_params",
                    "tags",
                    json!(["eu", "fast"]),
                ),
                with(dep("g", "eu2"), "litellm_params", "tags", json!(["eu"])),
                with(
                    dep("g", "def"),
                    "litellm_params",
                    "tags",
                    json!(["default"]),
                ),
            ],
            vec![
                tagged(route(0.0, "g"), &["eu", "fast"]),
                tagged(route(0.0, "g"), &["eu"]),
                tagged(route(0.0, "g"), &["eu", "slow"]),
                tagged(route(0.0, "g"), &["asia"]),
                route(0.0, "g"),
            ],
        ),
        scenario(
            "tags_untagged_without_defaults_and_fail_open",
            json!({"enable_tag_filtering": true}),
            vec![
                with(dep("g", "eu"), "litellm_params", "tags", json!(["eu"])),
                dep("g", "plain"),
                with(
                    with(dep("k", "k1"), "litellm_params", "tags", json!(["eu"])),
                    "model_info",
                    "allow_fail_open",
                    json!(true),
                ),
                dep("k", "k2"),
            ],
            vec![
                route(0.0, "g"),
                tagged(route(0.0, "g"), &["asia"]),
                tagged(route(0.0, "k"), &["asia"]),
                tagged(route(0.0, "k"), &["&asia"]),
                tagged(route(0.0, "k"), &["&asia", "&eu"]),
            ],
        ),
        scenario(
            "tags_per_group_switch",
            json!({}),
            vec![
                with(
                    with(dep("g", "eu"), "litellm_params", "tags", json!(["eu"])),
                    "model_info",
                    "enable_tag_filtering",
                    json!(true),
                ),
                with(dep("g", "us"), "litellm_params", "tags", json!(["us"])),
                with(dep("h", "h1"), "litellm_params", "tags", json!(["eu"])),
                with(dep("h", "h2"), "litellm_params", "tags", json!(["us"])),
            ],
            vec![
                tagged(route(0.0, "g"), &["eu"]),
                tagged(route(0.0, "h"), &["eu"]),
            ],
        ),
    ];
    out.push(classification());
    out.extend((0..6).map(random_cooldowns));
    out.extend((0..4).map(random_tags));
    out
}

/// A small deterministic generator for the random scenarios (SplitMix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<T: Clone>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())].clone()
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    fn shuffled(&mut self, items: &[&str]) -> Vec<String> {
        let mut v: Vec<String> = items.iter().map(|s| s.to_string()).collect();
        for i in (1..v.len()).rev() {
            v.swap(i, self.below(i + 1));
        }
        v
    }
}

const NAMES: [&str; 16] = [
    "random_cooldowns_0",
    "random_cooldowns_1",
    "random_cooldowns_2",
    "random_cooldowns_3",
    "random_cooldowns_4",
    "random_cooldowns_5",
    "random_tags_0",
    "random_tags_1",
    "random_tags_2",
    "random_tags_3",
    "",
    "",
    "",
    "",
    "",
    "",
];

/// 80 calls at random times with random answers on a group of three and a single deployment, under one family
/// of settings per `k`: LiteLLM's default rule, `allowed_fails`, a router policy, deployment policies, fallbacks,
/// per-deployment cooldown times.
fn random_cooldowns(k: usize) -> Scenario {
    let mut rng = Rng(0x5eed_0000 + k as u64);
    let mut deployments = vec![
        dep("g", "a"),
        dep("g", "b"),
        dep("g", "c"),
        dep("solo", "s"),
    ];
    let policy_keys = [
        "RateLimitErrorAllowedFails",
        "InternalServerErrorAllowedFails",
        "BadRequestErrorAllowedFails",
        "AuthenticationErrorAllowedFails",
        "TimeoutErrorAllowedFails",
        "ServiceUnavailableErrorAllowedFails",
        "NotFoundErrorAllowedFails",
    ];
    let random_policy = |rng: &mut Rng| {
        let mut policy = serde_json::Map::new();
        for key in policy_keys {
            if rng.chance(50) {
                policy.insert(key.into(), json!(rng.below(3)));
            }
        }
        Value::Object(policy)
    };
    let router = match k {
        0 => json!({}),
        1 => json!({"allowed_fails": 1, "cooldown_time": 10}),
        2 => json!({"allowed_fails_policy": random_policy(&mut rng), "cooldown_time": 8}),
        3 => {
            for d in deployments.iter_mut() {
                if rng.chance(60) {
                    d["model_info"]["allowed_fails_policy"] = random_policy(&mut rng);
                }
                if rng.chance(40) {
                    d["model_info"]["allowed_fails"] = json!(rng.below(3));
                }
            }
            json!({"cooldown_time": 6})
        }
        4 => json!({"fallbacks": [{"solo": ["g"]}]}),
        _ => {
            for d in deployments.iter_mut() {
                let (section, value) = rng.pick(&[
                    ("model_info", json!(3)),
                    ("litellm_params", json!(12.5)),
                    ("model_info", json!(1.5)),
                    ("model_info", json!(0)),
                    ("none", Value::Null),
                    ("none", Value::Null),
                ]);
                if section != "none" {
                    d[section]["cooldown_time"] = value;
                }
            }
            json!({"allowed_fails": 1, "cooldown_time": 4})
        }
    };
    let answers = [
        ok(),
        ok(),
        ok(),
        fail(500, "boom"),
        fail(503, "down"),
        fail(429, "slow down"),
        fail(400, "bad"),
        fail(400, "This model's maximum context length is 5 tokens"),
        fail(401, "key"),
        fail(404, "gone"),
        fail(402, "pay"),
        json!("timeout"),
        json!("connection"),
    ];
    let mut steps = Vec::new();
    let mut at = 0.0;
    // Up to 8 s between calls (1 s with the short cooldown times of the last family).
    let gap = if k == 5 { 3 } else { 17 };
    for _ in 0..80 {
        at += rng.below(gap) as f64 / 2.0;
        let answer = rng.pick(&answers);
        if rng.chance(75) {
            let order = rng.shuffled(&["a", "b", "c"]);
            steps.push(
                json!({"at": at, "call": {"model": "g", "deployment": order, "answer": answer}}),
            );
        } else {
            steps.push(
                json!({"at": at, "call": {"model": "solo", "deployment": ["s"], "answer": answer}}),
            );
        }
    }
    scenario(NAMES[k], router, deployments, steps)
}

/// Random tags, context windows and fail-open on a group of six, cooled down at random, then 40 random
/// requests (tags with `!` and `&`, input tokens).
fn random_tags(k: usize) -> Scenario {
    let mut rng = Rng(0x7a95_0000 + k as u64);
    let ids = ["d0", "d1", "d2", "d3", "d4", "d5"];
    let vocabulary = ["x", "y", "z", "default"];
    let mut deployments = Vec::new();
    for id in ids {
        let mut d = dep("g", id);
        let tags: Vec<&str> = vocabulary
            .iter()
            .copied()
            .filter(|_| rng.chance(35))
            .collect();
        if !tags.is_empty() || rng.chance(50) {
            d["litellm_params"]["tags"] = json!(tags);
        }
        if rng.chance(60) {
            d["model_info"]["max_input_tokens"] = json!(rng.pick(&[100, 1000]));
        }
        if k >= 2 && rng.chance(25) {
            d["model_info"]["allow_fail_open"] = json!(true);
        }
        deployments.push(d);
    }
    let router = json!({
        "enable_tag_filtering": true,
        "tag_filtering_match_any": k.is_multiple_of(2),
        "enable_pre_call_checks": true,
        "allowed_fails": 0,
        "cooldown_time": 1000,
    });
    let mut steps = Vec::new();
    for _ in 0..2 {
        let order = rng.shuffled(&ids);
        steps.push(json!({"at": 0.0, "call": {"model": "g", "deployment": order, "answer": fail(500, "boom")}}));
    }
    let request_tags = ["x", "y", "z", "w", "default", "!x", "!y", "&x", "&z", "&w"];
    for _ in 0..40 {
        let n = rng.below(4);
        let tags: Vec<&str> = (0..n).map(|_| rng.pick(&request_tags)).collect();
        let mut step = tagged(route(1.0, "g"), &tags);
        if let Some(t) = rng.pick(&[None, None, Some(50), Some(500), Some(5000)]) {
            step = tokens(step, t);
        }
        steps.push(step);
    }
    scenario(NAMES[6 + k], router, deployments, steps)
}

/// Answers of every class, on OpenAI, Azure and LiteLLM-proxy deployments, with cooldowns off: what class
/// LiteLLM's own client and exception mapping make of each.
fn classification() -> Scenario {
    let deployments = vec![
        json!({"model_name": "o", "litellm_params": {"model": "openai/o"}, "model_info": {"id": "o"}}),
        json!({"model_name": "z", "litellm_params": {"model": "azure/z"}, "model_info": {"id": "z"}}),
        json!({"model_name": "p", "litellm_params": {"model": "litellm_proxy/p"}, "model_info": {"id": "p"}}),
    ];
    let answers = [
        fail(400, "bad request"),
        fail(
            400,
            "This model's maximum context length is 8192 tokens. However, your messages resulted in 9000 tokens.",
        ),
        raw(
            400,
            r#"{"error": {"message": "x", "type": "invalid_request_error", "code": "context_length_exceeded"}}"#,
        ),
        fail(
            400,
            "Your request was rejected as a result of the safety system.",
        ),
        fail(
            400,
            "Invalid prompt: your prompt was flagged as potentially violating our usage policy.",
        ),
        raw(
            400,
            r#"{"error": {"message": "blocked", "code": "cyber_policy"}}"#,
        ),
        fail(400, "rate limit exceeded for tokens"),
        fail(400, "Request too large for gpt-4o"),
        fail(500, "Rate-limit reached"),
        fail(401, "Incorrect API key provided"),
        fail(403, "forbidden"),
        fail(404, "The model `x` does not exist"),
        fail(408, "too slow"),
        fail(409, "conflict"),
        fail(418, "teapot"),
        fail(422, "unprocessable"),
        fail(429, "slow down"),
        fail(500, "The server had an error processing your request."),
        fail(500, "Internal server error"),
        fail(502, "bad gateway"),
        fail(503, "overloaded"),
        fail(504, "gateway timeout"),
        fail(500, "Request timed out."),
        raw(500, "<html>plain text</html>"),
        raw(503, r#"{"error": "a string"}"#),
        raw(
            400,
            r#"{"message": "Input tokens exceed the configured limit of 100"}"#,
        ),
        raw(
            400,
            r#"{"error": {"code": "content_filter", "message": "The response was filtered due to the prompt triggering Azure OpenAI's content management policy.", "innererror": {"code": "ResponsibleAIPolicyViolation"}}}"#,
        ),
        raw(
            400,
            r#"{"error": {"code": "invalid_request_error", "message": "m", "inner_error": {"code": "ResponsibleAIPolicyViolation"}}}"#,
        ),
        fail(404, "DeploymentNotFound: the deployment does not exist"),
        fail(400, "litellm.ContextWindowExceededError: prompt too long"),
        fail(429, "litellm.RateLimitError: slow down"),
        fail(500, "litellm.ServiceUnavailableError: try later"),
        fail(400, "litellm.ContentPolicyViolationError: no"),
        fail(400, "litellm.NoSuchThingError: x"),
    ];
    let mut steps = Vec::new();
    for answer in answers {
        for id in ["o", "z", "p"] {
            steps.push(call(0.0, id, id, answer.clone()));
        }
    }
    for id in ["o", "z", "p"] {
        steps.push(call(0.0, id, id, json!("timeout")));
        steps.push(call(0.0, id, id, json!("connection")));
    }
    scenario(
        "classification",
        json!({"disable_cooldowns": true}),
        deployments,
        steps,
    )
}

/// LiteLLM's decisions for every scenario, by name (one Python process for all).
fn litellm() -> &'static HashMap<&'static str, Vec<Value>> {
    static RESULTS: OnceLock<HashMap<&'static str, Vec<Value>>> = OnceLock::new();
    RESULTS.get_or_init(|| {
        let all = scenarios();
        let input = json!({"scenarios": all.iter().map(|s| json!({
            "router": s.router, "model_list": s.model_list, "steps": s.steps,
        })).collect::<Vec<_>>()});
        if let Ok(path) = std::env::var("MODELROUTE_PARITY_DUMP") {
            // To rerun LiteLLM's side by hand: python tests/litellm/cooldown_parity.py < $path
            std::fs::write(&path, input.to_string()).expect("write MODELROUTE_PARITY_DUMP");
        }
        let output = run_python(&input.to_string());
        let results: Vec<Vec<Value>> = serde_json::from_str(&output)
            .unwrap_or_else(|e| panic!("cooldown_parity.py printed no JSON ({e}):\n{output}"));
        all.iter().map(|s| s.name).zip(results).collect()
    })
}

/// Runs tests/litellm/cooldown_parity.py with `input` on stdin; stopped by its PID after PYTHON_TIMEOUT.
fn run_python(input: &str) -> String {
    let venv = support::litellm::ensure_installed();
    let script = support::litellm::litellm_dir().join("cooldown_parity.py");
    let mut child = Command::new(venv.join("bin/python"))
        .arg(&script)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the venv's python");
    let mut stdin = child.stdin.take().expect("stdin");
    let input = input.to_string();
    let writer = thread::spawn(move || stdin.write_all(input.as_bytes()));
    let mut stdout = child.stdout.take().expect("stdout");
    let mut stderr = child.stderr.take().expect("stderr");
    let reader = thread::spawn(move || {
        let mut out = String::new();
        stdout.read_to_string(&mut out).map(|_| out)
    });
    let err_reader = thread::spawn(move || {
        let mut err = String::new();
        let _ = stderr.read_to_string(&mut err);
        err
    });
    let deadline = Instant::now() + PYTHON_TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for python") {
            break status;
        }
        if Instant::now() > deadline {
            // Stop exactly the process this test started.
            let _ = Command::new("kill")
                .args(["-9", &child.id().to_string()])
                .status();
            let _ = child.wait();
            panic!("cooldown_parity.py took more than {PYTHON_TIMEOUT:?}");
        }
        thread::sleep(Duration::from_millis(50));
    };
    writer.join().unwrap().expect("write the scenarios");
    let out = reader.join().unwrap().expect("read the decisions");
    let err = err_reader.join().unwrap();
    assert!(
        status.success(),
        "cooldown_parity.py failed: {status}\n{err}"
    );
    out
}

/// What a status does in LiteLLM's cooldown rules: (can cool down, retryable, 429, 402).
fn behaviour(status: u16) -> (bool, bool, bool, bool) {
    let required = match status {
        429 | 401 | 402 | 408 | 404 => true,
        400..=499 => false,
        _ => true,
    };
    (
        required,
        matches!(status, 408 | 409 | 429 | 500..),
        status == 429,
        status == 402,
    )
}

fn provider(model_list: &Value, id: &str) -> String {
    model_list
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["model_info"]["id"] == id)
        .and_then(|d| d["litellm_params"]["model"].as_str())
        .and_then(|m| m.split_once('/'))
        .map(|(p, _)| p.to_string())
        .unwrap_or_default()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// modelroute's decisions for a scenario, in the form the Python driver prints them.
fn modelroute(s: &Scenario) -> Vec<Value> {
    let config = json!({"model_list": s.model_list, "router_settings": s.router});
    let config = RouterConfig::from_json(&config.to_string()).expect("the scenario's config loads");
    let clock = Arc::new(ManualClock::new());
    let router = Router::builder()
        .config(config)
        .clock(clock.clone())
        .seed(7)
        .build()
        .unwrap();
    let ids: Vec<String> = s
        .model_list
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["model_info"]["id"].as_str().unwrap().to_string())
        .collect();
    let mut now_ns: u64 = 0;
    let mut out = Vec::new();
    for step in &s.steps {
        let at_ns = (step["at"].as_f64().unwrap() * 1e9).round() as u64;
        clock.advance(Duration::from_nanos(at_ns - now_ns));
        now_ns = at_ns;
        let body = step.get("call").or_else(|| step.get("route")).unwrap();
        let tags = strings(&body["tags"]);
        let tags: Vec<&str> = tags.iter().map(String::as_str).collect();
        let mut ctx = RequestContext::new().with_tags(&tags);
        if let Some(n) = body["input_tokens"].as_u64() {
            ctx = ctx.with_input_tokens(n);
        }
        let model = body["model"].as_str().unwrap();
        let eligible = || -> Result<Vec<String>, &'static str> {
            match router.route(model, &ctx) {
                Ok(_) => {}
                Err(e) if e.is_context_window_exceeded() => return Err("context_window"),
                Err(_) => return Err("unavailable"),
            }
            let mut ids: Vec<String> = router
                .explain(model, &ctx)
                .unwrap()
                .candidates
                .into_iter()
                .filter(|c| c.availability == CandidateStatus::Available)
                .map(|c| c.deployment.id().to_string())
                .collect();
            ids.sort();
            Ok(ids)
        };
        let mut result = serde_json::Map::new();
        if step.get("call").is_some() {
            let wanted = match &body["deployment"] {
                Value::String(id) => vec![id.clone()],
                list => strings(list),
            };
            let eligible = eligible().ok();
            let picked = eligible
                .as_ref()
                .and_then(|e| wanted.iter().find(|w| e.contains(w)).cloned());
            result.insert("eligible".into(), json!(eligible));
            result.insert("picked".into(), json!(picked));
            let Some(id) = picked else {
                // Nothing called: no outcome to report (LiteLLM raises before calling anything).
                result.insert("cooling".into(), json!(cooling(&router, &ids)));
                out.push(Value::Object(result));
                continue;
            };
            let id = id.as_str();
            let answer = &body["answer"];
            let outcome = match answer.as_str() {
                Some("success") => Outcome::success(Duration::from_millis(100)),
                Some("timeout") => Outcome::failure(FailureKind::Timeout),
                Some("connection") => Outcome::failure(FailureKind::Connection),
                _ => Outcome::failure(FailureKind::classify_for(
                    &provider(&s.model_list, id),
                    answer["status"].as_u64().unwrap() as u16,
                    answer["body"].as_str().unwrap(),
                )),
            };
            if let Outcome::Failure(kind) = outcome {
                result.insert("seen".into(), json!([kind.litellm_class(), kind.status()]));
            }
            router.report_id(&id.into(), outcome).expect("known id");
        } else {
            match eligible() {
                Ok(ids) => result.insert("eligible".into(), json!(ids)),
                Err(e) => result.insert("error".into(), json!(e)),
            };
        }
        result.insert("cooling".into(), json!(cooling(&router, &ids)));
        out.push(Value::Object(result));
    }
    out
}

/// The deployments cooling down, with the seconds left (as the Python driver rounds them).
fn cooling(router: &Router, ids: &[String]) -> BTreeMap<String, f64> {
    ids.iter()
        .filter_map(|id| {
            let left = router.health(&id.as_str().into())?.cooldown_left?;
            Some((id.clone(), (left.as_secs_f64() * 1e6).round() / 1e6))
        })
        .collect()
}

/// Compares both routers' decisions on scenario `name`, step by step.
fn check(name: &str) {
    let all = scenarios();
    let s = all
        .iter()
        .find(|s| s.name == name)
        .expect("a scenario of that name");
    let theirs = &litellm()[name];
    let ours = modelroute(s);
    let mut mismatches = Vec::new();
    for (i, ((step, l), m)) in s.steps.iter().zip(theirs).zip(&ours).enumerate() {
        let mut differ = |what: &str| {
            mismatches.push(format!(
                "step {i} {step}: {what}\n    LiteLLM:    {l}\n    modelroute: {m}"
            ))
        };
        if let Some(call) = step.get("call") {
            if call["deployment"].is_string() {
                assert_eq!(
                    l["picked"], call["deployment"],
                    "scenario {name} step {i}: LiteLLM could not call {} (not eligible): {l}",
                    call["deployment"]
                );
            }
            if l["eligible"] != m["eligible"] || l["picked"] != m["picked"] {
                differ("eligible deployments");
            }
            match (l.get("seen"), m.get("seen")) {
                (None, None) => {}
                (Some(ls), Some(ms)) => {
                    // LiteLLM's MockException-free classes; a status LiteLLM keeps on a class (e.g. 422 on a
                    // BadRequestError) must act as ours does.
                    let status = |v: &Value| v[1].as_u64().unwrap_or(500) as u16;
                    if ls[0] != ms[0] || behaviour(status(ls)) != behaviour(status(ms)) {
                        differ("failure class");
                    }
                }
                _ => differ("failure seen by one router only"),
            }
        } else if l.get("error") != m.get("error") || l.get("eligible") != m.get("eligible") {
            differ("route");
        }
        if l["cooling"] != m["cooling"] {
            differ("cooling down");
        }
    }
    assert!(
        mismatches.is_empty(),
        "scenario {name}: {} difference(s) from LiteLLM:\n{}\nrouter: {}\nmodel_list: {}",
        mismatches.len(),
        mismatches.join("\n"),
        s.router,
        s.model_list
    );
}

#[test]
fn a_429_cools_a_deployment_with_siblings_at_once_but_not_a_single_one() {
    check("default_429");
}

#[test]
fn the_default_rule_cools_above_half_of_the_minute_failing() {
    check("default_share");
}

#[test]
fn the_default_rule_needs_five_requests_in_the_minute() {
    check("default_share_needs_five_requests");
}

#[test]
fn the_minute_counters_live_sixty_seconds_from_their_first_event() {
    check("default_minute_window");
}

#[test]
fn request_faults_and_connection_errors_count_in_the_share_but_never_cool() {
    check("default_request_faults_count_in_the_share");
}

#[test]
fn failures_litellm_would_not_retry_cool_at_once() {
    check("default_not_retryable_cools_at_once");
}

#[test]
fn a_deployments_own_cooldown_time_wins_and_zero_disables() {
    check("cooldown_times");
}

#[test]
fn disable_cooldowns_disables_them() {
    check("disable_cooldowns");
}

#[test]
fn wildcard_deployments_never_cool_down() {
    check("wildcards_never_cool");
}

#[test]
fn allowed_fails_counts_within_the_cooldown_time() {
    check("allowed_fails");
}

#[test]
fn allowed_fails_never_cools_a_lone_deployment() {
    check("allowed_fails_spares_a_lone_deployment");
}

#[test]
fn fallbacks_make_a_single_deployment_coolable() {
    check("allowed_fails_with_fallbacks_cools_a_single_deployment");
}

#[test]
fn default_fallbacks_make_a_single_deployment_coolable() {
    check("default_fallbacks_make_no_deployment_lone");
}

#[test]
fn the_routers_allowed_fails_policy_counts_per_class() {
    check("router_policy");
}

#[test]
fn the_routers_policy_cools_a_lone_deployment_only_for_its_classes() {
    check("router_policy_and_lone_deployments");
}

#[test]
fn a_deployments_own_policy_counts_per_class_and_overrides_the_400_exemption() {
    check("deployment_policy");
}

#[test]
fn a_deployments_own_policy_on_a_lone_deployment() {
    check("deployment_policy_on_a_lone_deployment");
}

#[test]
fn pre_call_checks_leave_out_deployments_too_small_for_the_request() {
    check("pre_call_checks");
}

#[test]
fn without_pre_call_checks_context_windows_are_not_checked() {
    check("pre_call_checks_off");
}

#[test]
fn tags_match_any_defaults_constraints_and_known_tags() {
    check("tags_match_any");
}

#[test]
fn tags_match_all() {
    check("tags_match_all");
}

#[test]
fn untagged_requests_and_fail_open() {
    check("tags_untagged_without_defaults_and_fail_open");
}

#[test]
fn a_groups_deployment_can_switch_tag_filtering_on() {
    check("tags_per_group_switch");
}

#[test]
fn failure_classes_are_litellms_for_openai_azure_and_proxy_answers() {
    check("classification");
}

#[test]
fn random_sequences_of_answers_cool_the_same_deployments_under_every_kind_of_setting() {
    for name in &NAMES[..6] {
        check(name);
    }
}

#[test]
fn random_tags_context_windows_and_fail_open_filter_the_same_deployments() {
    for name in &NAMES[6..10] {
        check(name);
    }
}
