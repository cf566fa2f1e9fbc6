"""Loading the template's handlers in-process and invoking them like Lambda would.

Every function is an `app.py`, so each is imported from its file under its own module name
instead of through `sys.path` (where they would shadow each other). A function that fails
to import does not stop the runtime: its routes answer 500 and print the import error, so
one broken function in development does not take the other endpoints down with it.
"""

from __future__ import annotations

import gc
import importlib.util
import logging
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from infra.local.template import ACCOUNT_ID, FunctionSpec

log = logging.getLogger(__name__)

MODULE_PREFIX = "_portcullis_local_fn_"

Handler = Callable[[Any, Any], Any]


class FunctionUnavailable(Exception):
    """The function's module could not be imported; the cause is chained."""


@dataclass
class LambdaContext:
    """The attributes of Lambda's context object that handlers and Powertools read."""

    function_name: str
    memory_limit_in_mb: int
    invoked_function_arn: str
    aws_request_id: str
    deadline: float
    function_version: str = "$LATEST"
    log_group_name: str = ""
    log_stream_name: str = "local"
    identity: Any = None
    client_context: Any = None

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.monotonic()) * 1000))


@dataclass
class LocalFunction:
    """One template function: its deployed-style name and ARN, and its handler once loaded."""

    spec: FunctionSpec
    name: str
    arn: str
    handler: Handler | None = None
    load_error: BaseException | None = None
    module: ModuleType | None = field(default=None, repr=False)

    def context(self) -> LambdaContext:
        return LambdaContext(
            function_name=self.name,
            memory_limit_in_mb=self.spec.memory,
            invoked_function_arn=self.arn,
            aws_request_id=str(uuid.uuid4()),
            deadline=time.monotonic() + self.spec.timeout,
            log_group_name=f"/aws/lambda/{self.name}",
        )

    def invoke(self, event: Any) -> Any:
        """Call the handler; timeouts are not enforced (a debugger may be paused in it)."""
        if self.handler is None:
            raise FunctionUnavailable(f"{self.spec.logical_id} failed to load") from self.load_error
        return self.handler(event, self.context())


_import_lock = threading.Lock()


def _load_handler(spec: FunctionSpec) -> tuple[ModuleType, Handler]:
    module_path, _, attribute = spec.handler.rpartition(".")
    source = spec.code_dir.joinpath(*module_path.split(".")).with_suffix(".py")
    if not source.is_file():
        raise FileNotFoundError(f"{spec.logical_id}: handler module {source} does not exist")
    module_name = f"{MODULE_PREFIX}{spec.logical_id}"
    import_spec = importlib.util.spec_from_file_location(module_name, source)
    if import_spec is None or import_spec.loader is None:
        raise ImportError(f"cannot import {source}")
    module = importlib.util.module_from_spec(import_spec)
    # Registered before executing so pydantic/dataclasses can resolve the module's names;
    # the function's directory is importable while it loads, as it is in Lambda.
    with _import_lock:
        sys.modules[module_name] = module
        sys.path.insert(0, str(spec.code_dir))
        try:
            import_spec.loader.exec_module(module)
        except BaseException:
            sys.modules.pop(module_name, None)
            gc.enable()  # app.py pauses the collector until its last line, never reached
            raise
        finally:
            sys.path.remove(str(spec.code_dir))
    handler = getattr(module, attribute, None)
    if not callable(handler):
        raise AttributeError(f"{source} has no callable {attribute!r}")
    return module, handler


def load_functions(
    specs: Iterable[FunctionSpec], names: Mapping[str, str], region: str
) -> dict[str, LocalFunction]:
    """Import every function; failures are kept on the function and reported, not raised."""
    functions: dict[str, LocalFunction] = {}
    for spec in specs:
        name = names.get(spec.logical_id, spec.logical_id)
        function = LocalFunction(
            spec=spec,
            name=name,
            arn=f"arn:aws:lambda:{region}:{ACCOUNT_ID}:function:{name}",
        )
        try:
            function.module, function.handler = _load_handler(spec)
        except Exception as error:
            function.load_error = error
            report_failure(
                f"function {spec.logical_id} failed to load; its routes will answer 500", error
            )
        functions[spec.logical_id] = function
    return functions


def report_failure(what: str, error: BaseException) -> None:
    """A function's failure on the runtime's stderr, where its log would show it in AWS:
    what failed, then the traceback; the caller answers or retries as AWS would."""
    print(f"[portcullis-local] {what}:", file=sys.stderr)
    traceback.print_exception(error, file=sys.stderr)


def unload_functions(functions: Iterable[LocalFunction]) -> None:
    """Forget the function modules so a later runtime in this process imports them afresh."""
    for function in functions:
        sys.modules.pop(f"{MODULE_PREFIX}{function.spec.logical_id}", None)
        function.module = None
        function.handler = None
