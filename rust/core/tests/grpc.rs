//! Unary gRPC over h2c against a real HTTP/2 server (the `h2` crate's server side) that
//! answers like a gRPC service: framed reply plus `grpc-status` trailers, or a
//! trailers-only error.

mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};
use common::*;
use loadforge_core::proto;

fn frame(msg: &[u8]) -> Bytes {
    let mut b = BytesMut::new();
    b.put_u8(0);
    b.put_u32(msg.len() as u32);
    b.put_slice(msg);
    b.freeze()
}

/// Serves `/ok` (echoes the request message) and `/missing` (trailers-only NOT_FOUND),
/// over h2c or, with an acceptor, over TLS.
fn grpc_server(tls: Option<tokio_rustls::TlsAcceptor>) -> (std::net::SocketAddr, Arc<AtomicU64>) {
    let hits = Arc::new(AtomicU64::new(0));
    let h = hits.clone();
    let addr = accept_loop(move |stream| {
        let h = h.clone();
        let tls = tls.clone();
        async move {
            match tls {
                Some(acceptor) => {
                    let Ok(stream) = acceptor.accept(stream).await else {
                        return;
                    };
                    serve_grpc(stream, h).await
                }
                None => serve_grpc(stream, h).await,
            }
        }
    });
    (addr, hits)
}

async fn serve_grpc<S>(stream: S, h: Arc<AtomicU64>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let mut conn = h2::server::handshake(stream).await.unwrap();
    while let Some(Ok((req, mut respond))) = conn.accept().await {
        let h = h.clone();
        tokio::spawn(async move {
            let grpc = req.headers().get("content-type").map(|v| v.as_bytes())
                == Some(b"application/grpc")
                && req.headers().get("te").map(|v| v.as_bytes()) == Some(b"trailers");
            let path = req.uri().path().to_owned();
            let mut body = req.into_body();
            let mut data = BytesMut::new();
            while let Some(chunk) = body.data().await {
                let chunk = chunk.unwrap();
                let _ = body.flow_control().release_capacity(chunk.len());
                data.extend_from_slice(&chunk);
            }
            h.fetch_add(1, Ordering::SeqCst);
            if !grpc || path.ends_with("/missing") {
                let resp = http::Response::builder()
                    .status(200)
                    .header("content-type", "application/grpc")
                    .header("grpc-status", if grpc { "5" } else { "13" })
                    .header("grpc-message", "no%20such%20thing")
                    .body(())
                    .unwrap();
                let _ = respond.send_response(resp, true);
                return;
            }
            let resp = http::Response::builder()
                .status(200)
                .header("content-type", "application/grpc")
                .body(())
                .unwrap();
            let mut send = respond.send_response(resp, false).unwrap();
            // Echo the request message (already framed).
            let _ = send.send_data(data.freeze(), false);
            let mut trailers = http::HeaderMap::new();
            trailers.insert("grpc-status", "0".parse().unwrap());
            let _ = send.send_trailers(trailers);
        });
    }
}

fn unary(url: String, name: &str) -> proto::RequestTemplate {
    proto::RequestTemplate {
        // As the Python plan builder spells it: statistics group under "GRPC".
        method: "GRPC".into(),
        url,
        name: name.into(),
        body: b"\x0a\x05hello".to_vec(),
        protocol: proto::Protocol::Grpc as i32,
        ..Default::default()
    }
}

#[test]
fn grpc_unary_status_from_trailers_and_trailers_only() {
    let (addr, hits) = grpc_server(None);
    let ok = unary(format!("http://{addr}/helloworld.Greeter/ok"), "ok");
    let missing = unary(
        format!("http://{addr}/helloworld.Greeter/missing"),
        "missing",
    );
    let plan = plan(
        vec![class("greeter", vec![(3, ok), (1, missing)])],
        closed(8, 0.0),
        0.0,
        800,
    );
    let snaps = run_to_end(&plan, Duration::from_secs(30));
    let ok = totals(&snaps, "ok");
    let missing = totals(&snaps, "missing");
    assert_eq!(ok.requests + missing.requests, 800);
    assert_eq!(hits.load(Ordering::SeqCst), 800);
    assert_eq!(ok.failures, 0, "{:?}", ok.errors);
    assert_eq!(missing.failures, missing.requests);
    assert_eq!(missing.errors.len(), 1);
    assert_eq!(missing.errors[0].0, "grpc_NOT_FOUND");
    assert_eq!(missing.errors[0].2, "no such thing");
    let messages: u64 = snaps
        .iter()
        .flat_map(|s| s.endpoints.iter())
        .filter(|e| e.name == "ok")
        .map(|e| e.messages)
        .sum();
    assert_eq!(messages, ok.requests);
    assert!(snaps
        .iter()
        .flat_map(|s| s.endpoints.iter())
        .all(|e| e.method == "GRPC"));
}

#[test]
fn grpc_frame_is_five_byte_prefixed() {
    assert_eq!(&frame(b"hi")[..], b"\x00\x00\x00\x00\x02hi");
    assert_eq!(
        loadforge_core::plan::template::grpc_frame(b"hi"),
        frame(b"hi")
    );
}

#[test]
fn grpc_over_tls_with_alpn_h2() {
    let (acceptor, ca) = tls_acceptor(&[b"h2"]);
    let (addr, hits) = grpc_server(Some(acceptor));
    let ok = unary(
        format!("https://localhost:{}/helloworld.Greeter/ok", addr.port()),
        "ok",
    );
    let mut plan = plan(
        vec![class("greeter", vec![(1, ok)])],
        closed(4, 0.0),
        0.0,
        200,
    );
    plan.tls_ca_pem = ca.into_bytes();
    let t = totals(&run_to_end(&plan, Duration::from_secs(30)), "ok");
    assert_eq!(t.requests, 200);
    assert_eq!(t.failures, 0, "{:?}", t.errors);
    assert_eq!(hits.load(Ordering::SeqCst), 200);
}
