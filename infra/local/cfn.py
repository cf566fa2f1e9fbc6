"""CloudFormation YAML and intrinsic functions, resolved against local values.

The local runtime has no CloudFormation: names that AWS would generate (table names, key
ids, queue URLs) are chosen locally, and `!Ref` / `!GetAtt` / `!Sub` in the template must
resolve to *those*. Tags are turned into their long form (`{"Ref": ...}`,
`{"Fn::GetAtt": [...]}`), so the short and long spellings in a template behave the same.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml


class Unresolvable(Exception):
    """An intrinsic function refers to something the local runtime cannot provide."""


class _NoValue:
    """`AWS::NoValue`: the property is dropped, which differs from an empty string."""

    def __repr__(self) -> str:
        return "AWS::NoValue"


NO_VALUE = _NoValue()


class _CfnLoader(yaml.SafeLoader):
    """A safe loader that understands CloudFormation's `!Tag` short forms."""


def _construct_tag(loader: _CfnLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    if tag_suffix == "Ref":
        return {"Ref": value}
    if tag_suffix == "Condition":
        return {"Condition": value}
    if tag_suffix == "GetAtt" and isinstance(value, str):
        resource, _, attribute = value.partition(".")
        return {"Fn::GetAtt": [resource, attribute]}
    return {f"Fn::{tag_suffix}": value}


_CfnLoader.add_multi_constructor("!", _construct_tag)


def load_yaml(path: Path) -> dict[str, Any]:
    """Parse a CloudFormation/SAM YAML file (a plain dict with long-form intrinsics)."""
    with path.open(encoding="utf-8") as handle:
        document = yaml.load(handle, Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass
    if not isinstance(document, dict):
        raise ValueError(f"{path} is not a CloudFormation template (top level is not a mapping)")
    return document


_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")


@dataclass
class Intrinsics:
    """Resolves intrinsic functions against a fixed set of local values.

    `refs` maps a logical id to what `!Ref` returns for it; `attributes` maps
    `(logical id, attribute)` to what `!GetAtt` returns. Anything missing raises
    `Unresolvable`, so callers decide between failing and a warning.
    """

    parameters: Mapping[str, str] = field(default_factory=dict)
    pseudo: Mapping[str, str] = field(default_factory=dict)
    refs: Mapping[str, str] = field(default_factory=dict)
    attributes: Mapping[tuple[str, str], str] = field(default_factory=dict)
    conditions: Mapping[str, Any] = field(default_factory=dict)
    mappings: Mapping[str, Any] = field(default_factory=dict)

    def resolve(self, value: Any) -> Any:
        """Resolve every intrinsic inside `value` (recursively); drops `AWS::NoValue`."""
        if isinstance(value, list):
            items = [self.resolve(item) for item in value]
            return [item for item in items if item is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            (key, argument), *_ = value.items()
            if key == "Ref":
                return self._ref(argument)
            if key == "Condition" and isinstance(argument, str):
                return self.condition(argument)
            if key.startswith("Fn::"):
                return self._function(key[4:], argument)
        resolved = {key: self.resolve(item) for key, item in value.items()}
        return {key: item for key, item in resolved.items() if item is not NO_VALUE}

    def resolve_string(self, value: Any) -> str:
        """Resolve to the string CloudFormation would put in an environment variable."""
        resolved = self.resolve(value)
        if isinstance(resolved, bool):
            return "true" if resolved else "false"
        if isinstance(resolved, int | float | str):
            return str(resolved)
        raise Unresolvable(f"not a scalar: {resolved!r}")

    def condition(self, name: str) -> bool:
        """Evaluate a named condition from the template's `Conditions` section."""
        if name not in self.conditions:
            raise Unresolvable(f"unknown condition {name!r}")
        return bool(self.resolve(self.conditions[name]))

    def _ref(self, name: Any) -> Any:
        if not isinstance(name, str):
            raise Unresolvable(f"Ref to a non-string {name!r}")
        if name == "AWS::NoValue":
            return NO_VALUE
        for source in (self.pseudo, self.parameters, self.refs):
            if name in source:
                return source[name]
        raise Unresolvable(f"Ref {name}")

    def _get_att(self, argument: Any) -> str:
        if isinstance(argument, str):
            resource, _, attribute = argument.partition(".")
        else:
            resource, attribute = self.resolve(argument[0]), self.resolve(argument[1])
        if (resource, attribute) not in self.attributes:
            raise Unresolvable(f"GetAtt {resource}.{attribute}")
        return self.attributes[(resource, attribute)]

    def _sub(self, argument: Any) -> str:
        if isinstance(argument, list):
            template, variables = (
                argument[0],
                self.resolve(argument[1] if len(argument) > 1 else {}),
            )
        else:
            template, variables = argument, {}

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                return str(variables[name])
            if "." in name:
                return str(self._get_att(name))
            return str(self._ref(name))

        return _SUB_VARIABLE.sub(replace, template)

    def _function(self, name: str, argument: Any) -> Any:
        if name == "GetAtt":
            return self._get_att(argument)
        if name == "Sub":
            return self._sub(argument)
        if name == "If":
            condition, if_true, if_false = argument
            return self.resolve(if_true if self.condition(condition) else if_false)
        args = self.resolve(argument)
        if name == "Join":
            delimiter, items = args
            return delimiter.join(str(item) for item in items)
        if name == "Select":
            index, items = args
            return items[int(index)]
        if name == "Split":
            delimiter, text = args
            return text.split(delimiter)
        if name == "Equals":
            left, right = args
            return str(left) == str(right)
        if name == "Not":
            return not args[0]
        if name == "And":
            return all(args)
        if name == "Or":
            return any(args)
        if name == "FindInMap":
            mapping, top, second = args
            try:
                return self.mappings[mapping][top][second]
            except KeyError as error:
                raise Unresolvable(f"FindInMap {mapping}.{top}.{second}") from error
        if name == "Base64":
            return base64.b64encode(str(args).encode()).decode()
        if name == "ToJsonString":
            return json.dumps(args, separators=(",", ":"))
        if name == "Length":
            return len(args)
        raise Unresolvable(f"Fn::{name}")
