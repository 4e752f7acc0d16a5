//! Lists the models of whichever LiteLLM proxy, Ollama server and LM Studio server the environment names,
//! as a table, with one clear line for each server that is not configured or not reachable.
//!
//! ```sh
//! cargo run --example discover
//! LITELLM_BASE_URL=http://127.0.0.1:4000 LITELLM_API_KEY=sk-... cargo run --example discover
//! ```
//!
//! Environment (all optional):
//! - `LITELLM_BASE_URL`, `LITELLM_API_KEY`: a LiteLLM proxy. No default: without a URL it is skipped.
//! - `OLLAMA_HOST` (read as Ollama reads it, default `127.0.0.1:11434`), `OLLAMA_API_KEY`.
//! - `LMSTUDIO_BASE_URL` (default `http://localhost:1234`), `LM_API_TOKEN`.
//! - `MODELROUTE_ALLOW_INSECURE_HTTP=1`: allow sending a key over plain http to a non-loopback host
//!   (refused by default).

use modelroute::{DiscoveryError, LiteLlm, LmStudio, ModelDescriptor, ModelKind, Ollama, Provider};

type Row = [String; 10];

/// A provider built from the environment, or why it could not be.
type Configured = Result<Box<dyn Provider>, DiscoveryError>;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let insecure = std::env::var("MODELROUTE_ALLOW_INSECURE_HTTP").is_ok_and(|v| v == "1");
    let providers: Vec<(&str, Configured)> = vec![
        (
            "LiteLLM",
            LiteLlm::from_env()
                .map(|p| Box::new(p.allow_insecure_http(insecure)) as Box<dyn Provider>),
        ),
        (
            "Ollama",
            Ollama::from_env()
                .map(|p| Box::new(p.allow_insecure_http(insecure)) as Box<dyn Provider>),
        ),
        (
            "LM Studio",
            LmStudio::from_env()
                .map(|p| Box::new(p.allow_insecure_http(insecure)) as Box<dyn Provider>),
        ),
    ];
    let client = modelroute::reqwest::Client::new();

    // All servers at once; each answer (or failure) is reported on its own.
    let results = futures_util::future::join_all(providers.iter().map(|(name, p)| {
        let client = &client;
        async move {
            match p {
                Ok(p) => (
                    *name,
                    Some(p.base_url().to_string()),
                    p.list_models(client).await,
                ),
                Err(e) => (*name, None, Err(e.clone())),
            }
        }
    }))
    .await;

    let mut rows: Vec<Row> = Vec::new();
    let mut notes = Vec::new();
    for (name, url, result) in results {
        let at = url.map(|u| format!(" at {u}")).unwrap_or_default();
        match result {
            Ok(models) if models.is_empty() => {
                notes.push(format!("{name}{at}: reachable, no models"))
            }
            Ok(models) => {
                let plural = if models.len() == 1 { "" } else { "s" };
                notes.push(format!("{name}{at}: {} model{plural}", models.len()));
                rows.extend(models.iter().map(|m| row(name, m)));
            }
            Err(DiscoveryError::NotConfigured { reason, .. }) => {
                notes.push(format!("{name}: not configured ({reason})"))
            }
            Err(e) if e.is_unreachable() => {
                notes.push(format!("{name}{at}: not reachable (is it running?)"))
            }
            Err(e) if e.is_unauthorized() => notes.push(format!("{name}{at}: key refused: {e}")),
            Err(e) => notes.push(format!("{name}{at}: {e}")),
        }
    }

    if !rows.is_empty() {
        print_table(&rows);
        println!();
    }
    for note in notes {
        println!("{note}");
    }
}

fn row(server: &str, m: &ModelDescriptor) -> Row {
    let n = |v: Option<u64>| v.map_or_else(|| "-".to_string(), |v| v.to_string());
    let b = |v: Option<bool>| {
        match v {
            Some(true) => "yes",
            Some(false) => "no",
            None => "-",
        }
        .to_string()
    };
    let per_million =
        |v: Option<f64>| v.map_or_else(|| "-".to_string(), |v| format!("{:.2}", v * 1e6));
    let pricing = m.pricing.unwrap_or_default();
    let kind = match &m.kind {
        ModelKind::Chat => "chat".to_string(),
        ModelKind::Completion => "completion".to_string(),
        ModelKind::Embedding => "embedding".to_string(),
        ModelKind::ImageGeneration => "image".to_string(),
        ModelKind::Audio => "audio".to_string(),
        ModelKind::Rerank => "rerank".to_string(),
        ModelKind::Other(s) => s.clone(),
        _ => "-".to_string(),
    };
    [
        server.to_string(),
        m.id.clone(),
        kind,
        n(m.context_window),
        n(m.max_output_tokens),
        b(m.supports_tools),
        b(m.supports_vision),
        b(m.supports_reasoning),
        b(m.loaded),
        format!(
            "{}/{}",
            per_million(pricing.input_per_token),
            per_million(pricing.output_per_token)
        ),
    ]
}

fn print_table(rows: &[Row]) {
    let header: Row = [
        "SERVER",
        "MODEL",
        "KIND",
        "CONTEXT",
        "MAX OUT",
        "TOOLS",
        "VISION",
        "REASON",
        "LOADED",
        "$/M IN/OUT",
    ]
    .map(String::from);
    let mut widths = header.clone().map(|h| h.chars().count());
    for r in rows {
        for (w, cell) in widths.iter_mut().zip(r) {
            *w = (*w).max(cell.chars().count());
        }
    }
    for r in std::iter::once(&header).chain(rows) {
        let line: Vec<String> = r
            .iter()
            .zip(widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        println!("{}", line.join("  ").trim_end());
    }
}
