"""A worker: dials the controller, runs its share of the plan in the engine, reports each second.

A worker never fires on its own: it stops as soon as the controller's stream breaks, and
when the controller has been silent for ``CONTROLLER_SILENCE_S`` seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import platform
import signal
import socket
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import grpc

from loadforge._proto import control_pb2, control_pb2_grpc, plan_pb2, snapshot_pb2
from loadforge._version import __version__
from loadforge.control import allocation, bundle
from loadforge.control.channel import ChannelSecurity, open_channel
from loadforge.control.dial import ControllerUnreachable, TlsFailed, connect
from loadforge.control.hooks import WorkerHooks
from loadforge.control.resources import ProcessMeter
from loadforge.events import events

PROTOCOL_VERSION = control_pb2.PROTOCOL_VERSION_CURRENT
CONTROLLER_SILENCE_S = 10.0
REPORT_INTERVAL_S = 1.0
# How soon an engine that finished by itself (run time, iterations) is noticed: looking only
# at each report kept every run up to a second longer than its load.
FINISH_POLL_S = 0.05
CONNECT_TIMEOUT_S = 30.0
# How far the event-loop thread steps back behind the engine threads (declarative plans).
NICE_STEP = 5

log = logging.getLogger(__name__)


class WorkerRejected(Exception):
    """The controller refused this worker (wrong token, other protocol version)."""


class ControllerLost(Exception):
    """The controller went away mid-run; the worker stopped firing."""


class ControllerUntrusted(Exception):
    """TLS with the controller failed: its certificate is not trusted, or it refused ours."""


@dataclass
class WorkerOptions:
    controller: str
    token: str = ""
    worker_id: str = field(default_factory=lambda: f"{socket.gethostname()}-{uuid.uuid4().hex[:6]}")
    security: ChannelSecurity = field(default_factory=ChannelSecurity)
    connect_timeout_s: float = CONNECT_TIMEOUT_S
    stop_timeout_s: float = 5.0


class Worker:
    """One worker process's side of a run."""

    def __init__(self, options: WorkerOptions) -> None:
        self.options = options
        self._meter = ProcessMeter()
        self._engine: Any = None
        self._runner: Any = None
        self._last_heard = time.monotonic()
        self._stop_requested = asyncio.Event()
        self._call: Any = None
        self._write_lock = asyncio.Lock()
        self._open_model = False
        self._plan: asyncio.Future[control_pb2.RunPlan] | None = None
        self._lost = ""
        self._interrupted = asyncio.Event()
        self._hooks: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_timeout_s = options.stop_timeout_s

    def interrupt(self) -> None:
        """SIGTERM/SIGINT: stop firing, send the final interval (Done), then return."""
        self._interrupted.set()
        self._stop_requested.set()

    def _hello(self) -> control_pb2.WorkerMessage:
        return control_pb2.WorkerMessage(
            hello=control_pb2.Hello(
                worker_id=self.options.worker_id,
                host=platform.node(),
                cores=os.cpu_count() or 1,
                processes=1,
                version=__version__,
                protocol_version=PROTOCOL_VERSION,
                token=self.options.token,
            )
        )

    async def _send(self, message: control_pb2.WorkerMessage) -> None:
        async with self._write_lock:
            await self._call.write(message)

    async def run(self) -> None:
        """Join the controller, run the plan it sends, report until done.

        Raises WorkerRejected or ControllerLost; returns normally after a clean run.
        """
        channel = open_channel(self.options.controller, self.options.security)
        try:
            try:
                if not await connect(channel, self.options, give_up=self._interrupted):
                    return
            except ControllerUnreachable as err:
                raise ControllerLost(str(err)) from None
            except TlsFailed as err:
                raise ControllerUntrusted(str(err)) from None
            self._loop = asyncio.get_running_loop()
            self._call = control_pb2_grpc.ControllerStub(channel).Connect()
            self._plan = asyncio.get_running_loop().create_future()
            await self._send(self._hello())
            # One reader for the whole stream: cancelling a pending read would cancel the RPC.
            reader = asyncio.create_task(self._read_commands())
            try:
                plan = await self._await_plan(reader)
                if plan is None:  # interrupted before any plan came
                    await self._leave_empty_handed()
                    return
                await self._run_plan(plan)
                # Wait for the controller to close the stream so the Done is not lost.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(reader), 5)
                if self._lost:
                    raise ControllerLost(self._lost)
            finally:
                if not reader.done():
                    reader.cancel()
                with contextlib.suppress(asyncio.CancelledError, ControllerLost, WorkerRejected):
                    await reader
        finally:
            await channel.close(grace=1.0)

    async def _read(self) -> control_pb2.ControllerMessage | None:
        try:
            msg = await self._call.read()
        except grpc.aio.AioRpcError as err:
            raise ControllerLost(f"controller stream broke: {err.code().name}") from None
        if msg is grpc.aio.EOF:
            return None
        self._last_heard = time.monotonic()
        return msg

    async def _await_plan(self, reader: asyncio.Task[None]) -> control_pb2.RunPlan | None:
        assert self._plan is not None
        plan = self._plan
        interrupted = asyncio.ensure_future(self._interrupted.wait())
        waiting: list[asyncio.Future[Any]] = [plan, reader, interrupted]
        await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
        interrupted.cancel()
        if plan.done():
            return plan.result()
        if self._interrupted.is_set():
            return None
        plan.cancel()
        reader.result()  # raises WorkerRejected / ControllerLost
        raise ControllerLost("controller closed the stream before sending a plan")

    async def _run_plan(self, run: control_pb2.RunPlan) -> None:
        from loadforge import _core

        engine_plan = allocation.apply_share(run.plan.engine, run.share)
        self._open_model = engine_plan.profile.HasField("open")
        if engine_plan.stop_timeout_s > 0:
            self._stop_timeout_s = engine_plan.stop_timeout_s
        try:
            self._engine = _core.Engine(engine_plan.SerializeToString())
            if any(u.python for u in engine_plan.users):
                self._runner = self._python_runner(run.plan, engine_plan)
        except Exception as err:  # a plan the engine or the scenario rejects
            await self._send(
                control_pb2.WorkerMessage(
                    error=control_pb2.WorkerError(message=str(err), fatal=True)
                )
            )
            raise
        if self._hooks is not None:
            self._hooks.test_start()
        self._engine.start()
        if self._runner is None:
            _yield_to_engine()
        try:
            await self._report_until_done()
        finally:
            last = await self._finish()
        with contextlib.suppress(grpc.aio.AioRpcError, asyncio.InvalidStateError):
            await self._send(control_pb2.WorkerMessage(done=control_pb2.Done(last=last)))
            await self._call.done_writing()

    async def _leave_empty_handed(self) -> None:
        """Say Done with nothing measured, so the controller counts us out cleanly."""
        with contextlib.suppress(grpc.aio.AioRpcError, asyncio.InvalidStateError):
            await self._send(control_pb2.WorkerMessage(done=control_pb2.Done()))
            await self._call.done_writing()

    def _python_runner(self, plan: plan_pb2.Plan, engine_plan: plan_pb2.EnginePlan) -> Any:
        from loadforge.runtime import PythonRunner
        from loadforge.scenario import load_scenario

        entry = bundle.unpack(plan.bundle)
        scenario = load_scenario(
            str(entry), host=plan.host or None, tags=plan.tags, exclude_tags=plan.exclude_tags
        )
        classes = {cls.__name__: cls for cls in scenario.user_classes}
        self._hooks = WorkerHooks(plan.options_json, plan.host, self._ask_to_stop)
        events.request.recorder = self._record_fired
        runner = PythonRunner(
            self._engine,
            list(engine_plan.users),
            classes,
            host=plan.host,
            limit_iterations=engine_plan.profile.iterations > 0,
        )
        runner.attach(asyncio.get_running_loop())
        return runner

    def _ask_to_stop(self, reason: str) -> None:
        # `environment.runner.quit()` in a task (this thread) or a listener thread.
        message = control_pb2.WorkerMessage(stop_request=control_pb2.StopRequest(reason=reason))
        loop = self._loop
        if loop is not None:
            loop.call_soon_threadsafe(lambda: asyncio.ensure_future(self._send(message)))

    def _record_fired(
        self,
        request_type: Any = "",
        name: Any = "",
        response_time: Any = 0,
        response_length: Any = 0,
        exception: Any = None,
        **_: Any,
    ) -> None:
        """A scenario's own `events.request.fire(...)`: record it as Locust's stats would."""
        engine = self._engine
        if engine is None:
            return
        ok = exception is None
        engine.record(
            str(request_type),
            str(name),
            max(0, round(float(response_time or 0) * 1000.0)),
            ok=ok,
            bytes_received=int(response_length or 0),
            error_kind="" if ok else "exception",
            error_message="" if ok else f"{type(exception).__name__}: {exception}",
        )

    async def _read_commands(self) -> None:
        """Handle everything the controller sends, until it closes the stream."""
        assert self._plan is not None
        try:
            while True:
                try:
                    msg = await self._read()
                except ControllerLost as err:
                    if self._engine is not None:
                        self._lost = str(err)
                    raise
                if msg is None:
                    if self._engine is not None and not self._stop_requested.is_set():
                        self._lost = "controller closed the stream mid-run"
                    return
                kind = msg.WhichOneof("kind")
                if kind == "plan" and not self._plan.done():
                    self._plan.set_result(msg.plan)
                elif kind == "reject":
                    raise WorkerRejected(msg.reject.reason)
                elif kind == "stop":
                    self._stop_requested.set()
                elif kind == "scale" and self._engine is not None:
                    share = msg.scale.share
                    if self._open_model:
                        self._engine.scale(rate=share.rate)
                    else:
                        self._engine.scale(users=share.users)
        finally:
            # The stream is over: whatever runs must stop (a worker never fires on its own).
            self._stop_requested.set()

    async def _report_until_done(self) -> None:
        next_report = time.monotonic() + REPORT_INTERVAL_S
        while not self._stop_requested.is_set():
            wait = min(FINISH_POLL_S, max(0.0, next_report - time.monotonic()))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop_requested.wait(), wait)
            if self._stop_requested.is_set():
                break
            if not self._engine.running:
                return  # the final interval goes with Done
            if time.monotonic() < next_report:
                continue
            next_report += REPORT_INTERVAL_S
            silence = time.monotonic() - self._last_heard
            if silence > CONTROLLER_SILENCE_S:
                self._lost = f"controller silent for {silence:.0f}s: stopped firing"
                return
            try:
                await self._send(control_pb2.WorkerMessage(snapshot=self._snapshot()))
                await self._send(control_pb2.WorkerMessage(heartbeat=self._heartbeat()))
            except (grpc.aio.AioRpcError, asyncio.InvalidStateError) as err:
                self._lost = f"controller stream broke: {err}"
                return

    def _snapshot(self) -> snapshot_pb2.Snapshot:
        snap = snapshot_pb2.Snapshot.FromString(self._engine.snapshot())
        if self._runner is not None:
            snap.exceptions.extend(self._runner.take_exceptions())
        return snap

    def _heartbeat(self) -> control_pb2.Heartbeat:
        return control_pb2.Heartbeat(
            cpu_percent=self._meter.cpu_percent(),
            rss_bytes=self._meter.rss_bytes(),
            unix_ms=int(time.time() * 1000),
        )

    async def _finish(self) -> snapshot_pb2.Snapshot:
        """Stop the engine (in-flight requests finish and are counted); the last interval."""
        if self._engine is None:
            return snapshot_pb2.Snapshot()
        if self._runner is not None:
            # No new Python users from now on: one the engine started in place of a user
            # that just stopped would never be answered once the runner detaches, and the
            # engine's stop would wait its whole timeout for it (the controller meanwhile
            # counts the worker silent).
            with contextlib.suppress(Exception):
                if self._open_model:
                    self._engine.scale(rate=0.0)
                else:
                    self._engine.scale(users=0)
            await self._runner.stop(self._stop_timeout_s)
        if self._hooks is not None:
            self._hooks.test_stop()
        events.request.recorder = None
        engine, self._engine = self._engine, None
        data = await asyncio.get_running_loop().run_in_executor(
            None, engine.stop, self._stop_timeout_s
        )
        last = snapshot_pb2.Snapshot.FromString(data)
        if self._runner is not None:
            last.exceptions.extend(self._runner.take_exceptions())
        return last


def run_worker(options: WorkerOptions) -> int:
    """Run one worker to completion; the process exit code (0 ok, 3 broke)."""
    from loadforge.control.loop import new_event_loop

    loop = new_event_loop()
    worker = Worker(options)
    try:
        # A worker stopped by its own host (docker stop, kubectl scale, Ctrl-C) still
        # reports its last interval, so nothing it fired goes uncounted.
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, worker.interrupt)
        loop.run_until_complete(worker.run())
        return 0
    except WorkerRejected as err:
        print(f"loadforge worker: rejected by the controller: {err}", file=sys.stderr)
        return 3
    except ControllerUntrusted as err:
        print(f"loadforge worker: {err}", file=sys.stderr)
        return 3
    except ControllerLost as err:
        print(f"loadforge worker: {err}", file=sys.stderr)
        return 3
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
        loop.close()


def _yield_to_engine() -> None:
    """Lower this (event-loop) thread's priority below the engine's runtime threads.

    With no Python users the thread only snapshots and talks to the controller; on a
    busy core that once-a-second work must not delay a response or an arrival by a
    scheduler slice (the tail of an open-model run shows it). The runtime threads, already
    started, keep the process's priority; threads started later inherit the lower one.
    """
    if not hasattr(os, "setpriority"):
        return
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, os.getpriority(os.PRIO_PROCESS, tid) + NICE_STEP)
    except OSError:
        log.debug("could not lower the event loop thread's priority", exc_info=True)
