"""Differential-test harness: drives LiteLLM 1.109.1's own `litellm.Router` through routing scenarios and prints
its decisions, for the Rust tests to compare with modelroute's (tests/parity_usage.rs and its siblings).

    <venv>/bin/python tests/litellm/router_parity.py < scenarios.json > decisions.json

Input (stdin): {"scenarios": [SCENARIO, ...]}. Output (stdout): {"results": [[STEP_RESULT, ...], ...]}, one list per
scenario, one result per step, in order. Also about LiteLLM's cost table (what `ModelCatalog` reads):
{"catalog_entries": true} adds {"catalog_entries": {key: [input_cost_per_token, output_cost_per_token,
max_input_tokens, max_output_tokens, max_tokens, litellm_provider]}} for every entry of `litellm.model_cost`, and
{"catalog_lookups": [name, ...]} adds {"catalog_lookups": [key | null, ...]}: the key LiteLLM's `get_model_info`
finds for each name in its static table. Offline, no network, no real calls: a route asks the Router for a
deployment the way `Router.acompletion` does (`Router.select`, then the deployment's `max_parallel_requests` slot
and the strategies' pre-call checks), and an outcome is fed to the Router's strategy handlers the way LiteLLM's
logging feeds them after a call. One process runs many scenarios (importing LiteLLM takes seconds); each scenario
gets a fresh Router whose handlers are unregistered when it ends.

SCENARIO:
    {"name": "...",
     "start": 1700000040.0,             # wall-clock time (epoch seconds) at the first step; TZ is UTC
     "router": {...},                   # keyword arguments of litellm.Router besides model_list, e.g.
                                        # {"routing_strategy": "usage-based-routing-v2", "routing_strategy_args": {...}}
     "model_list": [...],               # LiteLLM model_list entries (give every entry a model_info.id)
     "steps": [STEP, ...]}

STEP (each gives one result):
    {"op": "route", "model": "g",       # what Router.acompletion does before calling the provider:
     "input_tokens": 20,                #   the messages are built to count exactly this many tokens with LiteLLM's
                                        #   token_counter (at least 7: a one-message chat has 7 tokens of overhead);
                                        #   default 7
     "stream": false,                   #   request kwarg `stream`
     "name": "r1",                      #   name the route, for "report" and "release"
     "hold": true,                      #   keep it in flight (its max_parallel_requests slot) until "release";
                                        #   otherwise the slot is given back at once
     "prefer": "b"}                     #   when LiteLLM picks at random (random.choice) among tied deployments,
                                        #   take this one if it is among them (the Rust side passes its own pick)
        -> {"deployment": "<id>", "options": [<ids>] | null}   options: the ids LiteLLM chose among at random
        -> {"error": "<exception class>", "message": "..."}   no deployment (rate limited, nothing eligible)
    {"op": "report", "route": "r1",     # an outcome for a named route (or "deployment": "<id>", "model": "<group>")
     "outcome": "success" | "timeout",
     "latency_ms": 1200,                #   end_time - start_time
     "ttft_ms": 300,                    #   streamed: completion_start_time - start_time (sets kwargs stream=True)
     "usage": {"prompt_tokens": 10, "completion_tokens": 20, "total_tokens": 30}}   # optional
        -> {"ok": true}
    {"op": "release", "route": "r1"}    -> {"ok": true}
    {"op": "advance", "seconds": 61}    -> {"ok": true}   moves the wall clock (strategies and the router cache)

How outcomes reach LiteLLM (`dispatch_success`, `dispatch_failure`): each strategy selector the Router registered
(`Router._callback_selectors()`) gets `async_log_success_event` / `async_log_failure_event` with the kwargs shape
LiteLLM's logging object passes (`litellm_params.metadata.model_group`, `litellm_params.model_info`,
`standard_logging_object`, `stream`, `completion_start_time`), a `ModelResponse` carrying the usage, and start/end
times from the scenario's clock. Extend these two functions for callbacks of other router features (cooldowns).

Time (`FakeClock`): the strategies' `datetime.now()` / `get_utc_datetime()` and the Router cache's clock read the
scenario's clock, so minute windows and TTLs are deterministic.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as _dt
import json
import os
import random
import sys
import time

# Offline: without these LiteLLM tries the internet at import time.
for _name, _value in {
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    "LITELLM_OFFLINE_MODE": "true",
    "LITELLM_DISABLE_LATEST_RELEASE_CHECK": "true",
    "LITELLM_LOCAL_BLOG_POSTS": "True",
    "LITELLM_LOCAL_ANTHROPIC_BETA_HEADERS": "True",
    "LITELLM_LOCAL_POLICY_TEMPLATES": "true",
    "LITELLM_LOCAL_AUTOROUTER_PRESETS": "True",
    "TZ": "UTC",
}.items():
    os.environ[_name] = _value
os.environ.pop("DATABASE_URL", None)
os.environ.setdefault("LITELLM_LOG", "ERROR")
time.tzset()

import litellm  # noqa: E402
from litellm import Router, token_counter  # noqa: E402
from litellm.router_strategy import lowest_cost, lowest_latency, lowest_tpm_rpm, lowest_tpm_rpm_v2  # noqa: E402


class FakeClock:
    """The scenario's wall clock, in epoch seconds."""

    def __init__(self, start: float) -> None:
        self.now = start

    def time(self) -> float:
        return self.now

    def datetime(self, tz: _dt.tzinfo | None = None) -> _dt.datetime:
        return _dt.datetime.fromtimestamp(self.now, tz)


CLOCK = FakeClock(0.0)


class _FakeDatetime(_dt.datetime):
    """`datetime` whose `now()` reads CLOCK (what the strategy modules see as `datetime`)."""

    @classmethod
    def now(cls, tz: _dt.tzinfo | None = None) -> _dt.datetime:  # type: ignore[override]
        return CLOCK.datetime(tz)


def patch_time(router: Router) -> None:
    for module in (lowest_tpm_rpm, lowest_latency, lowest_cost):
        module.datetime = _FakeDatetime  # type: ignore[attr-defined]
    lowest_tpm_rpm_v2.get_utc_datetime = lambda: CLOCK.datetime(_dt.timezone.utc)  # type: ignore[attr-defined]
    router._core_cache.in_memory_cache._clock = CLOCK.time  # noqa: SLF001


# --- random picks: follow the Rust side's pick when LiteLLM chooses at random among tied deployments ---------------

_real_choice = random.choice
PREFER: dict[str, object] = {"id": None, "options": None}


def _id_of(item: object) -> str | None:
    if isinstance(item, tuple) and item:
        item = item[0]
    if isinstance(item, dict):
        info = item.get("model_info") or {}
        return str(info.get("id")) if info.get("id") is not None else None
    return None


def _choice(seq):  # noqa: ANN001, ANN202
    ids = [_id_of(x) for x in seq]
    if PREFER["id"] is not None and ids and all(i is not None for i in ids):
        PREFER["options"] = ids
        if PREFER["id"] in ids:
            return seq[ids.index(PREFER["id"])]
    return _real_choice(seq)


random.choice = _choice


# --- requests ---------------------------------------------------------------------------------------------------


def messages_with_tokens(n: int) -> list[dict[str, str]]:
    """A one-message chat that LiteLLM's token_counter counts as exactly `n` tokens."""
    # About one word in 500 of a long run of "a a a ..." costs an extra token: shorten the run until it counts.
    words = max(n - 7, 0)
    for _ in range(8):
        messages = [{"role": "user", "content": " ".join(["a"] * words)}]
        counted = token_counter(messages=messages)
        if counted == n or words == 0:
            break
        words = max(words - (counted - n), 0)
    if counted != n:
        raise ValueError(f"cannot build a chat of {n} tokens (got {counted}); use at least 7")
    return messages


def dispatch_success(router: Router, kwargs: dict, response: object, start: _dt.datetime, end: _dt.datetime) -> None:
    for selector in router._callback_selectors():  # noqa: SLF001
        asyncio.get_event_loop().run_until_complete(selector.async_log_success_event(kwargs, response, start, end))


def dispatch_failure(router: Router, kwargs: dict, start: _dt.datetime, end: _dt.datetime) -> None:
    for selector in router._callback_selectors():  # noqa: SLF001
        asyncio.get_event_loop().run_until_complete(selector.async_log_failure_event(kwargs, None, start, end))


class Scenario:
    def __init__(self, spec: dict) -> None:
        CLOCK.now = float(spec.get("start", 1_700_000_040.0))
        self.router = Router(model_list=spec["model_list"], **spec.get("router", {}))
        patch_time(self.router)
        self.routes: dict[str, tuple[dict, str]] = {}
        self.slots: dict[str, contextlib.AsyncExitStack] = {}
        self.loop = asyncio.get_event_loop()

    def close(self) -> None:
        for stack in self.slots.values():
            self.loop.run_until_complete(stack.aclose())
        self.router._unregister_router_selectors(self.router._callback_selectors())  # noqa: SLF001

    def run(self, step: dict) -> dict:
        op = step["op"]
        if op == "route":
            return self.route(step)
        if op == "report":
            self.report(step)
        elif op == "release":
            stack = self.slots.pop(step["route"], None)
            if stack is not None:
                self.loop.run_until_complete(stack.aclose())
        elif op == "advance":
            CLOCK.now += float(step["seconds"])
        else:
            raise ValueError(f"unknown op {op!r}")
        return {"ok": True}

    def route(self, step: dict) -> dict:
        model = step["model"]
        messages = messages_with_tokens(int(step.get("input_tokens", 7)))
        request_kwargs: dict = {"metadata": {}, "stream": bool(step.get("stream", False))}
        PREFER["id"], PREFER["options"] = step.get("prefer"), None
        stack = contextlib.AsyncExitStack()
        try:
            deployment = self.loop.run_until_complete(
                self.router.select(model, request_kwargs, messages=messages)
            )
            # What Router._acompletion does next: take the deployment's max_parallel_requests slot and run the
            # strategies' pre-call checks (usage-based-routing-v2 counts the request here).
            self.loop.run_until_complete(
                stack.enter_async_context(self.router._deployment_slot(deployment, request_kwargs, None))  # noqa: SLF001
            )
        except Exception as e:  # noqa: BLE001
            self.loop.run_until_complete(stack.aclose())
            return {"error": type(e).__name__, "message": str(e)[:500]}
        finally:
            options = PREFER["options"]
            PREFER["id"], PREFER["options"] = None, None
        name = step.get("name")
        if name is not None:
            self.routes[name] = (deployment, model)
        if step.get("hold") and name is not None:
            self.slots[name] = stack
        else:
            self.loop.run_until_complete(stack.aclose())
        return {"deployment": deployment["model_info"]["id"], "options": options if options and len(options) > 1 else None}

    def deployment(self, step: dict) -> tuple[dict, str]:
        if "route" in step:
            return self.routes[step["route"]]
        wanted = step["deployment"]
        for d in self.router._core_model_list:  # noqa: SLF001
            if d["model_info"]["id"] == wanted:
                return d, step.get("model", d["model_name"])
        raise KeyError(wanted)

    def report(self, step: dict) -> None:
        deployment, group = self.deployment(step)
        latency = float(step.get("latency_ms", 0)) / 1000.0
        end = CLOCK.datetime()
        start = end - _dt.timedelta(seconds=latency)
        model_info = deployment["model_info"]
        usage = step.get("usage")
        ttft = step.get("ttft_ms")
        kwargs: dict = {
            "model": deployment["litellm_params"]["model"],
            "call_type": "acompletion",
            "stream": ttft is not None,
            "litellm_params": {
                "metadata": {
                    "model_group": group,
                    "model_info": model_info,
                    "deployment": deployment["litellm_params"]["model"],
                },
                "model_info": model_info,
            },
            "standard_logging_object": {
                "model_group": group,
                "model_id": model_info["id"],
                "total_tokens": (usage or {}).get("total_tokens", 0),
                "prompt_tokens": (usage or {}).get("prompt_tokens", 0),
                "completion_tokens": (usage or {}).get("completion_tokens", 0),
                "hidden_params": {"litellm_model_name": deployment["litellm_params"]["model"]},
            },
        }
        if ttft is not None:
            kwargs["completion_start_time"] = start + _dt.timedelta(seconds=float(ttft) / 1000.0)
        outcome = step.get("outcome", "success")
        if outcome == "success":
            response = (
                litellm.ModelResponse(usage=litellm.Usage(**usage)) if usage is not None else litellm.ModelResponse()
            )
            dispatch_success(self.router, kwargs, response, start, end)
        elif outcome == "timeout":
            kwargs["exception"] = litellm.Timeout(
                message="Request timed out", model=kwargs["model"], llm_provider="openai"
            )
            dispatch_failure(self.router, kwargs, start, end)
        else:
            raise ValueError(f"unknown outcome {outcome!r}")


# --- the cost table -----------------------------------------------------------------------------------------------


def _rate(value: object) -> float | None:
    """lowest_cost.py's `_as_rate`: ints and floats, not booleans."""
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _tokens(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and value >= 0:
        return value
    if isinstance(value, float) and value.is_integer() and value >= 0:
        return int(value)
    return None


def catalog_entries() -> dict[str, list]:
    """Every entry of litellm.model_cost (LiteLLM's own file), as the fields modelroute's catalog keeps."""
    out = {}
    for key, row in litellm.model_cost.items():
        if not isinstance(row, dict):
            continue
        provider = row.get("litellm_provider")
        out[key] = [
            _rate(row.get("input_cost_per_token")),
            _rate(row.get("output_cost_per_token")),
            _tokens(row.get("max_input_tokens")),
            _tokens(row.get("max_output_tokens")),
            _tokens(row.get("max_tokens")),
            provider if isinstance(provider, str) else None,
        ]
    return out


def catalog_lookup(name: str) -> str | None:
    """The cost-table key LiteLLM's get_model_info finds for `name` (static table only), or None."""
    from litellm.utils import get_model_info_helper

    try:
        return get_model_info_helper(model=name, catalog_only=True).get("key")
    except Exception:  # noqa: BLE001  # ModelNotMappedError and friends: not found
        return None


def main() -> None:
    spec = json.load(sys.stdin)
    out = sys.stdout
    sys.stdout = sys.stderr  # LiteLLM prints to stdout in places: keep it for the JSON answer
    results = []
    for scenario_spec in spec.get("scenarios", []):
        scenario = Scenario(scenario_spec)
        try:
            results.append([scenario.run(step) for step in scenario_spec["steps"]])
        finally:
            scenario.close()
    answer: dict = {"results": results}
    if spec.get("catalog_entries"):
        answer["catalog_entries"] = catalog_entries()
    if "catalog_lookups" in spec:
        answer["catalog_lookups"] = [catalog_lookup(name) for name in spec["catalog_lookups"]]
    json.dump(answer, out)


if __name__ == "__main__":
    asyncio.set_event_loop(asyncio.new_event_loop())
    main()
