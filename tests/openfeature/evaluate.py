"""Evaluates flags through the OpenFeature Python SDK and its OFREP provider against a
running pg_ab gateway. Reads a JSON list of evaluations on stdin, each
{"flag", "type": "string"|"object"|"boolean"|"number", "default", "targetingKey" (or null),
"attributes"}, and prints one JSON list of {"value", "variant", "reason", "errorCode"}.
The gateway's URL and SDK token come from OFREP_URL and SDK_TOKEN."""

import json
import os
import sys

from openfeature import api
from openfeature.contrib.provider.ofrep import OFREPProvider
from openfeature.evaluation_context import EvaluationContext

token = os.environ["SDK_TOKEN"]
api.set_provider(OFREPProvider(os.environ["OFREP_URL"], headers_factory=lambda: {"Authorization": f"Bearer {token}"}))
client = api.get_client()
resolve = {
    "string": client.get_string_details,
    "object": client.get_object_details,
    "boolean": client.get_boolean_details,
    "number": client.get_float_details,
}

results = []
for request in json.load(sys.stdin):
    context = EvaluationContext(targeting_key=request["targetingKey"], attributes=request["attributes"])
    details = resolve[request["type"]](request["flag"], request["default"], context)
    results.append({
        "value": details.value,
        "variant": details.variant,
        "reason": details.reason.value if hasattr(details.reason, "value") else details.reason,
        "errorCode": details.error_code.value if details.error_code else None,
    })
json.dump(results, sys.stdout)
