//! The Python-task seam: user start/stop events for `python = true` classes, open-model
//! iteration events, `submit` completions, and the eventfd's readiness.

mod common;

use std::time::{Duration, Instant};

use common::*;
use loadforge_core::{proto, Event, Submission};
use prost::Message;

fn python_class(name: &str) -> proto::UserClass {
    proto::UserClass {
        name: name.into(),
        weight: 1,
        python: true,
        tasks: vec![proto::Task {
            weight: 1,
            kind: Some(proto::task::Kind::Python("do_it".into())),
        }],
        ..Default::default()
    }
}

fn fd_readable(fd: i32) -> bool {
    let mut pfd = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: polls one valid pollfd without waiting.
    unsafe { libc::poll(&mut pfd, 1, 0) == 1 }
}

fn wait_events(e: &loadforge_core::Engine, mut want: impl FnMut(&[Event]) -> bool) -> Vec<Event> {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut got = Vec::new();
    while Instant::now() < deadline {
        got.extend(e.take_events());
        if want(&got) {
            return got;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    panic!("events did not arrive: {got:?}");
}

#[test]
fn python_users_start_stop_and_submit() {
    let server = hyper_server(Proto::Http1);
    let plan = plan(vec![python_class("scripted")], closed(3, 0.0), 0.0, 0);
    let e = loadforge_core::Engine::new(&plan.encode_to_vec()).unwrap();
    e.start().unwrap();
    let fd = e.event_fd();
    let events = wait_events(&e, |ev| ev.len() >= 3);
    assert!(!fd_readable(fd), "take_events clears readiness");
    let ids: Vec<u64> = events
        .iter()
        .map(|ev| match ev {
            Event::StartUser {
                user_id,
                class_index: 0,
            } => *user_id,
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(e.users(), 3);

    for token in 0..20u64 {
        e.submit(Submission {
            token,
            method: "GET".into(),
            url: server.url("/json"),
            headers: vec![("x-test".into(), "1".into())],
            body: vec![],
            name: "json".into(),
            protocol: 0,
            record: token % 2 == 0,
            defer_redirects: false,
            timeout: None,
            intended_start_delay: Duration::ZERO,
        })
        .unwrap();
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    while !fd_readable(fd) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(1));
    }
    assert!(fd_readable(fd), "completions make the fd readable");
    let done = wait_events(&e, |ev| ev.len() >= 20);
    for ev in &done {
        match ev {
            Event::Completed {
                status,
                body,
                headers,
                error_kind,
                elapsed_us,
                ..
            } => {
                assert_eq!(*status, 200);
                assert_eq!(error_kind, "");
                assert!(body.starts_with(b"{\"result\""));
                let block = String::from_utf8_lossy(headers);
                assert!(block.contains("content-length: "), "{block}");
                assert!(*elapsed_us > 0);
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    // record=False requests are left to the caller.
    e.record("GET", "json", 1234, false, 500, 10, "", "bad");
    let snap = e.snapshot();
    let t = totals(&[snap], "json");
    assert_eq!(t.requests, 11);
    assert_eq!(t.failures, 1);
    assert_eq!(t.errors[0].0, "http_status");
    assert_eq!(server.hits(), 20);

    e.scale(Some(1), None).unwrap();
    let stops = wait_events(&e, |ev| ev.len() >= 2);
    for ev in &stops {
        let Event::StopUser { user_id } = ev else {
            panic!("unexpected {ev:?}")
        };
        assert!(ids.contains(user_id));
        e.user_finished(*user_id, false);
    }
    assert_eq!(e.users(), 1);
    e.stop(Duration::from_millis(100));
}

#[test]
fn open_model_python_iterations() {
    let mut plan = plan(vec![python_class("scripted")], open(100.0, 0), 0.5, 0);
    plan.threads = 1;
    let e = loadforge_core::Engine::new(&plan.encode_to_vec()).unwrap();
    e.start().unwrap();
    let mut seen = 0u64;
    let deadline = Instant::now() + Duration::from_secs(5);
    while !e.wait(Duration::from_millis(10)) && Instant::now() < deadline {
        for ev in e.take_events() {
            match ev {
                Event::Iteration {
                    iteration_id,
                    class_index,
                    ..
                } => {
                    assert_eq!(class_index, 0);
                    seen += 1;
                    e.iteration_finished(iteration_id);
                }
                other => panic!("unexpected {other:?}"),
            }
        }
    }
    let snap = e.stop(Duration::from_millis(100));
    assert!((45..=55).contains(&seen), "100/s for 0.5 s: {seen}");
    assert!(snap.iterations > 0);
}
