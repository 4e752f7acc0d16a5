"""Differential-test driver: runs requests through LiteLLM 1.109.1's own `Router.acompletion` (retries and
fallbacks included) and prints every attempt it made and every sleep it asked for, for tests/parity_attempts.rs
to compare with modelroute's attempt plan on the same scenario.

    <venv>/bin/python tests/litellm/attempt_parity.py < scenarios.json > runs.json

Input (JSON on stdin): {"scenarios": [<scenario>, ...]}, each run on a Router of its own (retired after). A scenario:
    {"router": {<Router keyword arguments: num_retries, retry_after, retry_policy, model_group_retry_policy,
                 fallbacks, context_window_fallbacks, content_policy_fallbacks, default_fallbacks,
                 max_fallbacks, ...>},
     "model_list": [<LiteLLM deployments, each with model_info.id>],
     "answers": {<deployment id>: [<answer>, ...]},
     "model": <the model requested>}

A deployment gives its answers in order, the last one again and again. An answer is "success" or
{"status": <HTTP status>, "body": <response body text>, "retry_after": <Retry-After header value, optional>}.

What is real and what is steered:
- The request goes through `Router.acompletion` and LiteLLM's OpenAI client to a real HTTP server on 127.0.0.1
  that answers as the scenario says (each deployment has an `api_base` of its own on that server); LiteLLM maps
  the answers to its exception classes, decides retries, cooldowns and fallbacks itself.
- No real sleeping: the router's `sleep` records the delay and returns at once. LiteLLM's clock
  (`time.time()`) stands still for the whole request, so no cooldown ends during it.
- The jitter is steered: `random.random()` as `calculate_retry_after` sees it is 0.5 (0.375 s of jitter).
- The pick among healthy deployments is LiteLLM's own (random): scenarios give every deployment of a group the
  same answers, so the pick does not change what happens.

Output (JSON on stdout): for each scenario {"events": [...], "result": ...}: events in order,
    {"attempt": <model group asked>, "deployment": <id called, or null if none was>, "class": <exception
     class, or null on success>} and {"sleep": <seconds>};
result {"ok": <group that answered>} or {"error": <class of the exception raised>}.
"""

from __future__ import annotations

import asyncio
import json
import os
import random as _random
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
import litellm.router_python_host as router_host  # noqa: E402
import litellm.utils as litellm_utils  # noqa: E402
from litellm import Router  # noqa: E402

litellm.suppress_debug_info = True

NOW = [1_700_000_000.0]
time.time = lambda: NOW[0]  # every LiteLLM cache TTL and cooldown reads time.time(): it stands still

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

STATE: dict = {"answers": {}, "served": {}, "events": [], "called": None}


class Upstream(BaseHTTPRequestHandler):
    """Answers POST /<deployment id>/v1/chat/completions with that deployment's next answer."""

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        self.rfile.read(int(self.headers.get("content-length", 0)))
        deployment = self.path.strip("/").split("/")[0]
        answers = STATE["answers"].get(deployment) or ["success"]
        n = STATE["served"].get(deployment, 0)
        STATE["served"][deployment] = n + 1
        STATE["called"] = deployment
        answer = answers[min(n, len(answers) - 1)]
        status, body, headers = 200, OK_BODY, {}
        if answer != "success":
            status, body = answer["status"], answer["body"]
            if answer.get("retry_after") is not None:
                headers["retry-after"] = str(answer["retry_after"])
        data = body.encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args) -> None:
        pass


class _SteadyRandom:
    """`random` as `litellm.utils` sees it: `random()` is 0.5, everything else is the real module."""

    @staticmethod
    def random() -> float:
        return 0.5

    def __getattr__(self, name: str):
        return getattr(_random, name)


litellm_utils.random = _SteadyRandom()


async def recorded_sleep(self, seconds: float) -> None:
    STATE["events"].append({"sleep": round(float(seconds), 6)})
    await asyncio.sleep(0)


router_host.PythonHost.sleep = recorded_sleep

_make_call = router_core.PythonCore.make_call


async def recording_make_call(self, original_function, *args, **kwargs):
    """One attempt: the group asked, the deployment the server saw (if any), and how it ended."""
    group = kwargs.get("model")
    STATE["called"] = None
    try:
        response = await _make_call(self, original_function, *args, **kwargs)
    except Exception as e:
        STATE["events"].append({"attempt": group, "deployment": STATE["called"], "class": type(e).__name__})
        raise
    STATE["events"].append({"attempt": group, "deployment": STATE["called"], "class": None})
    return response


router_core.PythonCore.make_call = recording_make_call


def run_scenario(index: int, scenario: dict, api_base: str) -> dict:
    model_list = []
    for entry in scenario["model_list"]:
        entry = json.loads(json.dumps(entry))
        params = entry["litellm_params"]
        params["model"] = f"{params['model']}-attempts{index}"
        params.setdefault("api_key", "sk-parity")
        params.setdefault("api_base", f"{api_base}/{entry['model_info']['id']}/v1")
        params.setdefault("max_retries", 0)
        model_list.append(entry)
    STATE["answers"] = scenario["answers"]
    STATE["served"] = {}
    STATE["events"] = []
    router = Router(model_list=model_list, **scenario.get("router", {}))

    async def run() -> dict:
        try:
            await router.acompletion(model=scenario["model"], messages=[{"role": "user", "content": "hi"}])
        except Exception as e:  # noqa: BLE001 (the failure is the point)
            return {"error": type(e).__name__}
        last = [e for e in STATE["events"] if "attempt" in e][-1]
        return {"ok": last["attempt"]}

    try:
        result = asyncio.run(run())
    finally:
        router.retire()
    return {"events": STATE["events"], "result": result}


def main() -> None:
    scenarios = json.load(sys.stdin)["scenarios"]
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
