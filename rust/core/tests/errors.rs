//! Error kinds from real failures: refused connections, request timeouts, resets, and
//! requests cut off by a graceful stop. A failed request counts once.

mod common;

use std::time::{Duration, Instant};

use common::*;
use loadforge_core::proto;
use prost::Message;

#[test]
fn refused_port_is_connect_refused() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let url = format!("http://127.0.0.1:{port}/x");
    let plan = plan(
        vec![class("api", vec![(1, get(&url, "x"))])],
        closed(2, 0.0),
        0.0,
        50,
    );
    let t = totals(&run_to_end(&plan, Duration::from_secs(30)), "x");
    assert_eq!(t.requests, 50);
    assert_eq!(t.failures, 50);
    assert_eq!(t.errors.len(), 1);
    assert_eq!(t.errors[0].0, "connect_refused");
    assert_eq!(t.errors[0].1, 50);
    assert!(t.errors[0].2.contains("connect"), "{}", t.errors[0].2);
}

#[test]
fn server_that_never_answers_is_timeout() {
    let server = raw_server(|_| RawReply::Never);
    let mut plan = plan(
        vec![class("api", vec![(1, get(&server.url("/"), "never"))])],
        closed(2, 0.0),
        0.0,
        4,
    );
    plan.request_timeout_s = 0.2;
    let t = totals(&run_to_end(&plan, Duration::from_secs(30)), "never");
    assert_eq!(t.requests, 4);
    assert_eq!(t.failures, 4);
    assert_eq!(t.errors[0].0, "timeout");
    assert!(t.latency.min() >= 190_000, "min {}", t.latency.min());
    assert!(t.latency.max() < 1_000_000, "max {}", t.latency.max());
}

#[test]
fn reset_connection_is_reset() {
    let server = raw_server(|_| RawReply::Reset);
    let plan = plan(
        vec![class("api", vec![(1, get(&server.url("/"), "reset"))])],
        closed(2, 0.0),
        0.0,
        30,
    );
    let t = totals(&run_to_end(&plan, Duration::from_secs(30)), "reset");
    assert_eq!(t.requests, 30);
    assert_eq!(t.failures, 30);
    assert_eq!(t.errors.len(), 1, "{:?}", t.errors);
    assert_eq!(t.errors[0].0, "reset");
}

#[test]
fn graceful_stop_counts_cut_off_requests_once_as_timeout() {
    let server = hyper_server(Proto::Http1);
    let mut plan = plan(
        vec![class("api", vec![(1, get(&server.url("/stall"), "stall"))])],
        closed(6, 0.0),
        0.0,
        0,
    );
    plan.request_timeout_s = 0.0; // no per-request timeout: only the stop cuts them off
    let engine = loadforge_core::Engine::new(&plan.encode_to_vec()).unwrap();
    engine.start().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(engine.users(), 6);
    let first = engine.snapshot();
    let started = Instant::now();
    let last = engine.stop(Duration::from_millis(300));
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(290) && took < Duration::from_secs(3),
        "{took:?}"
    );
    assert!(!engine.running());
    assert_eq!(engine.users(), 0);
    assert_eq!(last.users, 0);
    let t = totals(&[first, last], "stall");
    assert_eq!(t.requests, 6);
    assert_eq!(t.failures, 6);
    assert_eq!(
        t.errors,
        vec![(
            "timeout".to_string(),
            6,
            "cut off when the engine stopped".to_string()
        )]
    );
    assert_eq!(server.hits(), 0);
}

#[test]
fn invalid_plans_are_refused_with_the_request_named() {
    let bad = plan(
        vec![class("api", vec![(1, get("ftp://127.0.0.1/x", "x"))])],
        closed(1, 0.0),
        0.0,
        0,
    );
    let err = loadforge_core::Engine::new(&bad.encode_to_vec())
        .err()
        .unwrap();
    assert!(matches!(err, loadforge_core::Error::Plan(_)));
    assert!(err.to_string().contains("ftp://127.0.0.1/x"), "{err}");
    let garbage = loadforge_core::Engine::new(b"\xff\xff\xff").err().unwrap();
    assert!(matches!(garbage, loadforge_core::Error::Plan(_)));
    let mut header = get("http://127.0.0.1:1/x", "x");
    header.headers.push(proto::Header {
        name: "bad header".into(),
        value: "v".into(),
    });
    let bad = plan(
        vec![class("api", vec![(1, header)])],
        closed(1, 0.0),
        0.0,
        0,
    );
    let err = loadforge_core::Engine::new(&bad.encode_to_vec())
        .err()
        .unwrap();
    assert!(err.to_string().contains("header"), "{err}");
}

/// A listening socket whose accept queue is full, so new SYNs are dropped and connects
/// hang: the only way to see a connect timeout on loopback.
fn full_listener() -> (std::os::fd::OwnedFd, u16, Vec<std::net::TcpStream>) {
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    // SAFETY: plain socket calls on a descriptor we create and own; structs are sized.
    unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM, 0);
        assert!(fd >= 0);
        let owned = OwnedFd::from_raw_fd(fd);
        let mut addr: libc::sockaddr_in = std::mem::zeroed();
        addr.sin_family = libc::AF_INET as u16;
        addr.sin_addr.s_addr = u32::from_ne_bytes([127, 0, 0, 1]);
        let len = std::mem::size_of::<libc::sockaddr_in>() as u32;
        assert_eq!(
            libc::bind(fd, (&addr as *const libc::sockaddr_in).cast(), len),
            0
        );
        assert_eq!(libc::listen(fd, 0), 0);
        let mut bound: libc::sockaddr_in = std::mem::zeroed();
        let mut blen = len;
        libc::getsockname(fd, (&mut bound as *mut libc::sockaddr_in).cast(), &mut blen);
        let port = u16::from_be(bound.sin_port);
        // Fill the accept queue (never accepted).
        let mut fillers = Vec::new();
        for _ in 0..4 {
            if let Ok(s) = std::net::TcpStream::connect_timeout(
                &std::net::SocketAddr::from(([127, 0, 0, 1], port)),
                Duration::from_millis(100),
            ) {
                fillers.push(s);
            }
        }
        assert!(owned.as_raw_fd() >= 0);
        (owned, port, fillers)
    }
}

#[test]
fn connect_to_a_full_backlog_is_connect_timeout() {
    let (_listener, port, _fillers) = full_listener();
    let url = format!("http://127.0.0.1:{port}/x");
    let mut plan = plan(
        vec![class("api", vec![(1, get(&url, "x"))])],
        closed(1, 0.0),
        0.0,
        2,
    );
    plan.connect_timeout_s = 0.2;
    let t = totals(&run_to_end(&plan, Duration::from_secs(30)), "x");
    assert_eq!(t.requests, 2);
    assert_eq!(t.failures, 2);
    assert_eq!(t.errors[0].0, "connect_timeout", "{:?}", t.errors);
    assert!(t.latency.min() >= 190_000, "{}", t.latency.min());
}
