"""Attest's commands as real processes, for the tests that need them: each in a process group of
its own with its output in a log file, and none left running when the test ends, however it ends."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import IO, Any

ATTEST = str(Path(sys.executable).with_name("attest"))


def wait_for(predicate: Callable[[], object], timeout: float, what: str) -> None:
    """Poll until `predicate()` is true, or fail after `timeout` seconds saying what was awaited."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


async def eventually(predicate: Callable[[], Awaitable[bool] | bool], timeout: float, what: str,
                     interval: float = 0.1) -> None:
    """`wait_for` for async tests: the predicate may be a coroutine function."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if isinstance(result, Awaitable):
            result = await result
        if result:
            return
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        await asyncio.sleep(interval)


def clean_env(**overrides: str) -> dict[str, str]:
    """This environment without the settings of any Attest around it, plus `overrides`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ATTEST_") and k != "DATABASE_URL"}
    env.update(overrides)
    return env


class Process:
    """One `attest …` process started by `Processes.start`."""

    def __init__(self, name: str, popen: subprocess.Popen[bytes], log_path: Path, log: IO[bytes]) -> None:
        self.name = name
        self.popen = popen
        self.log_path = log_path
        self._log = log

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def tail(self, chars: int = 3000) -> str:
        return f"--- {self.name} (pid {self.pid}) ---\n" + self.output()[-chars:]

    def log_entries(self) -> list[dict[str, Any]]:
        """The process's JSON log lines (Attest logs one object per line on stderr)."""
        entries = []
        for line in self.output().splitlines():
            if line.startswith("{"):
                try:
                    entries.append(json.loads(line))
                except ValueError:
                    continue  # a line cut short by a kill
        return entries

    def kill(self) -> None:
        """SIGKILL, to the whole process group: no handler runs, no goodbye to the database."""
        if self.alive():
            try:
                os.killpg(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.popen.wait(timeout=30)
        self._log.close()

    def stop(self, timeout: float = 30) -> int:
        """SIGTERM and wait; SIGKILL if it does not end in time. Returns the exit status."""
        if self.alive():
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                pass
        if self.alive():
            self.kill()
        else:
            try:
                os.killpg(self.pid, signal.SIGKILL)  # anything it started and left behind
            except (ProcessLookupError, PermissionError):
                pass
            self._log.close()
        return int(self.popen.returncode)


class Processes:
    """Starts `attest` commands; `stop_all` ends whatever is still running (a fixture's finaliser)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.started: list[Process] = []

    def start(self, name: str, args: list[str], env: Mapping[str, str]) -> Process:
        log_path = self.directory / f"{name}.log"
        log = log_path.open("wb")
        popen = subprocess.Popen([ATTEST, *args], env=dict(env), stdout=log, stderr=subprocess.STDOUT,
                                 stdin=subprocess.DEVNULL, start_new_session=True)
        process = Process(name, popen, log_path, log)
        self.started.append(process)
        return process

    def tails(self) -> str:
        return "\n".join(p.tail() for p in self.started)

    def stop_all(self) -> None:
        running = [p for p in self.started if p.alive()]
        for p in running:
            p.popen.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 30
        for p in self.started:
            try:
                p.popen.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            p.stop(timeout=0)
