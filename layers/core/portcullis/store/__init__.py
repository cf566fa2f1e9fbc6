"""DynamoDB single-table storage. No module outside `store/` talks to DynamoDB.

Every item carries `type`, and the mode is part of every key so test and live data
never mix. The key layout of every item type is documented in docs/storage.md.
"""
