//! Our own HTTP/2 client connection for request/response exchanges: HTTP/2 requests and
//! unary gRPC calls. Streaming gRPC calls use the `h2` crate (`http2.rs`).
//!
//! Why not the `h2` crate here: per exchange it clones a `HeaderMap`, HPACK-encodes the
//! request again, hands frames between the request task and the connection task through
//! shared stream slabs, and copies bodies through several buffers; for scripted unary
//! gRPC that was about half of the engine thread's CPU. Here:
//!
//! - the request's header block is encoded once per template and connection
//!   (`hpack::Encoder`): its fields enter the server's dynamic table on first use and are
//!   one-byte references after that, so sending a request is copying a few bytes into the
//!   connection's output buffer, and the server parses little;
//! - one driver task per connection owns the socket: it writes everything queued in one
//!   write call and parses every frame a read brought, under one lock of the connection
//!   state, completing streams as it goes;
//! - responses are decoded with our full HPACK decoder (`hpack.rs`: dynamic table and
//!   Huffman), as servers use both.
//!
//! Flow control: we advertise a 4 MiB stream window and a 16 MiB connection window and
//! return credit when half is used; request bodies larger than the server's windows wait
//! for its WINDOW_UPDATEs. The server's SETTINGS (concurrent streams, initial window, frame
//! size) are honoured; requests beyond its concurrent-stream limit wait for a free stream.
//! A request dropped before its response (timeout, engine stop) resets its stream.

use std::collections::HashMap;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::hpack;
use super::http2::{deframe, percent_decode};
use super::stream::Stream;
use super::{push_header, HeaderBlock, Keep, RequestError, Response};
use crate::plan::{Protocol, Template};
use crate::recorder::{ErrorKind, BODY_SAMPLE_BYTES};

const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

const DATA: u8 = 0x0;
const HEADERS: u8 = 0x1;
const RST_STREAM: u8 = 0x3;
const SETTINGS: u8 = 0x4;
const PUSH_PROMISE: u8 = 0x5;
const PING: u8 = 0x6;
const GOAWAY: u8 = 0x7;
const WINDOW_UPDATE: u8 = 0x8;
const CONTINUATION: u8 = 0x9;

const END_STREAM: u8 = 0x1;
const ACK: u8 = 0x1;
const END_HEADERS: u8 = 0x4;
const PADDED: u8 = 0x8;
const PRIORITY: u8 = 0x20;

const SETTINGS_HEADER_TABLE_SIZE: u16 = 0x1;
const SETTINGS_ENABLE_PUSH: u16 = 0x2;
const SETTINGS_MAX_CONCURRENT_STREAMS: u16 = 0x3;
const SETTINGS_INITIAL_WINDOW_SIZE: u16 = 0x4;
const SETTINGS_MAX_FRAME_SIZE: u16 = 0x5;

const CANCEL: u32 = 0x8;

/// Receive windows we advertise.
const STREAM_WINDOW: u32 = 4 << 20;
const CONN_WINDOW: u32 = 16 << 20;
/// The protocol's defaults until the server's SETTINGS say otherwise.
const DEFAULT_WINDOW: i64 = 65_535;
const DEFAULT_MAX_FRAME: usize = 16_384;
/// Largest frame we accept (we never raise SETTINGS_MAX_FRAME_SIZE).
const MAX_FRAME_IN: usize = 16_384;
/// Largest header block (HEADERS plus CONTINUATIONs) we accept.
const MAX_HEADER_BLOCK: usize = 1 << 20;
const MAX_STREAM_ID: u32 = (1 << 31) - 1;

/// A shared HTTP/2 connection; many exchanges run on it at once.
pub struct H2Conn {
    inner: Mutex<Inner>,
}

struct Inner {
    /// Frames waiting for the driver to write them.
    out: Vec<u8>,
    /// Request header blocks go out in the order they are encoded: under this lock.
    encoder: hpack::Encoder,
    /// The driver, parked with nothing to write.
    driver: Option<Waker>,
    streams: HashMap<u32, StreamState>,
    /// Streams with body bytes waiting for flow-control credit.
    blocked: Vec<u32>,
    next_id: u32,
    /// Streams open from the server's point of view.
    active: usize,
    max_streams: usize,
    capacity_waiters: Vec<Waker>,
    peer_initial_window: i64,
    peer_max_frame: usize,
    conn_send_window: i64,
    conn_recv_unacked: u32,
    /// Why no new stream may start (connection failed, GOAWAY, ids used up).
    closed: Option<(ErrorKind, String)>,
    /// The owner is done with the connection: the driver ends once no stream is left.
    closing: bool,
}

struct StreamState {
    keep: Keep,
    grpc: bool,
    status: u16,
    got_head: bool,
    headers: HeaderBlock,
    grpc_status: Option<(u32, String)>,
    body: BytesMut,
    received: u64,
    recv_unacked: u32,
    send_window: i64,
    /// Body bytes not sent yet (waiting for flow-control credit).
    pending: Bytes,
    done: Option<Result<(), RequestError>>,
    waker: Option<Waker>,
}

impl H2Conn {
    /// Starts HTTP/2 on `io` (prior knowledge or ALPN h2): queues the preface and our
    /// settings and spawns the driver on the current runtime. Nothing is awaited: the
    /// first exchange's frames follow the preface in the same write.
    pub fn start(io: Stream) -> Arc<H2Conn> {
        let mut out = Vec::with_capacity(4096);
        out.extend_from_slice(PREFACE);
        let settings: [(u16, u32); 2] = [
            (SETTINGS_ENABLE_PUSH, 0),
            (SETTINGS_INITIAL_WINDOW_SIZE, STREAM_WINDOW),
        ];
        frame_head(&mut out, settings.len() * 6, SETTINGS, 0, 0);
        for (id, value) in settings {
            out.extend_from_slice(&id.to_be_bytes());
            out.extend_from_slice(&value.to_be_bytes());
        }
        window_update(&mut out, 0, CONN_WINDOW - DEFAULT_WINDOW as u32);
        let conn = Arc::new(H2Conn {
            inner: Mutex::new(Inner {
                out,
                encoder: hpack::Encoder::default(),
                driver: None,
                streams: HashMap::new(),
                blocked: Vec::new(),
                next_id: 1,
                active: 0,
                max_streams: usize::MAX,
                capacity_waiters: Vec::new(),
                peer_initial_window: DEFAULT_WINDOW,
                peer_max_frame: DEFAULT_MAX_FRAME,
                conn_send_window: DEFAULT_WINDOW,
                conn_recv_unacked: 0,
                closed: None,
                closing: false,
            }),
        });
        tokio::spawn(Driver {
            conn: conn.clone(),
            io,
            rbuf: Vec::with_capacity(2 * MAX_FRAME_IN),
            rstart: 0,
            wbuf: Vec::with_capacity(4096),
            written: 0,
            decoder: hpack::Decoder::default(),
            continuation: None,
        });
        conn
    }

    /// Whether new exchanges fail at once (the connection broke or is going away).
    pub fn is_closed(&self) -> bool {
        self.lock().closed.is_some()
    }

    /// Lets the driver end (and close the socket) once no exchange is left.
    pub fn close(&self) {
        let mut g = self.lock();
        g.closing = true;
        g.wake_driver();
    }

    /// Sends `tpl` with `body` (gRPC: already framed) and reads the whole response.
    pub async fn exchange(
        &self,
        tpl: &Template,
        body: &Bytes,
        keep: Keep,
    ) -> Result<Response, RequestError> {
        let id = poll_fn(|cx| self.poll_open(cx, tpl, body, keep)).await?;
        let mut guard = StreamGuard {
            conn: self,
            id,
            armed: true,
        };
        let result = poll_fn(|cx| self.poll_response(cx, id)).await;
        guard.armed = false;
        result
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().expect("HTTP/2 connection state poisoned")
    }

    fn poll_open(
        &self,
        cx: &mut Context<'_>,
        tpl: &Template,
        body: &Bytes,
        keep: Keep,
    ) -> Poll<Result<u32, RequestError>> {
        let mut g = self.lock();
        if let Some((kind, message)) = &g.closed {
            return Poll::Ready(Err(RequestError::text(kind.clone(), message.clone())));
        }
        if g.active >= g.max_streams {
            g.capacity_waiters.push(cx.waker().clone());
            return Poll::Pending;
        }
        if g.next_id > MAX_STREAM_ID {
            let why = "HTTP/2: stream ids used up; a new connection follows";
            g.closed = Some((ErrorKind::Reset, why.into()));
            return Poll::Ready(Err(RequestError::new(ErrorKind::Reset, why)));
        }
        let inner = &mut *g;
        let id = inner.next_id;
        inner.next_id += 2;
        inner.active += 1;
        let max_frame = inner.peer_max_frame;
        let block = inner.encoder.block(tpl.h2_id, &tpl.h2_block);
        headers_frames(&mut inner.out, id, block, body.is_empty(), max_frame);
        let mut stream = StreamState {
            keep,
            grpc: tpl.protocol == Protocol::Grpc,
            status: 0,
            got_head: false,
            headers: Vec::new(),
            grpc_status: None,
            body: BytesMut::new(),
            received: 0,
            recv_unacked: 0,
            send_window: inner.peer_initial_window,
            pending: body.clone(),
            done: None,
            waker: None,
        };
        if !send_pending(
            &mut inner.out,
            &mut inner.conn_send_window,
            max_frame,
            id,
            &mut stream,
        ) {
            inner.blocked.push(id);
        }
        inner.streams.insert(id, stream);
        inner.wake_driver();
        Poll::Ready(Ok(id))
    }

    fn poll_response(&self, cx: &mut Context<'_>, id: u32) -> Poll<Result<Response, RequestError>> {
        let mut g = self.lock();
        let Some(stream) = g.streams.get_mut(&id) else {
            return Poll::Ready(Err(RequestError::new(
                ErrorKind::Protocol,
                "HTTP/2 stream lost",
            )));
        };
        if stream.done.is_none() {
            match &stream.waker {
                Some(w) if w.will_wake(cx.waker()) => {}
                _ => stream.waker = Some(cx.waker().clone()),
            }
            return Poll::Pending;
        }
        let stream = g.streams.remove(&id).expect("stream present");
        drop(g);
        Poll::Ready(stream.into_response())
    }

    /// The exchange was dropped before its response: reset the stream.
    fn cancel(&self, id: u32) {
        let mut g = self.lock();
        if let Some(stream) = g.streams.remove(&id) {
            if stream.done.is_none() {
                g.blocked.retain(|b| *b != id);
                rst_stream(&mut g.out, id, CANCEL);
                g.release_stream();
                g.wake_driver();
            }
        }
    }
}

/// Resets the stream when the exchange future is dropped before the response.
struct StreamGuard<'a> {
    conn: &'a H2Conn,
    id: u32,
    armed: bool,
}

impl Drop for StreamGuard<'_> {
    fn drop(&mut self) {
        if self.armed {
            self.conn.cancel(self.id);
        }
    }
}

impl StreamState {
    fn into_response(self) -> Result<Response, RequestError> {
        self.done.expect("finished stream")?;
        let mut body = self.body.freeze();
        let mut messages = 0;
        if self.grpc {
            let (first, count) = deframe(&body);
            body = first;
            messages = count;
            if self.status == 200 && self.grpc_status.is_none() {
                return Err(RequestError::new(
                    ErrorKind::Protocol,
                    "gRPC response without grpc-status",
                ));
            }
        }
        Ok(Response {
            status: self.status,
            headers: self.headers,
            body,
            bytes_received: self.received,
            grpc_status: self.grpc_status,
            messages,
            received_at: None,
        })
    }
}

impl Inner {
    fn wake_driver(&mut self) {
        if let Some(w) = self.driver.take() {
            w.wake();
        }
    }

    /// A stream stopped counting against the server's concurrency limit.
    fn release_stream(&mut self) {
        self.active = self.active.saturating_sub(1);
        // Every waiter: one may have been cancelled and would not pass the slot on.
        for w in self.capacity_waiters.drain(..) {
            w.wake();
        }
    }

    fn finish(&mut self, id: u32, result: Result<(), RequestError>) {
        let Some(stream) = self.streams.get_mut(&id) else {
            return;
        };
        if stream.done.is_some() {
            return;
        }
        let unsent = !stream.pending.is_empty();
        stream.pending = Bytes::new();
        stream.done = Some(result);
        if let Some(w) = stream.waker.take() {
            w.wake();
        }
        if unsent {
            // The server answered before taking the whole body: stop sending it.
            self.blocked.retain(|b| *b != id);
            rst_stream(&mut self.out, id, CANCEL);
        }
        self.release_stream();
    }

    /// Fails every unfinished stream and refuses new ones.
    fn fail_all(&mut self, kind: ErrorKind, message: &str) {
        if self.closed.is_none() {
            self.closed = Some((kind.clone(), message.to_owned()));
        }
        let ids: Vec<u32> = self
            .streams
            .iter()
            .filter(|(_, s)| s.done.is_none())
            .map(|(id, _)| *id)
            .collect();
        for id in ids {
            self.finish(
                id,
                Err(RequestError::text(kind.clone(), message.to_owned())),
            );
        }
        for w in self.capacity_waiters.drain(..) {
            w.wake();
        }
    }

    /// Sends body bytes that were waiting for credit.
    fn unblock(&mut self) {
        if self.blocked.is_empty() {
            return;
        }
        let mut blocked = std::mem::take(&mut self.blocked);
        let max_frame = self.peer_max_frame;
        blocked.retain(|id| match self.streams.get_mut(id) {
            Some(stream) => !send_pending(
                &mut self.out,
                &mut self.conn_send_window,
                max_frame,
                *id,
                stream,
            ),
            None => false,
        });
        self.blocked = blocked;
    }
}

/// Owns the socket: writes what exchanges queued, reads and dispatches frames.
struct Driver {
    conn: Arc<H2Conn>,
    io: Stream,
    rbuf: Vec<u8>,
    rstart: usize,
    wbuf: Vec<u8>,
    written: usize,
    decoder: hpack::Decoder,
    /// A header block waiting for CONTINUATION frames: stream, HEADERS flags, bytes.
    continuation: Option<(u32, u8, Vec<u8>)>,
}

/// A connection-level failure: every stream fails with it.
struct ConnError(ErrorKind, String);

impl ConnError {
    fn protocol(why: &str) -> Self {
        Self(ErrorKind::Protocol, format!("HTTP/2: {why}"))
    }
}

impl Future for Driver {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        match this.drive(cx) {
            Poll::Ready(Err(ConnError(kind, message))) => {
                this.conn.lock().fail_all(kind, &message);
                Poll::Ready(())
            }
            Poll::Ready(Ok(())) => Poll::Ready(()),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl Driver {
    fn drive(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), ConnError>> {
        loop {
            let mut progress = false;
            let mut wrote = false;
            loop {
                if self.written == self.wbuf.len() {
                    self.wbuf.clear();
                    self.written = 0;
                    let mut g = self.conn.lock();
                    if g.out.is_empty() {
                        if g.closing && g.streams.is_empty() {
                            return Poll::Ready(Ok(()));
                        }
                        match &g.driver {
                            Some(w) if w.will_wake(cx.waker()) => {}
                            _ => g.driver = Some(cx.waker().clone()),
                        }
                        break;
                    }
                    std::mem::swap(&mut g.out, &mut self.wbuf);
                }
                match Pin::new(&mut self.io).poll_write(cx, &self.wbuf[self.written..]) {
                    Poll::Ready(Ok(0)) => {
                        return Poll::Ready(Err(ConnError(
                            ErrorKind::Reset,
                            "HTTP/2 connection closed while writing".into(),
                        )))
                    }
                    Poll::Ready(Ok(n)) => {
                        self.written += n;
                        progress = true;
                        wrote = true;
                    }
                    Poll::Ready(Err(e)) => return Poll::Ready(Err(io_error(e))),
                    Poll::Pending => break,
                }
            }
            if wrote {
                if let Poll::Ready(Err(e)) = Pin::new(&mut self.io).poll_flush(cx) {
                    return Poll::Ready(Err(io_error(e)));
                }
            }

            if self.rstart == self.rbuf.len() {
                self.rbuf.clear();
                self.rstart = 0;
            } else if self.rstart > self.rbuf.capacity() / 2 {
                self.rbuf.drain(..self.rstart);
                self.rstart = 0;
            }
            self.rbuf.reserve(MAX_FRAME_IN + 9);
            let filled = self.rbuf.len();
            let mut read = ReadBuf::uninit(self.rbuf.spare_capacity_mut());
            match Pin::new(&mut self.io).poll_read(cx, &mut read) {
                Poll::Ready(Ok(())) => {
                    let n = read.filled().len();
                    if n == 0 {
                        return Poll::Ready(Err(ConnError(
                            ErrorKind::Reset,
                            "HTTP/2 connection closed by the server".into(),
                        )));
                    }
                    // SAFETY: `poll_read` initialized `n` bytes of the spare capacity.
                    unsafe { self.rbuf.set_len(filled + n) };
                    self.on_read()?;
                    progress = true;
                }
                Poll::Ready(Err(e)) => return Poll::Ready(Err(io_error(e))),
                Poll::Pending => {}
            }
            if !progress {
                return Poll::Pending;
            }
        }
    }

    /// Handles every complete frame in the read buffer, under one lock.
    fn on_read(&mut self) -> Result<(), ConnError> {
        let conn = self.conn.clone();
        let mut g = conn.lock();
        loop {
            let buf = &self.rbuf[self.rstart..];
            if buf.len() < 9 {
                break;
            }
            let len = u32::from_be_bytes([0, buf[0], buf[1], buf[2]]) as usize;
            if len > MAX_FRAME_IN {
                return Err(ConnError::protocol(
                    "frame larger than SETTINGS_MAX_FRAME_SIZE",
                ));
            }
            if buf.len() < 9 + len {
                break;
            }
            let kind = buf[3];
            let flags = buf[4];
            let id = u32::from_be_bytes([buf[5], buf[6], buf[7], buf[8]]) & MAX_STREAM_ID;
            let start = self.rstart + 9;
            self.rstart = start + len;
            // The payload is borrowed from `rbuf` while frames may need `self.decoder`
            // and `self.continuation`: take the buffer out for the call.
            let rbuf = std::mem::take(&mut self.rbuf);
            let result = self.on_frame(&mut g, kind, flags, id, &rbuf[start..start + len]);
            self.rbuf = rbuf;
            result?;
        }
        g.unblock();
        Ok(())
    }

    fn on_frame(
        &mut self,
        g: &mut Inner,
        kind: u8,
        flags: u8,
        id: u32,
        payload: &[u8],
    ) -> Result<(), ConnError> {
        if self.continuation.is_some() && kind != CONTINUATION {
            return Err(ConnError::protocol("header block interrupted"));
        }
        match kind {
            DATA => self.on_data(g, flags, id, payload),
            HEADERS => {
                let mut block = unpad(flags, payload)?;
                if flags & PRIORITY != 0 {
                    block = block
                        .get(5..)
                        .ok_or_else(|| ConnError::protocol("short HEADERS frame"))?;
                }
                if flags & END_HEADERS == 0 {
                    self.continuation = Some((id, flags, block.to_vec()));
                    return Ok(());
                }
                self.on_header_block(g, id, flags, block)
            }
            CONTINUATION => {
                let Some((stream, head_flags, mut block)) = self.continuation.take() else {
                    return Err(ConnError::protocol("unexpected CONTINUATION"));
                };
                if stream != id {
                    return Err(ConnError::protocol("CONTINUATION on another stream"));
                }
                block.extend_from_slice(payload);
                if block.len() > MAX_HEADER_BLOCK {
                    return Err(ConnError::protocol("header block too large"));
                }
                if flags & END_HEADERS == 0 {
                    self.continuation = Some((stream, head_flags, block));
                    return Ok(());
                }
                self.on_header_block(g, id, head_flags, &block)
            }
            RST_STREAM => {
                let code = be32(payload).ok_or_else(|| ConnError::protocol("short RST_STREAM"))?;
                g.finish(
                    id,
                    Err(RequestError::text(
                        ErrorKind::Reset,
                        format!("HTTP/2: stream reset by the server (error code {code})"),
                    )),
                );
                Ok(())
            }
            SETTINGS => {
                if flags & ACK == 0 {
                    self.on_settings(g, payload)?;
                    frame_head(&mut g.out, 0, SETTINGS, ACK, 0);
                }
                Ok(())
            }
            PING => {
                if flags & ACK == 0 {
                    frame_head(&mut g.out, payload.len(), PING, ACK, 0);
                    g.out.extend_from_slice(payload);
                }
                Ok(())
            }
            GOAWAY => {
                let last = be32(payload).ok_or_else(|| ConnError::protocol("short GOAWAY"))?
                    & MAX_STREAM_ID;
                let code = payload.get(4..8).and_then(be32).unwrap_or(0);
                let why = format!(
                    "HTTP/2: the server is closing the connection (GOAWAY, error code {code})"
                );
                g.closed = Some((ErrorKind::Reset, why.clone()));
                let refused: Vec<u32> = g.streams.keys().copied().filter(|s| *s > last).collect();
                for stream in refused {
                    g.finish(
                        stream,
                        Err(RequestError::text(ErrorKind::Reset, why.clone())),
                    );
                }
                Ok(())
            }
            WINDOW_UPDATE => {
                let increment = be32(payload)
                    .ok_or_else(|| ConnError::protocol("short WINDOW_UPDATE"))?
                    & MAX_STREAM_ID;
                if id == 0 {
                    g.conn_send_window += increment as i64;
                } else if let Some(stream) = g.streams.get_mut(&id) {
                    stream.send_window += increment as i64;
                }
                Ok(())
            }
            PUSH_PROMISE => Err(ConnError::protocol("server push, which we disabled")),
            // PRIORITY and unknown frame types are ignored, as the protocol asks.
            _ => Ok(()),
        }
    }

    fn on_data(
        &mut self,
        g: &mut Inner,
        flags: u8,
        id: u32,
        payload: &[u8],
    ) -> Result<(), ConnError> {
        let data = unpad(flags, payload)?;
        g.conn_recv_unacked += payload.len() as u32;
        if g.conn_recv_unacked >= CONN_WINDOW / 2 {
            let credit = std::mem::take(&mut g.conn_recv_unacked);
            window_update(&mut g.out, 0, credit);
        }
        let inner = &mut *g;
        let Some(stream) = inner.streams.get_mut(&id).filter(|s| s.done.is_none()) else {
            return Ok(()); // a stream we reset or finished: its data only costs credit
        };
        let finish = if !stream.got_head {
            Some(Err(RequestError::new(
                ErrorKind::Protocol,
                "HTTP/2: DATA before HEADERS",
            )))
        } else {
            stream.received += data.len() as u64;
            if stream.keep.body || stream.grpc {
                stream.body.extend_from_slice(data);
            } else if stream.status >= 400 && stream.body.len() < BODY_SAMPLE_BYTES {
                // A failed answer's first bytes go with the failure's sample.
                let room = BODY_SAMPLE_BYTES - stream.body.len();
                stream.body.extend_from_slice(&data[..data.len().min(room)]);
            }
            if flags & END_STREAM != 0 {
                Some(Ok(()))
            } else {
                stream.recv_unacked += payload.len() as u32;
                if stream.recv_unacked >= STREAM_WINDOW / 2 {
                    let credit = std::mem::take(&mut stream.recv_unacked);
                    window_update(&mut inner.out, id, credit);
                }
                None
            }
        };
        if let Some(result) = finish {
            g.finish(id, result);
        }
        Ok(())
    }

    fn on_header_block(
        &mut self,
        g: &mut Inner,
        id: u32,
        flags: u8,
        block: &[u8],
    ) -> Result<(), ConnError> {
        // Decoded even for streams we no longer track: the dynamic table must follow.
        let mut stream = g.streams.get_mut(&id).filter(|s| s.done.is_none());
        let trailers = stream.as_ref().is_some_and(|s| s.got_head);
        let mut status: Option<u16> = None;
        let mut grpc_code: Option<u32> = None;
        let mut grpc_message: Option<String> = None;
        self.decoder
            .decode(block, |name, value| {
                let Some(stream) = stream.as_deref_mut() else {
                    return;
                };
                if name == b":status" {
                    status = std::str::from_utf8(value).ok().and_then(|v| v.parse().ok());
                    return;
                }
                if name.first() == Some(&b':') {
                    return;
                }
                if stream.grpc {
                    if name == b"grpc-status" {
                        grpc_code = std::str::from_utf8(value)
                            .ok()
                            .and_then(|v| v.trim().parse().ok());
                    } else if name == b"grpc-message" {
                        grpc_message = Some(percent_decode(&String::from_utf8_lossy(value)));
                    }
                }
                if stream.keep.headers {
                    push_header(&mut stream.headers, name, value);
                }
            })
            .map_err(|e| ConnError(ErrorKind::Protocol, format!("HTTP/2: HPACK: {}", e.0)))?;
        let finish = stream.and_then(|stream| {
            if !trailers {
                match status {
                    Some(s) if (100..200).contains(&s) => return None, // informational
                    Some(s) => {
                        stream.status = s;
                        stream.got_head = true;
                    }
                    None => {
                        return Some(Err(RequestError::new(
                            ErrorKind::Protocol,
                            "HTTP/2: response without :status",
                        )))
                    }
                }
            }
            if let Some(code) = grpc_code {
                stream.grpc_status = Some((code, grpc_message.unwrap_or_default()));
            }
            if flags & END_STREAM != 0 {
                Some(Ok(()))
            } else if trailers {
                Some(Err(RequestError::new(
                    ErrorKind::Protocol,
                    "HTTP/2: trailers without END_STREAM",
                )))
            } else {
                None
            }
        });
        if let Some(result) = finish {
            g.finish(id, result);
        }
        Ok(())
    }

    fn on_settings(&mut self, g: &mut Inner, payload: &[u8]) -> Result<(), ConnError> {
        if !payload.len().is_multiple_of(6) {
            return Err(ConnError::protocol("malformed SETTINGS"));
        }
        for entry in payload.chunks_exact(6) {
            let id = u16::from_be_bytes([entry[0], entry[1]]);
            let value = u32::from_be_bytes([entry[2], entry[3], entry[4], entry[5]]);
            match id {
                SETTINGS_HEADER_TABLE_SIZE => g.encoder.set_max_size(value as usize),
                SETTINGS_MAX_CONCURRENT_STREAMS => {
                    g.max_streams = value as usize;
                    for w in g.capacity_waiters.drain(..) {
                        w.wake();
                    }
                }
                SETTINGS_INITIAL_WINDOW_SIZE => {
                    if value > MAX_STREAM_ID {
                        return Err(ConnError::protocol("initial window too large"));
                    }
                    let delta = value as i64 - g.peer_initial_window;
                    g.peer_initial_window = value as i64;
                    for stream in g.streams.values_mut() {
                        stream.send_window += delta;
                    }
                }
                SETTINGS_MAX_FRAME_SIZE => {
                    if !(16_384..=16_777_215).contains(&value) {
                        return Err(ConnError::protocol("invalid SETTINGS_MAX_FRAME_SIZE"));
                    }
                    g.peer_max_frame = value as usize;
                }
                _ => {}
            }
        }
        Ok(())
    }
}

fn io_error(e: std::io::Error) -> ConnError {
    let e = RequestError::io(e);
    ConnError(e.kind, format!("HTTP/2: {}", e.detail))
}

fn be32(b: &[u8]) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(..4)?.try_into().ok()?))
}

/// The payload without its padding (PADDED flag).
fn unpad(flags: u8, payload: &[u8]) -> Result<&[u8], ConnError> {
    if flags & PADDED == 0 {
        return Ok(payload);
    }
    let pad = *payload
        .first()
        .ok_or_else(|| ConnError::protocol("short padded frame"))? as usize;
    if pad + 1 > payload.len() {
        return Err(ConnError::protocol("padding longer than the frame"));
    }
    Ok(&payload[1..payload.len() - pad])
}

fn frame_head(out: &mut Vec<u8>, len: usize, kind: u8, flags: u8, id: u32) {
    let len = len as u32;
    out.extend_from_slice(&len.to_be_bytes()[1..]);
    out.push(kind);
    out.push(flags);
    out.extend_from_slice(&id.to_be_bytes());
}

fn window_update(out: &mut Vec<u8>, id: u32, increment: u32) {
    frame_head(out, 4, WINDOW_UPDATE, 0, id);
    out.extend_from_slice(&increment.to_be_bytes());
}

fn rst_stream(out: &mut Vec<u8>, id: u32, code: u32) {
    frame_head(out, 4, RST_STREAM, 0, id);
    out.extend_from_slice(&code.to_be_bytes());
}

/// HEADERS (and CONTINUATION frames when the block exceeds the server's frame size).
fn headers_frames(out: &mut Vec<u8>, id: u32, block: &[u8], end_stream: bool, max_frame: usize) {
    let end = if end_stream { END_STREAM } else { 0 };
    let mut chunks = block.chunks(max_frame).peekable();
    let first = chunks.next().unwrap_or(&[]);
    let last = chunks.peek().is_none();
    frame_head(
        out,
        first.len(),
        HEADERS,
        end | if last { END_HEADERS } else { 0 },
        id,
    );
    out.extend_from_slice(first);
    while let Some(chunk) = chunks.next() {
        let last = chunks.peek().is_none();
        frame_head(
            out,
            chunk.len(),
            CONTINUATION,
            if last { END_HEADERS } else { 0 },
            id,
        );
        out.extend_from_slice(chunk);
    }
}

/// Sends as much of the stream's pending body as the windows allow; true when all sent.
fn send_pending(
    out: &mut Vec<u8>,
    conn_window: &mut i64,
    max_frame: usize,
    id: u32,
    stream: &mut StreamState,
) -> bool {
    while !stream.pending.is_empty() {
        let credit = (*conn_window).min(stream.send_window);
        if credit <= 0 {
            return false;
        }
        let n = stream.pending.len().min(max_frame).min(credit as usize);
        let last = n == stream.pending.len();
        frame_head(out, n, DATA, if last { END_STREAM } else { 0 }, id);
        out.extend_from_slice(&stream.pending[..n]);
        stream.pending = stream.pending.slice(n..);
        *conn_window -= n as i64;
        stream.send_window -= n as i64;
    }
    true
}

/// The request's header block, encoded once per template: static-table entries where they
/// match exactly, everything else as literals without indexing (which leave the HPACK
/// dynamic table alone, so the block can be sent as is on any connection, any number of
/// times).
pub fn encode_request_block(
    method: &http::Method,
    uri: &http::Uri,
    headers: &http::HeaderMap,
) -> Bytes {
    let mut out = Vec::with_capacity(64 + headers.len() * 32);
    match method.as_str() {
        "GET" => out.push(0x82),
        "POST" => out.push(0x83),
        other => literal_indexed_name(&mut out, 2, other.as_bytes()),
    }
    out.push(if uri.scheme_str() == Some("https") {
        0x87
    } else {
        0x86
    });
    if let Some(authority) = uri.authority() {
        literal_indexed_name(&mut out, 1, authority.as_str().as_bytes());
    }
    let path = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    if path == "/" {
        out.push(0x84);
    } else {
        literal_indexed_name(&mut out, 4, path.as_bytes());
    }
    for (name, value) in headers {
        out.push(0x00);
        hpack::encode_string(&mut out, name.as_str().as_bytes());
        hpack::encode_string(&mut out, value.as_bytes());
    }
    Bytes::from(out)
}

/// Literal header field without indexing, name from the static table.
fn literal_indexed_name(out: &mut Vec<u8>, index: usize, value: &[u8]) {
    hpack::encode_int(out, index, 4, 0x00);
    hpack::encode_string(out, value);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_block_round_trips_through_a_decoder() {
        let uri: http::Uri = "http://127.0.0.1:8080/helloworld.Greeter/SayHello?x=1"
            .parse()
            .unwrap();
        let mut headers = http::HeaderMap::new();
        headers.insert("te", "trailers".parse().unwrap());
        headers.insert("x-long", "v".repeat(300).parse().unwrap());
        let block = encode_request_block(&http::Method::POST, &uri, &headers);
        let mut decoder = hpack::Decoder::default();
        let mut pairs: Vec<(String, String)> = Vec::new();
        let mut collect = |n: &[u8], v: &[u8]| {
            pairs.push((
                String::from_utf8(n.to_vec()).unwrap(),
                String::from_utf8(v.to_vec()).unwrap(),
            ))
        };
        decoder.decode(&block, &mut collect).unwrap();
        assert_eq!(
            pairs,
            vec![
                (":method".into(), "POST".into()),
                (":scheme".into(), "http".into()),
                (":authority".into(), "127.0.0.1:8080".into()),
                (":path".into(), "/helloworld.Greeter/SayHello?x=1".into()),
                ("te".into(), "trailers".into()),
                ("x-long".into(), "v".repeat(300)),
            ]
        );
        // The same bytes decode the same way again: the dynamic table was left alone.
        let mut again = 0;
        decoder.decode(&block, |_, _| again += 1).unwrap();
        assert_eq!(again, 6);
    }

    #[test]
    fn hpack_integers_use_continuation_bytes_past_the_prefix() {
        let mut out = Vec::new();
        hpack::encode_int(&mut out, 1337, 5, 0);
        assert_eq!(out, [31, 154, 10]); // RFC 7541, C.1.2
        out.clear();
        hpack::encode_int(&mut out, 10, 5, 0);
        assert_eq!(out, [10]);
    }

    #[test]
    fn long_header_blocks_are_split_into_continuations() {
        let block = vec![7u8; 40_000];
        let mut out = Vec::new();
        headers_frames(&mut out, 3, &block, true, 16_384);
        // HEADERS 16384 + CONTINUATION 16384 + CONTINUATION 7232, 9-byte heads.
        assert_eq!(out.len(), 40_000 + 3 * 9);
        assert_eq!(out[3], HEADERS);
        assert_eq!(out[4], END_STREAM);
        let second = 9 + 16_384;
        assert_eq!(out[second + 3], CONTINUATION);
        assert_eq!(out[second + 4], 0);
        let third = second + 9 + 16_384;
        assert_eq!(out[third + 3], CONTINUATION);
        assert_eq!(out[third + 4], END_HEADERS);
    }
}
