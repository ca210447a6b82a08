//! The open model under a stalled server: arrivals beyond the in-flight cap wait and start
//! late (latency from the intended start shows the stall, service time does not), and
//! arrivals start on time (sub-millisecond schedule, not tokio's 1 ms timer ticks).

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;

#[test]
fn arrivals_over_the_cap_start_late_instead_of_being_dropped() {
    // Nothing is answered from 0.3 s to 0.8 s after the first request (the server's one
    // thread sleeps, as a SIGSTOPped server would).
    let t0: Arc<Mutex<Option<Instant>>> = Arc::default();
    let server = raw_server(move |_| {
        let now = Instant::now();
        let start = *t0.lock().unwrap().get_or_insert(now);
        let (stall, stall_end) = (
            start + Duration::from_millis(300),
            start + Duration::from_millis(800),
        );
        if now >= stall && now < stall_end {
            std::thread::sleep(stall_end - now);
        }
        RawReply::Bytes(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".to_vec())
    });
    let mut plan = plan(
        vec![class("api", vec![(1, get(&server.url("/"), "r"))])],
        open(200.0, 5),
        2.0,
        0,
    );
    plan.threads = 1;
    let t = totals(&run_to_end(&plan, Duration::from_secs(10)), "r");
    // Every arrival ran: 5 waited in flight, the other ~95 of the stall waited for a slot.
    assert_eq!(t.dropped, 0);
    assert!((395..=401).contains(&t.requests), "{}", t.requests);
    // Stall arrivals are ~25% of the run with latencies spread over 0..500 ms:
    // p90 ≈ 300 ms, p95 ≈ 400 ms from the intended start.
    let p90 = t.latency.value_at_percentile(90.0);
    let p95 = t.latency.value_at_percentile(95.0);
    assert!((200_000..=400_000).contains(&p90), "p90 {p90} us");
    assert!((300_000..=500_000).contains(&p95), "p95 {p95} us");
    // Only the 5 requests sent into the stall waited on the server.
    let service_p95 = t.service.value_at_percentile(95.0);
    assert!(service_p95 < 50_000, "service p95 {service_p95} us");
    assert!(
        t.service.max() >= 300_000,
        "service max {}",
        t.service.max()
    );
}

#[test]
fn arrivals_start_on_time() {
    let server = hyper_server(Proto::Http1);
    let mut plan = plan(
        vec![class("api", vec![(1, get(&server.url("/hello"), "hello"))])],
        open(500.0, 0),
        1.0,
        0,
    );
    plan.threads = 1;
    let t = totals(&run_to_end(&plan, Duration::from_secs(10)), "hello");
    assert!(t.requests >= 480, "{}", t.requests);
    // With millisecond timer ticks the median start was ~0.5-1 ms late.
    let late =
        t.latency.value_at_percentile(50.0) as i64 - t.service.value_at_percentile(50.0) as i64;
    assert!(late < 300, "median start {late} us late");
}
