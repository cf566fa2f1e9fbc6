"""Email and SMS templates: Jinja2 in its sandbox, the shipped defaults and tenant overrides.

Templates are written by tenant admins (`functions/emails`), so they are untrusted code:

- They run in Jinja2's `ImmutableSandboxedEnvironment` with no loader (a tenant template
  cannot include a file) and no globals (`range`, `cycler`, `joiner`, `namespace`,
  `lipsum`, `dict` are gone), so the only names a template can use are the variables
  below. The sandbox refuses attributes that reach Python internals (`__class__`,
  `__globals__`, `mro`, ...) when the template runs.
- They are also checked when they are saved (`validate`): an attribute or item whose
  name starts with `_` or is one of `UNSAFE_ATTRIBUTES`, an unknown variable, a filter
  outside `SAFE_FILTERS`, includes, macros, nested loops and a syntax error are refused
  with the field named, so a template that tries to reach internals never gets stored.
- Nothing may multiply its input without bound: `*` and `**` are bounded, only the
  methods of `SAFE_METHODS` can be called, and a render stops when a part grows too
  large or takes too long.
- HTML parts autoescape every value; subject, text and SMS parts do not (they are not
  HTML), and a subject is folded to one line so a value cannot add a header.

Variables (concepts §6.3): `workspace.name`, `workspace.image`, `tenant.name`,
`user.name`, `user.email`, `user.username`, `link`, `verificationCode`, `expiresAt`,
`expiresIn`, `brand`; the names of the earlier `string.Template` files
(`workspace_name`, `tenant_name`, `user_name`, `user_email`, `user_username`,
`user_greeting`, `verification_code`, `expires_in`, `expires_at`) still work.
A variable without a value renders as empty text.

Jinja2 is imported on first render, not with this module: a cold start that sends no
email does not pay for it (docs/emails.md).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Mapping
from functools import cache, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from jinja2 import Environment, Template
    from jinja2.nodes import Node

log = logging.getLogger(__name__)

TEMPLATE_DIR = Path(__file__).parent / "templates"

EMAIL_TYPES: tuple[str, ...] = ("welcome", "login", "reset", "verify", "invite", "code")
SMS_TYPES: tuple[str, ...] = ("code.sms",)
TYPES: tuple[str, ...] = EMAIL_TYPES + SMS_TYPES
EMAIL_PARTS: tuple[str, ...] = ("subject", "html", "text")
SMS_PARTS: tuple[str, ...] = ("text",)

# Size limits of one saved part (characters) and of what one render may produce.
MAX_SUBJECT = 500
MAX_BODY = 40_000  # two bodies of 4-byte characters stay under the 400 KB item limit
MAX_SMS = 1_000
MAX_OUTPUT = 1_000_000
# `*` and `**` in a template: the longest string or list a repeat may build, the largest
# exponent; and the time one part may take to render.
MAX_REPEAT = 10_000
MAX_EXPONENT = 64
RENDER_SECONDS = 1.0

# Top-level names a template may use (concepts §6.3 and the earlier flat names).
VARIABLES: frozenset[str] = frozenset(
    {
        "workspace",
        "tenant",
        "user",
        "link",
        "verificationCode",
        "expiresAt",
        "expiresIn",
        "brand",
        # The names of the string.Template defaults before Jinja2, kept working.
        "workspace_name",
        "tenant_name",
        "user_name",
        "user_email",
        "user_username",
        "user_greeting",
        "verification_code",
        "expires_in",
        "expires_at",
    }
)
# What `GET .../emails/{type}` lists for template authors (concepts §6.3).
DOCUMENTED_VARIABLES: tuple[str, ...] = (
    "workspace.name",
    "workspace.image",
    "tenant.name",
    "user.name",
    "user.email",
    "user.username",
    "link",
    "verificationCode",
    "expiresAt",
    "expiresIn",
    "brand",
)
# Attribute names refused at save time besides any `_name` (what sandbox escapes use).
UNSAFE_ATTRIBUTES: frozenset[str] = frozenset(
    {
        "mro",
        "format",
        "format_map",
        "func_globals",
        "func_code",
        "gi_frame",
        "gi_code",
        "cr_frame",
        "cr_code",
        "ag_frame",
        "ag_code",
        "f_globals",
        "f_locals",
        "f_builtins",
        "tb_frame",
        "im_func",
        "im_self",
    }
)
# The filters a template may use: none that reads attributes by name (`attr`, `map`,
# `selectattr`, `sort(attribute=...)`) and none that multiplies its input (`center`,
# `indent`, `join`, `replace`, `format`, `wordwrap`, `batch`, `slice`).
SAFE_FILTERS: frozenset[str] = frozenset(
    {
        "abs",
        "capitalize",
        "count",
        "d",
        "default",
        "e",
        "escape",
        "filesizeformat",
        "first",
        "float",
        "int",
        "last",
        "length",
        "list",
        "lower",
        "reverse",
        "round",
        "string",
        "striptags",
        "title",
        "tojson",
        "trim",
        "truncate",
        "upper",
        "urlencode",
        "wordcount",
    }
)
# The methods a template may call, on strings and on the variable objects; none that
# multiplies its input (`ljust`, `zfill`, `center`, `replace`, `join`, `format`...).
SAFE_METHODS: frozenset[str] = frozenset(
    {
        "split",
        "rsplit",
        "splitlines",
        "strip",
        "lstrip",
        "rstrip",
        "upper",
        "lower",
        "title",
        "capitalize",
        "startswith",
        "endswith",
        "find",
        "isdigit",
        "isalpha",
        "get",
        "items",
        "keys",
        "values",
    }
)

SAMPLE: dict[str, Any] = {
    "workspace_name": "Acme",
    "tenant_name": "Acme",
    "user_name": "Jane Doe",
    "user_email": "jane@example.com",
    "user_username": "jane",
    "link": "https://app.example.com/login?uuid=00000000-0000-4000-8000-000000000000"
    "&token=00000000-0000-4000-8000-000000000000&type=login",
    "verification_code": "123456",
    "expires_in": "1 hour",
    "expires_at": "2030-01-01T00:00:00.000Z",
}


class UnknownTemplate(LookupError):
    pass


class TemplateProblem(ValueError):
    """A template that may not be saved; `field` names the part (`subject`, `html`, `text`)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class Parts(NamedTuple):
    """The three parts of an email (an SMS uses `text` alone)."""

    subject: str
    html: str
    text: str


def parts_of(template_type: str) -> tuple[str, ...]:
    if template_type not in TYPES:
        raise UnknownTemplate(template_type)
    return SMS_PARTS if template_type in SMS_TYPES else EMAIL_PARTS


def limit_of(template_type: str, part: str) -> int:
    if template_type in SMS_TYPES:
        return MAX_SMS
    return MAX_SUBJECT if part == "subject" else MAX_BODY


# --------------------------------------------------------------------------- the sandbox


@cache
def _environment(autoescape: bool) -> Environment:
    """A sandbox with no loader and no globals: templates see only the variables."""
    from jinja2 import Undefined
    from jinja2.exceptions import SecurityError
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    class Sandbox(ImmutableSandboxedEnvironment):
        intercepted_binops = frozenset({"*", "**"})

        def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
            """Bound `*` (string/list repeat) and `**`, which the sandbox lets through."""
            if operator == "**" and (not isinstance(right, int) or abs(right) > MAX_EXPONENT):
                raise SecurityError("exponent too large")
            if operator == "*":
                sized = [v for v in (left, right) if isinstance(v, str | list | tuple)]
                counts = [v for v in (left, right) if isinstance(v, int)]
                size = len(sized[0]) if sized else 1
                if sized and counts and size * abs(counts[0]) > MAX_REPEAT:
                    raise SecurityError("repeat result too large")
            return super().call_binop(context, operator, left, right)

        def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
            """Only the methods of SAFE_METHODS, on strings and plain dicts."""
            owner = getattr(__obj, "__self__", None)
            name = getattr(__obj, "__name__", "")
            if not (isinstance(owner, str | dict) and name in SAFE_METHODS):
                raise SecurityError(f"calling {name or type(__obj).__name__!r} is not allowed")
            return super().call(__context, __obj, *args, **kwargs)

    class Refused(Undefined):
        """A missing value renders as empty text, but what the sandbox refused (an
        unsafe attribute or item) fails the render however it is used."""

        __slots__ = ()

        def _refused(self) -> bool:
            return self._undefined_exception is SecurityError

        def __str__(self) -> str:
            if self._refused():
                self._fail_with_undefined_error()
            return super().__str__()

        def __bool__(self) -> bool:
            if self._refused():
                self._fail_with_undefined_error()
            return super().__bool__()

        def __iter__(self) -> Any:
            if self._refused():
                self._fail_with_undefined_error()
            return super().__iter__()

        def __len__(self) -> int:
            if self._refused():
                self._fail_with_undefined_error()
            return super().__len__()

    environment = Sandbox(autoescape=autoescape, undefined=Refused, keep_trailing_newline=True)
    environment.globals.clear()
    for name in set(environment.filters) - SAFE_FILTERS:
        del environment.filters[name]
    return environment


def _walk(node: Node) -> Iterator[Node]:
    yield node
    for child in node.iter_child_nodes():
        yield from _walk(child)


def _has_loop(loop: Node) -> bool:
    """Whether a loop holds another (nested loops multiply: a render could run forever)."""
    from jinja2 import nodes

    return any(isinstance(n, nodes.For) for n in _walk(loop) if n is not loop)


def _unsafe_name(name: object) -> bool:
    return isinstance(name, str) and (name.startswith("_") or name in UNSAFE_ATTRIBUTES)


def _check_tree(part: str, source: str) -> None:
    """The static checks of `validate`: syntax, names, filters, includes."""
    from jinja2 import TemplateSyntaxError, meta, nodes

    environment = _environment(part == "html")
    try:
        tree = environment.parse(source)
    except TemplateSyntaxError as exc:
        raise TemplateProblem(part, f'"{part}" is not a valid template: {exc.message}') from exc
    for node in _walk(tree):
        if isinstance(node, nodes.Getattr) and _unsafe_name(node.attr):
            raise TemplateProblem(part, f'"{part}" may not use the attribute "{node.attr}"')
        key = node.arg if isinstance(node, nodes.Getitem) else None
        if isinstance(key, nodes.Const) and _unsafe_name(key.value):
            raise TemplateProblem(part, f'"{part}" may not use the item "{key.value}"')
        if isinstance(node, nodes.Filter | nodes.Test) and node.name not in (
            environment.filters if isinstance(node, nodes.Filter) else environment.tests
        ):
            raise TemplateProblem(part, f'"{part}" uses an unknown filter or test "{node.name}"')
        if isinstance(node, nodes.Extends | nodes.Include | nodes.Import | nodes.FromImport):
            raise TemplateProblem(part, f'"{part}" may not include or import templates')
        if isinstance(node, nodes.Call) and not (
            isinstance(node.node, nodes.Getattr) and node.node.attr in SAFE_METHODS
        ):
            if isinstance(node.node, nodes.Getattr):
                raise TemplateProblem(part, f'"{part}" may not call "{node.node.attr}"')
            raise TemplateProblem(part, f'"{part}" may only call the methods of strings')
        if isinstance(node, nodes.Macro | nodes.CallBlock):
            raise TemplateProblem(part, f'"{part}" may not define macros')
        if isinstance(node, nodes.For) and (node.recursive or _has_loop(node)):
            raise TemplateProblem(part, f'"{part}" may not nest loops')
    unknown = sorted(meta.find_undeclared_variables(tree) - VARIABLES)
    if unknown:
        raise TemplateProblem(part, f'"{part}" uses an unknown variable "{unknown[0]}"')


def validate(template_type: str, part: str, source: Any) -> None:
    """Refuse (TemplateProblem naming `part`) a template that may not be saved."""
    if not isinstance(source, str):
        raise TemplateProblem(part, f'"{part}" must be a string')
    limit = limit_of(template_type, part)
    if len(source) > limit:
        raise TemplateProblem(part, f'"{part}" must be at most {limit} characters')
    if part == "subject" and not source.strip():
        raise TemplateProblem(part, f'"{part}" must not be empty')
    try:
        _check_tree(part, source)
    except RecursionError as exc:
        raise TemplateProblem(part, f'"{part}" is nested too deeply') from exc
    # Render with sample values: what fails here (a refused operation) fails every send.
    try:
        _render_part(source, part, context(SAMPLE))
    except Exception as exc:  # anything the template does wrong is the author's error
        raise TemplateProblem(part, f'"{part}" cannot be rendered: {exc}') from exc


@lru_cache(maxsize=256)  # bounded: tenant templates are many
def _compiled(source: str, autoescape: bool) -> Template:
    return _environment(autoescape).from_string(source)


def _render_part(source: str, part: str, values: Mapping[str, Any]) -> str:
    """Render piece by piece, stopping a render that grows too large or takes too long
    (loops and repeats are bounded at save time; this is the backstop)."""
    deadline = time.monotonic() + RENDER_SECONDS
    pieces: list[str] = []
    size = 0
    for piece in _compiled(source, part == "html").generate(values):
        pieces.append(piece)
        size += len(piece)
        if size > MAX_OUTPUT:
            raise ValueError(f"the {part} part renders to more than {MAX_OUTPUT} characters")
        if time.monotonic() > deadline:
            raise ValueError(f"the {part} part takes too long to render")
    rendered = "".join(pieces)
    if part == "subject":
        # One header line: a newline in a tenant name must not start another.
        return " ".join(rendered.split())
    return rendered


def context(variables: Mapping[str, Any]) -> dict[str, Any]:
    """The template variables, §6.3 names and the earlier flat ones, from flat values."""
    flat = {k: "" if v is None else v for k, v in variables.items()}
    text = {k: str(v) for k, v in flat.items() if not isinstance(v, dict)}
    workspace_name = text.get("workspace_name", "")
    tenant_name = text.get("tenant_name") or workspace_name
    user_name = text.get("user_name", "")
    user_email = text.get("user_email", "")
    user_username = text.get("user_username", "")
    greeting = text.get("user_greeting") or user_name or user_email or "there"
    code = text.get("verification_code", "")
    expires_in = text.get("expires_in", "")
    expires_at = text.get("expires_at", "")
    brand = flat.get("brand") if isinstance(flat.get("brand"), dict) else {}
    return {
        "workspace": {"name": workspace_name, "image": text.get("workspace_image", "")},
        "tenant": {"name": tenant_name},
        "user": {"name": user_name, "email": user_email, "username": user_username},
        "link": text.get("link", ""),
        "verificationCode": code,
        "expiresAt": expires_at,
        "expiresIn": expires_in,
        "brand": brand,
        "workspace_name": workspace_name,
        "tenant_name": tenant_name,
        "user_name": user_name,
        "user_email": user_email,
        "user_username": user_username,
        "user_greeting": greeting,
        "verification_code": code,
        "expires_in": expires_in,
        "expires_at": expires_at,
    }


# --------------------------------------------------------------------------- defaults


def _file_name(template_type: str, part: str) -> str:
    if template_type in SMS_TYPES:
        return f"{template_type}.txt"
    return {"subject": f"{template_type}.subject.txt", "html": f"{template_type}.html"}.get(
        part, f"{template_type}.txt"
    )


@cache
def default(template_type: str) -> dict[str, str]:
    """The shipped template of a type, part -> source (files in `templates/`)."""
    sources = {}
    for part in parts_of(template_type):
        path = TEMPLATE_DIR / _file_name(template_type, part)
        if not path.is_file() or path.parent != TEMPLATE_DIR:
            raise UnknownTemplate(template_type)
        sources[part] = path.read_text(encoding="utf-8")
    return sources


def render(
    template_type: str, variables: Mapping[str, Any], override: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Every part of `template_type` (part -> text), from `override`'s parts where it has
    them and the shipped default otherwise."""
    defaults = default(template_type)
    values = context(variables)
    rendered = {}
    for part, source in defaults.items():
        custom = (override or {}).get(part)
        if custom:
            try:
                rendered[part] = _render_part(custom, part, values)
                continue
            except Exception:  # checked at save time; a branch not taken then may fail now
                log.warning(
                    "tenant email template failed; the default is sent",
                    extra={"template": template_type, "part": part},
                    exc_info=True,
                )
        rendered[part] = _render_part(source, part, values)
    return rendered
