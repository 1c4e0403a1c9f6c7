"""A stand-in for a Nominatim geocoder (`/search?format=jsonv2&q=`), for the tests of address search.

The real service (nominatim.openstreetmap.org or a municipality's own) cannot be reached from here, so the
tests run mapsvc's geocoder adapter against this small local HTTP server that answers in Nominatim's jsonv2
format from a fixed table of places. Like a careless geocoder, it ignores `viewbox`/`bounded`: mapsvc must
drop places outside the platform itself. It records the query strings it received.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

# Made-up addresses at real spots: two in Kapelle-op-den-Bos, one in Poperinge (outside Kapelle's box).
PLACES = [
    {"place_id": 1, "lat": "51.0112000", "lon": "4.3631000", "type": "house", "addresstype": "building",
     "display_name": "Kerkstraat 1, 1880 Kapelle-op-den-Bos, Vlaams-Brabant, België"},
    {"place_id": 2, "lat": "50.9930000", "lon": "4.3445000", "type": "house", "addresstype": "building",
     "display_name": "Kerkstraat 40, 1880 Nieuwenrode, Kapelle-op-den-Bos, Vlaams-Brabant, België"},
    {"place_id": 3, "lat": "50.8554000", "lon": "2.7270000", "type": "house", "addresstype": "building",
     "display_name": "Kerkstraat 1, 8970 Poperinge, West-Vlaanderen, België"},
    {"place_id": 4, "lat": "not a number", "lon": "4.35", "type": "house",
     "display_name": "Kerkstraat 99 (broken record), Kapelle-op-den-Bos"},
]


class NominatimStandIn:
    """Serve the places (PLACES by default) whose display name holds every word of q; `broken`: a non-JSON page."""

    def __init__(self, places: list[dict] | None = None, broken: bool = False):
        table = PLACES if places is None else places
        self.queries: list[dict[str, list[str]]] = []
        self.user_agents: list[str] = []
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                parts = urlsplit(self.path)
                query = parse_qs(parts.query)
                standin.queries.append(query)
                standin.user_agents.append(self.headers.get("User-Agent", ""))
                if parts.path != "/search" or query.get("format") != ["jsonv2"]:
                    self.send_error(400, "expected /search?format=jsonv2")
                    return
                if broken:
                    body, kind = b"<html>Service Unavailable</html>", "text/html"
                else:
                    words = (query.get("q") or [""])[0].lower().split()
                    found = [p for p in table if words and all(w in p["display_name"].lower() for w in words)]
                    body, kind = json.dumps(found).encode(), "application/json"
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
