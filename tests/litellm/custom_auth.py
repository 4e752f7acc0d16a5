"""Custom auth for the test proxies (tests/litellm/config_*.yaml): keys restricted to models, without a database.

LiteLLM calls ``user_api_key_auth(request, api_key)`` for every request (``general_settings.custom_auth``,
resolved relative to the config file). The keys below are test-only constants, mirrored in
tests/support/litellm.rs (``LiteLlmProxy::MASTER_KEY`` and friends):

- ``sk-test-master-key-0123456789``: the master key, proxy admin, sees every model;
- ``sk-test-only-gpt-4o``: may use and list only ``gpt-4o``;
- ``sk-test-only-balanced``: may use and list only ``balanced``;
- any other key, or none: a clean 401 ``{"error": {"type": "auth_error", ...}}``.

Listing endpoints (/v1/models, /model/info, /model_group/info) are filtered to a key's models. Calls to a model
outside a key's list are refused (403 ``key_model_access_denied``) only because the configs set BOTH
``general_settings.custom_auth_run_common_checks: true`` and ``litellm_settings.enable_post_custom_auth_checks: true``
(either one alone lets the call through, LiteLLM 1.109.1).
"""

import hmac

from fastapi import Request
from litellm.proxy._types import LitellmUserRoles, ProxyException, UserAPIKeyAuth

MASTER_KEY = "sk-test-master-key-0123456789"
RESTRICTED_KEYS = {
    "sk-test-only-gpt-4o": ("gpt-4o",),
    "sk-test-only-balanced": ("balanced",),
}


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


async def user_api_key_auth(request: Request, api_key: str) -> UserAPIKeyAuth:
    key = (api_key or "").strip()
    if key.lower().startswith("bearer "):
        key = key[len("bearer ") :].strip()
    if key and _same(key, MASTER_KEY):
        return UserAPIKeyAuth(api_key=key, user_role=LitellmUserRoles.PROXY_ADMIN)
    for restricted_key, models in RESTRICTED_KEYS.items():
        if key and _same(key, restricted_key):
            return UserAPIKeyAuth(api_key=key, models=list(models), user_role=LitellmUserRoles.INTERNAL_USER)
    raise ProxyException(message="Invalid API key", type="auth_error", param="api_key", code=401)
