# aiohttp client benchmark: the Python peer of tailcut_client_bench, same requests.
"""N GETs with concurrency C through one aiohttp ClientSession.

    python3 bench/aiohttp_client.py URL [REQUESTS=20000] [CONCURRENCY=64]

Prints: aiohttp requests=N concurrency=C seconds=S rps=R errors=E
"""
import asyncio
import sys
import time

import aiohttp


async def worker(session, url, state):
    while state["started"] < state["total"]:
        state["started"] += 1
        try:
            async with session.get(url) as response:
                await response.read()
                if response.status == 200:
                    state["ok"] += 1
                else:
                    state["errors"] += 1
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            state["errors"] += 1
            state.setdefault("first_error", repr(error))


async def main(url, requests, concurrency):
    state = {"total": requests, "started": 0, "ok": 0, "errors": 0}
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        start = time.perf_counter()
        await asyncio.gather(*(worker(session, url, state) for _ in range(concurrency)))
        seconds = time.perf_counter() - start
    print(
        f"aiohttp requests={state['ok'] + state['errors']} concurrency={concurrency} "
        f"seconds={seconds:.3f} rps={state['ok'] / seconds:.0f} errors={state['errors']}"
    )
    if "first_error" in state:
        print(f"first error: {state['first_error']}", file=sys.stderr)
    return 0 if state["errors"] == 0 else 1


if __name__ == "__main__":
    if not 2 <= len(sys.argv) <= 4:
        sys.exit("usage: aiohttp_client.py URL [REQUESTS=20000] [CONCURRENCY=64]")
    sys.exit(
        asyncio.run(
            main(
                sys.argv[1],
                int(sys.argv[2]) if len(sys.argv) > 2 else 20000,
                int(sys.argv[3]) if len(sys.argv) > 3 else 64,
            )
        )
    )
