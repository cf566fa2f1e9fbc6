"""API Gateway's matching of a request to a resource and method.

REST APIs pick the most specific *resource* first (a static segment beats `{param}`,
which beats a greedy `{proxy+}`), then the method on that resource (an exact method beats
`ANY`). A resource that matches without the method is a 405 here, not a fall-back to a
less specific resource, the way API Gateway itself refuses it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import unquote

from infra.local.template import ANY_METHOD, ApiRoute

_STATIC, _PARAM, _GREEDY = 2, 1, 0


@dataclass(frozen=True)
class _Segment:
    kind: int
    value: str


@dataclass(frozen=True)
class _Resource:
    path: str
    segments: tuple[_Segment, ...]

    @property
    def specificity(self) -> tuple[int, ...]:
        return tuple(segment.kind for segment in self.segments)

    def match(self, parts: list[str]) -> dict[str, str] | None:
        """Path parameters (URL-decoded) when `parts` (raw segments) fit this resource."""
        params: dict[str, str] = {}
        for index, segment in enumerate(self.segments):
            if segment.kind == _GREEDY:
                rest = parts[index:]
                if not rest:
                    return None
                params[segment.value] = unquote("/".join(rest))
                return params
            if index >= len(parts):
                return None
            part = unquote(parts[index])
            if segment.kind == _STATIC:
                if part != segment.value:
                    return None
            else:
                if not part:
                    return None
                params[segment.value] = part
        return params if len(parts) == len(self.segments) else None


@dataclass(frozen=True)
class RouteMatch:
    """The route to invoke and its decoded path parameters."""

    route: ApiRoute
    path_parameters: dict[str, str]


@dataclass(frozen=True)
class RouteMiss:
    """No route: 404 when no resource matched, 405 when the method is not on it."""

    status: int
    resource: str | None
    allowed_methods: tuple[str, ...]


def split_path(path: str) -> list[str]:
    """Raw (still percent-encoded) segments; a trailing slash does not add a segment."""
    trimmed = path.strip("/")
    return trimmed.split("/") if trimmed else []


def _compile(path: str) -> _Resource:
    segments = []
    for part in split_path(path):
        if part.startswith("{") and part.endswith("+}"):
            segments.append(_Segment(_GREEDY, part[1:-2]))
        elif part.startswith("{") and part.endswith("}"):
            segments.append(_Segment(_PARAM, part[1:-1]))
        else:
            segments.append(_Segment(_STATIC, part))
    return _Resource(path=path, segments=tuple(segments))


class Router:
    """Matches (method, raw path) against the template's API routes."""

    def __init__(self, routes: Iterable[ApiRoute]) -> None:
        self._methods: dict[str, dict[str, ApiRoute]] = defaultdict(dict)
        for route in routes:
            self._methods[route.path][route.method] = route
        self._resources = sorted(
            (_compile(path) for path in self._methods),
            key=lambda resource: resource.specificity,
            reverse=True,
        )

    @property
    def routes(self) -> list[ApiRoute]:
        return [route for methods in self._methods.values() for route in methods.values()]

    def match(self, method: str, raw_path: str) -> RouteMatch | RouteMiss:
        parts = split_path(raw_path)
        # Resources are sorted most specific first, so the first that fits is the one.
        found = next(
            ((r, params) for r in self._resources if (params := r.match(parts)) is not None),
            None,
        )
        if found is None:
            return RouteMiss(status=404, resource=None, allowed_methods=())
        resource, params = found
        methods = self._methods[resource.path]
        route = methods.get(method.upper()) or methods.get(ANY_METHOD)
        if route is None:
            return RouteMiss(
                status=405, resource=resource.path, allowed_methods=tuple(sorted(methods))
            )
        return RouteMatch(route=route, path_parameters=params)
