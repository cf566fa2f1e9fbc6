"""Outgoing webhooks (concepts §5): which URL an event goes to and whether the service may
connect to it (the SSRF rules, checked at configuration and again at delivery after DNS),
the signing secret of each workspace and mode (rotation with a 24-hour overlap), and the
headers and HMAC signature of a delivery. It may import `platform/`, `store/`,
`tenancy/` and `tokens/` (KMS envelope encryption of the signing secrets); the delivery
pipeline that uses it, and the tenants API that configures it, sit above it."""
