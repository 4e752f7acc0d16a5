//! Quickstart: route requests through a LiteLLM config, with no server needed.
//!
//! Loads an embedded LiteLLM config (an exact name, a balanced group, wildcards, a team deployment, an
//! alias), routes a handful of requests and says why each went where it went, then changes a wildcard
//! deployment while the router serves and shows that the old target is gone (the stale-entry bug LiteLLM
//! users hit in #29064 cannot happen here).
//!
//! Run: `cargo run --example quickstart`

use std::collections::BTreeMap;

use modelroute::config::RouterConfig;
use modelroute::router::{ChangeSet, RequestContext};
use modelroute::{Deployment, Router};

/// A LiteLLM config, as users write it in config.yaml (here as JSON, so the example needs no feature).
const CONFIG: &str = r#"{
  "model_list": [
    {"model_name": "gpt-4o", "litellm_params": {"model": "openai/gpt-4o", "api_key": "sk-demo-not-real"}},
    {"model_name": "balanced", "litellm_params": {"model": "azure/gpt-4o-eu", "rpm": 600}, "model_info": {"id": "balanced-eu"}},
    {"model_name": "balanced", "litellm_params": {"model": "azure/gpt-4o-us", "rpm": 200}, "model_info": {"id": "balanced-us"}},
    {"model_name": "openai/*", "litellm_params": {"model": "openai/*"}, "model_info": {"id": "openai-wildcard"}},
    {"model_name": "llmengine/*", "litellm_params": {"model": "openai/*"}, "model_info": {"id": "llmengine-rewrite"}},
    {"model_name": "gpt-*-mini", "litellm_params": {"model": "openai/gpt-*-mini"}, "model_info": {"id": "mini-family"}},
    {"model_name": "team-a-claude", "litellm_params": {"model": "anthropic/*"},
     "model_info": {"id": "team-a-anthropic", "team_id": "team-a", "team_public_model_name": "claude-*"}}
  ],
  "router_settings": {
    "routing_strategy": "simple-shuffle",
    "model_group_alias": {"smart": "gpt-4o"}
  }
}"#;

fn show(router: &Router, name: &str, ctx: &RequestContext<'_>) {
    let who = ctx.team().map_or(String::new(), |t| format!(" (team {t})"));
    match router.route(name, ctx) {
        Ok(route) => println!(
            "  {name:<24}{who:<14} -> {:<22} [{}]",
            route.model(),
            route.reason()
        ),
        Err(e) => println!("  {name:<24}{who:<14} -> error: {e}"),
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let router = Router::from_config(RouterConfig::from_json(CONFIG)?);
    println!("{} deployments loaded\n\nRouting:", router.len());
    let anyone = RequestContext::new();
    show(&router, "gpt-4o", &anyone); // exact name
    show(&router, "smart", &anyone); // alias
    show(&router, "openai/gpt-4.1-mini", &anyone); // provider wildcard: passed through
    show(&router, "llmengine/o3", &anyone); // rewrite to another provider
    show(&router, "gpt-4o-mini", &anyone); // family wildcard
    show(&router, "gpt-4o-mini-2024-07-18", &anyone); // whole-name match: LiteLLM's prefix match takes it
    show(&router, "claude-3-5-sonnet", &anyone); // a team's deployment is not visible to others
    show(
        &router,
        "claude-3-5-sonnet",
        &RequestContext::new().with_team("team-a"),
    );

    // A balanced group: simple-shuffle weighs by rpm (600 vs 200).
    let mut picks: BTreeMap<String, u32> = BTreeMap::new();
    for _ in 0..1000 {
        let route = router.route("balanced", &anyone)?;
        *picks.entry(route.model().to_string()).or_default() += 1;
    }
    println!("\n1,000 requests to `balanced` (rpm 600 / 200): {picks:?}");

    println!("\nWhile serving, the llmengine/* deployment moves to Azure under a new name:");
    let changed = Deployment::new("engine/*", "azure/*")?.with_id("llmengine-rewrite")?;
    router.apply(ChangeSet::new().upsert(changed))?;
    show(&router, "llmengine/o3", &anyone);
    show(&router, "engine/o3", &anyone);
    println!("\n{} deployments: nothing stale left behind", router.len());
    Ok(())
}
