"""Widget serving speed: Attest's public widget endpoints against a bare Starlette app that answers
the same bytes, with the same client, in the same run.

    .venv/bin/python bench/widgets.py [--seconds 3] [--rounds 3] [--connections 32] [--reviews 300] [--only NAME]

Starts a fresh embedded PostgreSQL in a temporary folder with a shop of `--reviews` published
reviews over 20 products (stored and published through `reviews.collection.store`), then two real
uvicorn processes on 127.0.0.1, each on a free port and with the uvicorn settings of `attest web`:

- Attest itself: `attest web` (no worker), on that database;
- the baseline: a Starlette app with one route per endpoint, no middleware, answering each with the
  status, headers and body Attest gave for it (fetched once beforehand: the same bytes, gzip
  included where Attest sends it).

The endpoints are the ones a shop's pages load: embed.js and the review list's module, the strings,
the star snippets of a collection page in one `ratings.json` (20 products), a product's review list
as embed.js asks for it (`reviews.json`), the trust badge's verdict (`badge.json?host=`), the SVG
badge, the SEO fragment a shop's server includes (`reviews.html`), the older `summary.json` (the
shop's and a product's), a product's topics and the public shop page (`/shops/{slug}`), all asked
with a browser's `Accept-Encoding`.

The client is wrk (Debian's `wrk`; installed with apt-get if it is missing): C, one thread,
`--connections` keep-alive connections. It is not the bottleneck: the bench prints the CPU wrk
used per run beside the server's, and on the bare app, the fastest server here, wrk stays far
from a core while the server uses one. Each round runs every endpoint against both servers,
alternating which goes first; after a short warm-up of each. Prints, per endpoint, requests per
second and p99 latency of each server (median of the rounds) and the ratio Attest / bare (median
of the rounds' ratios, since the two runs of a round are back to back). Targets (issue 22): JSON,
SVG and HTML at least 0.75 of bare, the scripts at least 0.9, and every endpoint's p99 at most 3x
the bare app's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.append(str(Path(__file__).resolve().parent))

import httpx
import psutil
from _common import embedded_database, verdict

ROOT = Path(__file__).resolve().parent.parent
ATTEST = str(Path(sys.executable).parent / "attest")
SLUG = "bench-shop"
ACCEPT_ENCODING = "gzip, deflate, br, zstd"
PRODUCTS = ",".join(f"SKU-{i}" for i in range(20))
ENDPOINTS = {  # name: (path, target ratio)
    "embed.js": ("/widgets/v1/embed.js", 0.9),
    "js/reviews.js": ("/widgets/v1/js/reviews.js?v=1", 0.9),
    "i18n/en.json": ("/widgets/v1/i18n/en.json", 0.9),
    "ratings.json (20)": (f"/widgets/v1/{SLUG}/ratings.json?products={PRODUCTS}", 0.75),
    "reviews.json": (f"/widgets/v1/{SLUG}/reviews.json?lang=en&per_page=5&page=1&sort=newest&product=SKU-1", 0.75),
    "badge.json": (f"/widgets/v1/{SLUG}/badge.json?host=www.shop.example", 0.75),
    "badge.svg": (f"/widgets/v1/{SLUG}/badge.svg", 0.75),
    "reviews.html": (f"/widgets/v1/{SLUG}/products/SKU-1/reviews.html", 0.75),
    "summary.json": (f"/widgets/v1/{SLUG}/summary.json", 0.75),
    "product summary.json": (f"/widgets/v1/{SLUG}/summary.json?product=SKU-1", 0.75),
    "product topics.json": (f"/widgets/v1/{SLUG}/products/SKU-1/topics.json", 0.75),
    # (Not the feeds: a process streams only a few at once by design, and answers the rest 503.)
    "public page": (f"/shops/{SLUG}", 0.75),
}
P99_TARGET = 3.0  # at most this many times the bare app's p99
# Recomputed by each server for each answer; everything else of Attest's answer the bare app repeats.
_OWN_HEADERS = {"date", "server", "content-length", "connection", "keep-alive"}


# --- data ---------------------------------------------------------------------------------------------------


async def seed(dsn: str, n: int) -> None:
    from reviews.collection import store as reviews
    from reviews.merchants import store as merchants
    from reviews.platform import db

    conn = await db.connect(dsn)
    try:
        merchant, _ = await merchants.create(conn, name="Bench Shop", slug=SLUG, locale="en",
                                             settings={"invite_delay_days": 0})
        t0 = datetime(2026, 1, 1, tzinfo=UTC)
        for i in range(n):
            at = t0 + timedelta(minutes=i)
            review_id = await reviews.add_imported(conn, reviews.Imported(
                merchant_id=merchant.id, external_id=f"bench-{i}", product_id=f"SKU-{i % 20}", order_id=None,
                locale="en", rating=1 + (i * 7) % 5, title=f"Review {i}", body="Fits well, arrived quickly. " * 3,
                display_name=f"Buyer {i}", author_hash=None, submitted_at=at, product_name=f"Product {i % 20}"), at)
            assert review_id is not None
            await reviews.publish(conn, review_id, at)
        await conn.execute("DELETE FROM jobs")  # the scans add_imported queued: no worker runs here
        # The websites the badge's seal belongs to (the `domains` setting), as the console would store them.
        await conn.execute("UPDATE merchants SET settings = settings || $2::jsonb WHERE id = $1", merchant.id,
                           {"domains": ["shop.example"]})
        await conn.execute("VACUUM ANALYZE")
    finally:
        await conn.close()
    await _topics(dsn, merchant.id, "SKU-1", t0)


async def _topics(dsn: str, merchant_id: int, product_id: str, now: datetime) -> None:
    """One product's topics, as the worker's job computes them."""
    from embedding.model import MULTILINGUAL_MODEL, get_embedder
    from reviews.insights import recompute
    from reviews.platform import db

    pool = await db.create_pool(dsn, min_size=1, max_size=2)
    try:
        outcome = await recompute.recompute(pool, get_embedder(MULTILINGUAL_MODEL), merchant_id, product_id, now)
        assert outcome.topics, "the bench's product should have a topic to serve"
    finally:
        await pool.close()


# --- the two servers ------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve_bare(port: int, spec: Path) -> None:
    """The baseline, run in its own process: each URL answers Attest's recorded answer, nothing else."""
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    by_path: dict[str, dict[bytes, Response]] = {}
    for url, answer in json.loads(spec.read_text()).items():
        path, _, query = url.partition("?")
        by_path.setdefault(path, {})[query.encode()] = Response(
            bytes.fromhex(answer["body"]), status_code=answer["status"], headers=answer["headers"])

    def endpoint(answers: dict[bytes, Response]) -> Callable[[Request], Awaitable[Response]]:
        async def bare(request: Request) -> Response:
            return answers[request.scope["query_string"]]

        return bare

    app = Starlette(routes=[Route(path, endpoint(answers)) for path, answers in by_path.items()])
    # As `attest web` configures uvicorn (reviews.cli._run_server).
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, proxy_headers=True,
                            forwarded_allow_ips="*", server_header=False)
    uvicorn.Server(config).run()


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen[bytes]

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def wait_ready(self, path: str, within: float = 60) -> None:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}")
            try:
                if httpx.get(self.url(path), timeout=2).status_code < 500:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not answer within {within}s")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


def start(stack: ExitStack, name: str, argv: list[str], env: dict[str, str], port: int, log: Path) -> Server:
    with log.open("wb") as out:
        process = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
    server = Server(name, port, process)
    stack.callback(server.stop)
    return server


def record(server: Server, spec: Path) -> dict[str, bytes]:
    """Attest's answer to each endpoint, written to `spec` for the bare app to repeat; the bodies as sent."""
    answers: dict[str, dict[str, object]] = {}
    bodies: dict[str, bytes] = {}
    with httpx.Client(headers={"Accept-Encoding": ACCEPT_ENCODING}) as client:
        for path, _target in ENDPOINTS.values():
            with client.stream("GET", server.url(path)) as r:
                raw = b"".join(r.iter_raw())  # as sent: still gzipped where it was
            if r.status_code != 200:
                raise RuntimeError(f"{path}: {r.status_code}")
            headers = {k: v for k, v in r.headers.items() if k.lower() not in _OWN_HEADERS}
            answers[path] = {"status": r.status_code, "headers": headers, "body": raw.hex()}
            bodies[path] = raw
    spec.write_text(json.dumps(answers))
    return bodies


# --- the client -------------------------------------------------------------------------------------------------


@dataclass
class Run:
    rps: float
    p99_ms: float
    requests: int
    errors: int
    client_cpu: float  # seconds of CPU wrk used
    server_cpu: float  # seconds of CPU the server process used


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def wrk(server: Server, path: str, seconds: int, connections: int) -> Run:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu0 = psutil.Process(server.process.pid).cpu_times()
    out = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "5s",
                          "-H", f"Accept-Encoding: {ACCEPT_ENCODING}", server.url(path)],
                         capture_output=True, text=True, check=True, timeout=seconds + 30).stdout
    cpu1 = psutil.Process(server.process.pid).cpu_times()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    value, unit = re.search(r"\s99%\s+([\d.]+)(us|ms|s)\b", out).groups()  # type: ignore[union-attr]
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return Run(rps=rps, p99_ms=float(value) * _UNITS[unit], requests=requests,
               errors=(int(errors.group(1)) if errors else 0)
               + (sum(int(x) for x in socket_errors.groups()) if socket_errors else 0),
               client_cpu=(after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime),
               server_cpu=(cpu1.user + cpu1.system) - (cpu0.user + cpu0.system))


def ensure_wrk() -> None:
    if shutil.which("wrk"):
        return
    print("wrk is missing: installing Debian's (apt-get install -y wrk)", file=sys.stderr)
    subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=False, stdout=subprocess.DEVNULL)
    if not shutil.which("wrk"):
        subprocess.run(["apt-get", "update", "-qq"], check=True, stdout=subprocess.DEVNULL)
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, stdout=subprocess.DEVNULL)


# --- the run ------------------------------------------------------------------------------------------------------


def bench(args: argparse.Namespace) -> int:
    ensure_wrk()
    with embedded_database("bench", "attest-bench-widgets-") as (_server, dsn, tmp), ExitStack() as stack:
        t0 = time.perf_counter()
        asyncio.run(seed(dsn, args.reviews))
        print(f"seeded {args.reviews} published reviews in {time.perf_counter() - t0:.1f}s", file=sys.stderr)
        env = {k: v for k, v in os.environ.items() if not k.startswith("ATTEST_")}
        # This checkout's code, whichever checkout the virtualenv was installed from.
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
        attest_port, bare_port = free_port(), free_port()
        env.update(DATABASE_URL=dsn, ATTEST_HOST="127.0.0.1", ATTEST_PORT=str(attest_port),
                   ATTEST_BASE_URL=f"http://127.0.0.1:{attest_port}", ATTEST_LOG_LEVEL="WARNING",
                   ATTEST_SECRET_KEY="bench-secret-key", ATTEST_DATA_DIR=str(tmp / "data"))  # noqa: S106
        attest = start(stack, "attest", [ATTEST, "web"], env, attest_port, tmp / "attest.log")
        attest.wait_ready(ENDPOINTS["embed.js"][0])
        spec = tmp / "bare.json"
        bodies = record(attest, spec)
        bare = start(stack, "bare", [sys.executable, __file__, "--serve-bare", str(bare_port), str(spec)], env,
                     bare_port, tmp / "bare.log")
        bare.wait_ready(ENDPOINTS["embed.js"][0])
        _check_same_bytes(bare, bodies)
        return _rounds(args, attest, bare)


def _check_same_bytes(bare: Server, bodies: dict[str, bytes]) -> None:
    with httpx.Client(headers={"Accept-Encoding": ACCEPT_ENCODING}) as client:
        for path, body in bodies.items():
            with client.stream("GET", bare.url(path)) as r:
                if b"".join(r.iter_raw()) != body:
                    raise RuntimeError(f"the bare app does not answer {path} with Attest's bytes")


def _rounds(args: argparse.Namespace, attest: Server, bare: Server) -> int:
    endpoints = {name: spec for name, spec in ENDPOINTS.items() if not args.only or any(o in name for o in args.only)}
    runs: dict[str, dict[str, list[Run]]] = {name: {"attest": [], "bare": []} for name in endpoints}
    for path, _target in endpoints.values():
        for server in (attest, bare):
            wrk(server, path, 1, args.connections)  # warm-up: connections, caches, the pool
    for r in range(args.rounds):
        for name, (path, _target) in endpoints.items():
            order = (attest, bare) if r % 2 == 0 else (bare, attest)
            for server in order:
                run = wrk(server, path, args.seconds, args.connections)
                if run.errors:
                    raise RuntimeError(f"{server.name} {path}: {run.errors} errors")
                runs[name][server.name].append(run)
            a, b = runs[name]["attest"][-1], runs[name]["bare"][-1]
            print(f"round {r + 1} {name}: attest {a.rps:.0f}/s, bare {b.rps:.0f}/s, ratio {a.rps / b.rps:.2f}",
                  file=sys.stderr)
    print(f"widgets: {args.connections} connections, {args.rounds} rounds of {args.seconds:g}s per endpoint and "
          f"server, client wrk (1 thread), at {datetime.now(UTC):%Y-%m-%d %H:%M}Z")
    print(f"{'endpoint':<22}{'attest req/s':>13}{'bare req/s':>12}{'ratio':>7}{'attest p99':>12}{'bare p99':>10}"
          f"{'attest CPU/req':>16}{'bare CPU/req':>14}")
    ratios: dict[str, float] = {}
    for name in endpoints:
        a_runs, b_runs = runs[name]["attest"], runs[name]["bare"]
        ratios[name] = statistics.median(a.rps / b.rps for a, b in zip(a_runs, b_runs, strict=True))
        print(f"{name:<22}{statistics.median(a.rps for a in a_runs):>13.0f}"
              f"{statistics.median(b.rps for b in b_runs):>12.0f}{ratios[name]:>7.2f}"
              f"{statistics.median(a.p99_ms for a in a_runs):>10.1f}ms"
              f"{statistics.median(b.p99_ms for b in b_runs):>8.1f}ms"
              f"{_cpu_per_request(a_runs):>14.0f}us{_cpu_per_request(b_runs):>12.0f}us")
    print()
    tails: dict[str, float] = {}
    for name, (_path, target) in endpoints.items():
        a_runs, b_runs = runs[name]["attest"], runs[name]["bare"]
        tails[name] = statistics.median(a.p99_ms for a in a_runs) / statistics.median(b.p99_ms for b in b_runs)
        print(f"{name}: ratio {ratios[name]:.2f} (target >= {target}: {verdict(ratios[name] >= target)}), "
              f"p99 {tails[name]:.1f}x bare's (target <= {P99_TARGET:g}x: {verdict(tails[name] <= P99_TARGET)})")
    print()
    bare_all = [run for name in endpoints for run in runs[name]["bare"]]
    attest_all = [run for name in endpoints for run in runs[name]["attest"]]
    for label, group in (("bare", bare_all), ("attest", attest_all)):
        seconds = args.seconds * len(group)
        print(f"CPU during the {label} runs: server {100 * sum(r.server_cpu for r in group) / seconds:.0f}% "
              f"of a core, wrk {100 * sum(r.client_cpu for r in group) / seconds:.0f}% of a core")
    met = all(ratios[name] >= target and tails[name] <= P99_TARGET for name, (_path, target) in endpoints.items())
    return 0 if met else 1


def _cpu_per_request(runs: list[Run]) -> float:
    """The server's CPU microseconds per request: unlike requests per second, not lowered when other
    processes take the machine's cores for a while."""
    return 1e6 * sum(r.server_cpu for r in runs) / sum(r.requests for r in runs)


def main() -> int:
    if len(sys.argv) == 4 and sys.argv[1] == "--serve-bare":
        serve_bare(int(sys.argv[2]), Path(sys.argv[3]))
        return 0
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--reviews", type=int, default=300)
    parser.add_argument("--only", action="append", default=[],
                        help="only the endpoints whose name holds this (repeatable), e.g. --only .js")
    args = parser.parse_args()
    return bench(args)


if __name__ == "__main__":
    sys.exit(main())
