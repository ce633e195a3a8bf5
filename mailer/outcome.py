"""What became of a message handed to a transport, in the three words every sending loop acts on:

- `SENT`: the server (or the outbox) took it;
- `RETRY`: try again later: a 4xx, a dropped or refused connection, a timeout, an outbox that
  cannot be written (`TemporaryFailure`), or a fault that is not the message's (a bug, the caller's
  own bookkeeping failing: `unexpected`, to be logged with its traceback);
- `NEVER`: this message to this recipient will not be accepted (a 5xx, `PermanentFailure`);
  `recipient_unknown` when the reply says the mailbox does not exist, so the address can be
  suppressed.

The loops decide what each means for their records; this module only says which it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from typing import Literal

from mailer.transport import BeforeData, PermanentFailure, Session, TemporaryFailure
from mailer.wire import OutgoingMessage

Verdict = Literal["sent", "retry", "never"]
SENT: Verdict = "sent"
RETRY: Verdict = "retry"
NEVER: Verdict = "never"


@dataclass(frozen=True)
class Outcome:
    verdict: Verdict
    error: str = ""  # what to record: the server's reply, or what went wrong
    recipient_unknown: bool = False
    unexpected: Exception | None = None  # not a failure of sending: the caller logs it with its traceback


def classify(failure: Exception | None) -> Outcome:
    """The outcome of a send that raised `failure` (None: it returned)."""
    if failure is None:
        return Outcome(SENT)
    if isinstance(failure, TemporaryFailure):
        return Outcome(RETRY, f"temporary: {failure}")
    if isinstance(failure, PermanentFailure):
        return Outcome(NEVER, str(failure), failure.recipient_unknown)
    return Outcome(RETRY, f"{type(failure).__name__}: {failure}", unexpected=failure)


async def send(session: Session, msg: EmailMessage | OutgoingMessage,
               before_data: BeforeData | None = None) -> Outcome:
    """Send one message over the session and classify what became of it (see `Session.send` for
    `before_data`)."""
    try:
        await session.send(msg, before_data)
    # Whatever fails, only this message's outcome: the caller's batch carries on. Cancellation
    # (a BaseException) is not caught.
    except Exception as exc:
        return classify(exc)
    return classify(None)
