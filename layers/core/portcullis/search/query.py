"""Search request parsing, filter compilation, ordering and paging (api-server §1.9, §1.11).

User search and tenant search share one filter language; the only differences are
which attributes are searchable, whether `role` filters exist, and the tie-break key.
Those differences live in a `Catalog`, so both endpoints get identical validation
messages and semantics from this module.

The request is validated completely up front (§14: "validate the whole body before the
first write; report the first problem with the field path"), and compiled into plain
closures so matching a record never has to re-inspect the request and can never fail
on odd stored data: a record value of an unexpected runtime type simply does not match.

Records are the public JSON representation (plain dicts with ISO timestamp strings).
Callers filter with `SearchRequest.matches`, then hand the survivors to
`order_and_page`, then wrap the page with `list_envelope` (`search/envelope.py`, re-exported here).
"""

from __future__ import annotations

import base64
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from portcullis.platform import integers
from portcullis.platform.errors import BadRequest
from portcullis.platform.timefmt import now, parse_iso
from portcullis.search.envelope import list_envelope as list_envelope  # re-exported

AttrType = Literal["string", "boolean", "number", "date", "array"]

# A role map is tenantId -> role names held there; tenants pass {}.
Roles = Mapping[str, Sequence[str]]
Predicate = Callable[[Mapping[str, Any], Roles], bool]
RoleScope = Callable[[str], bool]

DEFAULT_PAGE = 1
DEFAULT_LIMIT = 50
MAX_LIMIT = 100
MAX_GROUPS = 10
MAX_FILTERS_PER_GROUP = 20

TYPES: tuple[str, ...] = ("string", "boolean", "number", "date", "array")
CONJUNCTIONS: tuple[str, ...] = ("and", "or")
COMPARISONS: dict[str, tuple[str, ...]] = {
    "string": (
        "is",
        "contains",
        "does not contain",
        "starts with",
        "ends with",
        "is unknown",
        "has any value",
    ),
    "boolean": ("is", "is not"),
    "number": ("is", "more than", "less than"),
    "date": ("before", "after", "between", "less than", "more than"),
    "array": ("contains", "does not contain", "any"),
}
ROLE_ATTR = "role"
ROLE_COMPARISONS: tuple[str, ...] = ("is", "has any value")
BODY_KEYS: tuple[str, ...] = ("filters", "order", "page", "limit", "search")
CONTINUATION = "continuation"
_DATA_PREFIX = "data."


@dataclass(frozen=True)
class Catalog:
    """What one search endpoint may filter and sort on.

    `attributes` also carries each attribute's natural type, which ordering needs so
    that ISO timestamp strings sort as instants rather than as text.
    """

    attributes: dict[str, AttrType]
    allow_data: bool
    tiebreak: str
    # Role filters and case-insensitive `is` are the user search's; off unless named.
    allow_role: bool = False
    case_insensitive_is: frozenset[str] = frozenset()
    default_order: str = "createdAt_DESC"
    text_fields: tuple[str, ...] = ()
    # The shape of a window position when a search reads bounded windows and may answer
    # a continuation (docs/search.md); None: the search takes no continuation.
    position: re.Pattern[str] | None = None


USER_CATALOG = Catalog(
    attributes={
        "userId": "number",
        "userUuid": "string",
        "email": "string",
        "username": "string",
        "name": "string",
        "phoneNumber": "string",
        "image": "string",
        "locked": "boolean",
        "isConfirmed": "boolean",
        "isEmailConfirmed": "boolean",
        "isPhoneNumberConfirmed": "boolean",
        "isMfaRequired": "boolean",
        "createdAt": "date",
        "updatedAt": "date",
        "lastActiveAt": "date",
    },
    allow_data=True,
    allow_role=True,
    case_insensitive_is=frozenset({"email", "username"}),
    tiebreak="userId",
    text_fields=("email", "username", "name", "userId"),
    position=re.compile(r"^[0-9]{1,15}$"),  # the last userId read
)

TENANT_CATALOG = Catalog(
    attributes={
        "tenantId": "string",
        "name": "string",
        "image": "string",
        "createdAt": "date",
        "updatedAt": "date",
    },
    allow_data=True,
    tiebreak="tenantId",
    text_fields=("name", "tenantId"),
    position=re.compile(r"^[0-9T:.+Z-]{1,40}#[a-z0-9]{8}$"),  # createdAt#tenantId read last
)


def _match_all(record: Mapping[str, Any], roles: Roles) -> bool:
    return True


def _match_none(record: Mapping[str, Any], roles: Roles) -> bool:
    return False


@dataclass
class SearchRequest:
    """A validated search: filters are already compiled, so matching cannot fail."""

    page: int = DEFAULT_PAGE
    limit: int = DEFAULT_LIMIT
    order_attr: str = "createdAt"
    order_desc: bool = True
    filters: Predicate = field(default=_match_all, repr=False)
    search: str | None = None
    catalog: Catalog = field(default=USER_CATALOG, repr=False)
    # Lets the caller skip loading role assignments when no filter looks at them.
    needs_roles: bool = False
    # Where the window of a bounded search starts (decoded `continuation`), if anywhere.
    after: str | None = None

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.limit

    def matches(self, record: Mapping[str, Any], roles: Roles | None = None) -> bool:
        """Filters AND the `search` text, as the spec combines them."""
        if not isinstance(record, Mapping):
            return False
        role_map: Roles = roles if isinstance(roles, Mapping) else {}
        if not self.filters(record, role_map):
            return False
        return self.search is None or _text_matches(record, self.search, self.catalog)


# --------------------------------------------------------------------------- parsing


def _q(path: str) -> str:
    return f'"{path}"'


def _one_of(options: Sequence[str]) -> str:
    return "[" + ", ".join(options) + "]"


def _is_number(value: Any) -> bool:
    """JSON numbers only: `True` is an int in Python but never a number on the wire."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_finite_number(value: Any) -> bool:
    # Huge ints are finite but overflow math.isfinite, so only floats go through it.
    return (isinstance(value, float) and math.isfinite(value)) or (
        isinstance(value, int) and not isinstance(value, bool)
    )


def _is_scalar(value: Any) -> bool:
    return isinstance(value, str | bool) or _is_finite_number(value)


def _int_param(value: Any) -> int | None:
    """Accept JSON integers and ASCII decimal strings (`integers.read`), because the GET
    variant of search passes query-string values straight through."""
    return integers.read(value)


def parse_search_request(
    body: Mapping[str, Any] | None,
    catalog: Catalog,
    role_scope: RoleScope | None = None,
) -> SearchRequest:
    """Validate a search body and compile it; raises `BadRequest` naming the bad path.

    `role_scope(tenantId)` says whether the caller may see role assignments in that
    tenant. It is consulted here rather than reported as 403 so that an out-of-scope
    role filter just matches nothing, keeping search side-effect free (§1.11).
    """
    if body is None:
        body = {}
    if not isinstance(body, Mapping):
        raise BadRequest('"body" must be an object')
    if role_scope is not None:
        role_scope = _once_per_tenant(role_scope)
    for key in body:
        if key not in BODY_KEYS and not (key == CONTINUATION and catalog.position):
            raise BadRequest(f"{_q(str(key))} is not allowed")

    page = DEFAULT_PAGE
    raw_page = body.get("page")
    if raw_page is not None:
        parsed = _int_param(raw_page)
        if parsed is None or parsed < 1:
            raise BadRequest('"page" must be a positive integer')
        page = parsed

    limit = DEFAULT_LIMIT
    raw_limit = body.get("limit")
    if raw_limit is not None:
        parsed = _int_param(raw_limit)
        if parsed is None or not 1 <= parsed <= MAX_LIMIT:
            raise BadRequest(f'"limit" must be between 1 and {MAX_LIMIT}')
        limit = parsed

    raw_order = body.get("order")
    if raw_order is None:
        order_attr, order_desc = _parse_order(catalog.default_order, catalog)
    else:
        order_attr, order_desc = _parse_order(raw_order, catalog)

    search: str | None = None
    raw_search = body.get("search")
    if raw_search is not None:
        if not isinstance(raw_search, str):
            raise BadRequest('"search" must be a string')
        search = raw_search.strip().casefold() or None

    predicate: Predicate = _match_all
    needs_roles = False
    raw_filters = body.get("filters")
    if raw_filters is not None:
        predicate, needs_roles = _compile_filters(raw_filters, catalog, role_scope)

    after = None
    raw_continuation = body.get(CONTINUATION)
    if raw_continuation is not None:
        after = read_continuation(raw_continuation, catalog)

    return SearchRequest(
        after=after,
        page=page,
        limit=limit,
        order_attr=order_attr,
        order_desc=order_desc,
        filters=predicate,
        search=search,
        catalog=catalog,
        needs_roles=needs_roles,
    )


def _once_per_tenant(role_scope: RoleScope) -> RoleScope:
    """`role_scope` asked at most once per tenant for this request.

    A `role` filter asks it for the tenants in every candidate's role map, and asking
    may read the tenant (its ancestors decide the scope): without this, one search could
    read a tenant per user. The memo lives as long as the parsed request, i.e. one search.
    """
    answers: dict[str, bool] = {}

    def in_scope(tenant_id: str) -> bool:
        if tenant_id not in answers:
            answers[tenant_id] = bool(role_scope(tenant_id))
        return answers[tenant_id]

    return in_scope


def continuation_token(position: str) -> str:
    """The opaque `meta.continuation` of a window that ended at `position` (the catalog's
    shape). It names only a position among the caller's own records: the partition it is
    read in comes from the addressed tenant, never from the token, so it needs no
    signature."""
    return base64.urlsafe_b64encode(f"after:{position}".encode()).decode().rstrip("=")


def read_continuation(raw: Any, catalog: Catalog) -> str:
    """The position a `continuation` token continues after; 400 naming it if malformed."""
    invalid = BadRequest(f"{_q(CONTINUATION)} is invalid")
    if not isinstance(raw, str) or not 0 < len(raw) <= 100 or catalog.position is None:
        raise invalid
    try:
        text = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode("ascii")
    except (ValueError, UnicodeDecodeError):
        raise invalid from None
    prefix, _, position = text.partition(":")
    if prefix != "after" or not catalog.position.match(position):
        raise invalid
    return position


def _valid_data_path(attr: str) -> bool:
    segments = attr.split(".")
    return len(segments) >= 2 and segments[0] == "data" and all(segments[1:])


def _searchable(attr: str, catalog: Catalog) -> bool:
    if attr in catalog.attributes:
        return True
    return catalog.allow_data and _valid_data_path(attr)


def _parse_order(raw: Any, catalog: Catalog) -> tuple[str, bool]:
    shape = '"order" must be <attr>_ASC or <attr>_DESC'
    if not isinstance(raw, str):
        raise BadRequest(shape)
    attr, sep, direction = raw.rpartition("_")
    if not sep or not attr or direction not in ("ASC", "DESC"):
        raise BadRequest(shape)
    if attr == ROLE_ATTR and catalog.allow_role:
        raise BadRequest('"order" cannot sort by role')
    if not _searchable(attr, catalog):
        raise BadRequest(f'"order" {attr} is not searchable')
    return attr, direction == "DESC"


def _combine(parts: list[Predicate], conjunction: str) -> Predicate:
    """An empty list matches everything for both conjunctions (§1.11, inferred)."""
    if not parts:
        return _match_all
    if len(parts) == 1:
        return parts[0]
    if conjunction == "and":
        return lambda record, roles: all(p(record, roles) for p in parts)
    return lambda record, roles: any(p(record, roles) for p in parts)


def _conjunction(container: Mapping[str, Any], path: str) -> str:
    if "conjunction" not in container or container["conjunction"] is None:
        raise BadRequest(f"{_q(path)} is required")
    value = container["conjunction"]
    if not isinstance(value, str) or value not in CONJUNCTIONS:
        raise BadRequest(f"{_q(path)} must be one of {_one_of(CONJUNCTIONS)}")
    return value


def _compile_filters(
    raw: Any, catalog: Catalog, role_scope: RoleScope | None
) -> tuple[Predicate, bool]:
    # Unknown keys below the top level are ignored: §3 only makes top-level body
    # fields strict, and clients may carry UI bookkeeping inside filter objects.
    if not isinstance(raw, Mapping):
        raise BadRequest('"filters" must be an object')
    conjunction = _conjunction(raw, "filters.conjunction")
    groups = raw.get("filterGroups")
    if groups is None:
        raise BadRequest('"filters.filterGroups" is required')
    if not isinstance(groups, list):
        raise BadRequest('"filters.filterGroups" must be an array')
    if len(groups) > MAX_GROUPS:
        raise BadRequest(f'"filters.filterGroups" must contain at most {MAX_GROUPS} groups')

    needs_roles = False
    compiled_groups: list[Predicate] = []
    for gi, group in enumerate(groups):
        gpath = f"filters.filterGroups[{gi}]"
        if not isinstance(group, Mapping):
            raise BadRequest(f"{_q(gpath)} must be an object")
        group_conj = _conjunction(group, f"{gpath}.conjunction")
        items = group.get("filters")
        fpath = f"{gpath}.filters"
        if items is None:
            raise BadRequest(f"{_q(fpath)} is required")
        if not isinstance(items, list):
            raise BadRequest(f"{_q(fpath)} must be an array")
        if not 1 <= len(items) <= MAX_FILTERS_PER_GROUP:
            raise BadRequest(
                f"{_q(fpath)} must contain between 1 and {MAX_FILTERS_PER_GROUP} filters"
            )
        parts: list[Predicate] = []
        for fi, item in enumerate(items):
            predicate, uses_roles = _compile_filter(item, f"{fpath}[{fi}]", catalog, role_scope)
            parts.append(predicate)
            needs_roles = needs_roles or uses_roles
        compiled_groups.append(_combine(parts, group_conj))
    return _combine(compiled_groups, conjunction), needs_roles


_ABSENT: Any = object()


def _compile_filter(
    raw: Any, path: str, catalog: Catalog, role_scope: RoleScope | None
) -> tuple[Predicate, bool]:
    if not isinstance(raw, Mapping):
        raise BadRequest(f"{_q(path)} must be an object")

    attr = raw.get("attr")
    if attr is None:
        raise BadRequest(f"{_q(path + '.attr')} is required")
    if not isinstance(attr, str):
        raise BadRequest(f"{_q(path + '.attr')} must be a string")
    is_role = attr == ROLE_ATTR and catalog.allow_role
    if not is_role and not _searchable(attr, catalog):
        raise BadRequest(f'"attr" {attr} is not searchable')

    ftype = raw.get("type")
    if ftype is None:
        raise BadRequest(f"{_q(path + '.type')} is required")
    if not isinstance(ftype, str) or ftype not in TYPES:
        raise BadRequest(f"{_q(path + '.type')} must be one of {_one_of(TYPES)}")

    comparison = raw.get("comparison")
    cpath = path + ".comparison"
    if comparison is None:
        raise BadRequest(f"{_q(cpath)} is required")

    value = raw.get("value", _ABSENT)
    vpath = path + ".value"

    if is_role:
        if ftype != "string":
            raise BadRequest(f"{_q(path + '.type')} must be string for attr role")
        if not isinstance(comparison, str) or comparison not in ROLE_COMPARISONS:
            raise BadRequest(f"{_q(cpath)} must be one of {_one_of(ROLE_COMPARISONS)}")
        return _compile_role(comparison, value, vpath, role_scope), True

    allowed = COMPARISONS[ftype]
    if not isinstance(comparison, str) or comparison not in allowed:
        raise BadRequest(f"{_q(cpath)} must be one of {_one_of(allowed)}")

    test = _COMPILERS[ftype](comparison, value, vpath, attr in catalog.case_insensitive_is)
    get = _getter(attr)
    return (lambda record, roles: test(get(record))), False


def _getter(attr: str) -> Callable[[Mapping[str, Any]], Any]:
    """Missing keys and non-object intermediates both read as None ("no value")."""
    if not attr.startswith(_DATA_PREFIX):
        return lambda record: record.get(attr)
    keys = attr.split(".")

    def dig(record: Mapping[str, Any]) -> Any:
        node: Any = record
        for key in keys:
            if not isinstance(node, Mapping):
                return None
            node = node.get(key)
        return node

    return dig


# ---------------------------------------------------------------- per-type compilers

ValueTest = Callable[[Any], bool]


def _need_string(value: Any, vpath: str) -> str:
    if not isinstance(value, str):
        raise BadRequest(f"{_q(vpath)} must be a string")
    return value


def _compile_string(op: str, value: Any, vpath: str, case_insensitive_is: bool) -> ValueTest:
    if op == "is unknown":
        return lambda v: v is None or (isinstance(v, str) and v == "")
    if op == "has any value":
        return lambda v: not (v is None or (isinstance(v, str) and v == ""))
    target = _need_string(value, vpath)
    folded = target.casefold()
    if op == "is":
        if case_insensitive_is:
            return lambda v: isinstance(v, str) and v.casefold() == folded
        return lambda v: isinstance(v, str) and v == target
    if op == "contains":
        return lambda v: isinstance(v, str) and folded in v.casefold()
    if op == "does not contain":
        return lambda v: v is None or (isinstance(v, str) and folded not in v.casefold())
    if op == "starts with":
        return lambda v: isinstance(v, str) and v.casefold().startswith(folded)
    return lambda v: isinstance(v, str) and v.casefold().endswith(folded)  # ends with


def _compile_boolean(op: str, value: Any, vpath: str, _ci: bool) -> ValueTest:
    if not isinstance(value, bool):
        raise BadRequest(f"{_q(vpath)} must be a boolean")
    want_equal = op == "is"

    def test(v: Any) -> bool:
        if v is None:
            v = False  # missing counts as false (§1.11, Unspecified)
        elif not isinstance(v, bool):
            return False
        return (v == value) is want_equal

    return test


def _record_number(v: Any) -> float | int | None:
    return v if _is_number(v) and not (isinstance(v, float) and math.isnan(v)) else None


def _compile_number(op: str, value: Any, vpath: str, _ci: bool) -> ValueTest:
    if not _is_finite_number(value):
        raise BadRequest(f"{_q(vpath)} must be a number")

    def test(v: Any) -> bool:
        n = _record_number(v)
        if n is None:
            return False
        if op == "is":
            return bool(n == value)
        if op == "more than":
            return bool(n > value)
        return bool(n < value)  # less than

    return test


def _aware(dt: datetime) -> datetime:
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt


def _to_datetime(v: Any) -> datetime | None:
    """Stored timestamps are ISO strings; anything unparseable is "not a date"."""
    if isinstance(v, datetime):
        return _aware(v)
    if isinstance(v, str):
        try:
            return parse_iso(v)
        except (ValueError, OverflowError, TypeError):
            return None
    return None


def _need_date(value: Any, vpath: str) -> datetime:
    parsed = _to_datetime(value) if isinstance(value, str) else None
    if parsed is None:
        raise BadRequest(f"{_q(vpath)} must be an ISO 8601 date or datetime")
    return parsed


def _days_ago(days: float) -> datetime:
    try:
        return now() - timedelta(days=days)
    except (OverflowError, ValueError):
        return datetime.min.replace(tzinfo=UTC)


def _compile_date(op: str, value: Any, vpath: str, _ci: bool) -> ValueTest:
    if op in ("before", "after"):
        bound = _need_date(value, vpath)
        if op == "before":
            return lambda v: (d := _to_datetime(v)) is not None and d < bound
        return lambda v: (d := _to_datetime(v)) is not None and d > bound
    if op == "between":
        start, end = _need_range(value, vpath)
        return lambda v: (d := _to_datetime(v)) is not None and start <= d <= end
    if not _is_finite_number(value) or value < 0:
        raise BadRequest(f"{_q(vpath)} must be a non-negative number of days")
    # Fixed once per request so every record is judged against the same instant.
    cutoff = _days_ago(value)
    if op == "less than":
        return lambda v: (d := _to_datetime(v)) is not None and d > cutoff
    return lambda v: (d := _to_datetime(v)) is not None and d < cutoff  # more than


def _need_range(value: Any, vpath: str) -> tuple[datetime, datetime]:
    if isinstance(value, list):
        if len(value) != 2:
            raise BadRequest(f"{_q(vpath)} must be [start, end] or {{start, end}}")
        return _need_date(value[0], f"{vpath}[0]"), _need_date(value[1], f"{vpath}[1]")
    if isinstance(value, Mapping):
        if "start" not in value or "end" not in value:
            raise BadRequest(f"{_q(vpath)} must be [start, end] or {{start, end}}")
        return (
            _need_date(value["start"], f"{vpath}.start"),
            _need_date(value["end"], f"{vpath}.end"),
        )
    raise BadRequest(f"{_q(vpath)} must be [start, end] or {{start, end}}")


def _same_scalar(a: Any, b: Any) -> bool:
    """Equality that keeps JSON kinds apart (`True` is not `1`, `"1"` is not `1`)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if _is_number(a) and _is_number(b):
        return bool(a == b)
    return isinstance(a, str) and isinstance(b, str) and a == b


def _array_has(arr: list[Any], wanted: Any) -> bool:
    return any(_same_scalar(item, wanted) for item in arr)


def _compile_array(op: str, value: Any, vpath: str, _ci: bool) -> ValueTest:
    if op == "any":
        if value is _ABSENT or value is None or (isinstance(value, list) and not value):
            # No (or an empty) value means "has at least one element".
            return lambda v: isinstance(v, list) and len(v) > 0
        if not isinstance(value, list):
            raise BadRequest(f"{_q(vpath)} must be an array")
        for i, item in enumerate(value):
            if not _is_scalar(item):
                raise BadRequest(f"{_q(f'{vpath}[{i}]')} must be a string, number or boolean")
        wanted = list(value)
        return lambda v: isinstance(v, list) and any(_array_has(v, w) for w in wanted)
    if not _is_scalar(value):
        raise BadRequest(f"{_q(vpath)} must be a string, number or boolean")
    if op == "contains":
        return lambda v: isinstance(v, list) and _array_has(v, value)
    return lambda v: v is None or (isinstance(v, list) and not _array_has(v, value))


_COMPILERS: dict[str, Callable[[str, Any, str, bool], ValueTest]] = {
    "string": _compile_string,
    "boolean": _compile_boolean,
    "number": _compile_number,
    "date": _compile_date,
    "array": _compile_array,
}


def _role_names(roles: Roles, tenant_id: str) -> Sequence[str]:
    """Tolerates a malformed role map: anything but a list of names holds no roles."""
    names = roles.get(tenant_id)
    if isinstance(names, Sequence) and not isinstance(names, str):
        return names
    return ()


def _compile_role(
    comparison: str, value: Any, vpath: str, role_scope: RoleScope | None
) -> Predicate:
    in_scope: RoleScope = role_scope or (lambda _tenant_id: True)

    if comparison == "has any value":

        def any_role(record: Mapping[str, Any], roles: Roles) -> bool:
            return any(_role_names(roles, tid) and in_scope(tid) for tid in roles)

        return any_role

    shape = f'{_q(vpath)} must be "<tenantId>" or "<tenantId>:<role name>"'
    if not isinstance(value, str):
        raise BadRequest(shape)
    tenant_part, sep, role_part = value.partition(":")
    tenant_id = tenant_part.strip()
    role_name = role_part.strip()
    if not tenant_id or (sep and not role_name):
        raise BadRequest(shape)
    if not in_scope(tenant_id):
        return _match_none

    if not sep:

        def any_role_in_tenant(record: Mapping[str, Any], roles: Roles) -> bool:
            return len(_role_names(roles, tenant_id)) > 0

        return any_role_in_tenant

    def has_role(record: Mapping[str, Any], roles: Roles) -> bool:
        return role_name in _role_names(roles, tenant_id)

    return has_role


def _text_matches(record: Mapping[str, Any], needle: str, catalog: Catalog) -> bool:
    """`needle` is already casefolded; ids are matched by their decimal form."""
    for name in catalog.text_fields:
        v = record.get(name)
        if isinstance(v, str):
            if needle in v.casefold():
                return True
        elif isinstance(v, int) and not isinstance(v, bool) and needle in str(v):
            return True
    return False


# ---------------------------------------------------------------- ordering and paging

# Rank keeps values of different JSON kinds from ever being compared with each other.
_RANK_BOOL, _RANK_NUMBER, _RANK_DATE, _RANK_STRING, _RANK_OTHER = range(5)


def _sort_key(value: Any, as_date: bool) -> tuple[Any, ...]:
    if isinstance(value, bool):
        return (_RANK_BOOL, int(value))
    if _is_number(value):
        if isinstance(value, float) and math.isnan(value):
            return (_RANK_NUMBER, 1, 0)
        return (_RANK_NUMBER, 0, value)
    if isinstance(value, datetime):
        return (_RANK_DATE, _aware(value))
    if isinstance(value, str):
        if as_date and (dt := _to_datetime(value)) is not None:
            return (_RANK_DATE, dt)
        return (_RANK_STRING, value.casefold())
    return (_RANK_OTHER, type(value).__name__, repr(value))


def order_and_page(
    records: list[dict[str, Any]], request: SearchRequest
) -> tuple[list[dict[str, Any]], int]:
    """Sort already-filtered records and cut out the requested page.

    Returns (page, totalCount). Nulls sort last in both directions and ties go to the
    catalog's tie-break id ascending, so consecutive pages never overlap or skip.
    """
    catalog = request.catalog
    as_date = catalog.attributes.get(request.order_attr) == "date"
    get_value = _getter(request.order_attr)
    get_tiebreak = _getter(catalog.tiebreak)
    tiebreak_as_date = catalog.attributes.get(catalog.tiebreak) == "date"

    def tiebreak_key(record: Any) -> tuple[Any, ...]:
        v = get_tiebreak(record) if isinstance(record, Mapping) else None
        return (1,) if v is None else (0, _sort_key(v, tiebreak_as_date))

    by_tiebreak = sorted(records, key=tiebreak_key)
    present: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
    absent: list[dict[str, Any]] = []
    for record in by_tiebreak:
        v = get_value(record) if isinstance(record, Mapping) else None
        if v is None:
            absent.append(record)
        else:
            present.append((_sort_key(v, as_date), record))
    # Python's sort is stable even with reverse=True, so equal values keep tie-break order.
    present.sort(key=lambda pair: pair[0], reverse=request.order_desc)
    ordered = [record for _, record in present] + absent
    start = request.offset
    return ordered[start : start + request.limit], len(ordered)
