"""Everything that leaves the service as a message: the transactional outbox (items written
with the change that causes them, sent afterwards), EventBridge events and their webhook
envelope, email templates and the SES adapter, SMS through SNS, and who may choose a
tenant's From address. It may import `platform/`, `store/`, `tenancy/` and `tokens/` (for
envelope encryption of message bodies)."""
