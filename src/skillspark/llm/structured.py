"""Structured answers: the JSON schema sent with a request, the route it took, and one tolerant parser.

Why three routes: hosted providers that litellm knows to support JSON schemas decode against it
(`response_format = {"type": "json_schema", ..., "strict": true}`); the embedded llama.cpp server turns a
schema into a GBNF grammar when it comes as `{"type": "json_object", "schema": ...}` (its only accepted
shape: llama-cpp-python 0.3.x rejects `"json_schema"`), so even the 135M model can only emit text of that
shape; every other model gets no response_format and its answer goes through `loads_object`, which finds
the object in fenced or chatty replies. Whatever the route, the answer is still validated by the caller's
pydantic model: a schema narrows what a model can say, it never replaces the check.

Schemas are derived from the pydantic models (`schema_for`), made self-contained (no `$ref`), every
property required and no extra keys (what strict mode demands, and what makes the grammar fixed), with
length and count bounds so a small model that repeats itself still ends inside `max_tokens`.
"""

from __future__ import annotations

import json
import re
from typing import Any, Literal

from pydantic import BaseModel

Route = Literal["schema", "grammar", "json_object", "tolerant"]
ParseMode = Literal["direct", "extracted", "failed"]

_FENCE = re.compile(r"```(?:json)?\s*\n(.*?)\n?```", re.DOTALL)
# keywords OpenAI's strict mode refuses (and that only the grammar route needs): stripped for "schema"
_GRAMMAR_ONLY = ("minLength", "maxLength")
_NOISE = ("title", "default", "description")


class JsonSchema(BaseModel):
    """A named schema for one kind of answer (the name reaches the provider; keep it [a-zA-Z0-9_-]).

    `grammar_body`, when set, is what the embedded model decodes against instead: a narrower shape for a
    135M model (e.g. without the optional parts it cannot fill consistently).
    """

    name: str
    body: dict[str, Any]
    grammar_body: dict[str, Any] | None = None

    def response_format(self, route: Route) -> dict[str, Any] | None:
        """The request's `response_format` for a route (None: ask without one)."""
        if route == "schema":
            return {"type": "json_schema",
                    "json_schema": {"name": self.name, "schema": _without(self.body, _GRAMMAR_ONLY), "strict": True}}
        if route == "grammar":
            return {"type": "json_object", "schema": self.grammar_body or self.body}
        if route == "json_object":
            return {"type": "json_object"}
        return None


def schema_for(model: type[BaseModel], *, name: str, exclude: tuple[str, ...] = (),
               limits: dict[str, dict[str, Any]] | None = None, max_string: int = 200,
               max_items: int = 8) -> JsonSchema:
    """A strict, bounded schema of `model` without the fields in `exclude` (ours to set, not the model's).

    `limits` adds keywords by dotted field path (`"environment.apt_packages": {"maxItems": 2}`; see `_at`);
    every string and list left without a bound then gets `max_string` characters / `max_items` items.
    """
    raw = model.model_json_schema()
    definitions = raw.pop("$defs", {})
    schema = _strict(_inline(raw, definitions))
    for field in exclude:
        schema["properties"].pop(field, None)
    schema["required"] = list(schema["properties"])
    for path, keywords in (limits or {}).items():
        _at(schema, path).update(keywords)
    _bound(schema, max_string, max_items)
    return JsonSchema(name=name, body=schema)


def _bound(node: Any, max_string: int, max_items: int) -> None:
    """Give every unbounded string and list a bound, so that no answer can run on forever."""
    if isinstance(node, list):
        for item in node:
            _bound(item, max_string, max_items)
        return
    if not isinstance(node, dict):
        return
    if node.get("type") == "string" and not {"maxLength", "pattern", "enum", "const"} & node.keys():
        node["maxLength"] = max_string
    if node.get("type") == "array":
        node.setdefault("maxItems", max_items)
    for key, value in node.items():
        if key == "properties":
            for child in value.values():
                _bound(child, max_string, max_items)
        elif isinstance(value, dict | list):
            _bound(value, max_string, max_items)


def _inline(node: Any, definitions: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            return _inline(definitions[ref.removeprefix("#/$defs/")], definitions)
        return {k: _inline(v, definitions) for k, v in node.items()}
    if isinstance(node, list):
        return [_inline(v, definitions) for v in node]
    return node


def _strict(node: Any) -> Any:
    """Every object closed and fully required; titles, defaults and descriptions dropped."""
    if isinstance(node, list):
        return [_strict(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: _strict(v) for k, v in node.items() if k not in _NOISE and k != "properties"}
    if "properties" in node:  # its keys are field names, not keywords: a field may be called "title"
        out["properties"] = {k: _strict(v) for k, v in node["properties"].items()}
        out["required"] = list(out["properties"])
        out["additionalProperties"] = False
    return out


def _at(schema: dict[str, Any], path: str) -> dict[str, Any]:
    """The node at a dotted path; `[]` steps into a list's items (`"tags.[]"`), a name after a list of
    objects steps through its items (`"parameters.name"`)."""
    node = schema
    for part in path.split("."):
        if part == "[]":
            node = node["items"]
            continue
        while "items" in node and "properties" not in node:
            node = node["items"]
        node = node["properties"][part]
    return node


def _without(node: Any, keys: tuple[str, ...]) -> Any:
    if isinstance(node, dict):
        if "properties" in node:
            return {k: ({n: _without(p, keys) for n, p in v.items()} if k == "properties" else _without(v, keys))
                    for k, v in node.items() if k not in keys}
        return {k: _without(v, keys) for k, v in node.items() if k not in keys}
    if isinstance(node, list):
        return [_without(v, keys) for v in node]
    return node


def loads_object(text: str) -> tuple[dict[str, Any] | None, ParseMode, str]:
    """The JSON object in a model's answer: (object, how it was found, problem when it was not).

    Tolerates a fenced block, prose before or after, and trailing text that itself holds braces; the
    first decodable object wins. "direct" means the whole answer was the object (what the schema and
    grammar routes should always give); "extracted" means it had to be dug out.
    """
    body = text.strip()
    try:
        data = json.loads(body, strict=False)  # strict=False: raw newlines in strings (grammars allow them)
        if isinstance(data, dict):
            return data, "direct", ""
        return None, "failed", f"the answer is JSON but a {type(data).__name__}, not one object"
    except json.JSONDecodeError as exc:
        first_error = f"{exc.msg} at line {exc.lineno} column {exc.colno}"
    candidates = [m.group(1) for m in _FENCE.finditer(body)] + [body]
    decoder = json.JSONDecoder(strict=False)
    for candidate in candidates:
        start = candidate.find("{")
        while start != -1:
            try:
                return decoder.raw_decode(candidate, start)[0], "extracted", ""  # from "{": always an object
            except json.JSONDecodeError:
                start = candidate.find("{", start + 1)
    return None, "failed", f"the answer is not valid JSON ({first_error})"
