//! Two LiteLLM servers side by side in one ModelCache, then a restart from the disk copy.
//!
//! ```sh
//! cargo run --example model_cache                                   # two demo servers on 127.0.0.1
//! LITELLM_API_KEY=sk-... cargo run --example model_cache -- http://proxy-a:4000 http://proxy-b:4000
//! ```
//!
//! Without arguments it starts two small local servers that answer `/v1/models` as a LiteLLM proxy does
//! (team A's proxy offers gpt-4o and llama3, team B's claude-3-5-sonnet and mistral-large), both with the same
//! key: the situation where Roo, Kilo and Zoo Code showed one server's list for the other (Zoo Code #638).

use std::sync::Arc;

use modelroute::{LiteLlm, ModelCache, ModelCacheOptions, ModelList, Secret};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let key =
        std::env::var("LITELLM_API_KEY").unwrap_or_else(|_| "sk-same-key-on-both".to_string());
    let mut demo_servers = Vec::new();
    let (url_a, url_b) = match args.as_slice() {
        [a, b] => (a.clone(), b.clone()),
        [] => {
            demo_servers.push(demo_server(&["gpt-4o", "llama3"]).await);
            demo_servers.push(demo_server(&["claude-3-5-sonnet", "mistral-large"]).await);
            (demo_servers[0].uri(), demo_servers[1].uri())
        }
        _ => return Err("usage: model_cache [URL_A URL_B]".into()),
    };

    let dir = tempfile::tempdir()?;
    let client = reqwest::Client::new();
    let team_a = Arc::new(LiteLlm::new(&url_a, Some(Secret::new(key.as_str())))?);
    let team_b = Arc::new(LiteLlm::new(&url_b, Some(Secret::new(key.as_str())))?);

    println!("cache directory: {}", dir.path().display());
    println!("\n1. One cache, two servers, one key: each server gets its own list");
    let cache = ModelCache::new(ModelCacheOptions::new().disk_dir(dir.path()));
    for (name, provider) in [("A", &team_a), ("B", &team_b)] {
        show(name, &cache.get(provider, &client).await?);
    }

    println!(
        "\n2. Checking the configured model `gpt-4o` against each list (never replaced by a default)"
    );
    for (name, provider) in [("A", &team_a), ("B", &team_b)] {
        let list = cache.get(provider, &client).await;
        let check = modelroute::cache::validate("gpt-4o", &list);
        println!(
            "   {name}: configured {:?} -> {:?}",
            check.configured_model(),
            check.availability()
        );
    }

    println!("\n3. Restart: a new cache over the same directory starts from the disk copies");
    drop(cache);
    let cache = ModelCache::new(ModelCacheOptions::new().disk_dir(dir.path()));
    for (name, provider) in [("A", &team_a), ("B", &team_b)] {
        show(name, &cache.get(provider, &client).await?);
    }
    for entry in std::fs::read_dir(dir.path())? {
        println!("   file: {}", entry?.file_name().to_string_lossy());
    }

    if demo_servers.len() == 2 {
        println!(
            "\n4. Server B goes away: refresh says so, and B's last good list is still served"
        );
        drop(demo_servers.pop());
        match cache.refresh(&team_b, &client).await {
            Ok(list) => show("B", &list),
            Err(e) => println!("   refresh B: {e}"),
        }
        let list = cache.get(&team_b, &client).await?;
        show("B", &list);
        println!(
            "   B refresh problem: {:?}",
            list.refresh_problem().map(|p| p.to_string())
        );
    }
    Ok(())
}

fn show(name: &str, list: &ModelList) {
    let ids: Vec<&str> = list.ids().take(8).collect();
    println!(
        "   {name}: {:?} from {:?}, {} models{} {:?}",
        list.key().to_string(),
        list.source(),
        list.len(),
        if list.is_stale() { " (stale)" } else { "" },
        ids
    );
}

/// A local server answering `GET /v1/models` (and 404 for `/v1/model/info`, as a proxy without it would).
async fn demo_server(models: &[&str]) -> MockServer {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
    let server = MockServer::builder().listener(listener).start().await;
    let data: Vec<_> = models
        .iter()
        .map(|id| serde_json::json!({"id": id, "object": "model", "owned_by": "openai"}))
        .collect();
    Mock::given(method("GET"))
        .and(path("/v1/models"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({"object": "list", "data": data})),
        )
        .mount(&server)
        .await;
    server
}
