"""Creating, changing and deleting tenants (api-server §1.5, §8): the workspace and its
nested child tenants, their signing keys and role definitions, clean-up of a deleted
tenant, and the workspace bootstrap with its test-mode seed users. It sits above
`users/` (a new workspace gets seed users; a deleted tenant's users are cleaned up) and may
import every package except `auth/`."""
