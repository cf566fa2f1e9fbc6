"""What a tenant of one mode is configured to do, read at request time: its settings
(defaults plus overrides, clamped by its parent's rate limits), the per-instance cache of
tenant + settings, live domains, and the mode of a request decided by its origin. It may
import `platform/` and `store/` only; creating, changing and deleting tenants lives in
`tenants/`, above it."""
