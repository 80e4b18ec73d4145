"""make debug: the app under debugpy in the development shape. A Debug Adapter Protocol client
(the protocol VS Code and PyCharm speak) attaches, sets a breakpoint in a view, sends a
request, is told the request stopped at that line, continues, and the request completes."""

import json
import socket
import threading
import time

import pytest
import requests

from harness.stack import ROOT, Stack, free_port

FILES = ("docker-compose.yml", "docker-compose.override.yml", "docker/compose.debug.yml")


class DebugAdapter:
    """A minimal DAP client over TCP: Content-Length framed JSON messages."""

    def __init__(self, port: int):
        self.socket = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.buffer = b""
        self.seq = 0

    def request(self, command: str, **arguments) -> int:
        self.seq += 1
        body = json.dumps(
            {"seq": self.seq, "type": "request", "command": command, "arguments": arguments}
        ).encode()
        self.socket.sendall(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        return self.seq

    def message(self) -> dict:
        while b"\r\n\r\n" not in self.buffer:
            self.buffer += self.socket.recv(65536)
        header, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        length = int(header.split(b":")[1])
        while len(self.buffer) < length:
            self.buffer += self.socket.recv(65536)
        body, self.buffer = self.buffer[:length], self.buffer[length:]
        return json.loads(body)

    def wait_for(self, kind: str, name: str, timeout: float = 30) -> dict:
        """The next event or response called `name`, skipping the others."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            message = self.message()
            if message["type"] == kind and name in (message.get("event"), message.get("command")):
                return message
        raise AssertionError(f"no {kind} {name} within {timeout}s")


@pytest.fixture(scope="module")
def debug_stack():
    stack = Stack("debug", files=FILES, DEBUG_PORT=str(free_port()))
    try:
        stack.up()
        yield stack
    finally:
        stack.down()


def test_a_breakpoint_in_a_view_stops_the_request_at_that_line(debug_stack):
    view = ROOT / "app" / "items_api.py"
    line = next(
        n
        for n, text in enumerate(view.read_text().splitlines(), 1)
        if "result = items.page(" in text
    )
    dap = DebugAdapter(int(debug_stack.env["DEBUG_PORT"]))
    dap.request(
        "initialize",
        clientID="pytest",
        adapterID="python",
        pathFormat="path",
        linesStartAt1=True,
        columnsStartAt1=True,
    )
    dap.wait_for("response", "initialize")
    dap.request(
        "attach", justMyCode=True, pathMappings=[{"localRoot": str(ROOT), "remoteRoot": "/srv"}]
    )
    dap.wait_for("event", "initialized")
    dap.request("setBreakpoints", source={"path": str(view)}, breakpoints=[{"line": line}])
    assert dap.wait_for("response", "setBreakpoints")["body"]["breakpoints"][0]["verified"]
    dap.request("configurationDone")
    dap.wait_for("response", "configurationDone")

    answers = []
    call = threading.Thread(
        target=lambda: answers.append(requests.get(debug_stack.url + "/api/items", timeout=60))
    )
    call.start()
    stopped = dap.wait_for("event", "stopped")
    assert stopped["body"]["reason"] == "breakpoint"
    dap.request("stackTrace", threadId=stopped["body"]["threadId"])
    top = dap.wait_for("response", "stackTrace")["body"]["stackFrames"][0]
    assert top["line"] == line
    assert top["source"]["path"] == str(view)
    assert not answers  # the request waits at the breakpoint
    dap.request("continue", threadId=stopped["body"]["threadId"])
    call.join(timeout=30)
    assert answers and answers[0].status_code == 200
    dap.request("disconnect", terminateDebuggee=False)
