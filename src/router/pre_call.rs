//! Pre-call checks (`enable_pre_call_checks`): leave out the deployments whose context window is smaller
//! than the request, as LiteLLM's `Router._pre_call_checks` does.
//!
//! The caller states the request's input tokens ([`RequestContext::with_input_tokens`]); a deployment whose
//! context window is known and smaller (`input_tokens > max_input_tokens`) is not eligible. A deployment
//! whose window is unknown is never left out. The check runs on the deployments that are not blocked or
//! cooling down, before tag filtering; when it leaves none of them, the route fails with
//! [`RouteError::ContextWindowExceeded`](crate::RouteError::ContextWindowExceeded), the cue to take
//! `context_window_fallbacks` (LiteLLM raises `ContextWindowExceededError` there).
//!
//! [`RequestContext::with_input_tokens`]: super::RequestContext::with_input_tokens

use serde_json::Value;

use crate::deployment::Deployment;

/// The context window of `deployment` in input tokens, if known: `model_info.max_input_tokens` (an
/// integer; LiteLLM ignores anything else there).
///
/// This is the one place that decides a deployment's context window. It is called once per deployment when
/// the deployment enters the router, and the result is kept with it. LiteLLM also looks the model up in its
/// cost map (`model_prices_and_context_window.json`) when `model_info` says nothing: a model catalog extends
/// this function (`model_info` first, then the catalog entry of `litellm_params.model`, or of
/// `model_info.base_model` / `litellm_params.base_model` when set, as LiteLLM's `get_router_model_info` does).
pub(crate) fn context_window(deployment: &Deployment) -> Option<u64> {
    match deployment.model_info().get("max_input_tokens") {
        Some(Value::Number(n)) => n.as_u64(),
        _ => None,
    }
}

/// Whether a request of `input_tokens` fits a deployment whose window is `window` (LiteLLM leaves a
/// deployment out when `input_tokens > max_input_tokens`).
#[inline]
pub(crate) fn fits(input_tokens: Option<u64>, window: Option<u64>) -> bool {
    match (input_tokens, window) {
        (Some(n), Some(w)) => n <= w,
        _ => true,
    }
}
