//! HTTP/2 cleartext (prior knowledge), TLS with ALPN (h2 and the http/1.1 fallback), and
//! certificate verification, against real loopback servers.

mod common;

use std::time::Duration;

use common::*;
use loadforge_core::proto;

fn h2(url: &str, name: &str) -> proto::RequestTemplate {
    proto::RequestTemplate {
        protocol: proto::Protocol::Http2 as i32,
        ..get(url, name)
    }
}

#[test]
fn h2c_counts_match_and_use_http2() {
    let server = hyper_server(Proto::H2c);
    let plan = plan(
        vec![class("api", vec![(1, h2(&server.url("/hello"), "hello"))])],
        closed(20, 0.0),
        0.0,
        3_000,
    );
    let snaps = run_to_end(&plan, Duration::from_secs(30));
    let t = totals(&snaps, "hello");
    assert_eq!(t.requests, 3_000);
    assert_eq!(t.failures, 0, "{:?}", t.errors);
    assert_eq!(server.hits(), 3_000);
    assert_eq!(
        server.h2_hits.load(std::sync::atomic::Ordering::SeqCst),
        3_000
    );
}

#[test]
fn tls_alpn_picks_h2_with_a_trusted_ca() {
    let (server, ca) = tls_server(&[b"h2", b"http/1.1"]);
    let mut plan = plan(
        vec![class("api", vec![(1, h2(&server.url("/hello"), "hello"))])],
        closed(4, 0.0),
        0.0,
        500,
    );
    plan.tls_ca_pem = ca.into_bytes();
    let snaps = run_to_end(&plan, Duration::from_secs(30));
    let t = totals(&snaps, "hello");
    assert_eq!(t.requests, 500);
    assert_eq!(t.failures, 0, "{:?}", t.errors);
    assert_eq!(
        server.h2_hits.load(std::sync::atomic::Ordering::SeqCst),
        500
    );
}

#[test]
fn tls_falls_back_to_http1_when_the_server_picks_it() {
    let (server, _ca) = tls_server(&[b"http/1.1"]);
    let mut plan = plan(
        vec![class("api", vec![(1, h2(&server.url("/hello"), "hello"))])],
        closed(4, 0.0),
        0.0,
        300,
    );
    plan.tls_insecure = true;
    let snaps = run_to_end(&plan, Duration::from_secs(30));
    let t = totals(&snaps, "hello");
    assert_eq!(t.requests, 300);
    assert_eq!(t.failures, 0, "{:?}", t.errors);
    assert_eq!(server.hits(), 300);
    assert_eq!(server.h2_hits.load(std::sync::atomic::Ordering::SeqCst), 0);
}

#[test]
fn https_http1_template_and_untrusted_certificate() {
    let (server, _ca) = tls_server(&[b"h2", b"http/1.1"]);
    // Without the CA and without tls_insecure, every request fails the handshake.
    let plan = plan(
        vec![class("api", vec![(1, get(&server.url("/hello"), "hello"))])],
        closed(2, 0.0),
        0.0,
        20,
    );
    let snaps = run_to_end(&plan, Duration::from_secs(30));
    let t = totals(&snaps, "hello");
    assert_eq!(t.requests, 20);
    assert_eq!(t.failures, 20);
    assert_eq!(t.errors[0].0, "tls");
    assert_eq!(server.hits(), 0);

    let mut ok_plan = plan.clone();
    ok_plan.tls_insecure = true;
    let snaps = run_to_end(&ok_plan, Duration::from_secs(30));
    let t = totals(&snaps, "hello");
    assert_eq!(t.failures, 0, "{:?}", t.errors);
    assert_eq!(server.hits(), 20);
    // An http1 template offers only http/1.1, so the server answers over HTTP/1.1.
    assert_eq!(server.h2_hits.load(std::sync::atomic::Ordering::SeqCst), 0);
}
