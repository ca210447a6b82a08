//! HTTP/1.1 against real loopback servers: counts, keep-alive, framing, checks.

mod common;

use std::time::Duration;

use common::*;
use loadforge_core::proto;

#[test]
fn closed_model_counts_match_the_server() {
    let server = hyper_server(Proto::Http1);
    let plan = plan(
        vec![class("api", vec![(1, get(&server.url("/hello"), "hello"))])],
        closed(8, 0.0),
        0.0,
        2_000,
    );
    let snaps = run_to_end(&plan, Duration::from_secs(30));
    let t = totals(&snaps, "hello");
    assert_eq!(t.requests, 2_000);
    assert_eq!(t.failures, 0, "{:?}", t.errors);
    assert_eq!(server.hits(), 2_000);
    assert_eq!(t.statuses.get(&200), Some(&2_000));
    assert_eq!(t.latency.count(), 2_000);
    assert_eq!(t.iterations, 2_000);
    assert!(t.bytes_received >= 2_000 * 11);
}

#[test]
fn chunked_and_close_delimited_bodies() {
    let server = raw_server(|head| {
        let head = String::from_utf8_lossy(head);
        if head.starts_with("GET /chunked") {
            RawReply::Bytes(
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: 1\r\n\r\n"
                    .to_vec(),
            )
        } else {
            RawReply::BytesThenClose(
                b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nbye bye".to_vec(),
            )
        }
    });
    let mut chunked = get(&server.url("/chunked"), "chunked");
    chunked.check = Some(proto::Check {
        body_contains: b"hello world".to_vec(),
        ..Default::default()
    });
    let mut close = get(&server.url("/close"), "close");
    close.check = Some(proto::Check {
        body_contains: b"bye bye".to_vec(),
        ..Default::default()
    });
    let plan = plan(
        vec![class("api", vec![(1, chunked), (1, close)])],
        closed(4, 0.0),
        0.0,
        400,
    );
    let snaps = run_to_end(&plan, Duration::from_secs(30));
    let c = totals(&snaps, "chunked");
    let d = totals(&snaps, "close");
    assert_eq!(c.requests + d.requests, 400);
    assert!(c.requests > 50 && d.requests > 50);
    assert_eq!(c.failures, 0, "{:?}", c.errors);
    assert_eq!(d.failures, 0, "{:?}", d.errors);
    assert_eq!(server.hits(), 400);
}

#[test]
fn checks_classify_failures() {
    let server = hyper_server(Proto::Http1);
    let mut good = get(&server.url("/json"), "json_ok");
    good.check = Some(proto::Check {
        json_path: "result.label".into(),
        json_equals: "\"cat\"".into(),
        ..Default::default()
    });
    let mut bad = get(&server.url("/json"), "json_bad");
    bad.check = Some(proto::Check {
        json_path: "result.label".into(),
        json_equals: "\"dog\"".into(),
        ..Default::default()
    });
    let status = get(&server.url("/status/500"), "status");
    let mut accepted = get(&server.url("/status/404"), "accepted");
    accepted.check = Some(proto::Check {
        status: vec![404],
        ..Default::default()
    });
    let plan = plan(
        vec![class(
            "api",
            vec![(1, good), (1, bad), (1, status), (1, accepted)],
        )],
        closed(2, 0.0),
        0.0,
        400,
    );
    let snaps = run_to_end(&plan, Duration::from_secs(30));
    let good = totals(&snaps, "json_ok");
    let bad = totals(&snaps, "json_bad");
    let status = totals(&snaps, "status");
    let accepted = totals(&snaps, "accepted");
    assert_eq!(
        good.requests + bad.requests + status.requests + accepted.requests,
        400
    );
    assert_eq!(good.failures, 0);
    assert_eq!(accepted.failures, 0);
    assert_eq!(bad.failures, bad.requests);
    assert_eq!(bad.errors.len(), 1);
    assert_eq!(bad.errors[0].0, "check_failed");
    assert!(
        bad.errors[0].2.contains("result.label"),
        "{}",
        bad.errors[0].2
    );
    assert_eq!(status.failures, status.requests);
    assert_eq!(status.errors[0].0, "http_status");
    assert_eq!(status.statuses.get(&500), Some(&status.requests));
}

#[test]
fn idle_connections_closed_by_the_server_are_not_errors() {
    let server = raw_server(|_| {
        RawReply::BytesThenIdleClose(
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".to_vec(),
            Duration::from_millis(150),
        )
    });
    let mut user = class("api", vec![(1, get(&server.url("/"), "idle"))]);
    user.wait_time = Some(proto::WaitTime {
        kind: Some(proto::wait_time::Kind::ConstantS(0.6)),
    });
    let plan = plan(vec![user], closed(2, 0.0), 0.0, 6);
    let t = totals(&run_to_end(&plan, Duration::from_secs(30)), "idle");
    assert_eq!(t.requests, 6);
    assert_eq!(t.failures, 0, "{:?}", t.errors);
    assert_eq!(server.hits(), 6);
}

#[test]
fn connection_per_request_sends_connection_close() {
    let server = raw_server(|head| {
        let head = String::from_utf8_lossy(head).to_ascii_lowercase();
        assert!(head.contains("connection: close"), "{head}");
        RawReply::BytesThenClose(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".to_vec())
    });
    let mut plan = plan(
        vec![class("api", vec![(1, get(&server.url("/"), "cpr"))])],
        closed(2, 0.0),
        0.0,
        40,
    );
    plan.connection_per_request = true;
    let t = totals(&run_to_end(&plan, Duration::from_secs(30)), "cpr");
    assert_eq!(t.requests, 40);
    assert_eq!(t.failures, 0, "{:?}", t.errors);
    assert_eq!(server.hits(), 40);
}
