//! Real loopback servers and plan builders for the engine's integration tests.
#![allow(dead_code)]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use loadforge_core::proto;
use prost::Message;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A running test server: its address and how many requests it answered.
pub struct Server {
    pub addr: SocketAddr,
    pub hits: Arc<AtomicU64>,
    /// Requests that arrived over HTTP/2.
    pub h2_hits: Arc<AtomicU64>,
    pub scheme: &'static str,
}

impl Server {
    pub fn url(&self, path: &str) -> String {
        format!("{}://{}{}", self.scheme, self.addr, path)
    }

    pub fn hits(&self) -> u64 {
        self.hits.load(Ordering::SeqCst)
    }
}

async fn route(
    req: Request<Incoming>,
    hits: Arc<AtomicU64>,
    h2_hits: Arc<AtomicU64>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    if req.version() == hyper::Version::HTTP_2 {
        h2_hits.fetch_add(1, Ordering::SeqCst);
    }
    let path = req.uri().path().to_owned();
    let query = req.uri().query().unwrap_or("").to_owned();
    if path == "/stall" {
        tokio::time::sleep(Duration::from_secs(3600)).await;
    }
    if path == "/slow" {
        let ms: u64 = query
            .strip_prefix("ms=")
            .and_then(|v| v.parse().ok())
            .unwrap_or(100);
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
    // Count when the answer is about to go out, so a stalled request is not counted.
    hits.fetch_add(1, Ordering::SeqCst);
    let (status, body): (u16, &'static str) = match path.as_str() {
        "/json" => (200, r#"{"result":{"label":"cat","score":0.9}}"#),
        "/status/500" => (500, "boom"),
        "/status/404" => (404, "missing"),
        _ => (200, "hello world"),
    };
    let mut resp = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
    *resp.status_mut() = hyper::StatusCode::from_u16(status).unwrap();
    Ok(resp)
}

/// Which protocol the hyper server speaks.
#[derive(Clone, Copy)]
pub enum Proto {
    Http1,
    H2c,
}

/// Starts a hyper server on its own thread.
pub fn hyper_server(proto: Proto) -> Server {
    serve(
        move |stream| async move { Some((Conn::Plain(stream), proto)) },
        "http",
    )
}

/// A TLS acceptor with a fresh self-signed certificate for localhost/127.0.0.1, offering
/// `alpn`; also returns the certificate as PEM (to trust it as a CA).
pub fn tls_acceptor(alpn: &[&[u8]]) -> (tokio_rustls::TlsAcceptor, String) {
    let key =
        rcgen::generate_simple_self_signed(vec!["localhost".to_string(), "127.0.0.1".to_string()])
            .unwrap();
    let pem = key.cert.pem();
    let cert = key.cert.der().clone();
    let private = rustls::pki_types::PrivateKeyDer::Pkcs8(key.signing_key.serialize_der().into());
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![cert], private)
    .unwrap();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    (tokio_rustls::TlsAcceptor::from(Arc::new(config)), pem)
}

/// Starts a TLS hyper server offering `alpn`; returns it and the CA (self-signed) PEM.
pub fn tls_server(alpn: &[&[u8]]) -> (Server, String) {
    let (acceptor, pem) = tls_acceptor(alpn);
    let server = serve(
        move |stream| {
            let acceptor = acceptor.clone();
            async move {
                let tls = acceptor.accept(stream).await.ok()?;
                let proto = if tls.get_ref().1.alpn_protocol() == Some(b"h2") {
                    Proto::H2c
                } else {
                    Proto::Http1
                };
                Some((Conn::Tls(Box::new(tls)), proto))
            }
        },
        "https",
    );
    (server, pem)
}

pub enum Conn {
    Plain(tokio::net::TcpStream),
    Tls(Box<tokio_rustls::server::TlsStream<tokio::net::TcpStream>>),
}

/// Listens on a free loopback port and runs `on_conn` for every accepted connection, on a
/// current-thread runtime of a thread of its own (so the server does not share the
/// engine's runtimes or die with a test's runtime).
pub fn accept_loop<F, Fut>(on_conn: F) -> SocketAddr
where
    F: Fn(tokio::net::TcpStream) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    std_listener.set_nonblocking(true).unwrap();
    let addr = std_listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = TcpListener::from_std(std_listener).unwrap();
            loop {
                let (stream, _) = listener.accept().await.unwrap();
                tokio::spawn(on_conn(stream));
            }
        });
    });
    addr
}

fn serve<A, Fut>(accept: A, scheme: &'static str) -> Server
where
    A: Fn(tokio::net::TcpStream) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Option<(Conn, Proto)>> + Send + 'static,
{
    let hits = Arc::new(AtomicU64::new(0));
    let h2_hits = Arc::new(AtomicU64::new(0));
    let (h, h2) = (hits.clone(), h2_hits.clone());
    let addr = accept_loop(move |stream| {
        let (h, h2) = (h.clone(), h2.clone());
        let setup = accept(stream);
        async move {
            let Some((conn, proto)) = setup.await else {
                return;
            };
            let svc = hyper::service::service_fn(move |req| route(req, h.clone(), h2.clone()));
            match conn {
                Conn::Plain(s) => serve_conn(TokioIo::new(s), proto, svc).await,
                Conn::Tls(s) => serve_conn(TokioIo::new(s), proto, svc).await,
            }
        }
    });
    Server {
        addr,
        hits,
        h2_hits,
        scheme,
    }
}

async fn serve_conn<I, S>(io: I, proto: Proto, svc: S)
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
    S: hyper::service::Service<
            Request<Incoming>,
            Response = Response<Full<Bytes>>,
            Error = Infallible,
        > + Send
        + 'static,
    S::Future: Send + 'static,
{
    match proto {
        Proto::Http1 => {
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(io, svc)
                .await;
        }
        Proto::H2c => {
            let _ = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                .serve_connection(io, svc)
                .await;
        }
    }
}

/// A raw TCP server: `handler` gets each connection's request head and decides.
pub fn raw_server<F>(handler: F) -> Server
where
    F: Fn(&[u8]) -> RawReply + Send + Sync + 'static,
{
    let hits = Arc::new(AtomicU64::new(0));
    let h = hits.clone();
    let handler = Arc::new(handler);
    let addr = accept_loop(move |mut stream| {
        let h = h.clone();
        let handler = handler.clone();
        async move {
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            loop {
                let n = match stream.read(&mut chunk).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => n,
                };
                buf.extend_from_slice(&chunk[..n]);
                while let Some(end) = find(&buf, b"\r\n\r\n") {
                    let head: Vec<u8> = buf.drain(..end + 4).collect();
                    h.fetch_add(1, Ordering::SeqCst);
                    match handler(&head) {
                        RawReply::Bytes(b) => {
                            if stream.write_all(&b).await.is_err() {
                                return;
                            }
                        }
                        RawReply::BytesThenClose(b) => {
                            let _ = stream.write_all(&b).await;
                            return;
                        }
                        RawReply::BytesThenIdleClose(b, idle) => {
                            if stream.write_all(&b).await.is_err() {
                                return;
                            }
                            // Like a keep-alive timeout: close quietly if no
                            // next request arrives in time.
                            let mut more = [0u8; 4096];
                            match tokio::time::timeout(idle, stream.read(&mut more)).await {
                                Ok(Ok(n)) if n > 0 => buf.extend_from_slice(&more[..n]),
                                _ => return,
                            }
                        }
                        RawReply::Reset => {
                            let std = stream.into_std().unwrap();
                            let sock = socket_linger_zero(std);
                            drop(sock);
                            return;
                        }
                        RawReply::Never => {
                            tokio::time::sleep(Duration::from_secs(3600)).await;
                            return;
                        }
                    }
                }
            }
        }
    });
    Server {
        addr,
        hits,
        h2_hits: Arc::new(AtomicU64::new(0)),
        scheme: "http",
    }
}

fn socket_linger_zero(s: std::net::TcpStream) -> std::net::TcpStream {
    use std::os::fd::AsRawFd;
    let linger = libc_linger();
    // SAFETY: setsockopt on an fd we own, with a correctly sized struct.
    unsafe {
        libc::setsockopt(
            s.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&linger as *const libc::linger).cast(),
            std::mem::size_of::<libc::linger>() as u32,
        );
    }
    s
}

fn libc_linger() -> libc::linger {
    libc::linger {
        l_onoff: 1,
        l_linger: 0,
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// What the raw server does with one request.
pub enum RawReply {
    Bytes(Vec<u8>),
    BytesThenClose(Vec<u8>),
    /// Answer, then close the connection if it stays idle this long.
    BytesThenIdleClose(Vec<u8>, Duration),
    Reset,
    Never,
}

/// A request template.
pub fn get(url: &str, name: &str) -> proto::RequestTemplate {
    proto::RequestTemplate {
        method: "GET".into(),
        url: url.into(),
        name: name.into(),
        ..Default::default()
    }
}

/// One declarative user class with weighted request tasks.
pub fn class(name: &str, tasks: Vec<(u32, proto::RequestTemplate)>) -> proto::UserClass {
    proto::UserClass {
        name: name.into(),
        weight: 1,
        tasks: tasks
            .into_iter()
            .map(|(weight, r)| proto::Task {
                weight,
                kind: Some(proto::task::Kind::Request(r)),
            })
            .collect(),
        ..Default::default()
    }
}

pub fn closed(users: u32, spawn_rate: f64) -> Option<proto::load_profile::Model> {
    Some(proto::load_profile::Model::Closed(proto::ClosedModel {
        users,
        spawn_rate,
    }))
}

pub fn open(rate: f64, max_in_flight: u32) -> Option<proto::load_profile::Model> {
    Some(proto::load_profile::Model::Open(proto::OpenModel {
        rate,
        max_in_flight,
    }))
}

/// A plan with sane test defaults.
pub fn plan(
    users: Vec<proto::UserClass>,
    model: Option<proto::load_profile::Model>,
    run_time_s: f64,
    iterations: u64,
) -> proto::EnginePlan {
    proto::EnginePlan {
        users,
        profile: Some(proto::LoadProfile {
            model,
            stages: vec![],
            run_time_s,
            iterations,
        }),
        connect_timeout_s: 2.0,
        request_timeout_s: 5.0,
        threads: 2,
        stop_timeout_s: 2.0,
        ..Default::default()
    }
}

/// Runs a plan to completion (it must finish by itself) and returns every snapshot.
pub fn run_to_end(plan: &proto::EnginePlan, limit: Duration) -> Vec<proto::Snapshot> {
    let engine = loadforge_core::Engine::new(&plan.encode_to_vec()).unwrap();
    engine.start().unwrap();
    let mut snaps = Vec::new();
    let finished = engine.wait(limit);
    snaps.push(engine.snapshot());
    snaps.push(engine.stop(Duration::from_secs(1)));
    assert!(finished, "engine did not finish by itself within {limit:?}");
    snaps
}

/// Totals over snapshots for one endpoint name.
#[derive(Debug, Default)]
pub struct Totals {
    pub requests: u64,
    pub failures: u64,
    pub errors: Vec<(String, u64, String)>,
    pub statuses: std::collections::HashMap<u32, u64>,
    pub latency: loadforge_core::Histogram,
    pub service: loadforge_core::Histogram,
    pub iterations: u64,
    pub dropped: u64,
    pub bytes_received: u64,
}

pub fn totals(snaps: &[proto::Snapshot], name: &str) -> Totals {
    let mut t = Totals::default();
    for s in snaps {
        t.iterations += s.iterations;
        t.dropped += s.dropped_iterations;
        for e in s.endpoints.iter().filter(|e| e.name == name) {
            t.requests += e.requests;
            t.failures += e.failures;
            t.bytes_received += e.bytes_received;
            for (k, v) in &e.status_codes {
                *t.statuses.entry(*k).or_default() += v;
            }
            for err in &e.errors {
                match t.errors.iter_mut().find(|x| x.0 == err.kind) {
                    Some(x) => x.1 += err.count,
                    None => t
                        .errors
                        .push((err.kind.clone(), err.count, err.sample.clone())),
                }
            }
            t.latency
                .add(&loadforge_core::Histogram::decode(&e.latency).unwrap())
                .unwrap();
            if !e.service_latency.is_empty() {
                t.service
                    .add(&loadforge_core::Histogram::decode(&e.service_latency).unwrap())
                    .unwrap();
            }
        }
    }
    t
}
