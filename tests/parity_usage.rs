//! Differential tests against LiteLLM 1.109.1's own `Router` (see `tests/support/parity.rs`): usage-based routing
//! (v1 and v2: lowest tokens, `rpm` / `tpm` limits, minute windows), cost-based routing (prices from
//! `litellm_params` and LiteLLM's cost table), latency-based routing with a zero buffer (per-token samples, time to
//! first token, the timeout penalty, the 10-sample window, `ttl`) and `max_parallel_requests`. Every scenario runs in
//! both routers and each decision must be the same; each deliberate difference of the README is shown here too.
//!
//! All scenarios run in one Python process, shared by the tests of this file (importing LiteLLM takes seconds).

mod support;

use std::collections::HashMap;
use std::sync::OnceLock;

use serde_json::{Value, json};
use support::parity::{Outcomes, Scenario, run};

fn dep(id: &str, group: &str, model: &str, params: Value) -> Value {
    let mut litellm_params = json!({"model": model, "api_key": "sk-test"});
    for (k, v) in params.as_object().unwrap() {
        litellm_params[k] = v.clone();
    }
    json!({"model_name": group, "litellm_params": litellm_params, "model_info": {"id": id}})
}

fn with_info(mut d: Value, info: Value) -> Value {
    for (k, v) in info.as_object().unwrap() {
        d["model_info"][k] = v.clone();
    }
    d
}

fn route(name: &str) -> Value {
    json!({"op": "route", "model": "g", "name": name})
}

fn route_with(name: &str, extra: Value) -> Value {
    let mut step = route(name);
    for (k, v) in extra.as_object().unwrap() {
        step[k] = v.clone();
    }
    step
}

fn report(target: Value, latency_ms: u64, usage: Option<(u64, u64)>) -> Value {
    let mut step = json!({"op": "report", "latency_ms": latency_ms});
    match target {
        Value::String(route) => step["route"] = json!(route),
        other => step["deployment"] = other["deployment"].clone(),
    }
    if let Some((prompt, completion)) = usage {
        step["usage"] = json!({"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion});
    }
    step
}

fn on(id: &str) -> Value {
    json!({"deployment": id})
}

fn advance(seconds: u64) -> Value {
    json!({"op": "advance", "seconds": seconds})
}

const V2: &str = "usage-based-routing-v2";

fn scenarios() -> Vec<Scenario> {
    let v2 = json!({"routing_strategy": V2});
    vec![
        // LiteLLM's v2 lets rpm-1 requests through a minute (see `v2_rpm_is_off_by_one_in_litellm`): the same
        // limit is written rpm + 1 for it.
        Scenario::new(
            "v2 lowest tokens, rpm and tpm limits",
            v2.clone(),
            json!([dep("a", "g", "openai/a", json!({"rpm": 2})), dep("b", "g", "openai/b", json!({"tpm": 100}))]),
        )
        .litellm_model_list(json!([
            dep("a", "g", "openai/a", json!({"rpm": 3})),
            dep("b", "g", "openai/b", json!({"tpm": 100}))
        ]))
        .steps([
            report(on("a"), 100, Some((10, 10))), // a: 20 tokens
            route("r1"),                           // b (0 tokens)
            report(json!("r1"), 100, Some((10, 40))), // b: 50 tokens
            route("r2"),                           // a (20 < 50), a's 1st request
            route("r3"),                           // a, its 2nd request
            route("r4"),                           // a is at rpm 2: b (50 + 7 <= 100)
            route_with("r5", json!({"input_tokens": 51})), // b: 50 + 51 > 100: refused
            route_with("r6", json!({"input_tokens": 50})), // b: 50 + 50 <= 100
            report(json!("r6"), 100, Some((25, 25))),      // b: 100 tokens
            route("r7"),                                   // refused
            advance(59),
            route("r8"), // still the same minute: refused
            advance(1),
            route("r9"), // a new minute: a tie, at random
        ]),
        Scenario::new(
            "v2 windows are wall-clock minutes",
            v2.clone(),
            json!([dep("a", "g", "openai/a", json!({"rpm": 1}))]),
        )
        .at_second(30)
        .steps([route("r1"), route("r2"), advance(29), route("r3"), advance(1), route("r4")]),
        Scenario::new(
            "v1 lowest tokens, first in order on ties, rpm counts successes",
            json!({"routing_strategy": "usage-based-routing"}),
            json!([dep("a", "g", "openai/a", json!({"rpm": 2})), dep("b", "g", "openai/b", json!({}))]),
        )
        .litellm_model_list(json!([
            dep("a", "g", "openai/a", json!({"rpm": 3})),
            dep("b", "g", "openai/b", json!({}))
        ]))
        .steps([
            route("r1"),                             // a (tie: first)
            report(json!("r1"), 100, Some((10, 20))), // a: 30 tokens, 1 success
            route("r2"),                             // b
            report(json!("r2"), 100, Some((10, 20))), // b: 30 tokens
            route("r3"),                             // tie: a
            route("r4"),                             // routes do not count in v1: a
            report(json!("r3"), 100, Some((5, 5))),  // a: 40 tokens, 2 successes = rpm
            report(on("b"), 100, Some((25, 25))),    // b: 80 tokens
            route("r5"),                             // a is at rpm: b
            advance(60),
            route("r6"), // new minute: a
        ]),
        Scenario::new(
            "latency per token, time to first token, timeout penalty, window of 10, ttl",
            json!({"routing_strategy": "latency-based-routing", "routing_strategy_args": {"lowest_latency_buffer": 0, "ttl": 120}}),
            json!([
                dep("a", "g", "openai/a", json!({})),
                dep("b", "g", "openai/b", json!({})),
                dep("c", "g", "openai/c", json!({}))
            ]),
        )
        .steps(
            [
                vec![
                    route("r1"),                              // all untried: at random
                    report(on("a"), 1000, Some((5, 10))),     // 0.1 s per token
                    report(on("b"), 500, None),               // 0.5 s
                    report(on("c"), 3000, Some((50, 100))),   // 0.03 s per token
                    route("r2"),                              // c
                    route_with("r3", json!({"stream": true})), // no ttft yet: c
                    json!({"op": "report", "deployment": "c", "latency_ms": 3000, "ttft_ms": 900,
                           "usage": {"prompt_tokens": 50, "completion_tokens": 100, "total_tokens": 150}}),
                    json!({"op": "report", "deployment": "a", "latency_ms": 1000, "ttft_ms": 100,
                           "usage": {"prompt_tokens": 5, "completion_tokens": 10, "total_tokens": 15}}),
                    route_with("r4", json!({"stream": true})), // a (ttft 0.1; b 0.5 has none; c ttft 0.9)
                    route("r5"),                               // c (0.03)
                    json!({"op": "report", "deployment": "c", "outcome": "timeout", "latency_ms": 5000}),
                    route("r6"), // c averages 333 s now: a (0.1)
                ],
                (0..10).map(|_| report(on("b"), 10, None)).collect(), // b's 0.5 leaves the window
                vec![
                    route("r7"), // b (0.01)
                    advance(121),
                    route("r8"), // every sample expired: at random
                ],
            ]
            .concat(),
        ),
        Scenario::new(
            "latency rpm and tpm limit the successes and tokens of the minute",
            json!({"routing_strategy": "latency-based-routing"}),
            json!([
                dep("a", "g", "openai/a", json!({"rpm": 1})),
                dep("b", "g", "openai/b", json!({"tpm": 50})),
                dep("c", "g", "openai/c", json!({}))
            ]),
        )
        .steps([
            report(on("a"), 100, Some((0, 1))),  // a: 0.1, 1 success
            report(on("b"), 200, Some((39, 1))), // b: 0.2, 40 tokens
            report(on("c"), 300, Some((0, 1))),  // c: 0.3
            route("r1"),                         // a at rpm: b (40 + 7 <= 50)
            route_with("r2", json!({"input_tokens": 11})), // b: 40 + 11 > 50: c
            advance(60),
            route("r3"), // a new minute: a
        ]),
        Scenario::new(
            "cost: own prices, then LiteLLM's cost table, then the default; limits on successes",
            json!({"routing_strategy": "cost-based-routing"}),
            json!([
                dep("a", "g", "gpt-4o", json!({})),
                dep("b", "g", "gpt-4o-mini", json!({"rpm": 1})),
                dep("c", "g", "openai/custom", json!({"input_cost_per_token": 1e-7, "output_cost_per_token": 1e-7, "tpm": 50})),
                dep("d", "g", "hosted_vllm/unknown", json!({"api_base": "http://127.0.0.1:9/v1"})),
                with_info(
                    dep("e", "g", "azure/my-deployment", json!({"api_base": "https://example.invalid", "api_version": "2024-06-01"})),
                    json!({"base_model": "azure/gpt-4o-mini"})
                )
            ]),
        )
        .with_catalog()
        .steps([
            route("r1"),                              // c: 2e-7
            report(json!("r1"), 100, Some((40, 5))),  // c: 45 tokens
            route("r2"),                              // c: 45 + 7 > 50: b (gpt-4o-mini, 7.5e-7; e ties, later)
            report(json!("r2"), 100, Some((5, 5))),   // b: 1 success = rpm
            route("r3"),                              // e (azure/gpt-4o-mini by base_model)
            route("r4"),                              // e
            report(on("e"), 100, Some((1, 1))),
            report(on("a"), 100, Some((1, 1))),
            route("r5"),                              // still e (no limit)
            advance(60),
            route("r6"), // a new minute: c
        ]),
        Scenario::new(
            "cost: unpriced deployments tie at LiteLLM's default, first in order",
            json!({"routing_strategy": "cost-based-routing"}),
            json!([
                dep("a", "g", "hosted_vllm/x", json!({"api_base": "http://127.0.0.1:9/v1", "rpm": 1})),
                dep("b", "g", "hosted_vllm/y", json!({"api_base": "http://127.0.0.1:9/v1"}))
            ]),
        )
        .with_catalog()
        .steps([
            route("r1"),
            report(json!("r1"), 100, Some((1, 1))),
            route("r2"),
        ]),
        Scenario::new(
            "max_parallel_requests: own, from rpm, from tpm, router default",
            json!({"routing_strategy": "simple-shuffle", "default_max_parallel_requests": 1}),
            json!([
                dep("a", "p1", "openai/a", json!({"max_parallel_requests": 2})),
                dep("b", "p2", "openai/b", json!({"rpm": 2})),
                dep("c", "p3", "openai/c", json!({"tpm": 300})),
                dep("d", "p4", "openai/d", json!({}))
            ]),
        )
        .steps([
            json!({"op": "route", "model": "p1", "name": "a1", "hold": true}),
            json!({"op": "route", "model": "p1", "name": "a2", "hold": true}),
            json!({"op": "route", "model": "p1", "name": "a3", "hold": true}), // refused
            json!({"op": "release", "route": "a1"}),
            json!({"op": "route", "model": "p1", "name": "a4", "hold": true}),
            json!({"op": "route", "model": "p2", "name": "b1", "hold": true}),
            json!({"op": "route", "model": "p2", "name": "b2", "hold": true}),
            json!({"op": "route", "model": "p2", "name": "b3", "hold": true}), // refused
            json!({"op": "route", "model": "p3", "name": "c1", "hold": true}), // int(300 / 1000 * 6) = 1
            json!({"op": "route", "model": "p3", "name": "c2", "hold": true}), // refused
            json!({"op": "route", "model": "p4", "name": "d1", "hold": true}), // the router's default: 1
            json!({"op": "route", "model": "p4", "name": "d2", "hold": true}), // refused
            json!({"op": "release", "route": "d1"}),
            json!({"op": "route", "model": "p4", "name": "d3"}),
        ]),
        Scenario::new(
            "pre-call checks: context windows from model_info, else LiteLLM's cost table",
            json!({"routing_strategy": "cost-based-routing", "enable_pre_call_checks": true}),
            json!([
                dep("small", "g", "gpt-3.5-turbo", json!({"input_cost_per_token": 1e-9, "output_cost_per_token": 1e-9})),
                with_info(
                    dep("based", "g", "azure/my-deployment", json!({"api_base": "https://example.invalid", "api_version": "2024-06-01", "input_cost_per_token": 1e-8, "output_cost_per_token": 1e-8})),
                    json!({"base_model": "azure/gpt-4o-mini"})
                ),
                with_info(dep("long", "h", "openai/my-long-model", json!({})), json!({"max_input_tokens": 300_000})),
                dep("short", "h", "gpt-3.5-turbo", json!({"input_cost_per_token": 1e-9, "output_cost_per_token": 1e-9})),
            ]),
        )
        .with_catalog()
        .steps([
            route_with("r1", json!({"input_tokens": 1_000})),   // small: cheapest, 16,385 from the table
            route_with("r2", json!({"input_tokens": 20_000})),  // based: 128,000 by its base_model
            route_with("r3", json!({"input_tokens": 200_000})), // refused: too long for both
            json!({"op": "route", "model": "h", "name": "r4", "input_tokens": 20_000}), // long: model_info
            json!({"op": "route", "model": "h", "name": "r5", "input_tokens": 1_000}),  // short: cheapest
        ]),
        Scenario::new(
            "a deployment asked for by id keeps its slots and its v2 rpm",
            v2.clone(),
            json!([
                dep("a", "g", "openai/a", json!({"rpm": 2})),
                dep("b", "g", "openai/b", json!({"max_parallel_requests": 1})),
            ]),
        )
        .steps([
            json!({"op": "route", "model": "a", "name": "r1"}),
            json!({"op": "route", "model": "a", "name": "r2"}),
            json!({"op": "route", "model": "a", "name": "r3"}), // refused: rpm 2 counted by id too
            json!({"op": "route", "model": "b", "name": "r4", "hold": true}),
            json!({"op": "route", "model": "b", "name": "r5"}), // refused: its one slot is held
            json!({"op": "release", "route": "r4"}),
            json!({"op": "route", "model": "b", "name": "r6"}),
        ]),
        // Deliberate differences (README): the decisions differ, exactly as documented.
        Scenario::new(
            "difference: rpm",
            v2.clone(),
            json!([dep("a", "g", "openai/a", json!({"rpm": 3}))]),
        )
        .steps([route("r1"), route("r2"), route("r3"), route("r4")]),
        Scenario::new(
            "difference: provider-prefixed prices",
            json!({"routing_strategy": "cost-based-routing"}),
            json!([dep("a", "g", "openai/gpt-4o", json!({})), dep("b", "g", "openai/gpt-4o-mini", json!({}))]),
        )
        .with_catalog()
        .steps([route("r1")]),
        Scenario::new(
            "difference: a price of 0 and prices in model_info",
            json!({"routing_strategy": "cost-based-routing"}),
            json!([
                dep("a", "g", "hosted_vllm/x", json!({"api_base": "http://127.0.0.1:9/v1", "input_cost_per_token": 1e-6, "output_cost_per_token": 1e-6})),
                dep("b", "g", "hosted_vllm/free", json!({"api_base": "http://127.0.0.1:9/v1", "input_cost_per_token": 0, "output_cost_per_token": 0})),
                with_info(
                    dep("c", "h", "hosted_vllm/x", json!({"api_base": "http://127.0.0.1:9/v1"})),
                    json!({"input_cost_per_token": 1e-6, "output_cost_per_token": 1e-6})
                ),
                dep("d", "h", "hosted_vllm/y", json!({"api_base": "http://127.0.0.1:9/v1", "input_cost_per_token": 1.0, "output_cost_per_token": 1.0})),
            ]),
        )
        .with_catalog()
        .steps([route("r1"), json!({"op": "route", "model": "h", "name": "r2"})]),
        Scenario::new(
            "difference: a full deployment is skipped",
            json!({"routing_strategy": "cost-based-routing"}),
            json!([
                dep("a", "g", "hosted_vllm/x", json!({"api_base": "http://127.0.0.1:9/v1", "max_parallel_requests": 1, "input_cost_per_token": 1e-7, "output_cost_per_token": 1e-7})),
                dep("b", "g", "hosted_vllm/y", json!({"api_base": "http://127.0.0.1:9/v1", "input_cost_per_token": 1e-6, "output_cost_per_token": 1e-6}))
            ]),
        )
        .steps([route_with("r1", json!({"hold": true})), route_with("r2", json!({"hold": true}))]),
    ]
}

/// Every scenario, run once in both routers.
fn outcomes(name: &str) -> &'static Outcomes {
    static ALL: OnceLock<HashMap<String, Outcomes>> = OnceLock::new();
    let all = ALL.get_or_init(|| {
        run(&scenarios())
            .into_iter()
            .map(|o| (o.scenario.name.clone(), o))
            .collect()
    });
    all.get(name)
        .unwrap_or_else(|| panic!("no scenario {name:?}"))
}

/// The same decisions in both, and modelroute's route decisions are `expected` (None: refused, "*": any).
fn same(name: &str, expected: &[Option<&str>]) -> &'static Outcomes {
    let o = outcomes(name);
    let mismatches = o.mismatches();
    assert!(
        mismatches.is_empty(),
        "modelroute and LiteLLM decided differently:\n{}",
        mismatches.join("\n")
    );
    let picks = o.picks(&o.modelroute);
    assert_eq!(picks.len(), expected.len(), "[{name}] {picks:?}");
    for (i, (got, want)) in picks.iter().zip(expected).enumerate() {
        match want {
            Some("*") => assert!(got.is_some(), "[{name}] route {i}: refused"),
            want => assert_eq!(got.as_deref(), *want, "[{name}] route {i}: {picks:?}"),
        }
    }
    o
}

/// Indices of the LiteLLM route results that chose at random among several deployments, with the options.
fn random_choices(o: &Outcomes) -> Vec<Vec<String>> {
    o.scenario
        .steps
        .iter()
        .zip(&o.litellm)
        .filter(|(step, _)| step["op"] == "route")
        .filter_map(|(_, r)| r["options"].as_array())
        .map(|options| {
            options
                .iter()
                .map(|v| v.as_str().unwrap().to_string())
                .collect()
        })
        .collect()
}

#[test]
fn v2_routes_to_the_fewest_tokens_and_refuses_at_rpm_and_tpm_like_litellm() {
    let o = same(
        "v2 lowest tokens, rpm and tpm limits",
        &[
            Some("b"),
            Some("a"),
            Some("a"),
            Some("b"),
            None,
            Some("b"),
            None,
            None,
            Some("*"),
        ],
    );
    // The only random choice is the tie of a new minute, and LiteLLM saw the same tie.
    let mut ties = random_choices(o);
    for t in &mut ties {
        t.sort();
    }
    assert_eq!(ties, [vec!["a".to_string(), "b".to_string()]]);
    // The refusals say which limit and when the window resets.
    let refusal = &o.modelroute[6];
    let message = refusal["message"].as_str().unwrap();
    assert_eq!(refusal["rate_limited"], true);
    assert!(
        message.contains("`a` rpm 2/2") && message.contains("`b` tpm 50+51/100"),
        "{message}"
    );
    assert!(message.contains("resets in 60.000 s"), "{message}");
}

#[test]
fn v2_windows_reset_at_the_wall_clock_minute_like_litellm() {
    let o = same(
        "v2 windows are wall-clock minutes",
        &[Some("a"), None, None, Some("a")],
    );
    let message = o.modelroute[1]["message"].as_str().unwrap();
    assert!(message.contains("resets in 30.000 s"), "{message}");
}

#[test]
fn v1_counts_successes_and_breaks_ties_in_config_order_like_litellm() {
    same(
        "v1 lowest tokens, first in order on ties, rpm counts successes",
        &[
            Some("a"),
            Some("b"),
            Some("a"),
            Some("a"),
            Some("b"),
            Some("a"),
        ],
    );
}

#[test]
fn latency_samples_per_token_ttft_timeouts_window_and_ttl_like_litellm() {
    let o = same(
        "latency per token, time to first token, timeout penalty, window of 10, ttl",
        &[
            Some("*"),
            Some("c"),
            Some("c"),
            Some("a"),
            Some("c"),
            Some("a"),
            Some("b"),
            Some("*"),
        ],
    );
    let ties = random_choices(o);
    assert_eq!(ties.len(), 2, "{ties:?}");
    assert!(ties.iter().all(|t| t.len() == 3), "{ties:?}");
}

#[test]
fn latency_holds_rpm_and_tpm_against_the_successes_of_the_minute_like_litellm() {
    same(
        "latency rpm and tpm limit the successes and tokens of the minute",
        &[Some("b"), Some("c"), Some("a")],
    );
}

#[test]
fn cost_prices_own_params_then_litellms_table_then_the_default_like_litellm() {
    same(
        "cost: own prices, then LiteLLM's cost table, then the default; limits on successes",
        &[
            Some("c"),
            Some("b"),
            Some("e"),
            Some("e"),
            Some("e"),
            Some("c"),
        ],
    );
    same(
        "cost: unpriced deployments tie at LiteLLM's default, first in order",
        &[Some("a"), Some("b")],
    );
}

#[test]
fn max_parallel_requests_is_own_else_rpm_else_tpm_else_the_default_like_litellm() {
    same(
        "max_parallel_requests: own, from rpm, from tpm, router default",
        &[
            Some("a"),
            Some("a"),
            None,
            Some("a"),
            Some("b"),
            Some("b"),
            None,
            Some("c"),
            None,
            Some("d"),
            None,
            Some("d"),
        ],
    );
}

#[test]
fn pre_call_checks_read_context_windows_from_model_info_else_the_cost_table_like_litellm() {
    let o = same(
        "pre-call checks: context windows from model_info, else LiteLLM's cost table",
        &[
            Some("small"),
            Some("based"),
            None,
            Some("long"),
            Some("short"),
        ],
    );
    // Both refuse the long request as too long for the group, not as unavailable.
    assert_eq!(
        o.litellm[2]["error"], "ContextWindowExceededError",
        "{}",
        o.litellm[2]
    );
    let message = o.modelroute[2]["message"].as_str().unwrap();
    assert!(message.contains("200000 input tokens exceed"), "{message}");
}

#[test]
fn a_deployment_asked_for_by_id_keeps_its_slots_and_its_v2_rpm_like_litellm() {
    same(
        "a deployment asked for by id keeps its slots and its v2 rpm",
        &[Some("a"), Some("a"), None, Some("b"), None, Some("b")],
    );
}

/// LiteLLM's v2 excludes a deployment once `count + 1 >= rpm`, one request early; modelroute allows `rpm`.
#[test]
fn v2_rpm_is_off_by_one_in_litellm() {
    let o = outcomes("difference: rpm");
    assert_eq!(
        o.picks(&o.modelroute),
        [Some("a".into()), Some("a".into()), Some("a".into()), None]
    );
    assert_eq!(
        o.picks(&o.litellm),
        [Some("a".into()), Some("a".into()), None, None]
    );
}

/// LiteLLM looks `openai/gpt-4o` up in its cost table by that exact key, misses, and prices it at its default:
/// both deployments tie and the first in order wins. modelroute finds `gpt-4o` and `gpt-4o-mini`.
#[test]
fn litellm_prices_provider_prefixed_models_at_its_default() {
    let o = outcomes("difference: provider-prefixed prices");
    assert_eq!(o.picks(&o.modelroute), [Some("b".into())]);
    assert_eq!(o.picks(&o.litellm), [Some("a".into())]);
}

/// LiteLLM reads a price of 0 as "no price" (default 5.0) and ignores prices in `model_info`.
#[test]
fn litellm_ignores_zero_prices_and_prices_in_model_info() {
    let o = outcomes("difference: a price of 0 and prices in model_info");
    assert_eq!(o.picks(&o.modelroute), [Some("b".into()), Some("c".into())]);
    assert_eq!(o.picks(&o.litellm), [Some("a".into()), Some("d".into())]);
}

/// LiteLLM picks first and then fails the request when the pick has no free `max_parallel_requests` slot;
/// modelroute leaves a full deployment out of the pick.
#[test]
fn litellm_refuses_instead_of_skipping_a_full_deployment() {
    let o = outcomes("difference: a full deployment is skipped");
    assert_eq!(o.picks(&o.modelroute), [Some("a".into()), Some("b".into())]);
    assert_eq!(o.picks(&o.litellm), [Some("a".into()), None]);
    assert!(
        o.litellm[1]["message"]
            .as_str()
            .unwrap()
            .contains("max_parallel_requests"),
        "{}",
        o.litellm[1]
    );
}
