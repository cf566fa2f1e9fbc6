"""End users: building a record (`records`), the public User object and its webhook event
(`rendering`), finding one user (`lookups`), create / update / delete (`service`),
search (`search`), who holds which role (`roleassignments`), createOrUpdate (`upsert`),
a deleted tenant's users (`cleanup`), retries and conflict messages (`conflicts`), the
writable fields of the server API (`fields`) and invitations. It may import every
package below it: `platform/`, `store/`, `search/`, `tenancy/`, `tokens/`, `messaging/`,
`ratelimit/`, `credentials/`, `sessions/` and `access/`; none of those imports it (role
definitions in `access.roles` know nothing of users)."""
