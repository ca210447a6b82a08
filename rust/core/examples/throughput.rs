//! Closed-model throughput against a URL, for comparing with wrk/h2load:
//! `cargo run --release --example throughput -- URL [users] [seconds] [threads] [http1|h2|grpc]`

use std::time::Duration;

use loadforge_core::proto;
use prost::Message;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let url = args
        .get(1)
        .cloned()
        .unwrap_or_else(|| "http://127.0.0.1:8080/".into());
    let users: u32 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(50);
    let seconds: f64 = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(5.0);
    let threads: u32 = args.get(4).and_then(|s| s.parse().ok()).unwrap_or(1);
    let protocol = match args.get(5).map(String::as_str) {
        Some("h2") => proto::Protocol::Http2,
        Some("grpc") => proto::Protocol::Grpc,
        _ => proto::Protocol::Http1,
    };
    let request = proto::RequestTemplate {
        method: if protocol == proto::Protocol::Grpc {
            "POST"
        } else {
            "GET"
        }
        .into(),
        url,
        protocol: protocol as i32,
        body: if protocol == proto::Protocol::Grpc {
            b"\x0a\x01x".to_vec()
        } else {
            vec![]
        },
        ..Default::default()
    };
    let plan = proto::EnginePlan {
        users: vec![proto::UserClass {
            name: "bench".into(),
            weight: 1,
            tasks: vec![proto::Task {
                weight: 1,
                kind: Some(proto::task::Kind::Request(request)),
            }],
            ..Default::default()
        }],
        profile: Some(proto::LoadProfile {
            model: Some(proto::load_profile::Model::Closed(proto::ClosedModel {
                users,
                spawn_rate: 0.0,
            })),
            run_time_s: seconds,
            ..Default::default()
        }),
        threads,
        request_timeout_s: 10.0,
        ..Default::default()
    };
    let engine = loadforge_core::Engine::new(&plan.encode_to_vec()).expect("plan");
    engine.start().expect("start");
    engine.wait(Duration::from_secs_f64(seconds + 30.0));
    let snap = engine.stop(Duration::from_secs(1));
    let secs = (snap.end_ms - snap.start_ms) as f64 / 1000.0;
    for ep in &snap.endpoints {
        let h = loadforge_core::Histogram::decode(&ep.latency).unwrap();
        println!(
            "{} {}: {} requests, {} failures {:?}, {:.0} req/s, p50 {} us, p99 {} us",
            ep.method,
            ep.name,
            ep.requests,
            ep.failures,
            ep.errors
                .iter()
                .map(|e| (&e.kind, e.count))
                .collect::<Vec<_>>(),
            ep.requests as f64 / secs,
            h.value_at_percentile(50.0),
            h.value_at_percentile(99.0)
        );
    }
}
