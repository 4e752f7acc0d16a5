"""Drives LiteLLM 1.109.1's own Router for tests/parity_resolution.rs: which deployments a config loads, and
which deployment each requested name resolves to.

    target/litellm-venv/bin/python tests/litellm/resolve_parity.py < cases.json > results.json

Input (stdin), a JSON object {"cases": [case, ...]}; a case is
    {"name": str,
     "config": {"model_list": [...], "router_settings": {...}},   # router_settings passed to Router(...)
     "lenient": bool,                                             # Router(ignore_invalid_deployments=...)
     "requests": [{"model": str, "team": str | null}, ...],
     "strategies": [str, ...],                                    # optional: routing_strategy names to try
     "providers": [str, ...]}                                     # optional: model names to find a provider for
Output (stdout), {"litellm": version, "cases": [result, ...]} in the same order; a result is
    {"name": str,
     "init_error": str | null,                  # exception type when Router(...) refuses the config
     "loaded": [{"model_name", "id", "model", "organization"}, ...],   # Router.registry().all(), in order
     "requests": [{"model", "team",
                   "candidates": [id, ...] | null,   # the resolved group, as the router sees it before
                                                    # cooldown / order / strategy: _common_checks_available_deployment
                                                    # then filter_team_based_models (a pinned id: that one)
                   "resolve_error": str | null,     # exception type when resolution itself fails
                   "pick": id | null, "pick_model": str | null,   # async_get_available_deployment
                   "error": str | null}, ...],
     "strategies": {name: true | false},        # whether Router(routing_strategy=name) accepts it
     "providers": {name: provider | null}}      # the provider LiteLLM's wildcard retry uses for the name
                                                # (`inferred_provider`, as PatternMatchRouter.get_pattern calls it)

A team is sent the way LiteLLM's proxy sends it: request_kwargs = {"metadata": {"user_api_key_team_id": team}}.
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import os
import sys
import warnings
from importlib.metadata import version

# Offline: without these LiteLLM tries the internet at import time.
for _name, _value in {
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    "LITELLM_OFFLINE_MODE": "true",
    "LITELLM_DISABLE_LATEST_RELEASE_CHECK": "true",
    "LITELLM_LOCAL_BLOG_POSTS": "True",
    "LITELLM_LOCAL_ANTHROPIC_BETA_HEADERS": "True",
    "LITELLM_LOCAL_POLICY_TEMPLATES": "true",
    "LITELLM_LOCAL_AUTOROUTER_PRESETS": "True",
}.items():
    os.environ[_name] = _value
os.environ.pop("DATABASE_URL", None)
os.environ.setdefault("LITELLM_LOG", "CRITICAL")
warnings.simplefilter("ignore")  # deprecation notices of the Router's old entry points

import litellm  # noqa: E402
from litellm.litellm_core_utils.get_llm_provider_logic import inferred_provider  # noqa: E402
from litellm.litellm_core_utils.routing_common_utils import filter_team_based_models  # noqa: E402

litellm.suppress_debug_info = True
logging.disable(logging.CRITICAL)  # invalid deployments are logged with tracebacks when ignored

EXPECTED_LITELLM = "1.109.1"
PROBE_MODEL_LIST = [{"model_name": "probe", "litellm_params": {"model": "openai/gpt-4o"}}]


def request_kwargs(team: str | None) -> dict:
    return {"metadata": {"user_api_key_team_id": team}} if team else {}


def row(deployment: dict) -> dict:
    params = deployment.get("litellm_params") or {}
    return {
        "model_name": deployment.get("model_name"),
        "id": (deployment.get("model_info") or {}).get("id"),
        "model": params.get("model"),
        "organization": params.get("organization"),
    }


async def resolve(router: litellm.Router, model: str, team: str | None) -> dict:
    out: dict = {"model": model, "team": team, "candidates": None, "resolve_error": None}
    try:
        _, found = router._common_checks_available_deployment(model=model, request_kwargs=request_kwargs(team))
        found = filter_team_based_models(healthy_deployments=found, request_kwargs=request_kwargs(team))
        group = [found] if isinstance(found, dict) else found
        out["candidates"] = [(d.get("model_info") or {}).get("id") for d in group]
    except Exception as error:  # noqa: BLE001  # the type is the result
        out["resolve_error"] = type(error).__name__
    try:
        picked = await router.async_get_available_deployment(model=model, request_kwargs=request_kwargs(team))
        out.update(pick=picked["model_info"]["id"], pick_model=picked["litellm_params"]["model"], error=None)
    except Exception as error:  # noqa: BLE001
        out.update(pick=None, pick_model=None, error=type(error).__name__)
    return out


def accepts(strategy: str) -> bool:
    try:
        litellm.Router(model_list=copy.deepcopy(PROBE_MODEL_LIST), routing_strategy=strategy)
    except ValueError:
        return False
    return True


async def run(case: dict) -> dict:
    config = case.get("config") or {}
    result: dict = {"name": case["name"], "init_error": None, "loaded": [], "requests": []}
    try:
        router = litellm.Router(
            model_list=copy.deepcopy(config.get("model_list") or []),
            ignore_invalid_deployments=bool(case.get("lenient")),
            **(config.get("router_settings") or {}),
        )
    except Exception as error:  # noqa: BLE001
        result["init_error"] = type(error).__name__
        router = None
    if router is not None:
        result["loaded"] = [row(d) for d in router.registry().all()]
        for request in case.get("requests") or []:
            result["requests"].append(await resolve(router, request["model"], request.get("team")))
    if "strategies" in case:
        result["strategies"] = {name: accepts(name) for name in case["strategies"]}
    if "providers" in case:
        result["providers"] = {name: inferred_provider(name) for name in case["providers"]}
    return result


async def main() -> None:
    found = version("litellm")
    if found != EXPECTED_LITELLM:
        sys.exit(f"expected litellm {EXPECTED_LITELLM}, found {found}")
    cases = json.load(sys.stdin)["cases"]
    results = [await run(case) for case in cases]
    json.dump({"litellm": found, "cases": results}, sys.stdout)


if __name__ == "__main__":
    asyncio.run(main())
