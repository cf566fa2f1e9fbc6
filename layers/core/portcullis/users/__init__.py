"""End users: building and rendering the public User object, lookups, create / update /
delete, role assignments, createOrUpdate, the writable fields of the server API and
invitations. It may import every package below it: `platform/`, `store/`, `search/`,
`tenancy/`, `tokens/`, `messaging/`, `ratelimit/`, `credentials/`, `sessions/` and
`access/`."""
