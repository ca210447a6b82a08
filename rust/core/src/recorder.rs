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

/// One error kind's count and first message in the interval.
#[derive(Debug, Clone)]
pub struct ErrorCount {
    pub kind: ErrorKind,
    pub count: u64,
    pub sample: String,
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
            match ep.errors.iter_mut().find(|e| &e.kind == kind) {
                Some(e) => e.count += 1,
                None => ep.errors.push(ErrorCount {
                    kind: kind.clone(),
                    count: 1,
                    sample: truncate(message.to_string(), 2000),
                }),
            }
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
                match mine.errors.iter_mut().find(|m| m.kind == e.kind) {
                    Some(m) => m.count += e.count,
                    None => mine.errors.push(e.clone()),
                }
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
