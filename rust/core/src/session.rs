//! A user's connections: its own HTTP/1.1 connections per target, and leases on the
//! thread's shared HTTP/2 connections (users multiplex streams over a few of them).
//!
//! A shared slot holds up to two HTTP/2 connections, each opened on first use:
//! - our own (`H2Conn`) for requests from Python tasks. They arrive in bursts (one
//!   `submit_batch` per event-loop pass) that it sends in one write; for scripted unary
//!   gRPC it costs about half the CPU of the `h2` crate.
//! - an `h2` crate connection for declarative requests and for streaming gRPC calls. A
//!   declarative user sends its next request the moment its response is read; against
//!   nginx the `h2` crate's pacing of that ping-pong measured 1.4x the throughput of
//!   `H2Conn`'s (benches/README.md), so declarative HTTP/2 stays on it.

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use h2::client::SendRequest;

use crate::net::connect::{connect, Alpn};
use crate::net::h2conn::H2Conn;
use crate::net::http1::Http1Conn;
use crate::net::stream::Stream;
use crate::net::tls::TlsConfigs;
use crate::net::{http2, Keep, RequestError, Response};
use crate::plan::{Protocol, Target, Template};
use crate::recorder::ErrorKind;

/// Connection settings shared by every session.
pub struct Net {
    pub tls: Option<TlsConfigs>,
    pub connect_timeout: std::time::Duration,
    pub connection_per_request: bool,
    /// HTTP/2 connections per target per runtime thread; users are spread over them.
    pub h2_connections: usize,
}

struct SlotState {
    own: Option<Arc<H2Conn>>,
    shared: Option<SendRequest<Bytes>>,
    /// Bumped when `shared` is replaced, so a broken one is cleared once.
    generation: u64,
    /// The server answered ALPN with http/1.1: HTTP/2 templates fall back to it.
    http1_only: bool,
}

/// One shared HTTP/2 connection of a thread.
pub struct H2Slot {
    target: u32,
    index: usize,
    state: tokio::sync::Mutex<SlotState>,
}

/// A thread's HTTP/2 connections.
#[derive(Default)]
pub struct H2Pool {
    slots: Mutex<Vec<Arc<H2Slot>>>,
}

impl H2Pool {
    fn slot(&self, target: u32, index: usize) -> Arc<H2Slot> {
        let mut slots = self.slots.lock().expect("h2 pool poisoned");
        if let Some(s) = slots
            .iter()
            .find(|s| s.target == target && s.index == index)
        {
            return s.clone();
        }
        let slot = Arc::new(H2Slot {
            target,
            index,
            state: tokio::sync::Mutex::new(SlotState {
                own: None,
                shared: None,
                generation: 0,
                http1_only: false,
            }),
        });
        slots.push(slot.clone());
        slot
    }
}

/// One of a slot's two HTTP/2 connections.
#[derive(Clone)]
enum H2Client {
    Own(Arc<H2Conn>),
    Shared(SendRequest<Bytes>, u64),
}

struct H2Lease {
    target: u32,
    slot: Arc<H2Slot>,
    client: H2Client,
}

enum H2Route {
    Lease(usize),
    Http1,
}

/// The connections one user (or one in-flight iteration) uses.
pub struct Session {
    seq: usize,
    h1: Vec<(u32, Http1Conn)>,
    h2: Vec<H2Lease>,
    h1_fallback: Vec<u32>,
}

impl Session {
    /// A session; `seq` spreads sessions over the shared HTTP/2 connections.
    pub fn new(seq: usize) -> Self {
        Self {
            seq,
            h1: Vec::new(),
            h2: Vec::new(),
            h1_fallback: Vec::new(),
        }
    }

    /// Sends `tpl` on a suitable connection and reads the response. `body` (HTTP/2 and
    /// gRPC, already framed) replaces the template's: requests from Python, which go on
    /// our own HTTP/2 connection.
    pub async fn send(
        &mut self,
        net: &Net,
        pool: &H2Pool,
        tpl: &Template,
        body: Option<&Bytes>,
        keep: Keep,
    ) -> Result<Response, RequestError> {
        match tpl.protocol {
            Protocol::Http1 => self.send_h1(net, tpl, keep, Alpn::Http1).await,
            Protocol::Http2 | Protocol::Grpc => {
                let own = body.is_some();
                let body = body.unwrap_or(&tpl.body);
                if net.connection_per_request {
                    return self.send_h2_fresh(net, tpl, body, keep).await;
                }
                if tpl.protocol == Protocol::Http2 && self.h1_fallback.contains(&tpl.target.id) {
                    return self.send_h1(net, tpl, keep, Alpn::Http1).await;
                }
                match self.h2_route(net, pool, tpl, own).await? {
                    H2Route::Http1 => self.send_h1(net, tpl, keep, Alpn::Http1).await,
                    H2Route::Lease(i) => {
                        let result = match &self.h2[i].client {
                            H2Client::Own(conn) => conn.exchange(tpl, body, keep).await,
                            H2Client::Shared(send, _) => http2::exchange(send, tpl, keep).await,
                        };
                        if result.is_err() {
                            self.drop_lease(i).await;
                        }
                        result
                    }
                }
            }
        }
    }

    /// A shared HTTP/2 connection to `tpl`'s target, for a streaming gRPC call.
    pub async fn h2_sender(
        &mut self,
        net: &Net,
        pool: &H2Pool,
        tpl: &Template,
    ) -> Result<SendRequest<Bytes>, RequestError> {
        match self.h2_route(net, pool, tpl, false).await? {
            H2Route::Lease(i) => match &self.h2[i].client {
                H2Client::Shared(send, _) => Ok(send.clone()),
                H2Client::Own(_) => unreachable!("routed to the shared connection"),
            },
            H2Route::Http1 => Err(not_h2()),
        }
    }

    /// After a streaming call failed: forget the lease on `target`'s connection (cleared
    /// for everyone if it is broken), as a failed exchange does.
    pub async fn forget_h2(&mut self, target: u32) {
        if let Some(i) = self
            .h2
            .iter()
            .position(|l| l.target == target && matches!(l.client, H2Client::Shared(..)))
        {
            self.drop_lease(i).await;
        }
    }

    async fn send_h1(
        &mut self,
        net: &Net,
        tpl: &Template,
        keep: Keep,
        alpn: Alpn,
    ) -> Result<Response, RequestError> {
        let id = tpl.target.id;
        let pos = self.h1.iter().position(|(t, c)| *t == id && c.usable());
        let i = match pos {
            Some(i) => i,
            None => {
                self.h1.retain(|(t, _)| *t != id);
                let stream =
                    connect(&tpl.target, net.tls.as_ref(), alpn, net.connect_timeout).await?;
                self.h1.push((id, Http1Conn::new(stream)));
                self.h1.len() - 1
            }
        };
        let result = self.h1[i]
            .1
            .exchange(&tpl.h1_bytes, tpl.is_head, keep)
            .await;
        if result.is_err() || !self.h1[i].1.reusable || net.connection_per_request {
            self.h1.swap_remove(i);
        }
        result
    }

    async fn send_h2_fresh(
        &mut self,
        net: &Net,
        tpl: &Template,
        body: &Bytes,
        keep: Keep,
    ) -> Result<Response, RequestError> {
        let stream = connect(&tpl.target, net.tls.as_ref(), Alpn::H2, net.connect_timeout).await?;
        if is_http1(&stream) {
            return self.exchange_fallback(stream, tpl, keep).await;
        }
        let conn = H2Conn::start(stream);
        let result = conn.exchange(tpl, body, keep).await;
        conn.close();
        result
    }

    async fn exchange_fallback(
        &mut self,
        stream: Stream,
        tpl: &Template,
        keep: Keep,
    ) -> Result<Response, RequestError> {
        if tpl.protocol == Protocol::Grpc {
            return Err(RequestError::new(
                ErrorKind::Protocol,
                "server does not speak HTTP/2 (ALPN chose http/1.1)",
            ));
        }
        self.h1_fallback.push(tpl.target.id);
        let mut conn = Http1Conn::new(stream);
        let result = conn.exchange(&tpl.h1_bytes, tpl.is_head, keep).await;
        if result.is_ok() && conn.reusable {
            self.h1.push((tpl.target.id, conn));
        }
        result
    }

    async fn h2_route(
        &mut self,
        net: &Net,
        pool: &H2Pool,
        tpl: &Template,
        own: bool,
    ) -> Result<H2Route, RequestError> {
        let target: &Target = &tpl.target;
        if let Some(i) = self
            .h2
            .iter()
            .position(|l| l.target == target.id && matches!(l.client, H2Client::Own(_)) == own)
        {
            return Ok(H2Route::Lease(i));
        }
        let slot = pool.slot(target.id, self.seq % net.h2_connections.max(1));
        let mut state = slot.state.lock().await;
        let existing = if own {
            state
                .own
                .as_ref()
                .filter(|c| !c.is_closed())
                .map(|c| H2Client::Own(c.clone()))
        } else {
            state
                .shared
                .as_ref()
                .map(|s| H2Client::Shared(s.clone(), state.generation))
        };
        let client = match existing {
            Some(client) => client,
            None if state.http1_only => {
                drop(state);
                return self.fall_back(tpl, None);
            }
            None => {
                let stream =
                    connect(target, net.tls.as_ref(), Alpn::H2, net.connect_timeout).await?;
                if is_http1(&stream) {
                    state.http1_only = true;
                    drop(state);
                    return self.fall_back(tpl, Some(stream));
                }
                if own {
                    let conn = H2Conn::start(stream);
                    state.own = Some(conn.clone());
                    H2Client::Own(conn)
                } else {
                    let send = http2::handshake(stream).await?;
                    state.generation += 1;
                    state.shared = Some(send.clone());
                    H2Client::Shared(send, state.generation)
                }
            }
        };
        drop(state);
        self.h2.push(H2Lease {
            target: target.id,
            slot,
            client,
        });
        Ok(H2Route::Lease(self.h2.len() - 1))
    }

    /// The server chose HTTP/1.1: plain HTTP/2 requests use it from now on, gRPC fails.
    fn fall_back(
        &mut self,
        tpl: &Template,
        stream: Option<Stream>,
    ) -> Result<H2Route, RequestError> {
        if tpl.protocol == Protocol::Grpc {
            return Err(not_h2());
        }
        self.h1_fallback.push(tpl.target.id);
        if let Some(stream) = stream {
            self.h1.push((tpl.target.id, Http1Conn::new(stream)));
        }
        Ok(H2Route::Http1)
    }

    /// Forgets a lease after an error; the first user to see a broken connection clears
    /// the slot so the next request reconnects once, not once per user. (Our own
    /// connection knows it is closed; the next route replaces it under the slot's lock.)
    async fn drop_lease(&mut self, i: usize) {
        let lease = self.h2.swap_remove(i);
        if let H2Client::Shared(send, generation) = lease.client {
            if send.ready().await.is_err() {
                let mut state = lease.slot.state.lock().await;
                if state.generation == generation {
                    state.shared = None;
                }
            }
        }
    }
}

fn not_h2() -> RequestError {
    RequestError::new(
        ErrorKind::Protocol,
        "server does not speak HTTP/2 (ALPN chose http/1.1)",
    )
}

fn is_http1(stream: &Stream) -> bool {
    matches!(stream.alpn(), Some(p) if p != b"h2")
}
