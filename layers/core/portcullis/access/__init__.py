"""Who may do what on the server API: callers (an API key or an admin user's access
token) resolved to mode, level and tenant scope, API keys themselves, role definitions,
and which users a caller scoped to one tenant may address. It may import `platform/`,
`store/`, `search/` (the list envelope), `tenancy/`, `tokens/`, `messaging/`,
`ratelimit/` and `sessions/`."""
