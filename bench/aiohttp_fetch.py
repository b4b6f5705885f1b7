#!/usr/bin/env python3
"""The Python peer of `tailcut fetch` in bench/fetch_bench.sh: GET every URL
of a file with aiohttp, at most CONCURRENCY at once (asyncio.gather over a
semaphore, one ClientSession), and print what came back.

    python3 bench/aiohttp_fetch.py URL_FILE [CONCURRENCY]
"""
import asyncio
import collections
import sys
import time

import aiohttp


async def fetch(session, semaphore, url, statuses):
    async with semaphore:
        try:
            async with session.get(url) as response:
                await response.read()
                statuses[response.status] += 1
        except Exception as error:  # noqa: BLE001 - counted, like fetch's error records
            statuses[type(error).__name__] += 1


async def main(path, concurrency):
    with open(path) as file:
        urls = [line.strip() for line in file if line.strip() and not line.startswith("#")]
    statuses = collections.Counter()
    semaphore = asyncio.Semaphore(concurrency)
    connector = aiohttp.TCPConnector(limit=concurrency)
    started = time.perf_counter()
    async with aiohttp.ClientSession(connector=connector) as session:
        await asyncio.gather(*(fetch(session, semaphore, url, statuses) for url in urls))
    seconds = time.perf_counter() - started
    print(f"aiohttp: {len(urls)} URLs in {seconds:.2f} s "
          f"({len(urls) / seconds:.0f} requests/s); {dict(statuses)}")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 100))
