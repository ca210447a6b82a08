//! Per-thread statistics: one recorder per runtime thread, indexed by endpoint id, swapped
//! out whole at snapshot time so the hot loop never waits on a snapshot.

use std::fmt;

use crate::histogram::Histogram;

/// The error taxonomy of `EndpointStats.errors[].kind`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorKind {
    ConnectRefused,
    ConnectTimeout,
    Timeout,
    Reset,
    Tls,
    Io,
    HttpStatus,
    CheckFailed,
    Protocol,
    /// gRPC status code (non-zero).
    Grpc(u32),
    Exception,
    Other,
    /// Any other kind reported from Python.
    Custom(Box<str>),
}

const GRPC_NAMES: [&str; 17] = [
    "OK",
    "CANCELLED",
    "UNKNOWN",
    "INVALID_ARGUMENT",
    "DEADLINE_EXCEEDED",
    "NOT_FOUND",
    "ALREADY_EXISTS",
    "PERMISSION_DENIED",
    "RESOURCE_EXHAUSTED",
    "FAILED_PRECONDITION",
    "ABORTED",
    "OUT_OF_RANGE",
    "UNIMPLEMENTED",
    "INTERNAL",
    "UNAVAILABLE",
    "DATA_LOSS",
    "UNAUTHENTICATED",
];

impl ErrorKind {
    /// Parses a kind name as it appears in snapshots.
    pub fn parse(s: &str) -> Self {
        match s {
            "connect_refused" => Self::ConnectRefused,
            "connect_timeout" => Self::ConnectTimeout,
            "timeout" => Self::Timeout,
            "reset" => Self::Reset,
            "tls" => Self::Tls,
            "io" => Self::Io,
            "http_status" => Self::HttpStatus,
            "check_failed" => Self::CheckFailed,
            "protocol" => Self::Protocol,
            "exception" => Self::Exception,
            "other" => Self::Other,
            _ => match s
                .strip_prefix("grpc_")
                .and_then(|n| GRPC_NAMES.iter().position(|g| *g == n))
            {
                Some(code) => Self::Grpc(code as u32),
                None => Self::Custom(s.into()),
            },
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            Self::ConnectRefused => "connect_refused",
            Self::ConnectTimeout => "connect_timeout",
            Self::Timeout => "timeout",
            Self::Reset => "reset",
            Self::Tls => "tls",
            Self::Io => "io",
            Self::HttpStatus => "http_status",
            Self::CheckFailed => "check_failed",
            Self::Protocol => "protocol",
            Self::Exception => "exception",
            Self::Other => "other",
            Self::Grpc(code) => {
                return match GRPC_NAMES.get(*code as usize) {
                    Some(name) => write!(f, "grpc_{name}"),
                    None => write!(f, "grpc_{code}"),
                }
            }
            Self::Custom(s) => s,
        };
        f.write_str(s)
    }
}

/// Response body bytes kept with a distinct failure.
pub const BODY_SAMPLE_BYTES: usize = 512;
/// Distinct messages kept per error kind and endpoint in one interval; further ones count
/// under the kind's first entry, so a message carrying an id cannot grow the list.
const MESSAGES_PER_KIND: usize = 16;

/// One distinct failure (kind and message) in the interval: its count and the first
/// response body bytes seen with it.
#[derive(Debug, Clone)]
pub struct ErrorCount {
    pub kind: ErrorKind,
    pub count: u64,
    pub sample: String,
    pub body: Vec<u8>,
}

/// Counts `count` failures of `kind` with `sample` into `errors` (see `MESSAGES_PER_KIND`).
fn add_error(
    errors: &mut Vec<ErrorCount>,
    kind: &ErrorKind,
    sample: &str,
    count: u64,
    body: &[u8],
) {
    if let Some(e) = errors
        .iter_mut()
        .find(|e| &e.kind == kind && e.sample == sample)
    {
        e.count += count;
        return;
    }
    let mut same_kind = errors.iter_mut().filter(|e| &e.kind == kind);
    if let Some(first) = same_kind.next() {
        if same_kind.count() + 1 >= MESSAGES_PER_KIND {
            first.count += count;
            return;
        }
    }
    errors.push(ErrorCount {
        kind: kind.clone(),
        count,
        sample: sample.to_owned(),
        body: body[..body.len().min(BODY_SAMPLE_BYTES)].to_vec(),
    });
}

/// Statistics of one endpoint in one interval.
#[derive(Debug, Clone, Default)]
pub struct EndpointRecord {
    pub requests: u64,
    pub failures: u64,
    pub bytes_received: u64,
    pub bytes_sent: u64,
    pub messages: u64,
    pub latency: Histogram,
    /// Only in the open model (or when the caller reports an intended-start delay).
    pub service_latency: Option<Histogram>,
    pub status_codes: Vec<(u16, u64)>,
    pub errors: Vec<ErrorCount>,
}

/// What one finished request contributes.
pub struct Sample<'a> {
    pub endpoint: u32,
    /// From the intended start (open model) or the actual start.
    pub latency_us: u64,
    /// The uncorrected service time, when it differs from `latency_us` by design.
    pub service_us: Option<u64>,
    /// Expected interval for coordinated-omission correction (0 = none).
    pub correct_interval_us: u64,
    /// HTTP status, or a gRPC call's gRPC status (0 is OK); None: nothing to count.
    pub status: Option<u16>,
    pub bytes_received: u64,
    pub bytes_sent: u64,
    pub messages: u64,
    /// Error kind and a lazily formatted message.
    pub error: Option<(&'a ErrorKind, &'a dyn fmt::Display)>,
    /// The response body of a failure (only its first `BODY_SAMPLE_BYTES` are kept).
    pub body: &'a [u8],
}

/// A thread's statistics for the current interval.
#[derive(Debug, Default)]
pub struct Recorder {
    pub endpoints: Vec<Option<Box<EndpointRecord>>>,
    pub iterations: u64,
    pub dropped_iterations: u64,
}

impl Recorder {
    fn endpoint(&mut self, id: u32) -> &mut EndpointRecord {
        let i = id as usize;
        if self.endpoints.len() <= i {
            self.endpoints.resize_with(i + 1, || None);
        }
        self.endpoints[i].get_or_insert_with(Default::default)
    }

    /// Records one finished (or failed) request.
    pub fn record(&mut self, s: &Sample<'_>) {
        let ep = self.endpoint(s.endpoint);
        ep.requests += 1;
        ep.bytes_received += s.bytes_received;
        ep.bytes_sent += s.bytes_sent;
        ep.messages += s.messages;
        if s.correct_interval_us > 0 {
            ep.latency
                .record_correct(s.latency_us, s.correct_interval_us);
        } else {
            ep.latency.record(s.latency_us);
        }
        if let Some(service) = s.service_us {
            ep.service_latency
                .get_or_insert_with(Histogram::new)
                .record(service);
        }
        if let Some(status) = s.status {
            match ep.status_codes.iter_mut().find(|(c, _)| *c == status) {
                Some((_, n)) => *n += 1,
                None => ep.status_codes.push((status, 1)),
            }
        }
        if let Some((kind, message)) = s.error {
            ep.failures += 1;
            // Formatted only on failure: the message is part of what makes it distinct.
            let sample = truncate(message.to_string(), 2000);
            add_error(&mut ep.errors, kind, &sample, 1, s.body);
        }
    }

    /// Adds another recorder's statistics (exact).
    pub fn merge(&mut self, other: &Recorder) {
        self.iterations += other.iterations;
        self.dropped_iterations += other.dropped_iterations;
        for (id, ep) in other.endpoints.iter().enumerate() {
            let Some(o) = ep else { continue };
            let mine = self.endpoint(id as u32);
            mine.requests += o.requests;
            mine.failures += o.failures;
            mine.bytes_received += o.bytes_received;
            mine.bytes_sent += o.bytes_sent;
            mine.messages += o.messages;
            // Same fixed bounds everywhere: adding cannot fail.
            let _ = mine.latency.add(&o.latency);
            if let Some(s) = &o.service_latency {
                let _ = mine
                    .service_latency
                    .get_or_insert_with(Histogram::new)
                    .add(s);
            }
            for (code, n) in &o.status_codes {
                match mine.status_codes.iter_mut().find(|(c, _)| c == code) {
                    Some((_, m)) => *m += n,
                    None => mine.status_codes.push((*code, *n)),
                }
            }
            for e in &o.errors {
                add_error(&mut mine.errors, &e.kind, &e.sample, e.count, &e.body);
            }
        }
    }

    /// Empties the recorder but keeps its allocations for reuse.
    pub fn clear(&mut self) {
        self.iterations = 0;
        self.dropped_iterations = 0;
        for ep in self.endpoints.iter_mut().flatten() {
            ep.requests = 0;
            ep.failures = 0;
            ep.bytes_received = 0;
            ep.bytes_sent = 0;
            ep.messages = 0;
            ep.latency.reset();
            if let Some(s) = &mut ep.service_latency {
                s.reset();
            }
            ep.status_codes.clear();
            ep.errors.clear();
        }
    }
}

fn truncate(mut s: String, max: usize) -> String {
    if s.len() > max {
        let mut cut = max;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure<'a>(
        kind: &'a ErrorKind,
        message: &'a dyn fmt::Display,
        body: &'a [u8],
    ) -> Sample<'a> {
        Sample {
            endpoint: 0,
            latency_us: 1,
            service_us: None,
            correct_interval_us: 0,
            status: Some(500),
            bytes_received: 0,
            bytes_sent: 0,
            messages: 0,
            error: Some((kind, message)),
            body,
        }
    }

    #[test]
    fn distinct_failures_keep_their_first_body_within_bounds() {
        let mut rec = Recorder::default();
        let kind = ErrorKind::HttpStatus;
        let big = vec![b'x'; 2000];
        for i in 0..40 {
            let message = format!("message {}", i % 20);
            rec.record(&failure(&kind, &message, &big));
        }
        rec.record(&failure(&ErrorKind::Timeout, &"late", b"first"));
        rec.record(&failure(&ErrorKind::Timeout, &"late", b"second"));
        let ep = rec.endpoints[0].as_ref().unwrap();
        let status: Vec<_> = ep.errors.iter().filter(|e| e.kind == kind).collect();
        assert_eq!(status.len(), MESSAGES_PER_KIND);
        assert_eq!(status.iter().map(|e| e.count).sum::<u64>(), 40);
        assert!(status.iter().all(|e| e.body.len() == BODY_SAMPLE_BYTES));
        let late = ep
            .errors
            .iter()
            .find(|e| e.kind == ErrorKind::Timeout)
            .unwrap();
        assert_eq!((late.count, late.body.as_slice()), (2, &b"first"[..]));
    }
}
