"""The `responses=` of the webhook routes (functions/webhooks): references to their answer
models in `webhooks.outputs`, which only the OpenAPI generator imports
(`portcullis.platform.http.answers`, docs/openapi.md)."""

from __future__ import annotations

from portcullis.platform.http import answers

SECRET = answers("portcullis.webhooks.outputs:SigningSecret")
DELIVERY = answers("portcullis.webhooks.outputs:Delivery")
DELIVERIES = answers("portcullis.webhooks.outputs:DeliveryPage")
