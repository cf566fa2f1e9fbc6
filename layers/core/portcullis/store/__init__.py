"""DynamoDB single-table storage. No module outside `store/` talks to DynamoDB.

Key layout (every item carries `type`; the mode is part of every key so test and live
data never mix):

| item            | pk                               | sk                      | gsi1pk / gsi1sk                          |
|-----------------|----------------------------------|-------------------------|------------------------------------------|
| tenant          | TENANT#{mode}#{tenantId}         | TENANT                  | CHILDREN#{mode}#{parentId} / {createdAt}#{tenantId} |
| tenant settings | TENANT#{mode}#{tenantId}         | SETTINGS                |                                          |
| role definition | TENANT#{mode}#{tenantId}         | ROLE#{name}             |                                          |
| JWT signing key | TENANT#{mode}#{tenantId}         | JWTKEY#{createdAt}#{kid}|                                          |
| API key         | APIKEY#{sha256 of key}           | APIKEY                  | APIKEYS#{mode}#{tenantId}#{type} / {createdAt} |
| active key count| TENANT#{mode}#{tenantId}         | KEYCOUNT#{type}         |                                          |
| rate-limit hit  | RATE#{name}#{key}                | {window start}          |                                          |
"""
