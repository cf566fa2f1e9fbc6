"""User imports and exports (api-server §1.10, §10; concepts §7.4): the import job, its rows
and their validation, the source presets that turn another system's export into import rows
(`sources`), the worker that applies rows, and the export that writes a tenant's users back
out in the import format. It sits above `users/` (rows become users through the user
service) and may import every package below it; only `tenants/` and `admin` import it."""
