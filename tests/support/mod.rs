//! Support code shared by the integration tests. A test file uses it with `mod support;`.
//!
//! - [`http`]: real HTTP servers on 127.0.0.1 that record requests and fail on purpose (axum).
//! - [`litellm`]: installs a pinned LiteLLM proxy once (into `<target>/litellm-venv`) and starts real
//!   proxies on 127.0.0.1 ([`litellm::LiteLlmProxy`]).
//! - [`openai`]: installs the official `openai` Python client once (into `<target>/openai-venv`) and drives
//!   it a command at a time ([`openai::OpenAiClient`]).
//! - [`gateway`]: builds `examples/gateway.rs` with the test's cargo and runs it ([`gateway::Gateway`]).
//! - [`parity`]: runs one routing scenario in modelroute's `Router` and in LiteLLM's own `Router`
//!   (`tests/litellm/router_parity.py`) and compares the decisions.
//! - [`redis_server`]: installs Debian's `redis-server` when it is missing and starts real servers on 127.0.0.1
//!   ([`redis_server::RedisServer`]).
//! - [`process`]: how both are spawned, signalled and stopped by PID.

// Every integration test file is its own crate and uses only part of this module.
#![allow(dead_code, unreachable_pub)]

pub mod gateway;
pub mod http;
pub mod litellm;
pub mod openai;
pub mod parity;
pub mod process;
pub mod redis_server;
