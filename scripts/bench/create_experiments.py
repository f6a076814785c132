"""Creates and starts N experiments through the gateway's API over one keep-alive
connection, as the seed-scale benchmark needs: experiment i targets segment i % 100 (one
in a thousand targets nobody), so a user is eligible for about N/100 + N/1000 of them. Each
measures a conversion and a revenue sum of `purchase` events, so each has results to refresh.
Usage: create_experiments.py BASE_URL ADMIN_TOKEN N. Prints the seconds it took."""

import http.client
import json
import sys
import time
from urllib.parse import urlparse

base, token, count = urlparse(sys.argv[1]), sys.argv[2], int(sys.argv[3])
connection = http.client.HTTPConnection(base.hostname, base.port)
headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}


def post(path, body=None):
    connection.request("POST", path, body=json.dumps(body) if body is not None else None, headers=headers)
    response = connection.getresponse()
    text = response.read()
    if response.status >= 300:
        sys.exit(f"POST {path}: {response.status} {text!r}")


started = time.monotonic()
for i in range(count):
    config = {
        "id": f"scale-{i}",
        "variants": [{"id": "control", "weight": 0.5, "is_control": True}, {"id": "treatment", "weight": 0.5}],
        "metrics": [
            {"id": "purchase", "kind": "conversion", "event_type": "purchase"},
            {"id": "revenue", "kind": "continuous", "event_type": "purchase", "field": "amount"},
        ],
    }
    if i % 1000:
        config["targeting"] = [{"attribute": "segment", "in": [f"seg-{i % 100}"]}]
    post("/api/v1/experiments", config)
    post(f"/api/v1/experiments/scale-{i}/start")
print(f"{time.monotonic() - started:.1f}")
