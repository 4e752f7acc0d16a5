//! What a deployment costs per token, for `cost-based-routing` (LiteLLM's `router_strategy/lowest_cost.py`).
//!
//! Each side (input, output) is priced on its own, from the first of:
//! 1. `litellm_params.input_cost_per_token` / `output_cost_per_token` (a number, or a numeric string as an
//!    `os.environ/` value gives);
//! 2. the same keys in `model_info`;
//! 3. the [`ModelCatalog`] the router was given: the first entry declaring a per-token price among
//!    `model_info.base_model` (else `litellm_params.base_model`) and `litellm_params.model`, looked up as
//!    [`ModelCatalog::lookup`] does;
//! 4. LiteLLM's default for an unpriced deployment: 5.0 per token (so it comes after every priced one).
//!
//! The deployment's cost is input + output per token. Differences from LiteLLM, each a LiteLLM bug: it reads
//! a price of `0` as "no price" (Python truthiness) and prices a free deployment at 5.0; it ignores prices in
//! `model_info`; and it looks the catalog up by the exact key only, so `openai/gpt-4o` (the usual way to
//! write a deployment) is not found under `gpt-4o` and gets the default price.
//!
//! A wildcard deployment is priced by its own parameters: its concrete model is known only per request.

use serde_json::Value;

use crate::catalog::ModelCatalog;
use crate::deployment::Deployment;

/// LiteLLM's price per token of a deployment it cannot price (`lowest_cost.py`: `5.0`).
pub(crate) const DEFAULT_COST_PER_TOKEN: f64 = 5.0;

/// A price: a finite number ≥ 0, or a numeric string.
fn price(value: Option<&Value>) -> Option<f64> {
    match value? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    }
    .filter(|v| v.is_finite() && *v >= 0.0)
}

/// Input + output price per token of `d`.
pub(crate) fn cost_per_token(d: &Deployment, catalog: Option<&ModelCatalog>) -> f64 {
    let params = d.litellm_params();
    let info = d.model_info();
    let own = |key: &str| price(params.get(key)).or_else(|| price(info.get(key)));
    let (input, output) = (own("input_cost_per_token"), own("output_cost_per_token"));
    if let (Some(input), Some(output)) = (input, output) {
        return input + output;
    }
    let row = catalog.and_then(|catalog| {
        let base = info
            .get("base_model")
            .or_else(|| params.get("base_model"))
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty());
        base.into_iter()
            .chain(std::iter::once(params.model()))
            .filter_map(|name| catalog.lookup(name))
            .map(|found| found.entry())
            .find(|entry| entry.declares_token_price())
    });
    let input = input
        .or_else(|| row.and_then(|r| r.input_cost_per_token))
        .unwrap_or(DEFAULT_COST_PER_TOKEN);
    let output = output
        .or_else(|| row.and_then(|r| r.output_cost_per_token))
        .unwrap_or(DEFAULT_COST_PER_TOKEN);
    input + output
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog() -> ModelCatalog {
        ModelCatalog::from_json(
            r#"{"gpt-4o": {"input_cost_per_token": 2.5e-06, "output_cost_per_token": 1e-05, "litellm_provider": "openai"},
                "azure/gpt-4o-mini": {"input_cost_per_token": 1.5e-07, "output_cost_per_token": 6e-07, "litellm_provider": "azure"},
                "half": {"input_cost_per_token": 1e-06, "litellm_provider": "openai"}}"#,
        )
        .unwrap()
    }

    #[test]
    fn own_prices_then_model_info_then_the_catalog_then_the_default() {
        let c = catalog();
        let d = |model: &str| Deployment::new("g", model).unwrap();
        assert_eq!(
            cost_per_token(&d("openai/gpt-4o"), Some(&c)),
            2.5e-06 + 1e-05
        );
        assert_eq!(cost_per_token(&d("openai/gpt-4o"), None), 10.0);
        assert_eq!(cost_per_token(&d("hosted_vllm/x"), Some(&c)), 10.0);
        let own = d("openai/gpt-4o")
            .with_param("input_cost_per_token", 0)
            .unwrap()
            .with_param("output_cost_per_token", "1e-06")
            .unwrap();
        assert_eq!(cost_per_token(&own, Some(&c)), 1e-06, "0 is a price");
        let info = d("hosted_vllm/x")
            .with_info("input_cost_per_token", 1.0)
            .unwrap();
        assert_eq!(cost_per_token(&info, Some(&c)), 1.0 + 5.0);
        let based = d("azure/my-deployment")
            .with_info("base_model", "azure/gpt-4o-mini")
            .unwrap();
        assert_eq!(cost_per_token(&based, Some(&c)), 1.5e-07 + 6e-07);
        let half = d("half");
        assert_eq!(cost_per_token(&half, Some(&c)), 1e-06 + 5.0);
    }
}
