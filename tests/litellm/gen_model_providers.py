"""Generates src/router/model_providers.tsv: the provider LiteLLM 1.109.1 assigns to each bare model name.

Regenerate (after tests/litellm/install.sh has built the venv):

    target/litellm-venv/bin/python tests/litellm/gen_model_providers.py

What the table is for. With a wildcard such as `openai/*` deployed, LiteLLM's router serves a request for the bare
name `gpt-4o-mini` by retrying the wildcard lookup as `<provider>/gpt-4o-mini`
(`litellm_core_utils/pattern_match_deployments.py: PatternMatchRouter.get_pattern`), the provider being
`inferred_provider(model)`, i.e. `litellm.get_llm_provider(model)[1]`. For a bare name, that function looks the
name up in lists LiteLLM builds from `model_prices_and_context_window.json` (each entry's `litellm_provider`,
mapped the way LiteLLM maps it: `vertex_ai-language-models` -> `vertex_ai`, `bedrock_converse` -> `bedrock`,
`ai21` -> `ai21_chat`, ...), then applies a few rules of its own.

What it holds. One line per bare name (no `/`) of LiteLLM's bundled price file
(`litellm/model_prices_and_context_window_backup.json`, what LiteLLM reads offline) and of `litellm.model_list`:
`name<TAB>provider`, where provider is what LiteLLM's own `inferred_provider` answers, or `-` when it names none
(then LiteLLM does not retry, and neither does modelroute). Sorted by name (bytewise, the order Rust's `str`
comparison uses), so modelroute finds a name by binary search over the text (`include_str!`, no parsing at start).

The rules LiteLLM applies to names that are not in the table are written in Rust
(src/router/model_provider.rs); this script checks that LiteLLM still has exactly those rules: the routing rules
of the price file's `fallback_generalizations` block (regexes) must be the ones in EXPECTED_ROUTING_RULES, and a set
of probe names outside the table must get the provider the Rust side gives them (PROBES).
"""

from __future__ import annotations

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
os.environ.setdefault("LITELLM_LOG", "ERROR")

import litellm  # noqa: E402
from litellm.litellm_core_utils.get_llm_provider_logic import inferred_provider  # noqa: E402

litellm.suppress_debug_info = True  # get_llm_provider prints a banner for every unknown name otherwise

EXPECTED_LITELLM = "1.109.1"
CRATE = Path(__file__).resolve().parents[2]
OUT = CRATE / "src" / "router" / "model_providers.tsv"
PRICES = Path(litellm.__file__).parent / "model_prices_and_context_window_backup.json"

# The `fallback_generalizations` routing rules (pattern, provider) that src/router/model_provider.rs implements.
EXPECTED_ROUTING_RULES = [
    (r"^(?:[a-z-]+\.)?anthropic\.claude-", "bedrock"),
    (r"^claude-[a-z]+-\d+(?:[-.]\d+)?(?:-\d{8})?$", "anthropic"),
    (r"^jev-(?:latest|preview|1\.13\.0|1\.14\.0)$", "typesafe"),
]

# Names outside the table, and the provider src/router/model_provider.rs gives them (None: no provider).
PROBES = {
    "ft:gpt-4o-mini:my-org::abc123": "openai",
    "ft:gpt-3.5-turbo:acme::x": "openai",
    "gpt-image-9": "openai",
    "*": "openai",
    "amazon_nova-future": "amazon_nova",
    "claude-opus-9": "anthropic",
    "Claude-Sonnet-7-20991231": "anthropic",
    "claude-sonnet-4-5-20250929-extra": None,
    "us.anthropic.claude-future-v9": "bedrock",
    "ANTHROPIC.CLAUDE-X": "bedrock",
    "jev-latest": "typesafe",
    "my-model:" + "a" * 64: "replicate",
    "x" * 60 + ":short": None,
    "not-a-known-model": None,
    "gpt-4o-mini-2099-01-01": None,
}


def bare_names() -> list[str]:
    prices = json.loads(PRICES.read_text())
    names = {name for name, entry in prices.items() if isinstance(entry, dict) and "litellm_provider" in entry}
    names |= {name for name in litellm.model_list if isinstance(name, str)}
    return sorted(name for name in names if "/" not in name)


def check_rules() -> None:
    prices = json.loads(PRICES.read_text())
    rules = (prices.get("fallback_generalizations") or {}).get("rules") or []
    routing = [
        (rule.get("pattern"), rule["model_info"]["litellm_provider"])
        for rule in rules
        if isinstance(rule, dict)
        and isinstance(rule.get("model_info"), dict)
        and list(rule["model_info"]) == ["litellm_provider"]
    ]
    if routing != EXPECTED_ROUTING_RULES:
        sys.exit(
            "the price file's routing rules changed; update src/router/model_provider.rs and EXPECTED_ROUTING_RULES:\n"
            + "\n".join(f"  {p!r} -> {v}" for p, v in routing)
        )


def main() -> None:
    found_version = version("litellm")
    if found_version != EXPECTED_LITELLM:
        sys.exit(f"expected litellm {EXPECTED_LITELLM}, found {found_version}")
    check_rules()
    names = bare_names()
    table = set(names)
    lines = []
    for name in names:
        if "\t" in name or "\n" in name or not name:
            sys.exit(f"unusable name {name!r}")
        provider = inferred_provider(name)
        lines.append(f"{name}\t{provider or '-'}\n")
    # Bytewise order (UTF-8), which is what the Rust binary search compares.
    lines.sort(key=lambda line: line.split("\t", 1)[0].encode())
    for name, expected in PROBES.items():
        if name in table:
            sys.exit(f"probe {name!r} is in the table; pick another")
        got = inferred_provider(name)
        if got != expected:
            sys.exit(f"probe {name!r}: LiteLLM says {got!r}, src/router/model_provider.rs says {expected!r}")
    OUT.write_text("".join(lines))
    known = sum(1 for line in lines if not line.endswith("\t-\n"))
    print(f"wrote {OUT.relative_to(CRATE)}: {len(lines)} names, {known} with a provider")


if __name__ == "__main__":
    main()
