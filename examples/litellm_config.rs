//! Load a LiteLLM `config.yaml` (or `.json`) and route requests through it.
//!
//! ```sh
//! cargo run --example litellm_config --features yaml                 # the bundled config
//! cargo run --example litellm_config --features yaml -- my-config.yaml gpt-4o openai/o3
//! ```
//!
//! `os.environ/` references are resolved from the process environment; for the bundled config, unset
//! ones are filled with placeholders so the example runs anywhere.

use std::collections::HashMap;
use std::time::Duration;

use modelroute::config::RouterConfig;
use modelroute::router::{FailureKind, Outcome, RequestContext};
use modelroute::{RouteError, Router};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let bundled = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/litellm_config.yaml");
    let path = args.next().unwrap_or_else(|| bundled.to_string());
    let mut models: Vec<String> = args.collect();
    if models.is_empty() {
        models = [
            "gpt4",
            "gpt-4o",
            "openai/gpt-4.1-mini",
            "local/qwen3:8b",
            "mistral-large",
        ]
        .map(String::from)
        .to_vec();
    }

    // The process environment, with placeholders for the bundled config's keys.
    let mut env: HashMap<String, String> = std::env::vars().collect();
    for key in ["AZURE_API_KEY", "OPENAI_API_KEY", "ANTHROPIC_API_KEY"] {
        env.entry(key.into())
            .or_insert_with(|| "sk-placeholder".into());
    }

    // Lenient: an invalid entry is skipped and reported, like LiteLLM's `ignore_invalid_deployments`.
    let config = RouterConfig::loader()
        .env(&env)
        .lenient(true)
        .load_file(&path)?;
    for skipped in config.skipped() {
        eprintln!("skipped {skipped}");
    }
    for warning in config.warnings() {
        eprintln!("warning: {warning:?}");
    }
    println!(
        "{path}: {} deployment(s), strategy {}",
        config.deployments().len(),
        config.settings().routing_strategy
    );
    let router = Router::from_config(config);

    let ctx = RequestContext::new();
    for model in &models {
        match router.route(model, &ctx) {
            Ok(route) => {
                println!(
                    "{model:>22} -> {} [{}] ({})",
                    route.model(),
                    route.id(),
                    route.reason()
                );
                // The caller makes the request, then reports how it went.
                router.report(&route, Outcome::success(Duration::from_millis(350)));
            }
            Err(RouteError::NoDeployment { tried, .. }) => {
                let tried: Vec<String> = tried.iter().map(ToString::to_string).collect();
                println!("{model:>22} -> no deployment (tried {})", tried.join(", "));
            }
            Err(e) => println!("{model:>22} -> {e}"),
        }
    }

    // A deployment that keeps failing is cooled down; the fallback plan says where to go next.
    let model = "gpt-4o";
    for _ in 0..4 {
        if let Ok(route) = router.route(model, &ctx) {
            router.report(&route, Outcome::failure(FailureKind::Status(429)));
        }
    }
    match router.route(model, &ctx) {
        Ok(route) => println!(
            "after 429s, {model} -> {} ({})",
            route.model(),
            route.reason()
        ),
        Err(e) => {
            println!("after 429s: {e}");
            let plan = router.fallbacks(model);
            println!(
                "fallback plan for {model}: {:?} (num_retries {:?})",
                plan.groups().collect::<Vec<_>>(),
                plan.num_retries()
            );
            for group in &plan {
                if let Ok(route) = router.route(group, &ctx) {
                    println!("falling back: {model} -> {group} -> {}", route.model());
                    break;
                }
            }
        }
    }
    Ok(())
}
