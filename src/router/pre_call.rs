//! Pre-call checks (`enable_pre_call_checks`): leave out the deployments whose context window is smaller
//! than the request, as LiteLLM's `Router._pre_call_checks` does.
//!
//! The caller states the request's input tokens ([`RequestContext::with_input_tokens`]); a deployment whose
//! context window is known and smaller (`input_tokens > max_input_tokens`) is not eligible. The window is
//! `model_info.max_input_tokens`, else the [`ModelCatalog`] entry's (given with
//! [`RouterBuilder::catalog`](crate::router::RouterBuilder::catalog)), as LiteLLM falls back to its cost map. A deployment
//! whose window is unknown is never left out. The check runs on the deployments that are not blocked or
//! cooling down, before tag filtering; when it leaves none of them, the route fails with
//! [`RouteError::ContextWindowExceeded`](crate::RouteError::ContextWindowExceeded), the cue to take
//! `context_window_fallbacks` (LiteLLM raises `ContextWindowExceededError` there).
//!
//! [`RequestContext::with_input_tokens`]: super::RequestContext::with_input_tokens

use serde_json::Value;

use crate::catalog::ModelCatalog;
use crate::deployment::Deployment;

/// The context window of `deployment` in input tokens, if known, as LiteLLM's `get_router_model_info`
/// finds it: `model_info.max_input_tokens` (an integer; LiteLLM ignores anything else there), else the
/// `max_input_tokens` of the `catalog` entry (LiteLLM's cost map) of the model the deployment serves:
/// `model_info.base_model`, else `litellm_params.base_model`, else `litellm_params.model`, looked up as
/// [`ModelCatalog::lookup`] does. A wildcard deployment (`openai/*`) takes only `model_info`: its concrete
/// model is known per request, and the window is decided once per deployment.
///
/// This is the one place that decides a deployment's context window. It is called once per deployment when
/// the deployment enters the router, and the result is kept with it.
pub(crate) fn context_window(
    deployment: &Deployment,
    catalog: Option<&ModelCatalog>,
) -> Option<u64> {
    let info = deployment.model_info();
    if let Some(window) = info.get("max_input_tokens").filter(|v| !v.is_null()) {
        // LiteLLM takes the deployment's own value over the cost map's, whatever it is (`null` is unset).
        return match window {
            Value::Number(n) => n.as_u64(),
            _ => None,
        };
    }
    let params = deployment.litellm_params();
    let model = params.model();
    if model.contains('*') {
        return None;
    }
    let name = info
        .get("base_model")
        .or_else(|| params.get("base_model"))
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .unwrap_or(model);
    catalog?.lookup(name)?.entry().max_input_tokens
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
