"""The one format every tool answers the LLM in.

A tool answer is a small JSON object: ``result`` (a stable code the directed-dialog policy and the
evals read), ``say`` (the sentence the agent should say next, in the caller's language, from
``prompts/``), ``next`` (what the workflow expects next) and a few masked facts. It never holds card
data: the tools that could see some only ever get masked values from ``payment_tools``.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel


class ToolReply(BaseModel):
    """A parsed tool answer."""

    result: str
    say: str | None = None
    next: str | None = None
    facts: dict[str, Any] = {}


def tool_reply(
    result: str, *, say: str | None = None, next_action: str | None = None, **facts: Any
) -> str:
    """Serialise a tool answer for the LLM."""
    body: dict[str, Any] = {"result": result}
    if say:
        body["say"] = say
    if next_action:
        body["next"] = next_action
    body.update(facts)
    return json.dumps(body, ensure_ascii=False)


def parse_tool_reply(output: str) -> ToolReply | None:
    """Read a tool answer back; ``None`` when the output is not one of ours (e.g. an error text)."""
    try:
        body = json.loads(output)
    except ValueError:
        return None
    if not isinstance(body, dict) or "result" not in body:
        return None
    result = str(body.pop("result"))
    say = body.pop("say", None)
    next_action = body.pop("next", None)
    return ToolReply(result=result, say=say, next=next_action, facts=body)
