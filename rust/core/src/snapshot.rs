//! Building a `Snapshot`: swap every thread's recorder for its (cleared) spare, merge the
//! swapped-out ones exactly, encode. The hot loop only ever waits for one pointer swap.

use std::sync::atomic::Ordering;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::plan::Model;
use crate::proto;
use crate::recorder::Recorder;
use crate::shared::Shared;

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Takes the statistics recorded since the previous call; `start_ms` is when that was.
pub fn take(shared: &Shared, start_ms: u64) -> proto::Snapshot {
    let mut merged = Recorder::default();
    for thread in &shared.threads {
        let mut spare = thread.spare.lock().expect("poisoned");
        spare.clear();
        {
            let mut current = thread.recorder.lock().expect("poisoned");
            std::mem::swap(&mut *current, &mut *spare);
        }
        merged.merge(&spare);
    }
    merged.iterations += shared.python_iterations.swap(0, Ordering::AcqRel);
    let users = match shared.plan.model {
        Model::Closed { .. } => shared.users.lock().expect("poisoned").len() as u32,
        Model::Open { .. } => shared.in_flight.load(Ordering::Acquire),
    };
    let mut endpoints = Vec::new();
    for (id, ep) in merged.endpoints.iter().enumerate() {
        let Some(ep) = ep else { continue };
        if ep.requests == 0 {
            continue;
        }
        let key = shared.endpoints.key(id as u32);
        let mut status_codes = std::collections::HashMap::new();
        for (code, n) in &ep.status_codes {
            status_codes.insert(u32::from(*code), *n);
        }
        endpoints.push(proto::EndpointStats {
            method: key.method,
            name: key.name,
            requests: ep.requests,
            failures: ep.failures,
            bytes_received: ep.bytes_received,
            bytes_sent: ep.bytes_sent,
            latency: ep.latency.encode(),
            service_latency: ep
                .service_latency
                .as_ref()
                .map(|h| h.encode())
                .unwrap_or_default(),
            status_codes,
            errors: ep
                .errors
                .iter()
                .map(|e| proto::ErrorCount {
                    kind: e.kind.to_string(),
                    count: e.count,
                    sample: e.sample.clone(),
                    body: e.body.clone(),
                })
                .collect(),
            messages: ep.messages,
        });
    }
    // After the load ended, the interval ends there: the worker may look up to an
    // interval later, and that wait is no part of the run's duration.
    let ended = shared.load_ended_ms.load(Ordering::Acquire);
    let end_ms = if ended == 0 {
        now_ms()
    } else {
        now_ms().min(ended).max(start_ms)
    };
    proto::Snapshot {
        start_ms,
        end_ms,
        users,
        dropped_iterations: merged.dropped_iterations,
        endpoints,
        iterations: merged.iterations,
        exceptions: Vec::new(),
    }
}
