"""The one load generator of the stack tests: threads sending GET requests to 127.0.0.1 until
stopped, at most `limit` seconds, each answer recorded."""

import threading
import time
from typing import NamedTuple

import requests


class Answer(NamedTuple):
    start: float  # time.monotonic() when the request was sent
    status: int | None  # None: no HTTP answer at all
    code: str | None  # the error body's code, or the exception's name
    body: str  # the body of an error answer ("" for a 2xx)
    retry_after: str | None = None  # its Retry-After header

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def answer(start: float, response: requests.Response) -> Answer:
    if response.ok:
        return Answer(start, response.status_code, None, "")
    try:
        code = response.json().get("error", {}).get("code")
    except ValueError:
        code = "not JSON"
    return Answer(
        start, response.status_code, code, response.text, response.headers.get("Retry-After")
    )


class Load:
    def __init__(self, url: str, threads: int = 4, limit: float = 90, pause: float = 0.02):
        self.url, self.limit, self.pause = url, limit, pause
        self.answers: list[Answer] = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run) for _ in range(threads)]

    def _run(self) -> None:
        session = requests.Session()
        deadline = time.monotonic() + self.limit
        while not self._stop.is_set() and time.monotonic() < deadline:
            start = time.monotonic()
            try:
                response = session.get(self.url, timeout=15)
            except requests.RequestException as exc:
                self.answers.append(Answer(start, None, type(exc).__name__, str(exc)))
            else:
                self.answers.append(answer(start, response))
            time.sleep(self.pause)

    def since(self, moment: float) -> list[Answer]:
        return [a for a in list(self.answers) if a.start >= moment]

    def __enter__(self) -> "Load":
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)
