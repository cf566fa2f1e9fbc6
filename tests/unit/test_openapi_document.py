"""docs/openapi.json is what `python -m infra.openapi` builds now, names every route of
template.yaml and nothing else, and is a valid OpenAPI 3.1 document (docs/openapi.md)."""

from __future__ import annotations

import json
import typing
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from infra import openapi
from infra.local.template import SamTemplate
from portcullis.platform.http import answers

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def built() -> dict[str, Any]:
    return openapi.build()


def test_committed_document_and_served_copy_are_current(built: dict[str, Any]) -> None:
    text = openapi.render(built)
    for copy in (openapi.DOCUMENT, openapi.SERVED):
        assert copy.read_text(encoding="utf-8") == text, (
            f"{copy.relative_to(ROOT)} is stale: run `python -m infra.openapi` and commit it"
        )


def test_document_has_exactly_the_template_routes(built: dict[str, Any]) -> None:
    template = SamTemplate.load(ROOT / "template.yaml")
    routes = {(r.method.lower(), r.path) for r in template.routes if r.method.upper() != "ANY"}
    documented = {(m, p) for p, item in built["paths"].items() for m in item}
    assert routes - documented == set(), "routes of template.yaml missing from the document"
    assert documented - routes == set(), "documented operations that template.yaml lacks"


def test_every_operation_has_a_tag_security_and_the_error_envelope(
    built: dict[str, Any],
) -> None:
    tags = {tag["name"] for tag in built["tags"]}
    schemes = set(built["components"]["securitySchemes"])
    for path, item in built["paths"].items():
        for method, operation in item.items():
            where = f"{method.upper()} {path}"
            assert operation["tags"] and set(operation["tags"]) <= tags, where
            for requirement in operation["security"]:
                assert set(requirement) <= schemes, where
            assert "422" not in operation["responses"], where  # Powertools' default, not ours
            assert any(status[0] in "23" for status in operation["responses"]), where
            if "default" in operation["responses"]:
                continue  # the SAML browser routes: error pages (infra/openapi.py)
            assert operation["responses"]["400"] == {"$ref": "#/components/responses/BadRequest"}


# Routes whose JSON answer is genuinely free-form, each with why. Keep this near empty:
# an answer with a known shape gets a model (`<package>/outputs.py`, docs/openapi.md).
FREE_FORM: dict[tuple[str, str], str] = {}


def _named_properties(schema: dict[str, Any], document: dict[str, Any]) -> bool:
    """True when `schema` (its `$ref` followed; each branch of an `anyOf`/`oneOf`) is an
    object that names its properties: `{"type": "object"}` alone documents nothing."""
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    branches = schema.get("anyOf") or schema.get("oneOf")
    if branches:
        return all(_named_properties(branch, document) for branch in branches)
    return bool(schema.get("properties"))


def untyped_answers(document: dict[str, Any]) -> list[str]:
    """Operations with no documented 2xx/3xx answer, or a JSON one whose schema names no
    property (issue 15: every route declares its answer's model)."""
    found = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            where = f"{method.upper()} {path}"
            answers = {k: v for k, v in operation["responses"].items() if k[0] in "23"}
            if not answers:
                found.append(f"{where}: no 2xx/3xx answer")
            for status, answer in answers.items():
                for kind, media in (answer.get("content") or {}).items():
                    json_kind = kind == "application/json" or kind.endswith("+json")
                    checked = json_kind and (method, path) not in FREE_FORM
                    if checked and not _named_properties(media.get("schema") or {}, document):
                        found.append(f"{where} {status}: {kind} schema names no property")
    return found


def test_every_json_answer_is_typed(built: dict[str, Any]) -> None:
    assert untyped_answers(built) == []


def test_an_untyped_answer_is_found() -> None:
    """The check above can fail: an operation answering any object is reported."""
    loose = {"type": "object", "additionalProperties": True}
    document = {
        "components": {"schemas": {"Loose": loose}},
        "paths": {
            "/a": {
                "get": {
                    "responses": {
                        "200": {
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/Loose"}
                                }
                            }
                        }
                    }
                }
            },
            "/b": {"post": {"responses": {"400": {}}}},
        },
    }
    assert untyped_answers(document) == [
        "GET /a 200: application/json schema names no property",
        "POST /b: no 2xx/3xx answer",
    ]


def _answer_models(model: Any) -> bool:
    """A pydantic model, or a union of them (`LogInAnswer`)."""
    if isinstance(model, type):
        return issubclass(model, BaseModel)
    members = typing.get_args(model)
    return bool(members) and all(_answer_models(member) for member in members)


@pytest.mark.parametrize("group", openapi._resolver_groups())
def test_every_answer_reference_names_a_pydantic_model(group: str) -> None:
    """Routes name their answer models by reference (`portcullis.platform.http.answers`):
    a typo fails here, not only when the document is generated."""
    references = openapi.answer_references(openapi._load(group).app)
    for where, reference in references.items():
        assert _answer_models(openapi.answer_model(reference)), f"{where}: {reference}"


def test_an_unresolvable_reference_fails_loudly() -> None:
    with pytest.raises(LookupError, match="has no 'SignedUp'"):
        openapi.answer_model("portcullis.auth.outputs:SignedUp")
    with pytest.raises(LookupError, match="no module"):
        openapi.answer_model("portcullis.auth.outptus:SignedIn")
    with pytest.raises(ValueError, match="expected"):
        answers("portcullis.auth.outputs.SignedIn")


def test_document_is_valid_openapi_3_1(built: dict[str, Any]) -> None:
    """schemathesis validates the document against the OpenAPI 3.1 meta-schema on load."""
    import schemathesis

    schema = schemathesis.openapi.from_dict(json.loads(openapi.render(built)))
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == sum(len(item) for item in built["paths"].values())
