"""JSON Web Tokens: RS256 signing keys per tenant and mode (private parts envelope-encrypted
with KMS), signing and verification with the algorithm allow-list, the claims of every
token kind and the tokens object, and the public keys the JWKS endpoints publish. It may
import `platform/`, `store/` and `tenancy/`."""
