//! How one `model_list` entry becomes deployments, the way LiteLLM's `Router.set_model_list` /
//! `_create_deployment` make them (LiteLLM 1.109.1):
//!
//! - **`organization: [a, b]`** (LiteLLM #3949): one deployment per organization, each with
//!   `litellm_params.organization` set to one of them, in list order; an empty list gives none. LiteLLM
//!   computes the id once, from the entry as written (the list included), and gives it to every
//!   deployment, so that a failure under one organization cools all down and `model_info.id` finds only
//!   the last. Here each gets its own id: the entry's id (explicit, or LiteLLM's computed one) for a list
//!   of one organization, else that id followed by `:<organization>`.
//! - **Strategy-router markers** (`litellm_params.model: auto_router/...`) are refused: LiteLLM never
//!   calls them either, it runs a plugin (semantic, complexity, adaptive or quality router) that picks
//!   another deployment, and modelroute runs none.
//!
//! Duplicates (two entries with one id) are the loader's: see [`super::ConfigLoader::load_value`].

use serde_json::{Map, Value};

use crate::deployment::{Deployment, json_type};
use crate::env::Environment;
use crate::error::{DeploymentError, EntryError};

/// The deployments of one entry: one per organization (usually one), each valid or not on its own. An
/// error for the whole entry (it is no deployment at all) is the outer one.
pub(super) fn expand(
    entry: Value,
    env: &dyn Environment,
) -> Result<Vec<Result<Deployment, EntryError>>, EntryError> {
    let organizations = match entry
        .get("litellm_params")
        .and_then(|p| p.get("organization"))
    {
        Some(Value::Array(list)) => list.clone(),
        _ => {
            return Ok(vec![
                Deployment::from_value_with_env(entry, env).map_err(Into::into),
            ]);
        }
    };
    // The entry as written (the list included) gives LiteLLM's id.
    let written = Deployment::from_value_with_env(entry.clone(), env)?;
    let id = written.id().as_str();
    let single = organizations.len() == 1;
    Ok(organizations
        .iter()
        .enumerate()
        .map(|(i, organization)| {
            let Value::String(name) = organization else {
                return Err(EntryError::Invalid(DeploymentError::InvalidField {
                    field: format!("litellm_params.organization[{i}]"),
                    expected: "a string",
                    found: json_type(organization),
                }));
            };
            let id = if single {
                id.to_string()
            } else {
                format!("{id}:{name}")
            };
            let one = with_organization(entry.clone(), organization.clone(), id);
            Deployment::from_value_with_env(one, env).map_err(Into::into)
        })
        .collect())
}

/// `entry` with `litellm_params.organization` = `organization` and `model_info.id` = `id`.
fn with_organization(mut entry: Value, organization: Value, id: String) -> Value {
    if let Some(Value::Object(params)) = entry.get_mut("litellm_params") {
        params.insert("organization".into(), organization);
    }
    if let Value::Object(top) = &mut entry {
        match top.get_mut("model_info") {
            Some(Value::Object(info)) => {
                info.insert("id".into(), Value::String(id));
            }
            _ => {
                let mut info = Map::new();
                info.insert("id".into(), Value::String(id));
                top.insert("model_info".into(), Value::Object(info));
            }
        }
    }
    entry
}

/// Refuses what the router must never call.
pub(super) fn callable(d: &Deployment) -> Result<(), EntryError> {
    if d.is_strategy_marker() {
        return Err(EntryError::StrategyMarker {
            model: d.litellm_params().model().to_string(),
        });
    }
    Ok(())
}
