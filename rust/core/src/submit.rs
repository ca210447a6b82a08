//! Requests submitted by Python tasks: compiled on the fly, run on a runtime thread, timed
//! at the socket, recorded in Rust (unless the caller records itself), and answered with
//! a completion event.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

use crate::error::Result;
use crate::events::Event;
use crate::exchange::{execute, Call, Timing};
use crate::net::Keep;
use crate::plan::{template, Model};
use crate::proto;
use crate::shared::{ActiveGuard, Shared};
use crate::template_cache::TemplateKey;
use crate::worker::ThreadCtx;

/// One request from Python.
pub struct Submission {
    pub token: u64,
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub name: String,
    pub protocol: i32,
    pub record: bool,
    /// Leave a redirect answer (301/302/303/307/308) unrecorded: the caller follows it
    /// and records the whole chain once, as Locust's clients count a redirected request.
    pub defer_redirects: bool,
    pub timeout: Option<Duration>,
    pub intended_start_delay: Duration,
}

/// Sends a completion event if the request never completes (engine stopped first).
struct CompletionGuard {
    shared: Arc<Shared>,
    token: u64,
    grpc: bool,
    done: bool,
}

impl Drop for CompletionGuard {
    fn drop(&mut self) {
        if !self.done {
            self.shared.events.push(Event::Completed {
                token: self.token,
                status: 0,
                headers: Vec::new(),
                body: Bytes::new(),
                elapsed_us: 0,
                error_kind: if self.grpc {
                    "grpc_DEADLINE_EXCEEDED".into()
                } else {
                    "timeout".into()
                },
                error_message: "cut off when the engine stopped".into(),
            });
        }
    }
}

/// Starts `sub` on runtime thread `thread_index`; a bad request is a `PlanError`.
pub fn submit(shared: &Arc<Shared>, thread_index: usize, sub: Submission) -> Result<()> {
    if let Some((thread, run)) = prepare(shared, thread_index, sub)? {
        thread.handle().clone().spawn(run);
    }
    Ok(())
}

/// Starts many requests with one wake-up per runtime thread (not one per request), so
/// a burst from Python reaches each connection together and leaves in few writes.
/// Spread over the threads from `first_thread` on; returns the index and error of each
/// submission that could not be compiled (the others still start).
pub fn submit_batch(
    shared: &Arc<Shared>,
    first_thread: usize,
    subs: Vec<Submission>,
) -> Vec<(usize, crate::Error)> {
    let threads = shared.threads.len();
    let mut per_thread: Vec<Vec<_>> = (0..threads).map(|_| Vec::new()).collect();
    let mut errors = Vec::new();
    for (i, sub) in subs.into_iter().enumerate() {
        let index = (first_thread + i) % threads;
        match prepare(shared, index, sub) {
            Ok(Some((_, run))) => per_thread[index].push(run),
            Ok(None) => {}
            Err(e) => errors.push((i, e)),
        }
    }
    for (index, runs) in per_thread.into_iter().enumerate() {
        if runs.is_empty() {
            continue;
        }
        shared.threads[index].handle().spawn(async move {
            for run in runs {
                tokio::spawn(run);
            }
        });
    }
    errors
}

/// Compiles `sub` and builds the future that runs it; None when the engine is stopping
/// (the completion event is already queued).
fn prepare(
    shared: &Arc<Shared>,
    thread_index: usize,
    sub: Submission,
) -> Result<
    Option<(
        Arc<ThreadCtx>,
        impl std::future::Future<Output = ()> + Send + 'static,
    )>,
> {
    let timeout = sub.timeout.or(shared.plan.request_timeout);
    let key = TemplateKey {
        method: sub.method,
        url: sub.url,
        headers: sub.headers,
        name: sub.name,
        protocol: sub.protocol,
        timeout,
    };
    // An HTTP/1.1 body is baked into the request bytes: such requests compile each time.
    // HTTP/2 and gRPC send the body apart from the head: a cached template and this body.
    let (tpl, body) = if sub.protocol == proto::Protocol::Http1 as i32 && !sub.body.is_empty() {
        (key.compile(shared, sub.body, true)?, None)
    } else {
        let base = shared
            .templates
            .get_or_compile(key, |k| k.compile(shared, Vec::new(), true))?;
        let body = match base.protocol {
            crate::plan::Protocol::Grpc => Some(template::grpc_frame(&sub.body)),
            crate::plan::Protocol::Http2 => Some(Bytes::from(sub.body)),
            crate::plan::Protocol::Http1 => None,
        };
        (base, body)
    };
    let guard = CompletionGuard {
        shared: shared.clone(),
        token: sub.token,
        grpc: tpl.protocol == crate::plan::Protocol::Grpc,
        done: false,
    };
    if shared.closing() {
        return Ok(None); // the guard answers with "cut off"
    }
    let thread = shared.threads[thread_index].clone();
    let active = ActiveGuard::new(shared);
    let call = Call {
        timing: Timing {
            start_delay: sub.intended_start_delay,
            service: matches!(shared.plan.model, Model::Open { .. })
                || !sub.intended_start_delay.is_zero(),
            correct_interval_us: 0,
        },
        keep: Keep {
            body: true,
            headers: true,
        },
        record: sub.record,
        defer_redirects: sub.defer_redirects,
        timeout,
    };
    let shared2 = shared.clone();
    let runner = thread.clone();
    let run = async move {
        // Move the whole guard in (not just the field we write), so it answers for a
        // task that is dropped before completing.
        let mut guard = guard;
        let _active = active;
        let mut session = thread.take_session();
        let outcome = execute(
            &shared2.net,
            &thread,
            &mut session,
            &tpl,
            call,
            body.as_ref(),
        )
        .await;
        thread.put_session(session);
        let elapsed_us = outcome.elapsed.as_micros() as u64;
        let event = match outcome.result {
            Ok(resp) => {
                let (error_kind, error_message) = match (&resp.grpc_status, tpl.protocol) {
                    (Some((code, m)), _) if *code != 0 => (
                        crate::recorder::ErrorKind::Grpc(*code).to_string(),
                        m.clone(),
                    ),
                    _ => (String::new(), String::new()),
                };
                Event::Completed {
                    token: sub.token,
                    status: resp.status,
                    headers: resp.headers,
                    body: resp.body,
                    elapsed_us,
                    error_kind,
                    error_message,
                }
            }
            Err(e) => Event::Completed {
                token: sub.token,
                status: 0,
                headers: Vec::new(),
                body: Bytes::new(),
                elapsed_us,
                error_kind: e.kind.to_string(),
                error_message: e.detail.to_string(),
            },
        };
        guard.done = true;
        shared2.events.push(event);
    };
    Ok(Some((runner, run)))
}
