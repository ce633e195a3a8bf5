"""aiosmtpd handlers that misbehave on purpose, and a controller that runs one on loopback.

Each handler counts what it accepted by Message-ID, so a test can tell a lost message (count 0)
from a duplicate (count 2) whatever the worker believes happened.
"""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes
from email.message import Message
from typing import Any

from aiosmtpd.controller import Controller

from tests.conftest import free_port

TEMPFAIL = "451 4.3.0 Temporary local problem, try again later"


def _message_id(content: bytes) -> str:
    return str(message_from_bytes(content).get("Message-ID", "")).strip()


class CountingHandler:
    """Accepts everything and counts accepted messages by Message-ID."""

    def __init__(self) -> None:
        self.accepted: Counter[str] = Counter()
        self.messages: list[Message] = []
        self.raw: list[bytes] = []
        self.peers: set[object] = set()
        self._lock = threading.Lock()  # the test thread reads while the server thread writes

    async def handle_EHLO(self, server: Any, session: Any, envelope: Any, hostname: str,
                          responses: list[str]) -> list[str]:
        session.host_name = hostname
        self.peers.add(session.peer)
        return responses

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.accept(envelope.original_content)
        return "250 2.0.0 Ok: queued"

    def accept(self, content: bytes) -> None:
        with self._lock:
            self.accepted[_message_id(content)] += 1
            self.messages.append(message_from_bytes(content))
            self.raw.append(content)

    def duplicates(self) -> dict[str, int]:
        with self._lock:
            return {mid: n for mid, n in self.accepted.items() if n > 1}


class FlakyHandler(CountingHandler):
    """A server that refuses, drops and rejects, deterministically.

    - RCPT to an address whose local part starts with `nobody` gets `550 5.1.1` (no such user).
    - RCPT to one starting with `busy` gets 451 for as long as `busy` is true.
    - Every `tempfail_every`-th DATA attempt is refused with 451, but never twice for one Message-ID.
    - Every `drop_every`-th DATA attempt loses the connection before the reply (the message is not
      kept: the client cannot know either way), again at most once per Message-ID.
    Each message is therefore accepted by its third attempt at the latest.
    """

    def __init__(self, tempfail_every: int = 3, drop_every: int = 5) -> None:
        super().__init__()
        self.tempfail_every = tempfail_every
        self.drop_every = drop_every
        self.data_attempts = 0
        self.tempfailed: Counter[str] = Counter()
        self.dropped: Counter[str] = Counter()
        self.rejected: list[str] = []
        self.busy = True

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        if address.lower().startswith("nobody"):
            self.rejected.append(address)
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown in local recipient table"
        if address.lower().startswith("busy") and self.busy:
            return "451 4.2.1 Mailbox busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.data_attempts += 1
        mid = _message_id(envelope.original_content)
        if self.data_attempts % self.tempfail_every == 0 and not self.tempfailed[mid]:
            self.tempfailed[mid] += 1
            return TEMPFAIL
        if self.data_attempts % self.drop_every == 0 and not self.dropped[mid]:
            self.dropped[mid] += 1
            server.transport.abort()  # gone before the reply: the client sees a dropped connection
            return "250 never seen"
        self.accept(envelope.original_content)
        return "250 2.0.0 Ok: queued"


class BlockingHandler(CountingHandler):
    """Accepts messages; the `block_at`-th one is stored, then its reply is held back until `release`.

    Holding the reply is the window in which a killed client has handed over a message it never
    hears about: the server keeps it (as a real relay would), so a resend is a duplicate.
    """

    def __init__(self, block_at: int) -> None:
        super().__init__()
        self.block_at = block_at
        self.data_attempts = 0
        self.blocked = threading.Event()
        self.release = threading.Event()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.data_attempts += 1
        self.accept(envelope.original_content)
        if self.data_attempts == self.block_at:
            self.blocked.set()
            await asyncio.get_running_loop().run_in_executor(None, self.release.wait)
        return "250 2.0.0 Ok: queued"


@contextmanager
def running(handler: CountingHandler, **kwargs: Any) -> Iterator[Controller]:
    """The handler served on a free loopback port for the duration of the block."""
    controller = Controller(handler, hostname="127.0.0.1", port=free_port(), **kwargs)
    controller.start()
    try:
        yield controller
    finally:
        if isinstance(handler, BlockingHandler):
            handler.release.set()  # a held reply would keep the server thread from stopping
        controller.stop()
