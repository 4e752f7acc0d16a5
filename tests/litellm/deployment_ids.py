"""Deployment-id fixtures computed by LiteLLM itself (1.109.1, the version pinned in requirements.lock).

Regenerate (after `cargo test --test litellm_harness` or tests/litellm/install.sh has built the venv):

    target/litellm-venv/bin/python tests/litellm/deployment_ids.py

Writes two fixtures:
- tests/fixtures/deployment_ids.json, from tests/fixtures/deployment_id_cases.json (deployments as JSON values): a
  list of {"case", "note", "deployment", "env", "id"} (+ "python_router_id" where it differs, see below), in the
  cases' order. `env` maps a variable name to its value, or to null for "must be unset"; the script sets exactly
  those before the case.
- tests/fixtures/deployment_ids_yaml.json, from the config file tests/fixtures/deployment_id_config.yaml loaded the
  way the proxy loads it (`ProxyConfig._get_config_from_file`: PyYAML `yaml.safe_load`, YAML 1.1 types): a list of
  {"index", "model_name", "id", "loaded_params"} in model_list order, loaded_params being Python's repr of the
  litellm_params as loaded (types visible: '1e-05' is a str, 1e-05 a float, datetime.date(...), ...).

Which LiteLLM code computes the ids, for a deployment loaded from a proxy config file (what /model/info shows):

1. `litellm.proxy.proxy_server.ProxyConfig._check_for_os_environ_vars` resolves every `os.environ/NAME` string in the
   config, recursively: values of nested dicts and dicts inside lists too (not plain strings inside lists), except
   `*_ref` secret-pointer fields (`litellm.types.router.holds_secret_pointer`). Resolution is
   `litellm.secret_managers.main.get_secret`: `os.environ.get(NAME)`, where "true"/"false" (any case, spaces stripped)
   become bools, and an unset variable becomes None (no error).
2. `litellm.Router(model_list=...)` -> `Router.set_model_list` resolves top-level `os.environ/` values again (a no-op
   now) and, when `"id" not in model_info`, sets `model_info["id"] = litellm.router_api.deployment_id(model_name,
   litellm_params)`: sha256 over model_name + for each (key, value) in order: key, then the value (a str as is, a dict
   as `json.dumps(value)`, anything else as `str(value)`), hex digest.

`id` is read back from the Router (`Router.registry().names(kind="ids")`), and checked against a direct call of
`litellm.router_api.deployment_id` on the resolved params. `python_router_id` is what `litellm.Router(model_list=...)`
gives when used directly from Python on the unresolved deployment (step 2 only: top-level `os.environ/` only); it is
written only when it differs from `id`.
"""

from __future__ import annotations

import asyncio
import copy
import json
import os
import sys
from importlib.metadata import version
from pathlib import Path

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
os.environ.setdefault("LITELLM_LOG", "ERROR")  # quiet: every Router registers callbacks, ~100 Routers here

import litellm  # noqa: E402
from litellm.proxy.proxy_server import ProxyConfig  # noqa: E402
from litellm.router_api import deployment_id  # noqa: E402

EXPECTED_LITELLM = "1.109.1"
CRATE = Path(__file__).resolve().parents[2]
CASES = CRATE / "tests" / "fixtures" / "deployment_id_cases.json"
OUT = CRATE / "tests" / "fixtures" / "deployment_ids.json"
YAML_CONFIG = CRATE / "tests" / "fixtures" / "deployment_id_config.yaml"
YAML_OUT = CRATE / "tests" / "fixtures" / "deployment_ids_yaml.json"
# The environment deployment_id_config.yaml is computed with (also stated in its header).
YAML_ENV = {"MODELROUTE_FIXTURE_KEY": "sk-fixture-123", "MODELROUTE_FIXTURE_TRUE": "True"}


def router_ids(model_list: list[dict]) -> list[str]:
    router = litellm.Router(model_list=copy.deepcopy(model_list))
    return list(router.registry().names(kind="ids"))


def set_env(env: dict[str, str | None], all_names: set[str]) -> None:
    for name in all_names:
        os.environ.pop(name, None)
    for name, value in env.items():
        if value is not None:
            os.environ[name] = value


def compute(case: dict, all_names: set[str]) -> dict:
    deployment = case["deployment"]
    set_env(case["env"], all_names)

    # 1. The proxy's config loading: os.environ/ resolved everywhere in the config.
    config = ProxyConfig()._check_for_os_environ_vars(config={"model_list": [copy.deepcopy(deployment)]})
    resolved = config["model_list"][0]
    # 2. The Router the proxy builds from it.
    ids = router_ids([resolved])
    if len(ids) != 1:
        sys.exit(f"{case['case']}: the Router holds {len(ids)} deployments: {ids}")
    (found,) = ids
    if "id" not in (resolved.get("model_info") or {}):
        direct = deployment_id(resolved["model_name"], resolved["litellm_params"])
        if direct != found:
            sys.exit(f"{case['case']}: Router id {found} != router_api.deployment_id {direct}")

    out = {"case": case["case"], "note": case.get("note", ""), "deployment": deployment, "env": case["env"], "id": found}
    (sdk,) = router_ids([deployment])
    if sdk != found:
        out["python_router_id"] = sdk
    return out


def compute_yaml(all_names: set[str]) -> list[dict]:
    set_env(YAML_ENV, all_names | set(YAML_ENV))
    proxy_config = ProxyConfig()
    config = asyncio.run(proxy_config._get_config_from_file(config_file_path=str(YAML_CONFIG)))
    loaded = copy.deepcopy(config["model_list"])
    resolved = proxy_config._check_for_os_environ_vars(config=config)["model_list"]
    results = []
    for index, (deployment, as_loaded) in enumerate(zip(resolved, loaded)):
        (found,) = router_ids([deployment])
        if "id" not in (deployment.get("model_info") or {}):
            direct = deployment_id(deployment["model_name"], deployment["litellm_params"])
            if direct != found:
                sys.exit(f"yaml #{index}: Router id {found} != router_api.deployment_id {direct}")
        results.append(
            {
                "index": index,
                "model_name": deployment["model_name"],
                "id": found,
                "loaded_params": repr(as_loaded["litellm_params"]),
            }
        )
    set_env({}, all_names | set(YAML_ENV))
    return results


def main() -> None:
    # repr() escapes code points unassigned in Python's Unicode database (3.11: Unicode 14.0), so one case's id
    # depends on the Python version: regenerate with 3.11, the version the venv is meant to use.
    if sys.version_info[:2] != (3, 11):
        sys.exit(f"run this with Python 3.11 (the fixtures' Unicode 14.0 database), not {sys.version.split()[0]}")
    found_version = version("litellm")
    if found_version != EXPECTED_LITELLM:
        sys.exit(f"expected LiteLLM {EXPECTED_LITELLM}, found {found_version}")

    cases = json.loads(CASES.read_text(encoding="utf-8"))
    names = [case["case"] for case in cases]
    if len(set(names)) != len(names):
        sys.exit("duplicate case names in " + str(CASES))
    all_names = {name for case in cases for name in case["env"]}
    results = [compute(case, all_names) for case in cases]
    set_env({}, all_names)
    OUT.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {len(results)} ids computed by LiteLLM {found_version} to {OUT.relative_to(CRATE)}")
    yaml_results = compute_yaml(all_names)
    YAML_OUT.write_text(json.dumps(yaml_results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {len(yaml_results)} ids computed by LiteLLM {found_version} to {YAML_OUT.relative_to(CRATE)}")


if __name__ == "__main__":
    main()
