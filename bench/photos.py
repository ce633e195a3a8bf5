"""Photo speed: the pipeline against Pillow's bare decode + resize + encode of the same file, and the
photo route against a bare Starlette app serving the same bytes, each measured in the same run.

    .venv/bin/python bench/photos.py [--repeat 15] [--seconds 3] [--rounds 3] [--connections 32]
    .venv/bin/python bench/photos.py --hashes 160      # the fingerprint's distances on generated photos

Processing: a 12-megapixel phone JPEG (4000 × 3000, EXIF with GPS and an orientation) through
`reviews.media.processing.process` (checks, orientation, metadata dropped, colour, a 1600 px WebP and a
400 px thumbnail, both hashed, and the perceptual fingerprint) against the bare minimum of the same
work with Pillow: open, decode, resize to 1600 px, encode one WebP at the same quality. Two bare
baselines are timed: Pillow's `thumbnail` as a plain script would call it, and the same with the
pipeline's reduced JPEG decode (`draft`), which is the strict one. Runs alternate; medians of
`--repeat` runs each, in this process's CPU time (the work is single-threaded, and on a shared machine
wall time mostly measures the neighbours). Target: pipeline at least 0.9 of bare (bare time /
pipeline time), against both.

Serving: a fresh embedded PostgreSQL with one approved photo of a published review; `attest web` and
a bare Starlette app (no middleware, one route answering the same bytes and headers) under the same
uvicorn configuration (`reviews.platform.server.config`), each loaded by wrk (one thread,
`--connections` keep-alive connections), alternating, as bench/widgets.py does. Target: Attest at
least 0.8 of bare, in requests per second.

Figures are printed apart from the targets; a run that misses one exits with status 1.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import itertools
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.append(str(Path(__file__).resolve().parent))

import importlib.util

from _common import embedded_database, verdict
from PIL import Image

# bench/widgets.py's servers and wrk client (loaded by path: `widgets` is the library's package name).
_spec = importlib.util.spec_from_file_location("bench_widgets", Path(__file__).resolve().parent / "widgets.py")
assert _spec is not None and _spec.loader is not None
bench_widgets = sys.modules["bench_widgets"] = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_widgets)
ACCEPT_ENCODING, Run = bench_widgets.ACCEPT_ENCODING, bench_widgets.Run
ensure_wrk, free_port, start, wrk = bench_widgets.ensure_wrk, bench_widgets.free_port, bench_widgets.start, \
    bench_widgets.wrk

PROCESSING_TARGET = 0.9
SERVING_TARGET = 0.8


# --- processing ---------------------------------------------------------------------------------------------


def phone_photo() -> bytes:
    from tests.media import photos

    return photos.phone_jpeg(7, (4000, 3000))


def bare_thumbnail(data: bytes) -> bytes:
    img = Image.open(io.BytesIO(data))
    img.thumbnail((1600, 1600), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    img.save(out, "WEBP", quality=82, method=4)
    return out.getvalue()


def bare_draft(data: bytes) -> bytes:
    img = Image.open(io.BytesIO(data))
    scale = 1600 / max(img.size)
    size = (round(img.width * scale), round(img.height * scale))
    img.draft("RGB", size)
    img = img.convert("RGB").resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
    out = io.BytesIO()
    img.save(out, "WEBP", quality=82, method=4)
    return out.getvalue()


def processing_bench(repeat: int) -> bool:
    from reviews.media import processing

    data = phone_photo()
    contenders: dict[str, Callable[[bytes], object]] = {
        "pipeline": processing.process, "bare thumbnail": bare_thumbnail, "bare draft": bare_draft}
    times: dict[str, list[float]] = {name: [] for name in contenders}
    for fn in contenders.values():
        fn(data)  # warm-up: plugins loaded, caches
    for r in range(repeat):
        order = list(contenders.items())
        for name, fn in order if r % 2 == 0 else reversed(order):
            t0 = time.process_time()
            fn(data)
            times[name].append(time.process_time() - t0)
    median = {name: statistics.median(t) for name, t in times.items()}
    out = processing.process(data)
    print(f"processing a {len(data) / 1e6:.1f} MB 12-megapixel JPEG, median CPU time of {repeat} runs each, "
          f"at {datetime.now(UTC):%Y-%m-%d %H:%M}Z")
    for name, seconds in median.items():
        print(f"  {name:<16}{seconds * 1000:8.1f} ms")
    print(f"  out: {out.image.width}x{out.image.height} WebP {len(out.image.data) / 1e3:.0f} kB, "
          f"thumbnail {out.thumb.width}x{out.thumb.height} {len(out.thumb.data) / 1e3:.0f} kB")
    ratios = {base: median[base] / median["pipeline"] for base in ("bare thumbnail", "bare draft")}
    for base, ratio in ratios.items():
        print(f"  ratio {base} / pipeline: {ratio:.2f}")
    return min(ratios.values()) >= PROCESSING_TARGET


# --- serving --------------------------------------------------------------------------------------------------


async def seed(dsn: str, data: bytes) -> str:
    """One published review with one approved photo; returns the photo's public path."""
    from reviews.collection import store as reviews
    from reviews.media import processing, serving
    from reviews.media import store as photo_store
    from reviews.merchants import store as merchants
    from reviews.platform import db

    conn = await db.connect(dsn)
    try:
        now = datetime.now(UTC)
        merchant, _ = await merchants.create(conn, name="Bench Shop", slug="bench-shop", settings={})
        review_id = await reviews.add_imported(conn, reviews.Imported(
            merchant_id=merchant.id, external_id="bench-1", product_id="SKU-1", order_id=None, locale="en", rating=5,
            title="Photo", body="Fits well, arrived quickly.", display_name="Buyer", author_hash=None,
            submitted_at=now), now)
        assert review_id is not None
        await reviews.publish(conn, review_id, now)
        photo = await photo_store.add_imported(conn, review_id=review_id, merchant_id=merchant.id,
                                               source_url="https://cdn.example/p.jpg", position=0,
                                               processed=processing.process(data), now=now)
        assert photo is not None
        await photo_store.decide(conn, [photo.id], "approved", reason=None, by="bench", now=now)
        await conn.execute("DELETE FROM jobs")  # no worker runs here
        await conn.execute("VACUUM ANALYZE")
        return serving.public_path(photo.public_key)
    finally:
        await conn.close()


def serve_bare(port: int, spec: Path) -> None:
    """The baseline, in its own process: the photo's path answers Attest's bytes and headers, nothing else."""
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    recorded = json.loads(spec.read_text())
    answer = Response(bytes.fromhex(recorded["body"]), headers=recorded["headers"])

    async def photo(request: Request) -> Response:
        return answer

    from reviews.platform import server
    from reviews.platform.settings import Settings

    app = Starlette(routes=[Route(recorded["path"], photo)])
    # Under the same server as `attest web` (its uvicorn protocol and limits): what differs is the app.
    uvicorn.Server(server.config(app, Settings(host="127.0.0.1", port=port))).run()


def serving_bench(args: argparse.Namespace) -> bool:
    import httpx

    ensure_wrk()
    with embedded_database("bench", "attest-bench-photos-") as (_server, dsn, tmp), ExitStack() as stack:
        path = asyncio.run(seed(dsn, phone_photo()))
        env = {k: v for k, v in os.environ.items() if not k.startswith("ATTEST_")}
        attest_port, bare_port = free_port(), free_port()
        env.update(DATABASE_URL=dsn, ATTEST_HOST="127.0.0.1", ATTEST_PORT=str(attest_port),
                   ATTEST_BASE_URL=f"http://127.0.0.1:{attest_port}", ATTEST_LOG_LEVEL="WARNING",
                   ATTEST_SECRET_KEY="bench-secret-key", ATTEST_DATA_DIR=str(tmp / "data"))  # noqa: S106
        # `python -m reviews.cli` from this tree rather than the `attest` script, which imports the
        # package its environment installed (another checkout, in a shared environment).
        attest = start(stack, "attest", [sys.executable, "-m", "reviews.cli", "web"], env, attest_port,
                       tmp / "attest.log")
        attest.wait_ready(path)
        r = httpx.get(attest.url(path), headers={"Accept-Encoding": ACCEPT_ENCODING})
        assert r.status_code == 200 and r.headers["content-type"] == "image/webp", r.status_code
        headers = {k: v for k, v in r.headers.items() if k.lower() not in ("date", "server", "content-length")}
        spec = tmp / "bare.json"
        spec.write_text(json.dumps({"path": path, "headers": headers, "body": r.content.hex()}))
        bare = start(stack, "bare", [sys.executable, __file__, "--serve-bare", str(bare_port), str(spec)], env,
                     bare_port, tmp / "bare.log")
        bare.wait_ready(path)
        assert httpx.get(bare.url(path)).content == r.content
        for server in (attest, bare):
            wrk(server, path, 1, args.connections)  # warm-up
        runs: dict[str, list[Run]] = {"attest": [], "bare": []}
        for n in range(args.rounds):
            for server in (attest, bare) if n % 2 == 0 else (bare, attest):
                run = wrk(server, path, args.seconds, args.connections)
                if run.errors:
                    raise RuntimeError(f"{server.name}: {run.errors} errors")
                runs[server.name].append(run)
        ratio = statistics.median(a.rps / b.rps for a, b in zip(runs["attest"], runs["bare"], strict=True))
        print(f"serving a {len(r.content) / 1e3:.0f} kB approved photo, {args.connections} connections, "
              f"{args.rounds} rounds of {args.seconds}s, wrk (1 thread)")
        for name, group in runs.items():
            print(f"  {name:<8}{statistics.median(x.rps for x in group):8.0f} req/s  "
                  f"p99 {statistics.median(x.p99_ms for x in group):6.1f} ms  "
                  f"{1e6 * sum(x.server_cpu for x in group) / sum(x.requests for x in group):6.0f} us CPU/req")
        print(f"  ratio attest / bare: {ratio:.2f}")
        return ratio >= SERVING_TARGET


# --- the fingerprint's distances --------------------------------------------------------------------------------


def hashes_bench(scenes: int) -> None:
    from reviews.media import fingerprint, processing
    from tests.media import generated

    def print_of(img: Image.Image) -> fingerprint.Fingerprint:
        return processing.process(generated.jpeg(img)).fingerprint

    originals, worst, edits = [], {name: 0 for name in generated.EDITS}, []
    for seed in range(scenes):
        img = generated.scene(seed)
        original = print_of(img)
        originals.append(original)
        for name, edit in generated.EDITS.items():
            found = fingerprint.distance(print_of(edit(img)), original)
            worst[name] = max(worst[name], found)
            edits.append(found)
    apart = sorted(fingerprint.distance(a, b) for a, b in itertools.combinations(originals, 2))
    print(f"fingerprint on {scenes} generated 1200x900 photos ({len(edits)} edits, {len(apart)} different pairs), "
          f"threshold {fingerprint.THRESHOLD}")
    print("  farthest edit of a photo from itself, by kind:")
    for name, value in worst.items():
        print(f"    {name:<18}{value:4d}")
    print(f"  different photos: closest {apart[:5]}, 1st percentile {apart[len(apart) // 100]}, "
          f"median {apart[len(apart) // 2]}")
    print(f"  every edit within the threshold: {max(edits) <= fingerprint.THRESHOLD}; "
          f"every different pair beyond it: {apart[0] > fingerprint.THRESHOLD}")


def main() -> int:
    if len(sys.argv) == 4 and sys.argv[1] == "--serve-bare":
        serve_bare(int(sys.argv[2]), Path(sys.argv[3]))
        return 0
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--seconds", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--hashes", type=int, default=0, metavar="SCENES",
                        help="measure the fingerprint's distances on this many generated photos instead")
    args = parser.parse_args()
    if args.hashes:
        hashes_bench(args.hashes)
        return 0
    processing_ok = processing_bench(args.repeat)
    print()
    serving_ok = serving_bench(args)
    print()
    print(f"processing: target pipeline >= {PROCESSING_TARGET} of bare: {verdict(processing_ok)}")
    print(f"serving: target attest >= {SERVING_TARGET} of bare: {verdict(serving_ok)}")
    return 0 if processing_ok and serving_ok else 1


if __name__ == "__main__":
    sys.exit(main())
