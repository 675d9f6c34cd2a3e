#!/usr/bin/env python3
"""A fake Hugging Face endpoint on loopback for offline download tests (MODEL_ENDPOINT=http://127.0.0.1:PORT/).

Usage: fake-hub.py PORT_FILE ORG/REPO/FILE=LOCAL_PATH ...

Serves, for each repository given, what llama-java's ModelCache and llama.cpp's downloader ask for:
  GET  /api/models/ORG/REPO/refs               the main branch at a fixed commit
  GET  /api/models/ORG/REPO/tree/REV           the repository's files (any REV), with size and sha256 (lfs.oid)
  HEAD|GET /ORG/REPO/resolve/REV/FILE          the file (ETag: its sha256); unknown names are 404
It binds a free port and writes it to PORT_FILE. It exits when its parent process ends (the launcher
execs the server, so that is the server), so that it never outlives the suite's server.
"""
import hashlib
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

COMMIT = "0123456789abcdef0123456789abcdef01234567"
repos = {}  # "ORG/REPO" -> {"FILE": path}
for spec in sys.argv[2:]:
    name, local = spec.split("=", 1)
    org, repo, file = name.split("/", 2)
    repos.setdefault(org + "/" + repo, {})[file] = local

sha_cache = {}


def sha256(path):
    if path not in sha_cache:
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        sha_cache[path] = h.hexdigest()
    return sha_cache[path]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def send(self, status, body, ctype="application/json", headers=None, head=False):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def route(self, head):
        path = self.path.split("?", 1)[0]
        if path.startswith("/api/models/"):
            rest = path[len("/api/models/"):]
            for repo, files in repos.items():
                if rest == repo + "/refs":
                    body = {"branches": [{"name": "main", "ref": "refs/heads/main", "targetCommit": COMMIT}],
                            "tags": [], "converts": []}
                    return self.send(200, json.dumps(body).encode(), head=head)
                if rest.startswith(repo + "/tree/"):
                    items = [{"type": "file", "path": f, "size": os.path.getsize(p), "oid": COMMIT,
                              "lfs": {"oid": sha256(p), "size": os.path.getsize(p)}} for f, p in files.items()]
                    return self.send(200, json.dumps(items).encode(), head=head)
            return self.send(404, b'{"error":"Repository not found"}', head=head)
        for repo, files in repos.items():
            prefix = "/" + repo + "/resolve/"
            if path.startswith(prefix):
                rev_file = path[len(prefix):].split("/", 1)
                local = files.get(rev_file[1]) if len(rev_file) == 2 else None
                if local is None:
                    break
                with open(local, "rb") as f:
                    data = f.read()
                etag = '"' + sha256(local) + '"'
                return self.send(200, data, "application/octet-stream", {"ETag": etag, "X-Linked-Etag": etag}, head)
        return self.send(404, b"Entry not found", "text/plain", head=head)

    def do_GET(self):
        self.route(False)

    def do_HEAD(self):
        self.route(True)


def watch_parent(parent):
    while os.getppid() == parent:
        time.sleep(1)
    os._exit(0)


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
tmp = sys.argv[1] + ".tmp"
with open(tmp, "w") as f:
    f.write(str(server.server_address[1]))
os.replace(tmp, sys.argv[1])
threading.Thread(target=watch_parent, args=(os.getppid(),), daemon=True).start()
server.serve_forever()
