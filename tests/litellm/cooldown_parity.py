"""Differential-test driver: runs a routing scenario through LiteLLM 1.109.1's own `Router` and prints what it
decided, for tests/parity_cooldown.rs to compare with modelroute's `Router` on the same scenario.

    <venv>/bin/python tests/litellm/cooldown_parity.py < scenarios.json > decisions.json

Input (JSON on stdin): {"scenarios": [<scenario>, ...]}, each run on a Router of its own (retired after), so that
LiteLLM is imported once. A scenario:
    {"router": {<Router keyword arguments: allowed_fails, allowed_fails_policy, cooldown_time, disable_cooldowns,
                 enable_pre_call_checks, enable_tag_filtering, tag_filtering_match_any, fallbacks, ...>},
     "model_list": [<LiteLLM deployments, each with model_info.id>],
     "steps": [{"at": <seconds since the start>, "call": {"model": <group>, "deployment": <id>,
                                                       "answer": <answer>, "tags": [...]}},
               {"at": <seconds>, "route": {"model": <group>, "tags": [...], "input_tokens": <n>}}]}

A call's `deployment` is an id, or a list of ids: the first of them that is eligible is called.

An answer is "success", {"status": <HTTP status>, "body": <response body text>}, "timeout" or "connection".

What is real and what is steered:
- Every call goes through `Router.acompletion` and LiteLLM's OpenAI / Azure client to a real HTTP server on
  127.0.0.1 that answers with the step's status and body; LiteLLM maps the answer to its exception class itself.
  Timeouts and connection errors are raised as LiteLLM's own `Timeout` / `APIConnectionError` (`mock_response`).
- Time is LiteLLM's `time.time()`, patched to a clock the steps set: no sleeping.
- The pick among the eligible deployments is steered: `simple_shuffle` is replaced by a function that records
  the eligible deployments and returns the step's `deployment` (so both routers see the same sequence). When
  none of them is eligible, the call goes elsewhere and "picked" is null.
- The input-token count of the pre-call checks is the step's `input_tokens` (LiteLLM's counter is replaced).
- Each scenario's model names get a suffix of their own (LiteLLM keeps model_info in a process-wide map).
- Fallbacks are disabled per request (`disable_fallbacks`), so a call touches one deployment only; the
  router-level `fallbacks` setting still counts for the cooldown rules.

Output (JSON on stdout): for each scenario, one result per step:
    call:  {"picked": <id>, "eligible": [ids], "seen": [<exception class>, <status>] (what the cooldown callback
            received; absent on success), "cooling": {<id>: <seconds left>}}
    route: {"eligible": [ids]} or {"error": "context_window" | "unavailable", "class": <exception class>},
           plus "cooling".
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# Offline and quiet: without these LiteLLM tries the internet at import time.
for _name, _value in {
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    "LITELLM_OFFLINE_MODE": "true",
    "LITELLM_DISABLE_LATEST_RELEASE_CHECK": "true",
    "LITELLM_LOCAL_BLOG_POSTS": "True",
    "LITELLM_LOCAL_ANTHROPIC_BETA_HEADERS": "True",
    "LITELLM_LOCAL_POLICY_TEMPLATES": "true",
    "LITELLM_LOCAL_AUTOROUTER_PRESETS": "True",
    "LITELLM_LOG": "ERROR",
}.items():
    os.environ[_name] = _value
os.environ.pop("DATABASE_URL", None)

import litellm  # noqa: E402
import litellm.router_python_core as router_core  # noqa: E402
from litellm import Router  # noqa: E402
from litellm.litellm_core_utils.logging_worker import GLOBAL_LOGGING_WORKER  # noqa: E402

litellm.suppress_debug_info = True

START = 1_700_000_000.0
SETTLE_TIMEOUT = 20.0  # real seconds LiteLLM's logging worker may take to run a success callback
NOW = [START]
time.time = lambda: NOW[0]  # every LiteLLM cache TTL and cooldown reads time.time()

OK_BODY = json.dumps(
    {
        "id": "chatcmpl-parity",
        "object": "chat.completion",
        "created": 1,
        "model": "parity",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }
)
REPLY = {"status": 200, "body": OK_BODY}


class Upstream(BaseHTTPRequestHandler):
    """Answers every POST with the current REPLY."""

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        self.rfile.read(int(self.headers.get("content-length", 0)))
        body = REPLY["body"].encode()
        self.send_response(REPLY["status"])
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


PICK = {"force": None, "eligible": None, "picked": None}
SEEN = {"failure": None}
on_failure = router_core.PythonCore.deployment_callback_on_failure


def recording_on_failure(self, kwargs, completion_response, start_time, end_time):
    """The router's cooldown callback, recording the exception it is given (class and status)."""
    exception = kwargs.get("exception")
    SEEN["failure"] = [type(exception).__name__, getattr(exception, "status_code", None)]
    return on_failure(self, kwargs, completion_response, start_time, end_time)



def steered_shuffle(resolve_model_alias, healthy_deployments, model, request_kwargs):
    PICK["eligible"] = sorted(d["model_info"]["id"] for d in healthy_deployments)
    by_id = {d["model_info"]["id"]: d for d in healthy_deployments}
    for wanted in PICK["force"] or ():
        if wanted in by_id:
            PICK["picked"] = wanted
            return by_id[wanted]
    PICK["picked"] = None
    return healthy_deployments[0]


router_core.simple_shuffle = steered_shuffle


def run_scenario(index: int, scenario: dict, api_base: str) -> list:
    model_list = []
    for entry in scenario["model_list"]:
        entry = json.loads(json.dumps(entry))
        params = entry["litellm_params"]
        # LiteLLM registers each deployment's model_info (max_input_tokens, ...) in its process-wide cost map under
        # the model name: a name of its own per scenario keeps one scenario's windows out of the next.
        if "*" not in params["model"]:
            params["model"] = f"{params['model']}-scenario{index}"
        azure = params["model"].startswith("azure/")
        params.setdefault("api_key", "sk-parity")
        params.setdefault("api_base", api_base if azure else api_base + "/v1")
        params.setdefault("max_retries", 0)
        if azure:
            params.setdefault("api_version", "2024-10-21")
        model_list.append(entry)
    ids = [d["model_info"]["id"] for d in model_list]
    NOW[0] = START
    router = Router(model_list=model_list, num_retries=0, **scenario.get("router", {}))
    tokens = {"n": None}
    router._count_pre_call_check_tokens = lambda **_: tokens["n"]

    def cooling() -> dict:
        active = router._core_cooldown_cache.get_active_cooldowns(model_ids=ids, parent_otel_span=None)
        return {
            model_id: round(value["timestamp"] + value["cooldown_time"] - NOW[0], 6) for model_id, value in active
        }

    async def call(step: dict) -> dict:
        answer = step["answer"]
        wanted = step["deployment"]
        PICK["force"] = [wanted] if isinstance(wanted, str) else wanted
        PICK["eligible"], PICK["picked"] = None, None
        SEEN["failure"] = None
        tokens["n"] = step.get("input_tokens")
        kwargs = {"metadata": {"tags": step.get("tags", [])}, "disable_fallbacks": True}
        REPLY["status"], REPLY["body"] = 200, OK_BODY
        if answer == "timeout":
            kwargs["mock_response"] = litellm.Timeout(message="parity timeout", model="parity", llm_provider="openai")
        elif answer == "connection":
            kwargs["mock_response"] = litellm.APIConnectionError(
                message="parity connection refused", model="parity", llm_provider="openai"
            )
        elif answer != "success":
            REPLY["status"], REPLY["body"] = answer["status"], answer["body"]
        before = {i: router._core_cache.get_cache(key=f"{i}:successes", local_only=True) for i in ids}
        try:
            await router.acompletion(model=step["model"], messages=[{"role": "user", "content": "hi"}], **kwargs)
        except Exception:  # noqa: BLE001 (the failure is the point; what LiteLLM did with it is read below)
            pass
        # A success is counted by an async callback that LiteLLM's logging worker runs later: wait for it, so that
        # it counts at this step's time, as modelroute's report does.
        deadline = time.monotonic() + SETTLE_TIMEOUT
        while True:
            await GLOBAL_LOGGING_WORKER.flush()
            await asyncio.sleep(0.001)
            picked = PICK["picked"]
            counted = picked is None or (
                router._core_cache.get_cache(key=f"{picked}:successes", local_only=True) != before[picked]
            )
            if GLOBAL_LOGGING_WORKER.pending_count == 0 and (answer != "success" or counted):
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"LiteLLM did not count the success of {picked}")
        out = {"picked": PICK["picked"], "eligible": PICK["eligible"]}
        if SEEN["failure"] is not None:
            out["seen"] = SEEN["failure"]
        return out

    async def route(step: dict) -> dict:
        PICK["force"], PICK["eligible"] = None, None
        tokens["n"] = step.get("input_tokens")
        try:
            await router.async_get_available_deployment(
                model=step["model"],
                messages=[{"role": "user", "content": "hi"}],
                request_kwargs={"metadata": {"tags": step.get("tags", [])}},
            )
        except litellm.ContextWindowExceededError as e:
            return {"error": "context_window", "class": type(e).__name__}
        except Exception as e:  # noqa: BLE001 (no deployment available: cooldowns, tags)
            return {"error": "unavailable", "class": type(e).__name__}
        return {"eligible": PICK["eligible"]}

    async def run() -> list:
        results = []
        for step in scenario["steps"]:
            NOW[0] = START + float(step.get("at", 0.0))
            out = await (call(step["call"]) if "call" in step else route(step["route"]))
            out["cooling"] = cooling()
            results.append(out)
        return results

    try:
        return asyncio.run(run())
    finally:
        router.retire()


def main() -> None:
    scenarios = json.load(sys.stdin)["scenarios"]
    router_core.PythonCore.deployment_callback_on_failure = recording_on_failure
    server = ThreadingHTTPServer(("127.0.0.1", 0), Upstream)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    api_base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        results = [run_scenario(i, scenario, api_base) for i, scenario in enumerate(scenarios)]
    finally:
        server.shutdown()
    json.dump(results, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
