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
    pub timeout: Option<Duration>,
    pub intended_start_delay: Duration,
}

/// Sends a completion event if the request never completes (engine stopped first).
struct CompletionGuard {
    shared: Arc<Shared>,
    token: u64,
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
                error_kind: "timeout".into(),
                error_message: "cut off when the engine stopped".into(),
            });
        }
    }
}

/// Starts `sub` on runtime thread `thread_index`; a bad request is a `PlanError`.
pub fn submit(shared: &Arc<Shared>, thread_index: usize, sub: Submission) -> Result<()> {
    let msg = proto::RequestTemplate {
        method: sub.method,
        url: sub.url,
        headers: sub
            .headers
            .into_iter()
            .map(|(name, value)| proto::Header { name, value })
            .collect(),
        body: sub.body,
        name: sub.name,
        check: None,
        keep_body: true,
        protocol: sub.protocol,
    };
    let timeout = sub.timeout.or(shared.plan.request_timeout);
    let opts = template::EncodeOptions {
        grpc_timeout: timeout,
        ..shared.plan.encode
    };
    let tpl = template::compile(&msg, &shared.targets, &shared.endpoints, opts)?;
    let guard = CompletionGuard {
        shared: shared.clone(),
        token: sub.token,
        done: false,
    };
    if shared.stopping() {
        return Ok(()); // the guard answers with "cut off"
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
        timeout,
    };
    let shared2 = shared.clone();
    thread.handle().clone().spawn(async move {
        // Move the whole guard in (not just the field we write), so it answers for a
        // task that is dropped before completing.
        let mut guard = guard;
        let _active = active;
        let mut session = thread.take_session();
        let outcome = execute(&shared2.net, &thread, &mut session, &tpl, call).await;
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
    });
    Ok(())
}
