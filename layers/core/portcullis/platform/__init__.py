"""The ground every other package stands on: configuration from the environment, boto3
clients, the exception hierarchy and its error envelope, the shared Powertools resolver
(CORS, body limits, JSON in and out), input readers (JSON bodies, integers, origins,
identifiers), time and duration formats, secret digests and the background worker. It
knows nothing of tenants, users or DynamoDB items and may import no other package of the
core."""
