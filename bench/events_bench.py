"""Events and webhooks: what the outbox adds to a change, and a burst of events delivered over real HTTP.

- The queries `event_record` adds to the change that calls it, with 1 and 20 listening endpoints and with
  a once-only key: a small constant, whatever the number of endpoints.
- A burst of BENCH_EVENTS events (10,000 by default, over ten customers) recorded while an endpoint listens
  and delivered to a receiver on 127.0.0.1 (a process of its own that verifies every signature with the
  Standard Webhooks library), the tasks running in-process as `make run` runs them. The delivery rate is
  reported beside the receiver's own ceiling, measured in the same run with the same signed requests
  posted to it directly, one after another as the sender posts them.
"""

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CUSTOMERS = 10
RECEIVER = """
import http.server, json, sys
from standardwebhooks.webhooks import Webhook
hook, ids, failures = Webhook(sys.argv[1]), set(), [0]
class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        body = self.rfile.read(int(self.headers["content-length"]))
        try:
            hook.verify(body, dict(self.headers))
            ids.add(self.headers["webhook-id"])
            status = 204
        except Exception:
            failures[0] += 1
            status = 400
        self.send_response(status)
        self.send_header("content-length", "0")
        self.end_headers()
    def do_GET(self):
        answer = json.dumps({"ids": len(ids), "failures": failures[0]}).encode()
        ids.clear(); failures[0] = 0
        self.send_response(200)
        self.send_header("content-length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)
    def log_message(self, *args):
        pass
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
"""


class _RolledBack(Exception):
    pass


def _queries(record) -> int:
    """The queries of ``record()`` inside a change's transaction, rolled back (nothing sent)."""
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    try:
        with transaction.atomic(), CaptureQueriesContext(connection) as captured:
            record()
            raise _RolledBack
    except _RolledBack:
        pass
    return len(captured)


def query_counts() -> list[str]:
    from events.delivery import webhook_secret_new
    from events.models import WebhookEndpoint
    from events.services import event_record

    def record(key=None):
        return lambda: event_record("quote.sent", customer_code="DEMO-ACTIVE", data={"object": {}}, key=key)

    WebhookEndpoint.objects.create(url="https://hooks.example.com/a", secret=webhook_secret_new())
    one = _queries(record())
    for n in range(19):
        WebhookEndpoint.objects.create(url=f"https://hooks.example.com/{n}", secret=webhook_secret_new())
    twenty = _queries(record())
    keyed = _queries(record(key=f"bench:{time.time_ns()}"))
    WebhookEndpoint.objects.all().delete()
    return [
        "## Events: queries the outbox adds to a change (event_record)",
        f"- 1 listening endpoint: {one}; 20 endpoints: {twenty}; with a once-only key: {keyed} "
        "(each with the SAVEPOINT and RELEASE of its atomic block inside the change's transaction)",
    ]


def _receiver(secret: str) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen(
        [sys.executable, "-c", RECEIVER, secret], stdout=subprocess.PIPE, text=True, cwd=ROOT
    )
    port = int(process.stdout.readline())
    return process, f"http://127.0.0.1:{port}"


def _stats(base: str) -> dict:
    with urllib.request.urlopen(f"{base}/stats", timeout=10) as answer:
        return json.loads(answer.read())


def burst(events: int) -> list[str]:
    import requests
    from django.conf import settings
    from django.db import transaction
    from django.utils import timezone

    from events.delivery import webhook_request, webhook_secret_new
    from events.models import Delivery, DeliveryStatus, Event, WebhookEndpoint
    from events.services import event_record

    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    secret = webhook_secret_new()
    receiver, base = _receiver(secret)
    try:
        endpoint = WebhookEndpoint.objects.create(url=f"{base}/hooks", secret=secret)
        start = time.perf_counter()
        with transaction.atomic():  # one burst: sent once it commits
            for n in range(events):
                event_record(
                    "invoice.issued",
                    customer_code=f"BENCH-{n % CUSTOMERS}",
                    data={"object": {"id": n, "number": f"INV-{n:06d}", "total": {"amount": "1200.00"}}},
                )
            recorded = time.perf_counter() - start
        delivered_in = time.perf_counter() - start
        delivered = Delivery.objects.filter(endpoint=endpoint, status=DeliveryStatus.DELIVERED).count()
        ours = _stats(base)

        # The receiver's ceiling: the same signed requests, posted straight to it one after another.
        requests_ = [
            webhook_request(endpoint, event, timezone.now())
            for event in Event.objects.filter(deliveries__endpoint=endpoint)
        ]
        start = time.perf_counter()
        for body, headers in requests_:
            requests.post(f"{base}/hooks", data=body, headers=headers, timeout=(3, 5), allow_redirects=False)
        direct = time.perf_counter() - start
        ceiling = _stats(base)
    finally:
        receiver.terminate()
        receiver.wait(timeout=10)
    rate, ceiling_rate = events / delivered_in, events / direct
    return [
        f"## Events: a burst of {events:,} events over {CUSTOMERS} customers to a receiver on 127.0.0.1",
        f"- recorded in {recorded:.1f} s; recorded and delivered in {delivered_in:.1f} s: "
        f"{rate:,.0f} events/s",
        f"- delivered {delivered:,}; the receiver verified {ours['ids']:,} distinct ids, "
        f"{ours['failures']} signature failures",
        f"- the receiver's ceiling (the same {ceiling['ids']:,} requests posted directly, one after "
        f"another): {ceiling_rate:,.0f} requests/s",
        f"- ratio delivery/ceiling: {rate / ceiling_rate:.2f}",
    ]


def run() -> list[str]:
    return [*query_counts(), "", *burst(int(os.environ.get("BENCH_EVENTS", "10000")))]
