"""The `responses=` of the user routes (functions/users, functions/roles, functions/self)
and the custom JWT routes (functions/jwts): references to their answer models in
`users.userobject` and `users.outputs`, which only the OpenAPI generator imports
(`portcullis.platform.http.answers`, docs/openapi.md)."""

from __future__ import annotations

from portcullis.platform.http import answers

# The User object and a page of users.
USER = answers("portcullis.users.userobject:User")
USERS = answers("portcullis.users.userobject:UserList")

# The user actions that answer no User object (functions/users) and the custom JWT
# routes (functions/jwts).
GENERATED_LINK = answers("portcullis.users.outputs:GeneratedLink")
MARKED_ACTIVE = answers("portcullis.users.outputs:MarkedActive")
MINTED_JWT = answers("portcullis.users.outputs:MintedJwt")
JWT_FORMAT = answers("portcullis.users.outputs:JwtFormat")
JWT_CLAIMS = answers("portcullis.users.outputs:ClaimPage")
