"""Search over stored items (api-server §1.9, §1.11): request parsing, filter compilation,
ordering, bounded scans and continuation paging, and the one list envelope every list
endpoint answers with. It may import `platform/` only; the item types it searches come
from its callers."""
