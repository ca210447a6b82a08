//! A user's connections: its own HTTP/1.1 connections per target, and leases on the
//! thread's shared HTTP/2 connections (users multiplex streams over a few of them).

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use h2::client::SendRequest;

use crate::net::connect::{connect, Alpn};
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
    generation: u64,
    send: Option<SendRequest<Bytes>>,
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
                generation: 0,
                send: None,
                http1_only: false,
            }),
        });
        slots.push(slot.clone());
        slot
    }
}

struct H2Lease {
    target: u32,
    slot: Arc<H2Slot>,
    generation: u64,
    send: SendRequest<Bytes>,
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

    /// Sends `tpl` on a suitable connection and reads the response.
    pub async fn send(
        &mut self,
        net: &Net,
        pool: &H2Pool,
        tpl: &Template,
        keep: Keep,
    ) -> Result<Response, RequestError> {
        match tpl.protocol {
            Protocol::Http1 => self.send_h1(net, tpl, keep, Alpn::Http1).await,
            Protocol::Http2 | Protocol::Grpc => {
                if net.connection_per_request {
                    return self.send_h2_fresh(net, tpl, keep).await;
                }
                if tpl.protocol == Protocol::Http2 && self.h1_fallback.contains(&tpl.target.id) {
                    return self.send_h1(net, tpl, keep, Alpn::Http1).await;
                }
                match self.h2_route(net, pool, tpl).await? {
                    H2Route::Http1 => self.send_h1(net, tpl, keep, Alpn::Http1).await,
                    H2Route::Lease(i) => {
                        let result = http2::exchange(&self.h2[i].send, tpl, keep).await;
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
        match self.h2_route(net, pool, tpl).await? {
            H2Route::Lease(i) => Ok(self.h2[i].send.clone()),
            H2Route::Http1 => Err(RequestError::new(
                ErrorKind::Protocol,
                "server does not speak HTTP/2 (ALPN chose http/1.1)",
            )),
        }
    }

    /// After a streaming call failed: forget the lease on `target`'s connection (cleared
    /// for everyone if it is broken), as a failed exchange does.
    pub async fn forget_h2(&mut self, target: u32) {
        if let Some(i) = self.h2.iter().position(|l| l.target == target) {
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
        keep: Keep,
    ) -> Result<Response, RequestError> {
        let stream = connect(&tpl.target, net.tls.as_ref(), Alpn::H2, net.connect_timeout).await?;
        if is_http1(&stream) {
            return self.exchange_fallback(stream, tpl, keep).await;
        }
        let send = http2::handshake(stream).await?;
        http2::exchange(&send, tpl, keep).await
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
    ) -> Result<H2Route, RequestError> {
        let target: &Target = &tpl.target;
        if let Some(i) = self.h2.iter().position(|l| l.target == target.id) {
            return Ok(H2Route::Lease(i));
        }
        let slot = pool.slot(target.id, self.seq % net.h2_connections.max(1));
        let mut state = slot.state.lock().await;
        if state.http1_only {
            drop(state);
            if tpl.protocol == Protocol::Grpc {
                return Err(RequestError::new(
                    ErrorKind::Protocol,
                    "server does not speak HTTP/2 (ALPN chose http/1.1)",
                ));
            }
            self.h1_fallback.push(target.id);
            return Ok(H2Route::Http1);
        }
        let send = match &state.send {
            Some(send) => send.clone(),
            None => {
                let stream =
                    connect(target, net.tls.as_ref(), Alpn::H2, net.connect_timeout).await?;
                if is_http1(&stream) {
                    state.http1_only = true;
                    drop(state);
                    if tpl.protocol == Protocol::Grpc {
                        return Err(RequestError::new(
                            ErrorKind::Protocol,
                            "server does not speak HTTP/2 (ALPN chose http/1.1)",
                        ));
                    }
                    self.h1_fallback.push(target.id);
                    self.h1.push((target.id, Http1Conn::new(stream)));
                    return Ok(H2Route::Http1);
                }
                let send = http2::handshake(stream).await?;
                state.generation += 1;
                state.send = Some(send.clone());
                send
            }
        };
        let generation = state.generation;
        drop(state);
        self.h2.push(H2Lease {
            target: target.id,
            slot,
            generation,
            send,
        });
        Ok(H2Route::Lease(self.h2.len() - 1))
    }

    /// Forgets a lease after an error; the first user to see a broken connection clears
    /// the slot so the next request reconnects once, not once per user.
    async fn drop_lease(&mut self, i: usize) {
        let lease = self.h2.swap_remove(i);
        let broken = lease.send.clone().ready().await.is_err();
        if broken {
            let mut state = lease.slot.state.lock().await;
            if state.generation == lease.generation {
                state.send = None;
            }
        }
    }
}

fn is_http1(stream: &Stream) -> bool {
    matches!(stream.alpn(), Some(p) if p != b"h2")
}
