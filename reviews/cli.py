"""The `attest` command: serve, web, worker, migrate, merchant, stats, jobs, scan, reindex, import, flags,
privacy."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import os
import signal
import sys
import threading
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import uvicorn
from tqdm import tqdm

from reviews import __version__, worker
from reviews.accounts import manage
from reviews.accounts.users import ROLES as USER_ROLES
from reviews.app import create_app
from reviews.collection import importing
from reviews.collection.reasons import REASONS
from reviews.invitations import store as invitations
from reviews.merchants import keys
from reviews.merchants import store as merchants
from reviews.merchants.settings import DEFAULT_SETTINGS
from reviews.moderation import decisions
from reviews.platform import db, jobs, server
from reviews.platform.errors import ApiError
from reviews.platform.logs import configure as configure_logs
from reviews.platform.settings import (
    SUPPORTED_LOCALES,
    Settings,
    listening_at,
    record_base_url,
    with_recorded_base_url,
)
from reviews.privacy import buyer_data, exports
from reviews.runtime import SchemaNotReady, open_services
from reviews.screening import explain, flags, reindex


def _print_json(value: Any) -> None:
    print(json.dumps(value, indent=2, ensure_ascii=False, default=str))


def _run_server(settings: Settings, *, run_worker: bool, migrate: bool) -> int:
    app = create_app(run_worker=run_worker, migrate=migrate, settings=settings)
    config = server.config(app, settings)
    record_base_url(settings)
    print(f"Attest {__version__} on http://{settings.host}:{settings.port}"
          f"{' (web + worker)' if run_worker else ''}", file=sys.stderr)
    print(_first_steps(settings), file=sys.stderr)
    uvicorn.Server(config).run()
    # A worker that died takes the process down with it, with an error a supervisor sees.
    return 1 if getattr(app.state, "worker_failed", False) else 0


def _first_steps(settings: Settings) -> str:
    """What a new operator does next, said where they look: the console, and its first account."""
    data_dir = "" if os.environ.get("ATTEST_DATA_DIR") is None else f"ATTEST_DATA_DIR={settings.data_dir.resolve()} "
    return (f"Console: {settings.base_url}/console\n"
            f"First user (in another terminal): {data_dir}attest user create --email you@example.com "
            "--role operator\n  it mails a sign-in link (dev: into the outbox folder) and prints it")


async def _migrate(settings: Settings) -> int:
    dsn = await db.resolve_database_url(settings)
    conn = await db.connect(dsn)
    try:
        applied = await db.migrate(conn)
    finally:
        await conn.close()
    print(json.dumps({"applied": applied}))
    return 0


async def _merchant(settings: Settings, args: argparse.Namespace) -> int:
    async with open_services(settings) as svc, svc.pool.acquire() as conn:
        if args.merchant_command == "create":
            extra: dict[str, Any] = {}
            if args.invite_delay_days is not None:
                extra["invite_delay_days"] = args.invite_delay_days
            if args.domains:
                extra["domains"] = args.domains
            created, key = await merchants.create(conn, name=args.name, slug=args.slug, locale=args.locale,
                                                  settings=extra)
            _print_json({"slug": created.slug, "api_key": key})
            return 0
        merchant = await merchants.by_slug(conn, args.slug)
        if merchant is None:
            print(f"no merchant with slug {args.slug!r}", file=sys.stderr)
            return 1
        if args.merchant_command == "set":
            changes = {}
            for pair in args.pairs:
                key, sep, value = pair.partition("=")
                if not sep:
                    print(f"expected key=value, got {pair!r}", file=sys.stderr)
                    return 2
                changes[key.strip()] = value
            merchant = await merchants.update_settings(conn, merchant, changes)
        elif args.merchant_command == "new-key":
            _print_json({"slug": merchant.slug, "api_key": await keys.add_api_key(conn, merchant.id)})
            return 0
        _print_json(merchant.public())
    return 0


async def _stats(settings: Settings, slug: str) -> int:
    async with open_services(settings) as svc:
        merchant = await merchants.by_slug(svc.pool, slug)
        if merchant is None:
            print(f"no merchant with slug {slug!r}", file=sys.stderr)
            return 1
        _print_json({"merchant": slug, "invitations": await invitations.funnel(svc.pool, merchant.id)})
    return 0


async def _jobs(settings: Settings, args: argparse.Namespace) -> int:
    async with open_services(settings) as svc:
        if args.retry is not None or args.retry_all:
            n = await jobs.retry_dead(svc.pool, svc.clock.now(), None if args.retry_all else args.retry)
            print(json.dumps({"retried": n}))
            return 0
        if args.dead:
            for row in await jobs.dead_jobs(svc.pool):
                print(json.dumps(dict(row), default=str))
            return 0
        _print_json(await jobs.counts(svc.pool))
    return 0


def _progress(**kwargs: Any) -> Any:
    return tqdm(file=sys.stderr, unit="review", dynamic_ncols=True, **kwargs)


async def _import(settings: Settings, args: argparse.Namespace, path: Path) -> int:
    async with open_services(settings) as svc:
        # The import sets the total once the file is read: a CSV's lines are not its reviews.
        with _progress(total=None, desc="importing") as bar:
            report = await importing.import_file(svc.pool, path, hasher=svc.hasher, now=svc.clock.now(),
                                       create_merchants=args.create_merchants, default_merchant=args.merchant,
                                       progress=bar)
        created = [await merchants.by_slug(svc.pool, slug) for slug in report.merchants_created]
    for line, reason in report.errors:
        print(f"{path.name}:{line}: {reason}", file=sys.stderr)
    for merchant in created:
        if merchant is not None:
            print(_new_shop_steps(merchant.slug, merchant.name), file=sys.stderr)
    _print_json(report.summary())
    return 0 if not report.errors else 1


def _new_shop_steps(slug: str, name: str) -> str:
    named = f"named {name!r} from the file" if name != slug else "named after its slug"
    return (f"New shop {slug} ({named}, no owner, no API key): next steps\n"
            f"  attest merchant set {slug} \"name=Its Public Name\"\n"
            f"  attest user create --email owner@example.com --role owner --merchant {slug}\n"
            f"  attest merchant new-key {slug}    # only when the shop will send orders: the key is shown once")


async def _flags(settings: Settings, args: argparse.Namespace) -> int:
    if args.explain is not None:
        async with open_services(settings) as svc:
            lines = await explain.explain(svc.pool, args.explain)
        if lines is None:
            print(f"no review {args.explain}", file=sys.stderr)
            return 1
        print("\n".join(lines))
        return 0
    async with open_services(settings) as svc:
        states = ("open", "upheld", "dismissed") if args.all else ("open",)
        entries = await flags.flagged_reviews(svc.pool, args.merchant, states)
    if args.format == "jsonl":
        for entry in entries:
            print(json.dumps(entry, ensure_ascii=False))
    else:
        for e in entries:
            print(f"{e['review_id']:>8}  {e['merchant']:<24} {e['score']:.2f}  {','.join(e['reasons']):<40} "
                  f"related: {', '.join(map(str, e['related'][:6]))}")
        print(f"{len(entries)} flagged review(s)", file=sys.stderr)
    return 0


async def _scan(settings: Settings, args: argparse.Namespace) -> int:

    async with open_services(settings) as svc:
        queued = await reindex.queue_rescan(svc, args.merchant)
        with _progress(total=queued, desc="scanning") as bar:
            ran = await reindex.run_scans(svc, bar)
        flagged = await flags.flagged_count(svc.pool, args.merchant)
    _print_json({"queued": queued, "scanned": ran, "flagged_reviews": flagged})
    return 0


async def _reindex(settings: Settings, args: argparse.Namespace) -> int:

    async with open_services(settings) as svc:
        _print_json(await reindex.reindex(svc, _progress, channel=args.channel))
    return 0


async def _user(settings: Settings, args: argparse.Namespace) -> int:
    async with open_services(settings) as svc:
        actor = f"cli:{getpass.getuser()}"
        if args.user_command == "create":
            user, link = await manage.invite(svc, args.email, args.role, args.merchant, actor=actor,
                                             locale=args.locale, all_merchants=args.all_merchants)
            _print_json({"email": user.email, "role": args.role, "merchant": args.merchant,
                         **({"all_merchants": True} if args.all_merchants else {}), "sign_in_link": link,
                         "mailed": True})
        elif args.user_command == "list":
            _print_json(await manage.listing(svc))
        else:
            user = await manage.disable(svc, args.email, actor=actor)
            _print_json({"email": user.email, "disabled": True})
    return 0


async def _moderate(settings: Settings, args: argparse.Namespace) -> int:
    async with open_services(settings) as svc, svc.pool.acquire() as conn:
        # --by names a console moderator: the decision is theirs (their scope, the appeal rule).
        found = await decisions.as_moderator(conn, args.by) if args.by else None
        if args.by and found is None:
            print(f"attest: {args.by} is not a console moderator (see `attest user list`); nothing was decided",
                  file=sys.stderr)
            return 1
        result = await decisions.decide(conn, args.review_id, "publish" if args.publish else "reject",
                                        moderator=found[0].email if found else getpass.getuser(),
                                        now=svc.clock.now(), code=args.code, note=args.note,
                                        user_id=found[0].id if found else None, merchants=found[1] if found else None,
                                        cooling_off=settings.appeal_cooling_off)
    _print_json(result)
    return 0


async def _privacy(settings: Settings, args: argparse.Namespace) -> int:
    async with open_services(settings) as svc, svc.pool.acquire() as conn:
        merchant = await merchants.by_slug(conn, args.slug)
        if merchant is None:
            print(f"no merchant with slug {args.slug!r}", file=sys.stderr)
            return 1
        if args.privacy_command == "exports":
            _print_json([e.describe() for e in await exports.listed(conn, merchant.id)])
            return 0
        if args.privacy_command == "request":
            if not (args.email or args.order or args.customer_id):
                print("name the buyer: --email, --order or --customer-id", file=sys.stderr)
                return 2
            entry = await buyer_data.request_export(conn, svc, merchant, email=args.email, order_ids=args.order or [],
                                                    customer_id=args.customer_id, actor="cli")
            _print_json(entry.describe())
            return 0
        found = await exports.download(conn, merchant.id, args.export_id, by=args.by or getpass.getuser(),
                                       now=svc.clock.now())
    if found is None:
        print(f"no data export {args.export_id} for {args.slug!r}", file=sys.stderr)
        return 1
    if found.data is None:
        print(f"data export {args.export_id} was erased with its buyer", file=sys.stderr)
        return 1
    out = Path(args.out or found.filename)
    await asyncio.to_thread(out.write_text, json.dumps(found.data, indent=2, ensure_ascii=False) + "\n",
                            encoding="utf-8")
    _print_json({**found.entry.describe(), "file": str(out)})
    return 0


def _import_command(settings: Settings, args: argparse.Namespace) -> Awaitable[int] | None:
    path = Path(args.file)
    if not path.is_file():
        print(f"attest: no such file: {path}", file=sys.stderr)
        return None
    return _import(settings, args, path)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="attest", description="Attest: verified reviews from real orders.")
    parser.add_argument("--version", action="version", version=f"attest {__version__}")
    parser.add_argument("--json", action="store_true",
                        help="errors as JSON {\"error\": {code, message, fields}} (anywhere on the line)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("serve", help="run the web server and the worker in one process (migrates first)")
    p.add_argument("--host", help="listen address (ATTEST_HOST, default 127.0.0.1)")
    p.add_argument("--port", type=int, help="listen port (ATTEST_PORT, default 8000)")
    p = sub.add_parser("web", help="run only the web server (scale these behind a load balancer)")
    p.add_argument("--host", help="listen address (ATTEST_HOST)")
    p.add_argument("--port", type=int, help="listen port (ATTEST_PORT)")
    p = sub.add_parser("worker", help="run only the job worker (run as many as you like)")
    p.add_argument("--drain", action="store_true", help="run every due job, then exit")
    sub.add_parser("migrate", help="apply database migrations")

    pm = sub.add_parser("merchant", help="create and configure merchants")
    msub = pm.add_subparsers(dest="merchant_command", required=True, metavar="ACTION")
    p = msub.add_parser("create", help="create a merchant; prints its slug and API key (shown once)")
    p.add_argument("--name", required=True)
    p.add_argument("--slug")
    p.add_argument("--locale", default="en", choices=SUPPORTED_LOCALES)
    p.add_argument("--invite-delay-days", type=int, dest="invite_delay_days")
    p.add_argument("--domains", help="the shop's website host names, comma-separated (shop.example,www.shop.example)")
    p = msub.add_parser(
        "set", help="change the shop's name, website domains and settings: attest merchant set SLUG key=value ...",
        description="Change a merchant: its public name (name=...), the website host names it registered "
                    "(domains=shop.example,www.shop.example; empty clears them; international names are "
                    "IDNA-encoded), and any setting. Nothing is changed unless every value is valid.",
        epilog='example: attest merchant set krakvolt "name=Krakvolt Energia" domains=krakvolt.pl,www.krakvolt.pl')
    p.add_argument("slug")
    p.add_argument("pairs", nargs="+", metavar="key=value",
                   help=f"name, domains, or a setting: {', '.join(DEFAULT_SETTINGS)}")
    p = msub.add_parser("show", help="show a merchant and its settings")
    p.add_argument("slug")
    p = msub.add_parser("new-key", help="issue another API key")
    p.add_argument("slug")

    p = sub.add_parser("stats", help="a merchant's invitation funnel")
    p.add_argument("slug")
    p = sub.add_parser("jobs", help="job queue: counts, dead jobs, retry")
    p.add_argument("--dead", action="store_true", help="list dead jobs")
    p.add_argument("--retry", type=int, nargs="*", metavar="ID", help="retry these dead jobs")
    p.add_argument("--retry-all", action="store_true", help="retry every dead job")
    p = sub.add_parser("import", help="import reviews from JSONL, CSV or a Judge.me export")
    p.add_argument("file")
    p.add_argument("--create-merchants", action="store_true", help="create merchants the file names but we lack")
    p.add_argument("--merchant", help="the merchant of files without a merchant column (Judge.me exports)")
    p = sub.add_parser("flags", help="flagged reviews")
    p.add_argument("--merchant", help="only this merchant's")
    p.add_argument("--format", choices=["jsonl", "table"], default="table")
    p.add_argument("--all", action="store_true", help="include flags moderators already decided")
    p.add_argument("--explain", type=int, metavar="REVIEW_ID",
                   help="print one review's evidence: the reviews each flag links, by which measure, how far apart")
    p = sub.add_parser("scan", help="rescan reviews for duplicates and campaigns")
    p.add_argument("--merchant", help="only this merchant's reviews")
    p = sub.add_parser("reindex", help="re-embed every review with a channel's configured model, then switch to it")
    p.add_argument("--channel", choices=["main", "multilingual"], default="main",
                   help="main: ATTEST_EMBEDDING_MODEL (default); multilingual: ATTEST_MULTILINGUAL_MODEL")
    up = sub.add_parser("user", help="console accounts: create (and mail a sign-in link), list, disable")
    usub = up.add_subparsers(dest="user_command", required=True)
    p = usub.add_parser("create", help="create an account or give it a role; mails and prints a sign-in link")
    p.add_argument("--email", required=True)
    p.add_argument("--role", required=True, choices=list(USER_ROLES))
    p.add_argument("--merchant", help="the merchant (owner, agent, viewer; a moderator's scope: one merchant "
                                      "more each time)")
    p.add_argument("--all-merchants", action="store_true",
                   help="a moderator of every merchant (a moderator needs this or --merchant: no scope, no shop)")
    p.add_argument("--locale", default="en", help="the language of the email (default en)")
    usub.add_parser("list", help="every account, its role and memberships")
    p = usub.add_parser("disable", help="disable an account: every session ends at once")
    p.add_argument("email")
    p = sub.add_parser("moderate", help="decide on a held review: publish it, or reject it with a reason")
    p.add_argument("review_id", type=int)
    decision = p.add_mutually_exclusive_group(required=True)
    decision.add_argument("--publish", action="store_true", help="the flags were wrong: publish")
    decision.add_argument("--reject", action="store_true",
                          help="reject with a reason code; the author is emailed it, and may edit where it allows")
    p.add_argument("--code", choices=[r.code for r in REASONS], help="the reason (required with --reject)")
    p.add_argument("--note", help="an optional note for the author")
    p.add_argument("--by", metavar="EMAIL", help="the console moderator deciding (their decision, their scope; "
                   "refused if no such moderator); default: your user name, as no console moderator")

    pp = sub.add_parser("privacy", help="buyers' data requests: the exports to hand over")
    psub = pp.add_subparsers(dest="privacy_command", required=True, metavar="ACTION")
    p = psub.add_parser("exports", help="a merchant's data exports: when asked for, whether delivered")
    p.add_argument("slug")
    p = psub.add_parser("export", help="write one export to a JSON file for the buyer; marks it delivered")
    p.add_argument("slug")
    p.add_argument("export_id", type=int)
    p.add_argument("--out", help="the file to write (default: data-export-ID-DATE.json here)")
    p.add_argument("--by", help="who took it, for the list (default: your user name)")
    p = psub.add_parser("request", help="record a data request the shop received by other means")
    p.add_argument("slug")
    p.add_argument("--email")
    p.add_argument("--order", action="append", metavar="ORDER_ID", help="the shop's order id (repeatable)")
    p.add_argument("--customer-id", dest="customer_id", help="the platform's customer account id")
    return parser


def _exit_on_sigterm() -> None:
    """Make SIGTERM a normal exit, so exit handlers run: the embedded PostgreSQL is stopped by
    the last process using it (uvicorn re-raises the signal after its graceful shutdown)."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))


def _error_line(exc: ApiError) -> str:
    """One readable line: the fields' reasons when there are some, else the message."""
    reasons = "; ".join(f"{name}: {why}" for name, why in exc.fields.items())
    return f"attest: {reasons or exc.message}"


def main(argv: Sequence[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    as_json = "--json" in words
    args = build_parser().parse_args([w for w in words if w != "--json"])
    _exit_on_sigterm()
    try:
        settings = Settings.from_env()
    except ValueError as exc:
        print(f"attest: {exc}", file=sys.stderr)
        return 2
    configure_logs(settings.log_level)
    if args.command in ("serve", "web"):
        settings = listening_at(settings, args.host, args.port)
    else:
        settings = with_recorded_base_url(settings)
    commands: dict[str, Callable[[], Awaitable[int] | None]] = {
        "migrate": lambda: _migrate(settings),
        "worker": lambda: worker.run(settings, drain=args.drain),
        "merchant": lambda: _merchant(settings, args),
        "stats": lambda: _stats(settings, args.slug),
        "jobs": lambda: _jobs(settings, args),
        "import": lambda: _import_command(settings, args),
        "flags": lambda: _flags(settings, args),
        "scan": lambda: _scan(settings, args),
        "reindex": lambda: _reindex(settings, args),
        "moderate": lambda: _moderate(settings, args),
        "user": lambda: _user(settings, args),
        "privacy": lambda: _privacy(settings, args),
    }
    try:
        if args.command in ("serve", "web"):
            return _run_server(settings, run_worker=args.command == "serve", migrate=args.command == "serve")
        result = commands[args.command]()
        return asyncio.run(result) if result is not None else 2  # type: ignore[arg-type]
    except ApiError as exc:
        print(json.dumps(exc.body(), ensure_ascii=False) if as_json else _error_line(exc), file=sys.stderr)
        return 2
    except SchemaNotReady as exc:
        print(f"attest: {exc}", file=sys.stderr)
        return 3
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
