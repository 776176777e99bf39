"""A webhook receiver: verifies each delivery's signature with the Standard Webhooks library, handles each
event once, and answers 2xx quickly (do the work later: a slow answer is retried as a failure).

    pip install standardwebhooks
    WEBHOOK_SECRET=whsec_... python docs/webhook_receiver.py 8001

Then add an endpoint pointing at http://127.0.0.1:8001/ (README: Events and webhooks).
"""

import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks import Webhook, WebhookVerificationError

# During a secret rotation a delivery carries a signature by the old and by the new secret: verifying with
# either is enough, so the receiver can switch to the new secret at any time in the overlap.
webhook = Webhook(os.environ["WEBHOOK_SECRET"])
handled = set()  # webhook-ids seen: a delivery can come twice (at least once); keep this in your database


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        try:
            event = webhook.verify(body, dict(self.headers))  # checks the signature and the timestamp
        except WebhookVerificationError as error:
            self.send_response(400)
            self.end_headers()
            print(f"refused: {error}", flush=True)
            return
        if event["id"] not in handled:
            handled.add(event["id"])
            print(
                f"{event['id']} {event['type']} {event['customer']} {json.dumps(event['data'])}", flush=True
            )
        self.send_response(204)
        self.end_headers()

    def log_message(self, format, *args):  # one line per event above is enough
        pass


if __name__ == "__main__":
    server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1]) if len(sys.argv) > 1 else 8001), Receiver)
    print(f"listening on http://127.0.0.1:{server.server_port}/", flush=True)
    server.serve_forever()
