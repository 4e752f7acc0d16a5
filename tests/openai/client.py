"""The official OpenAI Python client, driven by tests/send_gateway.rs against examples/gateway.rs.

    <openai-venv>/bin/python tests/openai/client.py BASE_URL API_KEY

Reads one JSON command per line on stdin and answers each with one JSON line on stdout, so that one client (one
connection pool) runs a whole test, before and after the test stops an upstream:

- ``{"op": "chat", "model": M}``: a chat completion; answers ``{"ok": true, "content", "finish_reason", "usage",
  "deployment"}`` (``deployment``: the gateway's ``x-modelroute-deployment`` response header).
- ``{"op": "stream", "model": M}``: a streamed chat completion with ``stream_options.include_usage``; answers
  ``{"ok": true, "content", "chunks", "finish_reason", "usage", "deployment"}``.
- ``{"op": "tools", "model": M}``: a chat completion offering one tool; answers ``{"ok": true, "tool_calls":
  [{"id", "name", "arguments"}], "finish_reason", "deployment"}``.
- ``{"op": "models"}``: the model list; answers ``{"ok": true, "ids": [...]}``.

A failure answers ``{"ok": false, "type": <exception class>, "status": <HTTP status or null>, "error": <text>}``.
The client's own retries are off (``max_retries=0``): whatever succeeds, the gateway made succeed.
"""

import json
import sys

import openai

MESSAGES = [{"role": "user", "content": "Say hello"}]
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather in a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


def usage(u):
    return None if u is None else {"prompt_tokens": u.prompt_tokens, "completion_tokens": u.completion_tokens}


def chat(client, model):
    raw = client.chat.completions.with_raw_response.create(model=model, messages=MESSAGES)
    reply = raw.parse()
    choice = reply.choices[0]
    return {
        "content": choice.message.content,
        "finish_reason": choice.finish_reason,
        "usage": usage(reply.usage),
        "deployment": raw.headers.get("x-modelroute-deployment"),
    }


def stream(client, model):
    with client.chat.completions.with_streaming_response.create(
        model=model, messages=MESSAGES, stream=True, stream_options={"include_usage": True}
    ) as raw:
        content, chunks, finish, last_usage = [], 0, None, None
        for chunk in raw.parse():
            chunks += 1
            if chunk.usage is not None:
                last_usage = chunk.usage
            for choice in chunk.choices:
                if choice.delta.content:
                    content.append(choice.delta.content)
                if choice.finish_reason:
                    finish = choice.finish_reason
        return {
            "content": "".join(content),
            "chunks": chunks,
            "finish_reason": finish,
            "usage": usage(last_usage),
            "deployment": raw.headers.get("x-modelroute-deployment"),
        }


def tools(client, model):
    raw = client.chat.completions.with_raw_response.create(
        model=model,
        messages=[{"role": "user", "content": "What is the weather in Paris?"}],
        tools=[WEATHER_TOOL],
        tool_choice="auto",
    )
    choice = raw.parse().choices[0]
    calls = [
        {"id": c.id, "name": c.function.name, "arguments": json.loads(c.function.arguments)}
        for c in choice.message.tool_calls or []
    ]
    return {
        "tool_calls": calls,
        "finish_reason": choice.finish_reason,
        "deployment": raw.headers.get("x-modelroute-deployment"),
    }


def models(client, _model):
    return {"ids": [m.id for m in client.models.list()]}


OPS = {"chat": chat, "stream": stream, "tools": tools, "models": models}


def main():
    base_url, api_key = sys.argv[1], sys.argv[2]
    client = openai.OpenAI(base_url=base_url, api_key=api_key, max_retries=0, timeout=60.0)
    for line in sys.stdin:
        if not line.strip():
            continue
        command = json.loads(line)
        try:
            answer = {"ok": True, **OPS[command["op"]](client, command.get("model"))}
        except Exception as e:  # every failure is an answer: the Rust test asserts on it
            answer = {"ok": False, "type": type(e).__name__, "status": getattr(e, "status_code", None), "error": str(e)}
        print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    main()
