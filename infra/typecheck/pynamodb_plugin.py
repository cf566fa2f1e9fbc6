"""PynamoDB's mypy plugin (``pynamodb-mypy``), adapted to the mypy version pinned here.

Why: pynamodb's own annotations type every attribute as its value type, so a
``UnicodeAttribute(null=True)`` reads as ``str`` and a missing ``None`` check goes unseen.
The plugin makes such attributes ``Optional`` and types model initialisers by their
attributes. Its last release (0.1.2) passes ``msg=`` to ``mypy.checkmember.MemberContext``,
which mypy 1.16 removed (the context now takes the message builder from ``chk``), and
mypy then stops with an internal error. This module supplies the same descriptor look-up
without that argument. It also gives a model's initialiser the hash and range keys its
base classes declare (the plugin looks for them on the model class alone, so every item
type here, whose `pk`/`sk` live on `store.base.Item`, would be typed as taking `None`
keys). Otherwise the plugin is used unchanged.
"""

from __future__ import annotations

import importlib

import mypy.checker
import mypy.checkmember
from mypy.nodes import Context
from mypy.plugin import FunctionSigContext, Plugin
from mypy.types import FunctionLike, Instance, Type

# The package's `plugin` entry function hides the submodule of the same name.
_plugin_module = importlib.import_module("pynamodb_mypy.plugin")


def _descriptor_access_type(
    ctx: Context, chk: mypy.checker.TypeChecker, descriptor: Type
) -> Type | None:
    """The type a descriptor's ``__get__`` returns on an instance (the plugin's own helper)."""
    return mypy.checkmember.analyze_descriptor_access(
        descriptor,
        mypy.checkmember.MemberContext(
            is_lvalue=False,
            is_super=False,
            is_operator=False,
            original_type=descriptor,
            context=ctx,
            chk=chk,
            self_type=None,
        ),
    )


class _PynamodbPlugin(_plugin_module.PynamodbPlugin):  # type: ignore[misc]  # untyped base
    """The plugin, with hash and range keys inherited from a model's base classes."""

    def _get_function_signature_hook__pynamodb_model__init__(
        self, ctx: FunctionSigContext
    ) -> FunctionLike:
        model = ctx.default_signature.ret_type
        if isinstance(model, Instance):
            own = model.type.metadata.setdefault("pynamodb_attributes", {})
            for base in model.type.mro[1:]:
                for name, data in base.metadata.get("pynamodb_attributes", {}).items():
                    if data["is_hash_key"] or data["is_range_key"]:
                        own.setdefault(name, data)
        signature: FunctionLike = super()._get_function_signature_hook__pynamodb_model__init__(ctx)
        return signature


def plugin(version: str) -> type[Plugin]:
    """mypy's plugin entry point: pynamodb-mypy's plugin with the two fixes above."""
    _plugin_module.get_descriptor_access_type = _descriptor_access_type
    return _PynamodbPlugin
