//! Streaming gRPC calls for Python tasks (server-, client-streaming and bidirectional):
//! opened like a submission, fed with messages through a per-call channel, answered with
//! `Messages` events in batches and one `StreamEnded`.
//!
//! What is recorded: the whole call (start to trailers) under the call's endpoint
//! (`GRPC <name>`), with the number of messages received; and the time to the first
//! message under `GRPC-FIRST <name>`, which is left out of the totals (it is not another
//! request).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::{BufMut, Bytes, BytesMut};
use h2::SendStream;
use tokio::sync::mpsc;

use crate::error::Result;
use crate::events::Event;
use crate::exchange::{grpc_status_of, record, Timing};
use crate::grpc_code;
use crate::net::grpc_stream::{self, Deframer};
use crate::net::http2::{push_headers, status_from};
use crate::net::RequestError;
use crate::plan::{Model, Protocol, Template};
use crate::proto;
use crate::recorder::ErrorKind;
use crate::shared::{ActiveGuard, Shared};
use crate::template_cache::TemplateKey;
use crate::worker::ThreadCtx;

/// The statistics method of the time-to-first-message samples.
pub const FIRST_MESSAGE_METHOD: &str = "GRPC-FIRST";

/// What Python sends into an open call.
pub enum Input {
    /// Messages to send (serialized, unframed); `end` closes the sending side after them.
    Messages(Vec<Bytes>, bool),
    /// Reset the stream (the task stopped listening).
    Cancel,
}

/// Open calls by token.
#[derive(Default)]
pub struct StreamTable {
    open: Mutex<HashMap<u64, mpsc::UnboundedSender<Input>>>,
}

impl StreamTable {
    fn insert(&self, token: u64, tx: mpsc::UnboundedSender<Input>) {
        self.lock().insert(token, tx);
    }

    fn remove(&self, token: u64) {
        self.lock().remove(&token);
    }

    /// Queues input for call `token`; false when the call has already ended.
    pub fn send(&self, token: u64, input: Input) -> bool {
        match self.lock().get(&token) {
            Some(tx) => tx.send(input).is_ok(),
            None => false,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, mpsc::UnboundedSender<Input>>> {
        self.open.lock().expect("stream table poisoned")
    }
}

/// A streaming call from Python.
pub struct StreamSubmission {
    pub token: u64,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub name: String,
    /// Messages to send at once (a server-streaming call's request).
    pub messages: Vec<Vec<u8>>,
    /// Close the sending side after `messages`.
    pub end: bool,
    pub timeout: Option<Duration>,
    pub intended_start_delay: Duration,
}

/// Where a call stands, kept outside the call's future so a timeout still knows it.
#[derive(Default)]
struct Progress {
    messages: u64,
    first: Option<Duration>,
    received: u64,
    sent: u64,
}

/// The outcome of a call that got an answer.
struct Answer {
    status: u16,
    headers: crate::net::HeaderBlock,
    grpc_status: Option<(u32, String)>,
}

/// Answers (and records) a call whose task is dropped before it ends (engine stopped).
struct EndGuard {
    shared: Arc<Shared>,
    thread: Arc<ThreadCtx>,
    token: u64,
    endpoint: u32,
    start: Instant,
    timing: Timing,
    /// Fired: a cut-off is recorded (a call never fired is only answered).
    started: bool,
    done: bool,
}

impl Drop for EndGuard {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        self.shared.streams.remove(self.token);
        let elapsed = self.start.elapsed();
        let message = "cut off when the engine stopped";
        let kind = ErrorKind::Grpc(4);
        if self.started {
            record(
                &self.thread,
                self.endpoint,
                elapsed,
                self.timing,
                Some(grpc_code::DEADLINE_EXCEEDED),
                0,
                0,
                0,
                Some((&kind, &message)),
                &[],
            );
        }
        self.shared.events.push(Event::StreamEnded {
            token: self.token,
            status: 0,
            headers: Vec::new(),
            elapsed_us: elapsed.as_micros() as u64,
            first_message_us: 0,
            messages: 0,
            error_kind: kind.to_string(),
            error_message: message.into(),
        });
    }
}

/// Opens call `sub` on runtime thread `thread_index`; a bad URL or header is a `PlanError`.
pub fn open_stream(shared: &Arc<Shared>, thread_index: usize, sub: StreamSubmission) -> Result<()> {
    let timeout = sub.timeout.or(shared.plan.request_timeout);
    let key = TemplateKey {
        method: "POST".into(),
        url: sub.url,
        headers: sub.headers,
        name: sub.name,
        protocol: proto::Protocol::Grpc as i32,
        timeout,
    };
    // Messages are framed as they are sent: the template's body stays empty.
    let tpl = shared
        .templates
        .get_or_compile(key, |k| k.compile(shared, Vec::new(), false))?;
    debug_assert_eq!(tpl.protocol, Protocol::Grpc);
    let first_endpoint = shared.endpoints.intern(
        FIRST_MESSAGE_METHOD,
        &shared.endpoints.key(tpl.endpoint).name,
    );
    let (tx, rx) = mpsc::unbounded_channel();
    if !sub.messages.is_empty() || sub.end {
        let messages = sub.messages.into_iter().map(Bytes::from).collect();
        let _ = tx.send(Input::Messages(messages, sub.end));
    }
    let thread = shared.threads[thread_index].clone();
    let timing = Timing {
        start_delay: sub.intended_start_delay,
        service: matches!(shared.plan.model, Model::Open { .. })
            || !sub.intended_start_delay.is_zero(),
        correct_interval_us: 0,
    };
    shared.streams.insert(sub.token, tx);
    let guard = EndGuard {
        shared: shared.clone(),
        thread: thread.clone(),
        token: sub.token,
        endpoint: tpl.endpoint,
        start: Instant::now(),
        timing,
        started: false,
        done: false,
    };
    if shared.closing() {
        return Ok(()); // the guard answers with "cut off"
    }
    let active = ActiveGuard::new(shared);
    let shared = shared.clone();
    thread.handle().clone().spawn(async move {
        // Move the whole guard in (not just the fields written), so it answers for a task
        // dropped before it ends.
        let mut guard = guard;
        let _active = active;
        let token = guard.token;
        let start = Instant::now();
        guard.start = start;
        guard.started = true;
        let mut progress = Progress::default();
        let call = call(&shared, &thread, &tpl, rx, token, start, &mut progress);
        let result = match timeout {
            Some(limit) => match tokio::time::timeout(limit, call).await {
                Ok(r) => r,
                Err(_) => Err(RequestError::new(ErrorKind::Timeout, "deadline passed")),
            },
            None => call.await,
        };
        let elapsed = start.elapsed();
        guard.done = true;
        shared.streams.remove(token);
        let (status, headers, error) = match result.map_err(grpc_status_of) {
            Ok(answer) => {
                let error = verdict(&answer);
                (answer.status, answer.headers, error)
            }
            Err(e) => {
                if matches!(e.kind, ErrorKind::Grpc(14)) {
                    let mut session = thread.take_session();
                    session.forget_h2(tpl.target.id).await;
                    thread.put_session(session);
                }
                (0, Vec::new(), Some((e.kind, e.detail.to_string())))
            }
        };
        let err = error
            .as_ref()
            .map(|(k, m)| (k, m as &dyn std::fmt::Display));
        let code = grpc_code::of(error.as_ref().map(|(k, _)| k), status);
        record(
            &thread,
            tpl.endpoint,
            elapsed,
            timing,
            Some(code),
            progress.received,
            progress.sent,
            progress.messages,
            err,
            &[],
        );
        if let Some(first) = progress.first {
            record(
                &thread,
                first_endpoint,
                first,
                timing,
                Some(code),
                0,
                0,
                0,
                None,
                &[],
            );
        }
        let (error_kind, error_message) = match error {
            Some((kind, message)) => (kind.to_string(), message),
            None => (String::new(), String::new()),
        };
        shared.events.push(Event::StreamEnded {
            token,
            status,
            headers,
            elapsed_us: elapsed.as_micros() as u64,
            first_message_us: progress.first.map_or(0, |d| d.as_micros().max(1) as u64),
            messages: progress.messages,
            error_kind,
            error_message,
        });
    });
    Ok(())
}

/// Whether an answered call succeeded (as a unary call is judged).
fn verdict(answer: &Answer) -> Option<(ErrorKind, String)> {
    if answer.status != 200 {
        return Some((
            ErrorKind::HttpStatus,
            format!("HTTP status {}", answer.status),
        ));
    }
    match &answer.grpc_status {
        Some((0, _)) => None,
        Some((code, message)) => Some((ErrorKind::Grpc(*code), message.clone())),
        None => Some((
            ErrorKind::Protocol,
            "gRPC response without grpc-status".into(),
        )),
    }
}

/// Runs one call: sends what Python queues while reading the answer in batches.
async fn call(
    shared: &Shared,
    thread: &ThreadCtx,
    tpl: &Template,
    mut rx: mpsc::UnboundedReceiver<Input>,
    token: u64,
    start: Instant,
    progress: &mut Progress,
) -> std::result::Result<Answer, RequestError> {
    let mut session = thread.take_session();
    let sender = session.h2_sender(&shared.net, &thread.h2, tpl).await;
    thread.put_session(session);
    let open = grpc_stream::open(&sender?, tpl).await?;
    let mut send = open.send;
    let mut writing = true;
    let mut response = std::pin::pin!(grpc_stream::head(open.response));
    // The server may answer only after it has read some messages: keep sending meanwhile.
    let mut listening = true;
    let head = loop {
        tokio::select! {
            head = &mut response => break head?,
            input = rx.recv(), if listening => {
                listening = input.is_some();
                write(&mut send, &mut writing, input, progress)?;
            }
        }
    };
    let mut headers = Vec::new();
    push_headers(&mut headers, &head.headers);
    let mut grpc_status = status_from(&head.headers);
    let mut body = head.body;
    let mut deframer = Deframer::default();
    let mut batch = Vec::new();
    loop {
        tokio::select! {
            received = grpc_stream::next_batch(&mut body, &mut deframer) => {
                let Some(n) = received? else { break };
                progress.received += n as u64;
                deframer.drain(&mut batch)?;
                if !batch.is_empty() {
                    progress.first.get_or_insert_with(|| start.elapsed());
                    progress.messages += batch.len() as u64;
                    let messages = std::mem::take(&mut batch);
                    shared.events.push(Event::Messages { token, messages });
                }
            }
            input = rx.recv(), if listening => {
                listening = input.is_some();
                write(&mut send, &mut writing, input, progress)?;
            }
        }
    }
    if deframer.leftover() > 0 {
        return Err(RequestError::new(
            ErrorKind::Protocol,
            "gRPC response ended inside a message",
        ));
    }
    let (trailer_status, trailers) = grpc_stream::trailers(&mut body).await?;
    if let Some(trailers) = &trailers {
        push_headers(&mut headers, trailers);
    }
    grpc_status = trailer_status.or(grpc_status);
    Ok(Answer {
        status: head.status,
        headers,
        grpc_status,
    })
}

/// Acts on one input: sends messages while the sending side is `writing` (and closes it
/// when asked), or resets the stream on a cancel, whenever it comes.
fn write(
    send: &mut SendStream<Bytes>,
    writing: &mut bool,
    input: Option<Input>,
    progress: &mut Progress,
) -> std::result::Result<(), RequestError> {
    let h2 = crate::net::http2::h2_error;
    match input {
        Some(Input::Cancel) => {
            send.send_reset(h2::Reason::CANCEL);
            Err(RequestError::new(
                ErrorKind::Grpc(1),
                "cancelled by the task",
            ))
        }
        _ if !*writing => Ok(()),
        Some(Input::Messages(messages, end)) => {
            let size: usize = messages.iter().map(|m| 5 + m.len()).sum();
            let mut frames = BytesMut::with_capacity(size);
            for m in &messages {
                frames.put_u8(0);
                frames.put_u32(m.len() as u32);
                frames.put_slice(m);
            }
            progress.sent += size as u64;
            // h2 queues data beyond the flow-control window and sends it as credit arrives.
            send.send_data(frames.freeze(), end).map_err(h2)?;
            *writing = !end;
            Ok(())
        }
        // The table dropped the call's sender: nothing more will come.
        None => {
            send.send_data(Bytes::new(), true).map_err(h2)?;
            *writing = false;
            Ok(())
        }
    }
}
