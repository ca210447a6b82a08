//! One request from start to recorded result: timeout, protocol exchange, checks, and the
//! sample in the thread's recorder. A request cut off by the engine stopping is counted
//! once, as `timeout`, by a drop guard.

use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::grpc_code;
use crate::net::{Keep, RequestError, Response};
use crate::plan::{Protocol, Template};
use crate::recorder::{ErrorKind, Sample};
use crate::session::{Net, Session};
use crate::worker::ThreadCtx;

/// How latency is measured for this request.
#[derive(Clone, Copy, Default)]
pub struct Timing {
    /// How late the request started against its intended start (open model).
    pub start_delay: Duration,
    /// Record the uncorrected service time too (open model).
    pub service: bool,
    /// Expected interval for coordinated-omission correction, µs (0 = none).
    pub correct_interval_us: u64,
}

/// Options of one call.
#[derive(Clone, Copy)]
pub struct Call {
    pub timing: Timing,
    pub keep: Keep,
    /// Record into the thread's recorder (false: the caller records it itself).
    pub record: bool,
    /// Do not record a redirect answer (the caller follows it and records the chain).
    pub defer_redirects: bool,
    pub timeout: Option<Duration>,
}

/// The statuses a client follows to `Location`.
pub fn is_redirect(status: u16) -> bool {
    matches!(status, 301 | 302 | 303 | 307 | 308)
}

/// A finished exchange as the caller sees it.
pub struct Outcome {
    pub elapsed: Duration,
    pub result: Result<Response, RequestError>,
}

struct CutOffGuard<'a> {
    thread: &'a ThreadCtx,
    endpoint: u32,
    start: Instant,
    timing: Timing,
    armed: bool,
    /// gRPC: a cut-off call is a passed deadline, as a gRPC client reports it.
    grpc: bool,
}

impl Drop for CutOffGuard<'_> {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let elapsed = self.start.elapsed();
        let kind = if self.grpc {
            ErrorKind::Grpc(4)
        } else {
            ErrorKind::Timeout
        };
        let message = "cut off when the engine stopped";
        let status = self.grpc.then_some(grpc_code::DEADLINE_EXCEEDED);
        record(
            self.thread,
            self.endpoint,
            elapsed,
            self.timing,
            status,
            0,
            0,
            0,
            Some((&kind, &message)),
            &[],
        );
    }
}

/// Runs `tpl` on `session` and records the result. `body` (HTTP/2 and gRPC, framed)
/// replaces the template's: requests from Python reuse a cached template for the head.
pub async fn execute(
    net: &Net,
    thread: &ThreadCtx,
    session: &mut Session,
    tpl: &Template,
    call: Call,
    body: Option<&Bytes>,
) -> Outcome {
    let start = Instant::now();
    let mut guard = CutOffGuard {
        thread,
        endpoint: tpl.endpoint,
        start,
        timing: call.timing,
        armed: call.record,
        grpc: tpl.protocol == Protocol::Grpc,
    };
    let keep = Keep {
        body: call.keep.body || tpl.keep_body,
        headers: call.keep.headers,
    };
    let send = session.send(net, &thread.h2, tpl, body, keep);
    let result = match call.timeout {
        Some(limit) => match tokio::time::timeout(limit, send).await {
            Ok(r) => r,
            Err(_) => Err(RequestError::new(ErrorKind::Timeout, "request timed out")),
        },
        None => send.await,
    };
    // Timed to the response's arrival at the socket when the kernel stamped it, so our
    // own wake-up delay is not counted as the server's; else to now.
    let arrived = result.as_ref().ok().and_then(|r| r.received_at);
    let elapsed = match arrived {
        Some(at) if at >= start => at - start,
        _ => start.elapsed(),
    };
    guard.armed = false;
    let result = match tpl.protocol {
        Protocol::Grpc => result.map_err(grpc_status_of),
        _ => result,
    };
    let deferred = call.defer_redirects && matches!(&result, Ok(resp) if is_redirect(resp.status));
    if call.record && !deferred {
        let bytes_sent = match tpl.protocol {
            Protocol::Http1 => tpl.h1_bytes.len() as u64,
            _ => body.unwrap_or(&tpl.body).len() as u64,
        };
        match &result {
            Ok(resp) => {
                let verdict = judge(tpl, resp);
                let error = verdict.as_ref().err();
                let status = match tpl.protocol {
                    Protocol::Grpc => grpc_code::of(error.map(|(k, _)| k), resp.status),
                    _ => resp.status,
                };
                record(
                    thread,
                    tpl.endpoint,
                    elapsed,
                    call.timing,
                    Some(status),
                    resp.bytes_received,
                    bytes_sent,
                    resp.messages,
                    error.map(|(k, m)| (k, m as &dyn std::fmt::Display)),
                    if error.is_some() { &resp.body } else { &[] },
                );
            }
            Err(e) => record(
                thread,
                tpl.endpoint,
                elapsed,
                call.timing,
                (tpl.protocol == Protocol::Grpc).then(|| grpc_code::of(Some(&e.kind), 0)),
                0,
                bytes_sent,
                0,
                Some((&e.kind, &e.detail)),
                &[],
            ),
        }
    }
    Outcome { elapsed, result }
}

/// A transport failure as a gRPC client reports it: a deadline that passed is
/// DEADLINE_EXCEEDED, a server that cannot be reached or drops the connection UNAVAILABLE.
/// The engine's own kind stays in the message.
pub fn grpc_status_of(e: RequestError) -> RequestError {
    let code = match e.kind {
        ErrorKind::Timeout => 4,
        ErrorKind::ConnectRefused
        | ErrorKind::ConnectTimeout
        | ErrorKind::Reset
        | ErrorKind::Io => 14,
        _ => return e,
    };
    RequestError::text(ErrorKind::Grpc(code), format!("{}: {}", e.kind, e.detail))
}

/// Whether a response that arrived counts as a success.
pub fn judge(tpl: &Template, resp: &Response) -> Result<(), (ErrorKind, String)> {
    if tpl.protocol == Protocol::Grpc {
        if resp.status != 200 {
            return Err((
                ErrorKind::HttpStatus,
                format!("HTTP status {}", resp.status),
            ));
        }
        return match &resp.grpc_status {
            Some((0, _)) | None => Ok(()),
            Some((code, message)) => Err((ErrorKind::Grpc(*code), message.clone())),
        };
    }
    tpl.check.evaluate(resp.status, &resp.body)
}

/// Records one sample into the thread's recorder; `status` is the HTTP status, or for
/// gRPC the call's gRPC status (`grpc_code`), None when there is none to count.
#[allow(clippy::too_many_arguments)]
pub(crate) fn record(
    thread: &ThreadCtx,
    endpoint: u32,
    elapsed: Duration,
    timing: Timing,
    status: Option<u16>,
    bytes_received: u64,
    bytes_sent: u64,
    messages: u64,
    error: Option<(&ErrorKind, &dyn std::fmt::Display)>,
    body: &[u8],
) {
    let service_us = elapsed.as_micros() as u64;
    let sample = Sample {
        endpoint,
        latency_us: service_us + timing.start_delay.as_micros() as u64,
        service_us: timing.service.then_some(service_us),
        correct_interval_us: timing.correct_interval_us,
        status,
        bytes_received,
        bytes_sent,
        messages,
        error,
        body,
    };
    thread
        .recorder
        .lock()
        .expect("recorder poisoned")
        .record(&sample);
}
