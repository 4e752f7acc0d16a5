//! Quickstart: route requests through a LiteLLM-style `model_list`, with no server needed.
//!
//! Builds a [`PatternRouter`] from an embedded model list (an exact name, a balanced group, wildcards and a
//! team deployment), routes a handful of requests, then upserts a changed wildcard deployment and shows
//! that the old target is gone (the stale-entry bug LiteLLM users hit in #29064 cannot happen here).
//!
//! Run: `cargo run --example quickstart`

use modelroute::{Deployment, PatternRouter};

/// A LiteLLM `model_list`, as users write it in config.yaml (here as JSON).
const MODEL_LIST: &str = r#"[
  {"model_name": "gpt-4o", "litellm_params": {"model": "openai/gpt-4o", "api_key": "sk-demo-not-real"}},
  {"model_name": "balanced", "litellm_params": {"model": "azure/gpt-4o-eu", "rpm": 600}, "model_info": {"id": "balanced-eu"}},
  {"model_name": "balanced", "litellm_params": {"model": "azure/gpt-4o-us", "rpm": 300}, "model_info": {"id": "balanced-us"}},
  {"model_name": "openai/*", "litellm_params": {"model": "openai/*"}, "model_info": {"id": "openai-wildcard"}},
  {"model_name": "llmengine/*", "litellm_params": {"model": "openai/*"}, "model_info": {"id": "llmengine-rewrite"}},
  {"model_name": "gpt-*-mini", "litellm_params": {"model": "openai/gpt-*-mini"}, "model_info": {"id": "mini-family"}},
  {"model_name": "team-a-claude", "litellm_params": {"model": "anthropic/*"},
   "model_info": {"id": "team-a-anthropic", "team_id": "team-a", "team_public_model_name": "claude-*"}}
]"#;

fn show(router: &PatternRouter, team: Option<&str>, name: &str) {
    let found = match team {
        Some(team) => router.lookup_team(team, name),
        None => router.lookup(name),
    };
    let who = team.map_or(String::new(), |t| format!(" (team {t})"));
    match found {
        Some(m) => {
            let targets: Vec<String> = m
                .iter()
                .map(|d| {
                    // Ids LiteLLM computes are 64 hex digits: show the start.
                    let id: String = d.id().as_str().chars().take(16).collect();
                    format!("{id} -> {}", d.model())
                })
                .collect();
            println!(
                "  {name:<28}{who:<12} matched {:<14} {}",
                m.pattern().as_str(),
                targets.join(", ")
            );
        }
        None => println!("  {name:<28}{who:<12} no deployment"),
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let entries: Vec<Deployment> = serde_json::from_str(MODEL_LIST)?;
    let mut router = PatternRouter::new();
    for d in entries {
        router.insert(d)?;
    }
    println!(
        "{} deployments under {} names and patterns\n",
        router.len(),
        router.pattern_count()
    );

    println!("Routing:");
    show(&router, None, "gpt-4o"); // exact name
    show(&router, None, "balanced"); // two deployments: the router's strategy picks one
    show(&router, None, "openai/gpt-4o-mini"); // provider wildcard: passed through
    show(&router, None, "llmengine/o3"); // rewrite to another provider
    show(&router, None, "gpt-4o-mini"); // family wildcard
    show(&router, None, "gpt-4o-mini-2024-07-18"); // whole-name match: LiteLLM's prefix match would take it
    show(&router, None, "claude-3-5-sonnet"); // team deployment: not visible globally
    show(&router, Some("team-a"), "claude-3-5-sonnet");

    println!("\nUpsert: the llmengine/* deployment now points at Azure, under a new name:");
    let changed: Deployment = serde_json::from_str(
        r#"{"model_name": "engine/*", "litellm_params": {"model": "azure/*"}, "model_info": {"id": "llmengine-rewrite"}}"#,
    )?;
    router.upsert(changed)?;
    show(&router, None, "llmengine/o3");
    show(&router, None, "engine/o3");
    println!(
        "\n{} deployments, {} names and patterns: nothing stale left behind",
        router.len(),
        router.pattern_count()
    );
    Ok(())
}
