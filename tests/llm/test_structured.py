"""Structured answers: the tolerant parser, schemas derived from pydantic models, the route each kind of
model gets (checked on the wire, against the scripted endpoint), the fallback when an endpoint refuses
the schema, and that llama.cpp's grammar converter takes every schema the pipeline sends."""

from __future__ import annotations

import json
from typing import Literal

import pytest
from pydantic import BaseModel

from skillspark.llm.client import LLMClient
from skillspark.llm.structured import JsonSchema, loads_object, schema_for
from tests.fakes.scripted_openai import Reply, ScriptedRequest

OBJECT = {"issues": [{"area": "tests", "message": "m"}]}


# ---- the tolerant parser ---------------------------------------------------------------------------
@pytest.mark.parametrize(("text", "mode"), [
    (json.dumps(OBJECT), "direct"),
    (f"```json\n{json.dumps(OBJECT)}\n```", "extracted"),
    (f"Here you go:\n{json.dumps(OBJECT)}\nHope this helps {{smile}}.", "extracted"),
    (f"{{not json}} then {json.dumps(OBJECT)}", "extracted"),
])
def test_the_object_is_found_in_bare_fenced_and_chatty_answers(text, mode):
    assert loads_object(text) == (OBJECT, mode, "")


def test_raw_newlines_inside_strings_are_accepted():
    """llama.cpp's JSON grammar lets a model put a raw newline in a string; strict JSON would refuse it."""
    data, mode, _ = loads_object('{"code": "import sys\nprint(1)"}')
    assert data == {"code": "import sys\nprint(1)"} and mode == "direct"


@pytest.mark.parametrize(("text", "problem"), [
    ("no json here", "the answer is not valid JSON (Expecting value at line 1 column 1)"),
    ("[1, 2]", "the answer is JSON but a list, not one object"),
    ('{"a": ', "the answer is not valid JSON (Expecting value at line 1 column 6)"),
])
def test_junk_says_why(text, problem):
    assert loads_object(text) == (None, "failed", problem)


# ---- schemas ---------------------------------------------------------------------------------------
class Inner(BaseModel):
    kind: Literal["a", "b"]
    tags: list[str] = []


class Outer(BaseModel):
    """Docstring that must not reach the schema."""

    name: str
    inner: Inner
    note: str | None = None
    ours: int = 0


def test_schema_is_inlined_closed_fully_required_and_bounded():
    schema = schema_for(Outer, name="outer", exclude=("ours",), limits={"inner.tags": {"maxItems": 2},
                                                                        "name": {"maxLength": 5}}, max_string=9)
    body = schema.body
    assert "$defs" not in json.dumps(body) and "title" not in body and "description" not in body
    assert body["required"] == ["name", "inner", "note"] and body["additionalProperties"] is False
    assert body["properties"]["name"] == {"type": "string", "maxLength": 5}
    inner = body["properties"]["inner"]
    assert inner["required"] == ["kind", "tags"] and inner["additionalProperties"] is False
    assert inner["properties"]["kind"] == {"enum": ["a", "b"], "type": "string"}
    assert inner["properties"]["tags"] == {"items": {"type": "string", "maxLength": 9}, "type": "array", "maxItems": 2}
    assert body["properties"]["note"] == {"anyOf": [{"type": "string", "maxLength": 9}, {"type": "null"}]}


def test_each_route_sends_its_own_response_format():
    schema = JsonSchema(name="x", body={"type": "object", "properties": {"s": {"type": "string", "maxLength": 3}},
                                        "required": ["s"], "additionalProperties": False},
                        grammar_body={"type": "object", "properties": {}, "required": []})
    strict = schema.response_format("schema")
    assert strict == {"type": "json_schema", "json_schema": {"name": "x", "strict": True, "schema": {
        "type": "object", "properties": {"s": {"type": "string"}}, "required": ["s"], "additionalProperties": False}}}
    assert schema.response_format("grammar") == {"type": "json_object", "schema": schema.grammar_body}
    assert schema.response_format("json_object") == {"type": "json_object"}
    assert schema.response_format("tolerant") is None


def test_llama_cpp_converts_every_schema_the_pipeline_sends():
    """The server silently falls back to "any JSON" when its converter fails: so it must never fail."""
    from llama_cpp.llama_grammar import json_schema_to_gbnf

    from skillspark.taskgen.blueprint import TaskBlueprint, blueprint_schema
    from skillspark.taskgen.critique import review_schema
    from skillspark.taskgen.vary import params_schema
    from tests.taskgen.generate import blueprints as bp

    parameters = TaskBlueprint.model_validate(bp.good()).parameters
    assert parameters
    blueprint = blueprint_schema()
    for schema, rule in ((blueprint, "data-generator-kv ::="), (review_schema(), "issues-item-area ::="),
                         (params_schema(parameters), "params-kv ::=")):
        for body in (schema.response_format("grammar")["schema"], schema.body):
            assert rule in json_schema_to_gbnf(json.dumps(body))


# ---- routes on the wire ------------------------------------------------------------------------------
REVIEW = schema_for(Inner, name="inner")


async def test_an_unknown_model_behind_an_endpoint_is_asked_with_the_strict_schema(scripted_llm):
    scripted_llm.push(text='{"kind": "a", "tags": []}')
    async with LLMClient(scripted_llm.model, api_base=scripted_llm.base_url) as client:
        result = await client.chat([{"role": "user", "content": "JSON please"}], schema=REVIEW)
    sent = scripted_llm.requests[-1].body["response_format"]
    assert sent == REVIEW.response_format("schema") and sent["json_schema"]["strict"] is True
    assert (result.route, result.route_fallback) == ("schema", False)
    assert client.records[-1].route == "schema" and client.records[-1].route_fallback is False


async def test_a_refused_schema_falls_back_to_the_tolerant_route_and_says_so(scripted_llm):
    def refuse_formats(request: ScriptedRequest) -> Reply:
        if "response_format" in (request.body or {}):
            return Reply(status=400, error="response_format is not supported by this server")
        return Reply(text='Sure! ```json\n{"kind": "b", "tags": ["x"]}\n```')

    scripted_llm.responder = refuse_formats
    async with LLMClient(scripted_llm.model, api_base=scripted_llm.base_url) as client:
        result = await client.chat([{"role": "user", "content": "JSON please"}], schema=REVIEW)
        again = await client.chat([{"role": "user", "content": "JSON again"}], schema=REVIEW)
    # asked once with the schema; after the refusal this client asks without it (no second refusal)
    assert ["response_format" in (r.body or {}) for r in scripted_llm.requests] == [True, False, False]
    assert (again.route, again.route_fallback, again.attempts) == ("tolerant", True, 1)
    assert result.ok and (result.route, result.route_fallback) == ("tolerant", True)
    assert loads_object(result.text) == ({"kind": "b", "tags": ["x"]}, "extracted", "")
    record = client.records[0]
    assert (record.route, record.route_fallback, record.attempts) == ("tolerant", True, 2)


@pytest.mark.parametrize(("model", "route", "sent"), [
    ("gpt-4", "tolerant", None),  # litellm knows it: neither JSON schemas nor JSON mode
    ("gpt-3.5-turbo", "json_object", {"type": "json_object"}),  # JSON mode, no schemas
    ("gpt-4o-mini", "schema", "schema"),
])
async def test_known_models_get_what_litellm_says_they_support(scripted_llm, model, route, sent):
    scripted_llm.push(text='Here: {"kind": "a", "tags": []}')
    async with LLMClient(model, api_base=scripted_llm.base_url) as client:
        result = await client.chat([{"role": "user", "content": "JSON please"}], schema=REVIEW)
    body = scripted_llm.requests[-1].body
    expected = REVIEW.response_format("schema") if sent == "schema" else sent
    assert body.get("response_format") == expected
    assert (result.route, result.route_fallback) == (route, False)
    assert loads_object(result.text)[0] == {"kind": "a", "tags": []}


async def test_plain_calls_carry_no_response_format(scripted_llm):
    scripted_llm.push(text="hello")
    async with LLMClient(scripted_llm.model, api_base=scripted_llm.base_url) as client:
        result = await client.chat([{"role": "user", "content": "hi"}])
    assert "response_format" not in scripted_llm.requests[-1].body and result.route is None
