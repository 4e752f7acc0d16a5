//! Arbitrary bytes as a LiteLLM config (YAML and JSON, strict and lenient): loading never panics, and a
//! loaded config builds a router that routes, explains, reconciles and plans fallbacks without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use modelroute::Router;
use modelroute::config::RouterConfig;
use modelroute::router::RequestContext;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let env = |name: &str| (name.len() < 8).then(|| format!("v-{name}"));
    for lenient in [false, true] {
        let loader = RouterConfig::loader().env(&env).lenient(lenient);
        for loaded in [loader.load_yaml(text), loader.load_json(text)] {
            let Ok(config) = loaded else { continue };
            let deployments = config.deployments().to_vec();
            let router = Router::builder().config(config).seed(1).build().expect("validated at load");
            let ctx = RequestContext::new().with_team("t").with_tags(&["a"]);
            let mut names: Vec<String> = deployments.iter().map(|d| d.routing_name().replace('*', "x")).collect();
            // Deployment ids and litellm_params.model are requestable names too.
            names.extend(deployments.iter().map(|d| d.id().to_string()));
            names.extend(deployments.iter().map(|d| d.litellm_params().model().to_string()));
            names.extend(["gpt-4o".to_string(), String::new(), text.chars().take(16).collect()]);
            for name in &names {
                let _ = router.route(name, &ctx);
                let _ = router.route(name, &RequestContext::new());
                let _ = router.explain(name, &ctx);
                let _ = router.fallbacks(name);
            }
            let mut reversed = deployments.clone();
            reversed.reverse();
            router.reconcile(reversed.clone()).expect("same deployments");
            let fresh = Router::new(reversed).expect("same deployments");
            assert_eq!(router.routing_table(), fresh.routing_table());
        }
    }
});
