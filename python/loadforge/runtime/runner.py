"""Runs Python users on the worker's event loop, driven by the engine's events.

The engine owns the schedule: it says when a user starts (`start-user`), when it should
stop (`stop-user`), and in the open model when one iteration should run (`iteration`).
The runner executes the task bodies; their requests go through the engine, which times and
records them.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Mapping, Sequence
from typing import Any

from loadforge._proto import plan_pb2, snapshot_pb2
from loadforge.scenario.flow import (
    InterruptTaskSet,
    RescheduleTask,
    RescheduleTaskImmediately,
    StopUser,
)
from loadforge.scenario.taskset import RUNTIME_ATTR

from .client import START_DELAY_US, HttpClient
from .dispatcher import Dispatcher
from .exceptions import ExceptionCounter
from .greenlets import await_only, run_sync
from .grpc_blocking import BlockingGrpcClient
from .grpc_client import GrpcClient
from .session import FastHttpSession, HttpSession
from .user_spec import BoundTask, UserSpec
from .watchdog import LoopWatchdog

log = logging.getLogger(__name__)

__all__ = ["PythonRunner", "StopUser"]

# A class attribute naming the session a synchronous HTTP user gets ("fast": FastHttpUser's).
SESSION_ATTR = "_loadforge_session"


class _UserSlot:
    """A running user: its asyncio task, how to interrupt its wait, and (for synchronous
    users and task sets) the runtime calls their code makes from the user's greenlet."""

    __slots__ = ("count", "retired", "runner", "stopping", "task", "user", "wake")

    def __init__(self, runner: PythonRunner) -> None:
        self.runner = runner
        self.count = runner._exceptions.add
        self.stopping = False
        # Stopped itself (StopUser): the engine does not start a replacement.
        self.retired = False
        self.task: asyncio.Task[None] | None = None
        self.user: Any = None
        self.wake: asyncio.Future[None] | None = None

    def sleep(self, seconds: float) -> None:
        """Block this user for `seconds` (a stop wakes it early)."""
        if seconds > 0:
            await_only(self.runner._sleep(self, seconds))

    def call(self, function: Any, *args: Any) -> Any:
        """Call a plain or `async def` function from the user's greenlet."""
        result = function(*args)
        if asyncio.iscoroutine(result) or isinstance(result, asyncio.Future):
            return await_only(result)
        return result


def _always() -> bool:
    return True


class _PooledUser:
    """An open-model user instance, reused by one iteration at a time."""

    __slots__ = ("pick", "user")

    def __init__(self, user: Any, pick: Any) -> None:
        self.user = user
        self.pick = pick


class PythonRunner:
    """Executes the Python user classes of an engine's plan.

    Use it on the worker's (uvloop) event loop, before `engine.start()`:

    >>> runner = PythonRunner(engine, plan.engine.users, {"Scripted": Scripted},
    ...                       host="http://127.0.0.1:8000")  # doctest: +SKIP
    >>> runner.attach(asyncio.get_running_loop())  # doctest: +SKIP
    >>> engine.start()  # doctest: +SKIP
    >>> snapshot.exceptions.extend(runner.take_exceptions())  # each interval  # doctest: +SKIP
    >>> await runner.stop()  # users finish their current task  # doctest: +SKIP
    >>> await loop.run_in_executor(None, engine.stop, 5.0)  # doctest: +SKIP

    `engine.stop()` blocks, so call it from an executor thread, never on the loop.
    """

    def __init__(
        self,
        engine: Any,
        plan_users: Sequence[plan_pb2.UserClass],
        classes_by_name: Mapping[str, type],
        *,
        host: str = "",
        seed: int | None = None,
        limit_iterations: bool = True,
    ) -> None:
        self.engine = engine
        self._plan_users = list(plan_users)
        self._classes = dict(classes_by_name)
        self._host = host
        self._specs: dict[int, UserSpec] = {}
        self._users: dict[int, _UserSlot] = {}
        self._iterations: set[asyncio.Task[None]] = set()
        self._exceptions = ExceptionCounter()
        self._rng = random.Random(seed)
        self._dispatcher: Dispatcher | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping = False
        self._user_finished = engine.user_finished
        # Without an iteration limit, skip the per-task call into the engine.
        self._take_iteration = engine.take_iteration if limit_iterations else _always
        self._iteration_finished = engine.iteration_finished
        # The task running now, named in the watchdog's messages.
        self.current = ""
        self._watchdog: LoopWatchdog | None = None

    # --- lifecycle ---------------------------------------------------------------------

    def attach(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        """Start handling engine events on `loop` (default: the running loop)."""
        self._loop = loop = loop or asyncio.get_running_loop()
        for index, plan_user in enumerate(self._plan_users):
            if plan_user.python:
                self._spec(index)  # a broken class fails here, not at its first start
        self._dispatcher = Dispatcher(
            self.engine,
            loop,
            on_start_user=self._start_user,
            on_stop_user=self._stop_user,
            on_iteration=self._start_iteration,
        )
        self._dispatcher.attach()
        self._watchdog = LoopWatchdog(loop, lambda: self.current or "?")
        self._watchdog.start()

    async def stop(self, timeout: float = 5.0) -> None:
        """Stop every user after its current task (within `timeout`), then detach.

        Users still busy after `timeout` seconds are cancelled. New start-user and
        iteration events are ignored from now on. Call it before `engine.stop()`.
        """
        self._stopping = True
        for user_id in list(self._users):
            self._stop_user(user_id)
        tasks = [s.task for s in self._users.values() if s.task is not None]
        tasks.extend(self._iterations)
        if tasks:
            _, late = await asyncio.wait(tasks, timeout=timeout)
            for task in late:
                task.cancel()
            if late:
                await asyncio.wait(late, timeout=1.0)
        if self._watchdog is not None:
            self._watchdog.stop()
        for spec in self._specs.values():
            pool, spec.pool = spec.pool, []
            for member in pool:
                if spec.sync:
                    slot = getattr(member.user, RUNTIME_ATTR)
                    await run_sync(self._sync_hooks, spec, member.user, "on_stop", slot)
                else:
                    await self._on_stop(spec, member.user)
        if self._dispatcher is not None:
            self._dispatcher.detach()

    @property
    def users(self) -> int:
        """Closed-model users running now."""
        return len(self._users)

    def take_exceptions(self) -> list[snapshot_pb2.ErrorCount]:
        """Task exceptions counted since the previous call (for `Snapshot.exceptions`)."""
        return self._exceptions.take()

    # --- engine events ------------------------------------------------------------------

    def _spec(self, index: int) -> UserSpec:
        spec = self._specs.get(index)
        if spec is None:
            plan_user = self._plan_users[index]
            cls = self._classes.get(plan_user.name)
            if cls is None:
                raise ValueError(f"no Python class for user class {plan_user.name!r}")
            spec = self._specs[index] = UserSpec(index, plan_user, cls, self._host)
        return spec

    def _start_user(self, user_id: int, class_index: int) -> None:
        if self._stopping:
            self._user_finished(user_id)
            return
        if user_id in self._users:
            return
        spec = self._spec(class_index)
        slot = _UserSlot(self)
        self._users[user_id] = slot
        assert self._loop is not None
        slot.task = self._loop.create_task(self._run_user(user_id, spec, slot))

    def _stop_user(self, user_id: int) -> None:
        slot = self._users.get(user_id)
        if slot is None:
            return
        slot.stopping = True  # a task set the user is in leaves after its current task
        wake = slot.wake
        if wake is not None and not wake.done():
            wake.set_result(None)

    def _start_iteration(self, iteration_id: int, class_index: int, start_delay_us: int) -> None:
        if self._stopping:
            self._iteration_finished(iteration_id)
            return
        spec = self._spec(class_index)
        assert self._loop is not None
        task = self._loop.create_task(self._run_iteration(iteration_id, spec, start_delay_us))
        self._iterations.add(task)
        task.add_done_callback(self._iterations.discard)

    # --- users --------------------------------------------------------------------------

    def _new_user(
        self, spec: UserSpec, user_id: int, slot: _UserSlot | None = None
    ) -> tuple[Any, list[BoundTask]]:
        assert self._dispatcher is not None
        client: GrpcClient | HttpClient
        if spec.grpc:
            client = GrpcClient(self._dispatcher, spec.host)
        else:
            client = HttpClient(
                self._dispatcher, spec.host, http2=getattr(spec.cls, "http2", False) is True
            )
        own: Any = client
        if spec.sync and isinstance(client, HttpClient):
            kind = FastHttpSession if getattr(spec.cls, SESSION_ATTR, "") == "fast" else HttpSession
            own = kind(client, spec.host)
        elif spec.sync and isinstance(client, GrpcClient):
            own = BlockingGrpcClient(client)
        construct = getattr(spec.cls, "_loadforge_construct", None)
        user = construct(own, user_id) if construct else spec.cls(own, user_id=user_id)
        # A subclass __init__ that does not pass `client` on still gets one.
        user.client = own
        if isinstance(own, HttpSession):
            own.user = user
        setattr(user, RUNTIME_ATTR, slot if slot is not None else _UserSlot(self))
        return user, spec.bind(user, client)

    async def _run_user(self, user_id: int, spec: UserSpec, slot: _UserSlot) -> None:
        try:
            user, bound = self._new_user(spec, user_id, slot)
            slot.user = user
            if spec.sync:
                await run_sync(self._sync_user, spec, user, bound, slot)
                return
            await self._on_start(spec, user)
            await self._task_loop(spec, user, bound, slot)
            await self._on_stop(spec, user)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            # Creating the user failed (its constructor raised): count it, end the user.
            self._exceptions.add(f"{spec.name}.__init__", exc)
        finally:
            self._users.pop(user_id, None)
            try:
                self._user_finished(user_id, slot.retired)
            except Exception:
                log.debug("user_finished(%s) refused", user_id, exc_info=True)

    async def _task_loop(
        self, spec: UserSpec, user: Any, bound: list[BoundTask], slot: _UserSlot
    ) -> None:
        dispatcher = self._dispatcher
        assert dispatcher is not None and self._loop is not None
        if len(bound) == 1 and spec.no_wait:
            await self._busy_loop(bound[0], dispatcher, slot)
            return
        pick = spec.picker(bound, self._rng)
        clock = self._loop.time
        wait, no_wait, paced = spec.wait, spec.no_wait, spec.paced
        count = self._exceptions.add
        take_iteration = self._take_iteration
        while not slot.stopping:
            if not take_iteration():
                return  # the run's iteration limit is used up: this user is done
            name, run = pick()
            self.current = name
            wakeups = dispatcher.wakeups
            started = clock() if paced else 0.0
            try:
                await run()
            except asyncio.CancelledError:
                raise
            except StopUser:
                slot.retired = True
                return
            except Exception as exc:
                count(name, exc)
            if slot.stopping:
                return
            if not no_wait:
                try:
                    pause = wait(user, clock() - started if paced else 0.0)
                except Exception as exc:
                    count("wait_time", exc)
                    pause = 0.0
                if pause > 0:
                    await self._sleep(slot, pause)
                    continue
            if dispatcher.wakeups == wakeups:
                # The task never waited on the engine: let the loop breathe.
                await asyncio.sleep(0)

    def _sync_user(
        self, spec: UserSpec, user: Any, bound: list[BoundTask], slot: _UserSlot
    ) -> None:
        # A synchronous user's whole life, in its greenlet: hooks, tasks, waits.
        if self._sync_hooks(spec, user, "on_start", slot):
            self._sync_task_loop(spec, user, bound, slot)
        self._sync_hooks(spec, user, "on_stop", slot)

    def _sync_hooks(self, spec: UserSpec, user: Any, hook: str, slot: _UserSlot) -> bool:
        """Run the class's declarative and Python `hook`; False when it stopped the user."""
        templates = spec.on_start_templates if hook == "on_start" else spec.on_stop_templates
        raw = user.client._client if isinstance(user.client, HttpSession) else user.client
        for template in templates:
            try:
                await_only(template.run(raw))
            except Exception as exc:
                self._exceptions.add(template.name, exc)
        if spec.python_on_start if hook == "on_start" else spec.python_on_stop:
            try:
                slot.call(getattr(user, hook))
            except StopUser:
                slot.retired = True
                return False
            except (RescheduleTask, RescheduleTaskImmediately, InterruptTaskSet):
                pass
            except Exception as exc:
                self._exceptions.add(hook, exc)
        return True

    def _sync_task_loop(
        self, spec: UserSpec, user: Any, bound: list[BoundTask], slot: _UserSlot
    ) -> None:
        dispatcher = self._dispatcher
        assert dispatcher is not None and self._loop is not None
        if len(bound) == 1 and spec.no_wait and self._take_iteration is _always:
            self._sync_busy_loop(bound[0], dispatcher, slot)
            return
        pick = spec.picker(bound, self._rng)
        clock = self._loop.time
        wait, no_wait, paced = spec.wait, spec.no_wait, spec.paced
        count = self._exceptions.add
        take_iteration = self._take_iteration
        sleep0 = asyncio.sleep
        while not slot.stopping:
            if not take_iteration():
                return  # the run's iteration limit is used up: this user is done
            name, run = pick()
            self.current = name
            wakeups = dispatcher.wakeups
            started = clock() if paced else 0.0
            try:
                run()
            except StopUser:
                slot.retired = True
                return
            except RescheduleTaskImmediately:
                continue
            except (RescheduleTask, InterruptTaskSet):
                pass
            except Exception as exc:
                count(name, exc)
            if slot.stopping:
                return
            if not no_wait:
                try:
                    pause = wait(user, clock() - started if paced else 0.0)
                except Exception as exc:
                    count("wait_time", exc)
                    pause = 0.0
                if pause > 0:
                    slot.sleep(pause)
                    continue
            if dispatcher.wakeups == wakeups:
                # The task never waited on the engine: let the loop breathe.
                await_only(sleep0(0))

    def _sync_busy_loop(self, task: Any, dispatcher: Dispatcher, slot: _UserSlot) -> None:
        # `_sync_task_loop` for the common benchmark shape: one task, no wait, no limit.
        name, run = task
        count = self._exceptions.add
        sleep0 = asyncio.sleep
        while not slot.stopping:
            self.current = name
            wakeups = dispatcher.wakeups
            try:
                run()
            except StopUser:
                slot.retired = True
                return
            except (RescheduleTask, RescheduleTaskImmediately, InterruptTaskSet):
                pass
            except Exception as exc:
                count(name, exc)
            if dispatcher.wakeups == wakeups:
                await_only(sleep0(0))

    async def _busy_loop(self, task: BoundTask, dispatcher: Dispatcher, slot: _UserSlot) -> None:
        # `_task_loop` for the common benchmark shape: one task, no wait time.
        name, run = task
        count = self._exceptions.add
        take_iteration = self._take_iteration
        limited = take_iteration is not _always
        self.current = name
        while not slot.stopping:
            if limited and not take_iteration():
                return
            wakeups = dispatcher.wakeups
            try:
                await run()
            except asyncio.CancelledError:
                raise
            except StopUser:
                slot.retired = True
                return
            except Exception as exc:
                count(name, exc)
            if dispatcher.wakeups == wakeups:
                await asyncio.sleep(0)

    async def _sleep(self, slot: _UserSlot, seconds: float) -> None:
        # Interruptible: a stop-user event resolves `wake` early.
        assert self._loop is not None
        wake = slot.wake = self._loop.create_future()
        timer = self._loop.call_later(seconds, _resolve, wake)
        try:
            await wake
        finally:
            timer.cancel()
            slot.wake = None

    async def _on_start(self, spec: UserSpec, user: Any) -> None:
        for template in spec.on_start_templates:
            await self._guarded(template.name, template.run(user.client))
        if spec.python_on_start:
            await self._guarded("on_start", _call(user.on_start))

    async def _on_stop(self, spec: UserSpec, user: Any) -> None:
        if spec.python_on_stop:
            await self._guarded("on_stop", _call(user.on_stop))
        for template in spec.on_stop_templates:
            await self._guarded(template.name, template.run(user.client))

    async def _guarded(self, name: str, awaitable: Any) -> None:
        try:
            await awaitable
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self._exceptions.add(name, exc)

    # --- open model ---------------------------------------------------------------------

    async def _run_iteration(self, iteration_id: int, spec: UserSpec, start_delay_us: int) -> None:
        START_DELAY_US.set(start_delay_us)
        try:
            pool = spec.pool
            if spec.sync:
                await run_sync(self._sync_iteration, spec, pool)
                return
            if pool:
                member = pool.pop()
            else:
                user, bound = self._new_user(spec, 0)
                await self._on_start(spec, user)
                member = _PooledUser(user, spec.picker(bound, self._rng))
            name, run = member.pick()
            keep = True
            try:
                await run()
            except asyncio.CancelledError:
                raise
            except StopUser:
                keep = False
                await self._on_stop(spec, member.user)
            except Exception as exc:
                self._exceptions.add(name, exc)
            if keep:
                pool.append(member)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self._exceptions.add(f"{spec.name}.__init__", exc)
        finally:
            try:
                self._iteration_finished(iteration_id)
            except Exception:
                log.debug("iteration_finished(%s) refused", iteration_id, exc_info=True)

    def _sync_iteration(self, spec: UserSpec, pool: list[Any]) -> None:
        # One open-model iteration of a synchronous class, in its own greenlet.
        if pool:
            member = pool.pop()
        else:
            user, bound = self._new_user(spec, 0)
            slot = getattr(user, RUNTIME_ATTR)
            if not self._sync_hooks(spec, user, "on_start", slot):
                return
            member = _PooledUser(user, spec.picker(bound, self._rng))
        name, run = member.pick()
        try:
            run()
        except StopUser:
            self._sync_hooks(spec, member.user, "on_stop", getattr(member.user, RUNTIME_ATTR))
            return
        except (RescheduleTask, RescheduleTaskImmediately, InterruptTaskSet):
            pass
        except Exception as exc:
            self._exceptions.add(name, exc)
        pool.append(member)


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


async def _call(hook: Any) -> None:
    # on_start / on_stop may be plain or async methods.
    result = hook()
    if asyncio.iscoroutine(result) or isinstance(result, asyncio.Future):
        await result
