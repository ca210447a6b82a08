"""The controller: admits workers, hands out shares of the plan, merges their snapshots.

Every run goes through here; a local run's workers are just child processes.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import grpc

from loadforge._proto import control_pb2, control_pb2_grpc, plan_pb2
from loadforge.control import allocation, health
from loadforge.control.channel import SERVER_OPTIONS, ChannelSecurity, add_port
from loadforge.control.governor import AbortWatch, ShapeDriver
from loadforge.control.security import is_loopback, tokens_match
from loadforge.control.worker import PROTOCOL_VERSION
from loadforge.errors import InvalidInput, RunBroken
from loadforge.stats import RunStats

HEARTBEAT_S = 1.0


class ControllerConfigError(InvalidInput):
    """The controller's own settings are unsafe or inconsistent."""


@dataclass
class ControllerOptions:
    bind: str = "127.0.0.1:0"
    expect_workers: int = 1
    expect_timeout_s: float = 60.0
    token: str = ""
    security: ChannelSecurity = field(default_factory=ChannelSecurity)
    insecure: bool = False
    # A worker that sends nothing for this long is lost.
    worker_silence_s: float = 5.0
    stop_timeout_s: float = 5.0


@dataclass
class WorkerState:
    id: str
    host: str
    cores: int
    outbox: asyncio.Queue[control_pb2.ControllerMessage | None]
    last_seen: float = field(default_factory=time.monotonic)
    status: str = "joined"  # joined -> running -> done | lost | failed
    error: str = ""
    cpu_percent: float = 0.0
    rss_bytes: int = 0

    @property
    def active(self) -> bool:
        return self.status in ("joined", "running")

    def send(self, message: control_pb2.ControllerMessage) -> None:
        self.outbox.put_nowait(message)

    def close(self) -> None:
        self.outbox.put_nowait(None)


@dataclass
class Outcome:
    stats: RunStats
    workers: list[WorkerState]
    started_at: float
    duration_s: float
    broken: str = ""
    stopped_by: str = ""


class Controller(control_pb2_grpc.ControllerServicer):
    """Serve one run of ``plan`` to the workers that dial in."""

    def __init__(
        self,
        plan: plan_pb2.Plan,
        options: ControllerOptions,
        on_tick: Callable[[Controller], None] | None = None,
        shape: Any = None,
    ) -> None:
        host = options.bind.rsplit(":", 1)[0]
        if not is_loopback(host) and not options.token and not options.insecure:
            raise ControllerConfigError(
                f"refusing to bind {options.bind} without a token: workers would run code "
                "from anyone who connects. Give --token (or LOADFORGE_TOKEN), or --insecure."
            )
        self.plan = plan
        self.options = options
        self.shape = None if shape is None else ShapeDriver(shape, plan.engine)
        self.abort_watch = AbortWatch(list(plan.thresholds))
        self.on_tick = on_tick
        self.id = uuid.uuid4().hex[:8]
        self.stats = RunStats()
        self.workers: dict[str, WorkerState] = {}
        self.started: float | None = None
        self._joined = asyncio.Event()
        self._stop = asyncio.Event()
        # Something the run loop should look at now (a worker finished, a stop), rather
        # than at its next heartbeat: each run ended up to a heartbeat late.
        self._wake = asyncio.Event()
        self.stopped_by = ""
        self._server: grpc.aio.Server | None = None
        self.port = 0

    # --- gRPC side -----------------------------------------------------------------

    async def start(self) -> int:
        """Listen; returns the bound port."""
        self._server = grpc.aio.server(options=SERVER_OPTIONS)
        control_pb2_grpc.add_ControllerServicer_to_server(self, self._server)
        self.port = add_port(self._server, self.options.bind, self.options.security)
        if self.port == 0:
            raise ControllerConfigError(f"cannot listen on {self.options.bind}")
        await self._server.start()
        return self.port

    async def close(self) -> None:
        for w in self.workers.values():
            w.close()
        if self._server is not None:
            await self._server.stop(grace=2.0)

    def _admit(self, hello: control_pb2.Hello) -> str:
        """Why this worker may not join, or "" when it may."""
        if hello.protocol_version != PROTOCOL_VERSION:
            return (
                f"worker speaks protocol version {hello.protocol_version}, this controller "
                f"speaks {PROTOCOL_VERSION}: install the same loadforge version on both "
                f"(worker has {hello.version or 'unknown'})"
            )
        if self.options.token and not tokens_match(self.options.token, hello.token):
            return "invalid token"
        if hello.worker_id in self.workers:
            return f"a worker named {hello.worker_id!r} is already connected"
        return ""

    async def Connect(self, request_iterator, context):
        first = await context.read()
        if first is grpc.aio.EOF or first.WhichOneof("kind") != "hello":
            return
        reason = self._admit(first.hello)
        if reason:
            await context.write(
                control_pb2.ControllerMessage(reject=control_pb2.Reject(reason=reason))
            )
            return
        state = WorkerState(
            id=first.hello.worker_id,
            host=first.hello.host,
            cores=max(1, first.hello.cores),
            outbox=asyncio.Queue(),
        )
        await context.write(
            control_pb2.ControllerMessage(welcome=control_pb2.Welcome(controller_id=self.id))
        )
        self.workers[state.id] = state
        writer = asyncio.create_task(self._drain(state, context))
        self._on_join(state)
        try:
            while True:
                msg = await context.read()
                if msg is grpc.aio.EOF:
                    break
                self._on_message(state, msg)
                if state.status == "done":
                    break
        except (asyncio.CancelledError, grpc.aio.AioRpcError):
            pass
        finally:
            if state.active:
                self._lose(state, "its stream closed")
            state.close()
            with contextlib.suppress(asyncio.CancelledError, grpc.aio.AioRpcError):
                await asyncio.wait_for(writer, 2.0)

    async def _drain(self, state: WorkerState, context: grpc.aio.ServicerContext) -> None:
        while (msg := await state.outbox.get()) is not None:
            await context.write(msg)

    def _on_message(self, state: WorkerState, msg: control_pb2.WorkerMessage) -> None:
        if state.status == "lost":
            return  # its load went to others; counting it again would double its share
        state.last_seen = time.monotonic()
        kind = msg.WhichOneof("kind")
        if kind == "snapshot":
            self.stats.add(msg.snapshot, state.id)
        elif kind == "heartbeat":
            state.cpu_percent = msg.heartbeat.cpu_percent
            state.rss_bytes = msg.heartbeat.rss_bytes
        elif kind == "error":
            state.error = msg.error.message
            if msg.error.fatal:
                state.status = "failed"
                self._resplit()
        elif kind == "stop_request":
            self.request_stop(msg.stop_request.reason or f"{state.id} asked to stop")
        elif kind == "done":
            self.stats.add(msg.done.last, state.id)
            state.status = "done"
            self._wake.set()
            # A worker stopped by its host mid-run: the others take over its share.
            self._resplit()

    # --- allocation ----------------------------------------------------------------

    def _on_join(self, state: WorkerState) -> None:
        if self.started is None:
            if len(self.workers) >= self.options.expect_workers:
                self._joined.set()
            return
        if self._stop.is_set():
            state.send(control_pb2.ControllerMessage(stop=control_pb2.Stop(reason="run over")))
            return
        self._resplit(newcomer=state)

    def _active(self) -> list[WorkerState]:
        return [w for w in self.workers.values() if w.active]

    def _assign_all(self) -> None:
        active = self._active()
        parts = allocation.shares(self.plan.engine, [w.cores for w in active])
        for w, share in zip(active, parts, strict=True):
            w.status = "running"
            w.send(self._run_plan(share))

    def _run_plan(self, share: control_pb2.Share) -> control_pb2.ControllerMessage:
        return control_pb2.ControllerMessage(
            plan=control_pb2.RunPlan(plan=self.plan, share=share, run_id=self.id)
        )

    def _resplit(self, newcomer: WorkerState | None = None) -> None:
        """Spread the load over the workers still running (one joined or one left)."""
        if self.started is None or self._stop.is_set():
            return
        active = self._active()
        if not active:
            return
        parts = allocation.shares(self.plan.engine, [w.cores for w in active])
        for w, share in zip(active, parts, strict=True):
            if w is newcomer:
                w.status = "running"
                w.send(self._run_plan(share))
            else:
                w.send(control_pb2.ControllerMessage(scale=control_pb2.Scale(share=share)))

    def _lose(self, state: WorkerState, why: str) -> None:
        self._wake.set()
        state.status = "lost"
        state.error = state.error or f"lost: {why}"
        self._resplit()

    # --- the run -------------------------------------------------------------------

    def request_stop(self, reason: str) -> None:
        """Stop every worker (Ctrl-C, abort-on-fail); the run then ends with a report."""
        if not self._stop.is_set():
            self.stopped_by = reason
            self._stop.set()
            self._wake.set()
            for w in self._active():
                w.send(control_pb2.ControllerMessage(stop=control_pb2.Stop(reason=reason)))

    @property
    def cpu_warning(self) -> str:
        """A line naming workers whose CPU is saturated (for the live view), or ""."""
        return health.cpu_warning(self.workers.values())

    @property
    def elapsed(self) -> float:
        return 0.0 if self.started is None else time.monotonic() - self.started

    async def run(self) -> Outcome:
        """Wait for the expected workers, run the plan, return when every worker is done."""
        await self._wait_for_workers()
        if self.shape is not None and not self.shape.start():
            raise RunBroken("the load shape ended before the run started (tick() returned None)")
        started_at = time.time()
        self.started = time.monotonic()
        self._assign_all()
        run_time = self.plan.engine.profile.run_time_s
        stop_deadline: float | None = None
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), HEARTBEAT_S)
            self._wake.clear()
            now = time.monotonic()
            self._beat(now)
            if self.on_tick is not None:
                self.on_tick(self)
            if run_time and self.elapsed > run_time + 2.0:
                self.request_stop("run time reached")
            self._steer()
            if self._stop.is_set() and stop_deadline is None:
                stop_deadline = now + self.options.stop_timeout_s + 5.0
            if not self._active():
                break
            if stop_deadline is not None and now > stop_deadline:
                for w in self._active():
                    self._lose(w, "did not finish after the stop")
                break
        outcome = Outcome(
            stats=self.stats,
            workers=list(self.workers.values()),
            started_at=started_at,
            duration_s=self.elapsed,
            stopped_by=self.stopped_by,
        )
        if not any(w.status == "done" for w in self.workers.values()):
            reasons = "; ".join(f"{w.id}: {w.error or w.status}" for w in self.workers.values())
            outcome.broken = f"no worker finished the run ({reasons})"
        return outcome

    async def _wait_for_workers(self) -> None:
        try:
            await asyncio.wait_for(self._joined.wait(), self.options.expect_timeout_s)
        except TimeoutError:
            raise RunBroken(
                f"expected {self.options.expect_workers} worker(s), "
                f"{len(self.workers)} connected within {self.options.expect_timeout_s:.0f}s"
            ) from None

    def _steer(self) -> None:
        if self._stop.is_set():
            return
        if self.shape is not None:
            step = self.shape.step()
            if step == "ended":
                self.request_stop("the load shape ended")
            elif step == "changed":
                self._resplit()
        failed = self.abort_watch.failed(self.stats, self.elapsed)
        if failed:
            self.request_stop(failed)

    def _beat(self, now: float) -> None:
        beat = control_pb2.ControllerMessage(
            heartbeat=control_pb2.Heartbeat(unix_ms=int(time.time() * 1000))
        )
        for w in self._active():
            if now - w.last_seen > self.options.worker_silence_s:
                self._lose(w, f"silent for {now - w.last_seen:.0f}s")
                w.close()
            else:
                w.send(beat)
