//! Differential tests against LiteLLM's own `Router`: one scenario (a config and a sequence of routes and
//! outcomes) is run by modelroute's [`Router`] and by LiteLLM 1.109.1 (`tests/litellm/router_parity.py`, which
//! documents the scenario format), and the decisions are compared step by step.
//!
//! ```ignore
//! mod support;
//! use support::parity::{Scenario, check};
//!
//! let scenario = Scenario::new("v2 picks the fewest tokens", json!({"routing_strategy": "usage-based-routing-v2"}), model_list)
//!     .step(json!({"op": "route", "model": "g", "name": "r1"}))
//!     .step(json!({"op": "report", "route": "r1", "latency_ms": 100, "usage": {...}}));
//! check(&[scenario]); // panics with every step where the two routers decided differently
//! ```
//!
//! modelroute runs first, with a seeded randomness and a [`ManualClock`] at the scenario's start; its pick is
//! passed to LiteLLM as `prefer`, so when LiteLLM chooses at random among tied deployments it follows modelroute's
//! choice if that choice is among its tied ones (and reports them): both routers then keep the same state.
//! The LiteLLM side runs every scenario of a batch in one Python process (importing LiteLLM takes seconds), bounded
//! in time and stopped by PID.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant, UNIX_EPOCH};

use modelroute::catalog::ModelCatalog;
use modelroute::clock::ManualClock;
use modelroute::config::RouterConfig;
use modelroute::router::{FailureKind, Outcome, RequestContext, Route, Usage};
use modelroute::{DeploymentId, Router};
use serde_json::{Value, json};

use super::litellm::{ensure_installed, litellm_dir};

/// How long the Python side may take for one batch.
const LITELLM_TIMEOUT: Duration = Duration::from_secs(600);

/// One scenario: a config, and steps (see `tests/litellm/router_parity.py` for the step format).
#[derive(Debug, Clone)]
pub struct Scenario {
    /// Shown in failures.
    pub name: String,
    /// Wall-clock time at the first step, in seconds since the epoch (default: a minute boundary).
    pub start: u64,
    /// `router_settings` for modelroute, keyword arguments of `litellm.Router` for LiteLLM.
    pub router: Value,
    /// The `model_list` both routers load.
    pub model_list: Value,
    /// The `model_list` LiteLLM loads instead, where the same intent is written differently for LiteLLM (a
    /// documented difference, e.g. its `rpm` off by one).
    pub litellm_model_list: Option<Value>,
    /// Give modelroute LiteLLM's own cost table (`model_prices_and_context_window_backup.json`), which LiteLLM
    /// uses as `litellm.model_cost`.
    pub catalog: bool,
    /// The steps.
    pub steps: Vec<Value>,
}

impl Scenario {
    /// A scenario starting at 2023-11-14 22:14:00 UTC (a minute boundary).
    pub fn new(name: &str, router: Value, model_list: Value) -> Self {
        Scenario {
            name: name.to_string(),
            start: 1_700_000_040,
            router,
            model_list,
            litellm_model_list: None,
            catalog: false,
            steps: Vec::new(),
        }
    }

    /// Starting `seconds` into a minute.
    pub fn at_second(mut self, seconds: u64) -> Self {
        self.start = 1_700_000_040 + seconds;
        self
    }

    /// LiteLLM loads this model list instead.
    pub fn litellm_model_list(mut self, model_list: Value) -> Self {
        self.litellm_model_list = Some(model_list);
        self
    }

    /// modelroute gets LiteLLM's cost table.
    pub fn with_catalog(mut self) -> Self {
        self.catalog = true;
        self
    }

    /// Adds a step.
    pub fn step(mut self, step: Value) -> Self {
        self.steps.push(step);
        self
    }

    /// Adds steps.
    pub fn steps(mut self, steps: impl IntoIterator<Item = Value>) -> Self {
        self.steps.extend(steps);
        self
    }
}

/// Both routers' decisions for one scenario.
#[derive(Debug, Clone)]
pub struct Outcomes {
    /// The scenario, with modelroute's picks as `prefer`.
    pub scenario: Scenario,
    /// modelroute's result per step.
    pub modelroute: Vec<Value>,
    /// LiteLLM's result per step.
    pub litellm: Vec<Value>,
}

impl Outcomes {
    /// The steps where the two differ, described.
    pub fn mismatches(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (i, (step, (ours, theirs))) in self
            .scenario
            .steps
            .iter()
            .zip(self.modelroute.iter().zip(&self.litellm))
            .enumerate()
        {
            if !same_decision(ours, theirs) {
                out.push(format!(
                    "[{}] step {i} {step}: modelroute {ours} vs LiteLLM {theirs}",
                    self.scenario.name
                ));
            }
        }
        if self.modelroute.len() != self.litellm.len() {
            out.push(format!("[{}] step counts differ", self.scenario.name));
        }
        out
    }

    /// modelroute's picks (deployment id, or `None` for a refusal) of the route steps, in order.
    pub fn picks(&self, of: &[Value]) -> Vec<Option<String>> {
        self.scenario
            .steps
            .iter()
            .zip(of)
            .filter(|(step, _)| step["op"] == "route")
            .map(|(_, r)| r["deployment"].as_str().map(str::to_string))
            .collect()
    }
}

/// Whether two step results are the same decision: the same deployment (LiteLLM's random choice having
/// included it), or both a refusal, or both a plain step.
pub fn same_decision(ours: &Value, theirs: &Value) -> bool {
    match (ours.get("deployment"), theirs.get("deployment")) {
        (Some(a), Some(b)) => {
            a == b
                && theirs["options"]
                    .as_array()
                    .is_none_or(|options| options.contains(a))
        }
        (None, None) => ours.get("error").is_some() == theirs.get("error").is_some(),
        _ => false,
    }
}

/// Runs every scenario in both routers and panics with every step where they decided differently.
pub fn check(scenarios: &[Scenario]) -> Vec<Outcomes> {
    let outcomes = run(scenarios);
    let mismatches: Vec<String> = outcomes.iter().flat_map(Outcomes::mismatches).collect();
    assert!(
        mismatches.is_empty(),
        "modelroute and LiteLLM decided differently:\n{}",
        mismatches.join("\n")
    );
    outcomes
}

/// Runs every scenario in both routers.
pub fn run(scenarios: &[Scenario]) -> Vec<Outcomes> {
    let catalog = Arc::new(litellm_catalog());
    let mut prepared = Vec::new();
    let mut ours = Vec::new();
    for scenario in scenarios {
        let mut scenario = scenario.clone();
        let results = run_modelroute(&scenario, scenario.catalog.then(|| catalog.clone()));
        for (step, result) in scenario.steps.iter_mut().zip(&results) {
            if step["op"] == "route"
                && let Some(id) = result.get("deployment")
            {
                step["prefer"] = id.clone();
            }
        }
        prepared.push(scenario);
        ours.push(results);
    }
    let theirs = run_litellm(&prepared);
    prepared
        .into_iter()
        .zip(ours.into_iter().zip(theirs))
        .map(|(scenario, (modelroute, litellm))| Outcomes {
            scenario,
            modelroute,
            litellm,
        })
        .collect()
}

/// The site-packages directory of the test venv's LiteLLM.
pub fn litellm_package_dir() -> PathBuf {
    let venv = ensure_installed();
    let lib = venv.join("lib");
    let python = std::fs::read_dir(&lib)
        .expect("venv lib dir")
        .filter_map(Result::ok)
        .find(|e| e.file_name().to_string_lossy().starts_with("python"))
        .expect("a python3.x dir in the venv");
    python.path().join("site-packages").join("litellm")
}

/// LiteLLM's own cost table (`litellm/model_prices_and_context_window_backup.json` in the test venv).
pub fn litellm_catalog() -> ModelCatalog {
    let path = litellm_package_dir().join("model_prices_and_context_window_backup.json");
    ModelCatalog::from_file(&path).unwrap_or_else(|e| panic!("{e}"))
}

/// modelroute's result per step.
pub fn run_modelroute(s: &Scenario, catalog: Option<Arc<ModelCatalog>>) -> Vec<Value> {
    let config = RouterConfig::from_json(
        &json!({"model_list": s.model_list, "router_settings": s.router}).to_string(),
    )
    .unwrap_or_else(|e| panic!("[{}] config: {e}", s.name));
    let clock = Arc::new(ManualClock::starting_at(
        UNIX_EPOCH + Duration::from_secs(s.start),
    ));
    let mut builder = Router::builder()
        .config(config)
        .clock(clock.clone())
        .seed(7);
    if let Some(catalog) = catalog {
        builder = builder.catalog(catalog);
    }
    let router = builder.build().unwrap();
    let mut ids: HashMap<String, DeploymentId> = HashMap::new();
    let mut held: HashMap<String, Route> = HashMap::new();
    let mut out = Vec::new();
    for step in &s.steps {
        let result = match step["op"].as_str().unwrap_or_default() {
            "route" => {
                let ctx = RequestContext::new()
                    .with_input_tokens(step["input_tokens"].as_u64().unwrap_or(7))
                    .with_stream(step["stream"].as_bool().unwrap_or(false));
                match router.route(step["model"].as_str().unwrap_or_default(), &ctx) {
                    Ok(route) => {
                        let id = route.id().clone();
                        if let Some(name) = step["name"].as_str() {
                            ids.insert(name.to_string(), id.clone());
                            if step["hold"].as_bool().unwrap_or(false) {
                                held.insert(name.to_string(), route);
                            }
                        }
                        json!({"deployment": id.as_str()})
                    }
                    Err(e) => {
                        json!({"error": "RouteError", "message": e.to_string(), "rate_limited": e.is_rate_limited()})
                    }
                }
            }
            "report" => {
                let outcome = outcome(step);
                match step["route"].as_str() {
                    Some(name) => match held.get(name) {
                        Some(route) => {
                            router.report(route, outcome);
                        }
                        None => {
                            router.report_id(&ids[name], outcome).expect("deployment");
                        }
                    },
                    None => {
                        let id =
                            DeploymentId::from(step["deployment"].as_str().unwrap_or_default());
                        router.report_id(&id, outcome).expect("deployment");
                    }
                }
                json!({"ok": true})
            }
            "release" => {
                held.remove(step["route"].as_str().unwrap_or_default());
                json!({"ok": true})
            }
            "advance" => {
                clock.advance(Duration::from_secs_f64(
                    step["seconds"].as_f64().unwrap_or(0.0),
                ));
                json!({"ok": true})
            }
            other => panic!("[{}] unknown op {other}", s.name),
        };
        out.push(result);
    }
    out
}

fn outcome(step: &Value) -> Outcome {
    let latency = Duration::from_millis(step["latency_ms"].as_u64().unwrap_or(0));
    match step["outcome"].as_str().unwrap_or("success") {
        "success" => {
            let mut outcome = Outcome::success(latency);
            if let Some(usage) = Usage::from_json(&step["usage"]) {
                outcome = outcome.with_usage(usage);
            }
            if let Some(ttft) = step["ttft_ms"].as_u64() {
                outcome = outcome.with_time_to_first_token(Duration::from_millis(ttft));
            }
            outcome
        }
        "timeout" => Outcome::failure(FailureKind::Timeout),
        other => panic!("unknown outcome {other}"),
    }
}

/// LiteLLM's results for every scenario, from one Python process.
pub fn run_litellm(scenarios: &[Scenario]) -> Vec<Vec<Value>> {
    let input = json!({"scenarios": scenarios.iter().map(|s| json!({
        "name": s.name,
        "start": s.start,
        "router": s.router,
        "model_list": s.litellm_model_list.as_ref().unwrap_or(&s.model_list),
        "steps": s.steps,
    })).collect::<Vec<_>>()});
    let decisions = run_harness(&input);
    decisions["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| r.as_array().expect("a list per scenario").clone())
        .collect()
}

/// Runs `tests/litellm/router_parity.py` on `input` (see its docs for the keys) and returns its answer.
pub fn run_harness(input: &Value) -> Value {
    let venv = ensure_installed();
    let mut child = Command::new(venv.join("bin").join("python"))
        .arg(litellm_dir().join("router_parity.py"))
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the LiteLLM parity harness");
    let mut stdin = child.stdin.take().expect("stdin");
    let text = input.to_string();
    let writer = std::thread::spawn(move || stdin.write_all(text.as_bytes()));
    let mut stdout = child.stdout.take().expect("stdout");
    let mut stderr = child.stderr.take().expect("stderr");
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        stdout.read_to_string(&mut s).map(|_| s)
    });
    let errors = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let deadline = Instant::now() + LITELLM_TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for the harness") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill(); // by PID: the child we started
            let _ = child.wait();
            panic!("the LiteLLM parity harness took longer than {LITELLM_TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    writer.join().expect("writer").expect("write the input");
    let stdout = reader.join().expect("reader").expect("read the answer");
    let stderr = errors.join().expect("stderr reader");
    assert!(
        status.success(),
        "LiteLLM parity harness failed ({status}):\n{stderr}"
    );
    serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("harness output is not JSON ({e}):\n{stdout}\n{stderr}"))
}
