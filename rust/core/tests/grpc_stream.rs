//! Streaming gRPC calls for Python tasks against a real h2 server: replies arrive in
//! batches (not one event per message), a bidirectional call echoes as it is fed, a
//! cancel resets the stream, and the deadline travels as `grpc-timeout`.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::{BufMut, Bytes, BytesMut};
use common::*;
use loadforge_core::{proto, Engine, Event, StreamSubmission};
use prost::Message;

const BURST: usize = 2000;

fn frame(msg: &[u8]) -> Bytes {
    let mut b = BytesMut::new();
    b.put_u8(0);
    b.put_u32(msg.len() as u32);
    b.put_slice(msg);
    b.freeze()
}

/// `/burst`: BURST messages in one write after the request ends; `/echo`: every DATA
/// chunk back as it comes; `/hang`: headers, then nothing. Keeps each `grpc-timeout`.
fn stream_server() -> (std::net::SocketAddr, Arc<Mutex<Vec<String>>>) {
    let timeouts = Arc::new(Mutex::new(Vec::new()));
    let seen = timeouts.clone();
    let addr = accept_loop(move |stream| {
        let seen = seen.clone();
        async move {
            let mut conn = h2::server::handshake(stream).await.unwrap();
            while let Some(Ok((req, respond))) = conn.accept().await {
                if let Some(t) = req.headers().get("grpc-timeout") {
                    seen.lock().unwrap().push(t.to_str().unwrap().to_owned());
                }
                tokio::spawn(answer(req, respond));
            }
        }
    });
    (addr, timeouts)
}

async fn answer(req: http::Request<h2::RecvStream>, mut respond: h2::server::SendResponse<Bytes>) {
    let path = req.uri().path().to_owned();
    let mut body = req.into_body();
    let head = http::Response::builder()
        .status(200)
        .header("content-type", "application/grpc")
        .body(())
        .unwrap();
    let mut send = respond.send_response(head, false).unwrap();
    if path.ends_with("/hang") {
        tokio::time::sleep(Duration::from_secs(30)).await;
        return;
    }
    while let Some(chunk) = body.data().await {
        let Ok(chunk) = chunk else { return };
        let _ = body.flow_control().release_capacity(chunk.len());
        if path.ends_with("/echo") && !chunk.is_empty() {
            let _ = send.send_data(chunk, false);
        }
    }
    if path.ends_with("/burst") {
        let mut all = BytesMut::new();
        for i in 0..BURST {
            all.extend_from_slice(&frame(format!("m{i}").as_bytes()));
        }
        let _ = send.send_data(all.freeze(), false);
    }
    let mut trailers = http::HeaderMap::new();
    trailers.insert("grpc-status", "0".parse().unwrap());
    let _ = send.send_trailers(trailers);
}

fn engine() -> Engine {
    let class = proto::UserClass {
        name: "scripted".into(),
        weight: 1,
        python: true,
        tasks: vec![proto::Task {
            weight: 1,
            kind: Some(proto::task::Kind::Python("t".into())),
        }],
        ..Default::default()
    };
    let plan = plan(vec![class], closed(0, 0.0), 0.0, 0);
    let e = Engine::new(&plan.encode_to_vec()).unwrap();
    e.start().unwrap();
    e
}

fn open(e: &Engine, token: u64, url: String, messages: Vec<Vec<u8>>, end: bool) {
    e.open_stream(StreamSubmission {
        token,
        url,
        headers: vec![],
        name: "stream".into(),
        messages,
        end,
        timeout: Some(Duration::from_millis(1500)),
        intended_start_delay: Duration::ZERO,
    })
    .unwrap();
}

/// Events until call `token` ends: (batches of messages, the end event).
fn until_end(e: &Engine, token: u64) -> (Vec<Vec<Bytes>>, Event) {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut batches = Vec::new();
    while Instant::now() < deadline {
        for event in e.take_events() {
            match event {
                Event::Messages { token: t, messages } if t == token => batches.push(messages),
                Event::StreamEnded { token: t, .. } if t == token => return (batches, event),
                _ => {}
            }
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    panic!("call {token} did not end");
}

fn ended(event: &Event) -> (u64, &str, u64) {
    match event {
        Event::StreamEnded {
            messages,
            error_kind,
            first_message_us,
            ..
        } => (*messages, error_kind.as_str(), *first_message_us),
        _ => unreachable!(),
    }
}

#[test]
fn a_burst_arrives_in_batches_in_order() {
    let (addr, timeouts) = stream_server();
    let e = engine();
    open(
        &e,
        1,
        format!("http://{addr}/t.S/burst"),
        vec![b"go".to_vec()],
        true,
    );
    let (batches, end) = until_end(&e, 1);
    let (messages, error, first_us) = ended(&end);
    assert_eq!((messages, error), (BURST as u64, ""));
    assert!(first_us > 0);
    let all: Vec<Bytes> = batches.iter().flatten().cloned().collect();
    assert_eq!(all.len(), BURST);
    assert!(all
        .iter()
        .enumerate()
        .all(|(i, m)| m == format!("m{i}").as_bytes()));
    assert!(
        batches.len() < BURST / 10,
        "{} events for {BURST} messages",
        batches.len()
    );
    assert_eq!(timeouts.lock().unwrap().as_slice(), ["1500000u"]);
    let snap = e.stop(Duration::from_millis(500));
    let call = snap.endpoints.iter().find(|s| s.method == "GRPC").unwrap();
    assert_eq!(
        (call.requests, call.failures, call.messages),
        (1, 0, BURST as u64)
    );
    assert!(snap.endpoints.iter().any(|s| s.method == "GRPC-FIRST"));
}

#[test]
fn bidi_echoes_as_it_is_fed_then_cancel_resets() {
    let (addr, _) = stream_server();
    let e = engine();
    open(&e, 2, format!("http://{addr}/t.S/echo"), vec![], false);
    for word in ["a", "bb", "ccc"] {
        assert!(e.stream_send(2, vec![word.as_bytes().to_vec()], false));
        let deadline = Instant::now() + Duration::from_secs(5);
        let reply = loop {
            let got: Vec<Event> = e.take_events();
            if let Some(Event::Messages { messages, .. }) = got.into_iter().next() {
                break messages;
            }
            assert!(Instant::now() < deadline, "no echo of {word}");
            std::thread::sleep(Duration::from_millis(2));
        };
        assert_eq!(reply, vec![Bytes::from(word)]);
    }
    assert!(e.stream_send(2, vec![], true));
    let (_, end) = until_end(&e, 2);
    assert_eq!(ended(&end).0, 3);
    assert_eq!(ended(&end).1, "");
    assert!(!e.stream_send(2, vec![b"late".to_vec()], false));

    open(&e, 3, format!("http://{addr}/t.S/hang"), vec![], true);
    std::thread::sleep(Duration::from_millis(50));
    assert!(e.stream_cancel(3));
    let (_, end) = until_end(&e, 3);
    assert_eq!(ended(&end).1, "grpc_CANCELLED");

    open(&e, 4, format!("http://{addr}/t.S/hang"), vec![], true);
    let (_, end) = until_end(&e, 4);
    assert_eq!(ended(&end).1, "grpc_DEADLINE_EXCEEDED");
    e.stop(Duration::from_millis(500));
}
