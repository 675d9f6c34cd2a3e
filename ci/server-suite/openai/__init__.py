"""A small stand-in for OpenAI's Python SDK, for llama.cpp's server test suite (ci/server-suite.sh).

Debian packages no `openai`; the suite's modules that import it use only `OpenAI(api_key, base_url)`
and `create(...)` on `chat.completions`, `completions`, `embeddings` and `responses`. This sends the
same HTTP requests the SDK sends for those calls (POST base_url + the path, a JSON body of the
arguments given, `Authorization: Bearer KEY`) and gives the reply as objects with attribute access,
a stream as the objects of its server-sent events. It is not the SDK, and is used for nothing else.
"""
import json
import requests

__all__ = ["OpenAI", "APIError", "APIStatusError"]


class APIError(Exception):
    pass


class APIStatusError(APIError):
    def __init__(self, message, status_code, body):
        super().__init__(message)
        self.status_code = status_code
        self.body = body


class _Obj:
    """JSON as attributes (missing keys read as None, as the SDK's optional fields do)."""

    def __init__(self, data):
        self._data = data
        for k, v in data.items():
            setattr(self, k, _wrap(v))

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return None

    def model_dump(self):
        return self._data

    @property
    def output_text(self):
        # the Responses API's convenience: every output_text part of every message, joined
        parts = []
        for item in self._data.get("output") or []:
            for c in item.get("content") or []:
                if c.get("type") == "output_text":
                    parts.append(c.get("text", ""))
        return "".join(parts)


def _wrap(v):
    if isinstance(v, dict):
        return _Obj(v)
    if isinstance(v, list):
        return [_wrap(x) for x in v]
    return v


class _Endpoint:
    def __init__(self, client, path):
        self._client = client
        self._path = path

    def create(self, extra_body=None, extra_headers=None, timeout=None, **kwargs):
        body = {k: v for k, v in kwargs.items() if v is not None}
        if extra_body:
            body.update(extra_body)
        return self._client._post(self._path, body, bool(body.get("stream")), extra_headers)


class _Namespace:
    pass


class OpenAI:
    def __init__(self, api_key=None, base_url=None, timeout=600, max_retries=0, **_):
        self.api_key = api_key
        self.base_url = (base_url or "https://api.openai.com/v1").rstrip("/")
        self.timeout = timeout
        self.chat = _Namespace()
        self.chat.completions = _Endpoint(self, "/chat/completions")
        self.completions = _Endpoint(self, "/completions")
        self.embeddings = _Endpoint(self, "/embeddings")
        self.responses = _Endpoint(self, "/responses")

    def _post(self, path, body, stream, extra_headers):
        headers = {"Content-Type": "application/json", "Accept": "text/event-stream" if stream else "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        if extra_headers:
            headers.update(extra_headers)
        r = requests.post(self.base_url + path, data=json.dumps(body), headers=headers, stream=stream,
                          timeout=self.timeout)
        if r.status_code >= 400:
            raise APIStatusError(f"Error code: {r.status_code} - {r.text}", r.status_code, r.text)
        if not stream:
            return _wrap(r.json())
        return self._events(r)

    @staticmethod
    def _events(r):
        for line in r.iter_lines(decode_unicode=True):
            if not line or not line.startswith("data:"):
                continue
            data = line[len("data:"):].strip()
            if data == "[DONE]":
                break
            yield _wrap(json.loads(data))
