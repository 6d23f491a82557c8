"""A shared space's host, run by the app as a child process (``studio serve --app``).

Why a process and not a task on the sharing thread: ten busy peers cost a host TLS,
JSON and the door's Python work for hundreds of frames a second. In the app's process
that work holds the GIL, and every time the UI thread comes back from Qt it may wait a
switch interval (5 ms) or more for it — the window's long stalls were mostly that. In a
child the OS schedules the two fairly, and the child runs at background priority (the
window first when the CPUs are busy). See README "Sharing in the app".

Qt-free. The child prints one JSON line when it listens, then a line with the people
connected each time they (or what they view or select) change; it stops when its stdin
closes, so it never outlives the app. Invites and revocations go through
``sharing.db`` (:mod:`studio.sync.admin`), which the child reads."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

from studio.core.errors import StorageError, ValidationError
from studio.sync.presence import Member, Presence

log = logging.getLogger(__name__)

START_TIMEOUT_S = 60.0
"""How long the child may take to listen (a cold start on a busy machine)."""
STOP_TIMEOUT_S = 10.0
MAX_LINE = 1 << 20
"""The longest line the child may print (a roster of many peers' selections)."""


class HostStartError(StorageError):
    """The host process could not start (its one-line reason)."""

    timed_out = False


class HostStartTimeout(HostStartError):
    """The host process did not listen in time."""

    timed_out = True


def serve_command(home: Path, space_id: str, bind: str, port: int, announce: bool) -> list[str]:
    """The ``studio serve --app`` command line: this program itself (a bundle is the
    ``studio`` command; from source, ``python -m studio``)."""
    exe = [sys.executable] if getattr(sys, "frozen", False) else [sys.executable, "-m", "studio"]
    args = ["--home", str(home), "serve", space_id, "--host", bind, "--port", str(port)]
    args += ["--no-jobs", "--json", "--app"]  # the app runs the space's jobs itself
    if not announce:
        args.append("--no-announce")
    return exe + args


def members_from(people: Any, space_id: str) -> list[Member]:
    """The members of ``space_id`` in a ``{"people": …}`` line (bad entries skipped)."""
    out = []
    rows = people.get(space_id, []) if isinstance(people, dict) else []
    for row in rows if isinstance(rows, list) else []:
        if not isinstance(row, dict):
            continue
        try:
            presence = Presence.from_message(row)
        except ValidationError:
            presence = Presence()
        device, name, role = row.get("device_id"), row.get("name"), row.get("role")
        if isinstance(device, str) and isinstance(name, str) and isinstance(role, str):
            out.append(Member(device, name, role, presence))
    return out


class HostChild:
    """One shared space served by a ``studio serve --app`` child, on the engine's loop."""

    def __init__(self, home: Path, space_id: str, *, bind: str, port: int, announce: bool):
        self.home = home
        self.space_id = space_id
        self.bind = bind
        self.port = port
        self.announce = announce
        self.address = ""
        self.fingerprint = ""
        self.pid = 0
        self._members: list[Member] = []
        self._proc: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None
        self._logger: asyncio.Task[None] | None = None
        self._closing: asyncio.Task[None] | None = None

    async def start(self) -> None:
        env = dict(os.environ)
        if not getattr(sys, "frozen", False):  # the child runs this very code
            here = str(Path(__file__).resolve().parents[3])
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [here, env.get("PYTHONPATH")]))
        cmd = serve_command(self.home, self.space_id, self.bind, self.port, self.announce)
        self._proc = proc = await asyncio.create_subprocess_exec(
            *cmd,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
            limit=MAX_LINE,
        )
        self.pid = proc.pid
        try:
            await self._listening()
        except BaseException:  # refused, timed out, cancelled (the app closing): no orphan
            await asyncio.shield(self.close())
            raise
        loop = asyncio.get_running_loop()
        self._reader = loop.create_task(self._read())
        self._logger = loop.create_task(self._log_stderr())  # a full pipe would block it

    async def _listening(self) -> None:
        """Wait for the child's first line: where it listens."""
        proc = self._proc
        assert proc is not None and proc.stdout is not None
        try:
            async with asyncio.timeout(START_TIMEOUT_S):
                line = await proc.stdout.readline()
        except TimeoutError:
            raise HostStartTimeout("the sharing process did not start in time") from None
        try:
            info: Any = json.loads(line) if line else None
            address, fingerprint = str(info["address"]), str(info["fingerprint"])
            port = int(info["port"])
        except (ValueError, TypeError, KeyError):
            raise HostStartError(await self._why_not()) from None
        self.address, self.fingerprint, self.port = address, fingerprint, port

    async def _why_not(self) -> str:
        """The child's one-line reason for ending (``studio: …`` on stderr)."""
        assert self._proc is not None and self._proc.stderr is not None
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(STOP_TIMEOUT_S):
                err = (await self._proc.stderr.read()).decode("utf-8", "replace")
                lines = [ln for ln in err.splitlines() if ln.strip()]
                if lines:
                    return lines[-1].removeprefix("studio: ")[:300]
        return "the sharing process ended before it listened"

    async def _read(self) -> None:
        proc = self._proc
        assert proc is not None and proc.stdout is not None
        while True:
            try:
                line = await proc.stdout.readline()
            except ValueError:  # a line over MAX_LINE: unread, the child would block on
                log.warning("the sharing process of %s said too much; ending it", self.space_id)
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()  # the People poll starts it again
                break
            if not line:
                break
            try:
                msg = json.loads(line)
            except ValueError:
                continue
            if isinstance(msg, dict) and "people" in msg:
                self._members = members_from(msg["people"], self.space_id)
        self._members = []
        code = await proc.wait()
        if code != 0 and self._proc is not None:  # not stopped by us
            log.warning("the sharing process of %s ended (exit %s)", self.space_id, code)

    async def _log_stderr(self) -> None:
        assert self._proc is not None and self._proc.stderr is not None
        stderr = self._proc.stderr
        while line := await stderr.readline():
            log.info("sharing %s: %s", self.space_id, line.decode("utf-8", "replace").rstrip())

    def set_own_presence(self, space_id: str, member: Member | None) -> None:
        """What the app's user has selected in the space (as
        :meth:`studio.sync.host.Host.set_own_presence`): one line on the child's stdin."""
        proc = self._proc
        if proc is None or proc.stdin is None or space_id != self.space_id:
            return
        row = None if member is None else member.to_json()
        line = json.dumps({"own": {"space": space_id, "member": row}}, ensure_ascii=False)
        with contextlib.suppress(OSError, RuntimeError):
            proc.stdin.write(line.encode() + b"\n")

    @property
    def alive(self) -> bool:
        return self._proc is not None and self._proc.returncode is None

    def members(self, space_id: str | None = None) -> list[Member]:
        """Who is connected and caught up, as the child last told (``space_id``: as
        :meth:`studio.sync.host.Host.members` takes it; this host serves one space)."""
        if space_id is not None and space_id != self.space_id:
            return []
        return list(self._members)

    @property
    def invite_address(self) -> str:
        """Where peers connect (as :attr:`studio.sync.host.Host.invite_address`)."""
        return self.address

    @property
    def closing(self) -> bool:
        return self._closing is not None

    async def close(self) -> None:
        """Close its stdin (it stops: goodbye to the LAN, peers closed), then wait;
        terminate, then kill, if it does not. Every caller waits for the same close."""
        if self._closing is None:
            self._closing = asyncio.get_running_loop().create_task(self._close())
        await asyncio.shield(self._closing)

    async def _close(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.stdin is not None:
            with contextlib.suppress(OSError, RuntimeError):
                proc.stdin.close()
        for stop in (None, proc.terminate, proc.kill):
            if stop is not None:
                with contextlib.suppress(ProcessLookupError):
                    stop()
            try:
                async with asyncio.timeout(STOP_TIMEOUT_S):
                    await proc.wait()
                break
            except TimeoutError:
                continue
        for task in (self._reader, self._logger):
            if task is not None:
                with contextlib.suppress(BaseException):
                    async with asyncio.timeout(STOP_TIMEOUT_S):
                        await task
        transport = getattr(proc, "_transport", None)  # closed here, on its own loop
        if transport is not None:
            transport.close()
        self._members = []
