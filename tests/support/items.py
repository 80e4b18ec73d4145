"""Requests and commands the app tests make over and over."""


def create(client, name="widget", **fields):
    """POST an item; the response."""
    return client.post("/api/items", json={"name": name, **fields})


def invoke(runner, *args):
    """Run `flask ARGS...` in the test's app; the click result."""
    return runner.invoke(args=list(args))
