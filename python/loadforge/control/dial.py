"""Dial the controller: wait until it answers, but give up at once when TLS cannot work.

A controller that is not up yet (connection refused) is waited for; a failed TLS
handshake is not a thing that fixes itself, so the worker stops with a message that says
which side did not trust which.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Protocol

import grpc

from loadforge._proto import control_pb2_grpc
from loadforge.control.channel import ChannelSecurity

# How long one wait for a channel state change lasts before the state is looked at again.
POLL_S = 0.5


class DialOptions(Protocol):
    controller: str
    security: ChannelSecurity
    connect_timeout_s: float


class ControllerUnreachable(Exception):
    """Nothing answered at the controller's address in time."""


class TlsFailed(Exception):
    """The TLS handshake with the controller failed; retrying would not help."""


def tls_problem(details: str, security: ChannelSecurity) -> str:
    """Why TLS failed, from a gRPC UNAVAILABLE's details; "" when it is not about TLS."""
    lowered = details.lower()
    if "handshake" in lowered or "certificate" in lowered or "ssl" in lowered:
        if not security.tls:
            return f"the controller speaks TLS; give --tls-ca to verify it ({details})"
        return (
            "TLS handshake with the controller failed: its certificate is not signed by the "
            f"CA given in --tls-ca, or does not name the address dialed ({details})"
        )
    if security.tls and "socket closed" in lowered:
        # The server hangs up during the handshake when it wants a client certificate it
        # trusts (mutual TLS), or when it does not speak TLS at all.
        if security.cert:
            why = "did not accept this worker's client certificate (--tls-cert)"
        else:
            why = "requires a client certificate (mutual TLS): give --tls-cert and --tls-key"
        return f"the controller closed the connection during the TLS handshake: it {why}"
    return ""


async def _last_error(channel: grpc.aio.Channel) -> str:
    """The channel's last connection error, read from a call that fails fast."""
    call = control_pb2_grpc.ControllerStub(channel).Connect(wait_for_ready=False)
    try:
        await asyncio.wait_for(call.read(), 5)
    except grpc.aio.AioRpcError as err:
        return err.details() or ""
    except TimeoutError:
        pass
    finally:
        call.cancel()
    return ""


async def connect(
    channel: grpc.aio.Channel, options: DialOptions, give_up: asyncio.Event | None = None
) -> bool:
    """Wait until ``channel`` is ready. False when ``give_up`` was set first.

    Raises TlsFailed when the handshake fails, ControllerUnreachable after the timeout.
    """
    deadline = time.monotonic() + options.connect_timeout_s
    last_error = ""
    while True:
        if give_up is not None and give_up.is_set():
            return False
        state = channel.get_state(try_to_connect=True)
        if state is grpc.ChannelConnectivity.READY:
            return True
        if state is grpc.ChannelConnectivity.TRANSIENT_FAILURE:
            last_error = await _last_error(channel) or last_error
            problem = tls_problem(last_error, options.security)
            if problem:
                raise TlsFailed(problem)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            detail = f" ({last_error})" if last_error else ""
            raise ControllerUnreachable(
                f"no controller at {options.controller} after "
                f"{options.connect_timeout_s:.0f}s{detail}"
            )
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(channel.wait_for_state_change(state), min(remaining, POLL_S))
