"""A TCP proxy that adds latency in user space (this kernel has no netem, and toxiproxy is not
packaged in Debian): `python -m bench.latency LISTEN_PORT TARGET_HOST TARGET_PORT DELAY_MS`.

Every chunk the server sends is held DELAY_MS after it arrived, then passed on in order; what
the client sends passes at once. So each request-reply round trip (a query and its result, a
TLS handshake step) costs DELAY_MS more, and a burst is not slowed further: a link's latency,
not its bandwidth. The whole delay is on the reply side because the event loop's timers have
millisecond granularity: half a millisecond each way would round up to one each way.
"""

import asyncio
import contextlib
import sys


async def forward(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float) -> None:
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

    async def send() -> None:
        while True:
            due, data = await queue.get()
            if not data:
                break
            wait = due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            writer.write(data)
            await writer.drain()
        writer.close()

    sender = asyncio.create_task(send())
    with contextlib.suppress(ConnectionError, OSError):  # either side may close at any time
        while data := await reader.read(65536):
            queue.put_nowait((loop.time() + delay, data))
    queue.put_nowait((loop.time() + delay, b""))
    with contextlib.suppress(ConnectionError, OSError):
        await sender


async def main(listen_port: int, host: str, port: int, delay_ms: float) -> None:
    async def handle(
        client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter
    ) -> None:
        try:
            server_reader, server_writer = await asyncio.open_connection(host, port)
        except OSError:
            client_writer.close()
            return
        await asyncio.gather(
            forward(client_reader, server_writer, 0.0),
            forward(server_reader, client_writer, delay_ms / 1000),
        )

    server = await asyncio.start_server(handle, "0.0.0.0", listen_port)  # noqa: S104 - in a container
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    listen, target_host, target_port, delay = sys.argv[1:5]
    asyncio.run(main(int(listen), target_host, int(target_port), float(delay)))
