//! Network clients: TCP/TLS connection set-up, HTTP/1.1, HTTP/2 and gRPC exchanges.

pub mod connect;
pub mod grpc_stream;
pub mod h2conn;
pub mod hpack;
pub mod http1;
pub mod http2;
pub mod stream;
pub mod tls;

use std::fmt;
use std::io;

use bytes::Bytes;

use crate::recorder::ErrorKind;

/// A request that failed below the HTTP status level. The message is formatted only
/// when it becomes an interval's sample.
#[derive(Debug)]
pub struct RequestError {
    pub kind: ErrorKind,
    pub detail: Detail,
}

/// Why a request failed, unformatted.
#[derive(Debug)]
pub enum Detail {
    Static(&'static str),
    Io(io::Error),
    Text(String),
}

impl fmt::Display for Detail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Static(s) => f.write_str(s),
            Self::Io(e) => write!(f, "{e}"),
            Self::Text(s) => f.write_str(s),
        }
    }
}

impl RequestError {
    pub fn new(kind: ErrorKind, detail: &'static str) -> Self {
        Self {
            kind,
            detail: Detail::Static(detail),
        }
    }

    pub fn text(kind: ErrorKind, detail: String) -> Self {
        Self {
            kind,
            detail: Detail::Text(detail),
        }
    }

    /// Classifies an I/O error on an established connection.
    pub fn io(e: io::Error) -> Self {
        let kind = match e.kind() {
            io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe
            | io::ErrorKind::UnexpectedEof => ErrorKind::Reset,
            io::ErrorKind::TimedOut => ErrorKind::Timeout,
            io::ErrorKind::ConnectionRefused => ErrorKind::ConnectRefused,
            io::ErrorKind::InvalidData => ErrorKind::Protocol,
            _ => ErrorKind::Io,
        };
        Self {
            kind,
            detail: Detail::Io(e),
        }
    }
}

/// What the caller wants kept from a response.
#[derive(Clone, Copy, Debug, Default)]
pub struct Keep {
    pub body: bool,
    pub headers: bool,
}

/// Response headers as one block of `name: value\r\n` lines (names lowercase), the form
/// Python receives them in: one buffer per response instead of two strings per header.
pub type HeaderBlock = Vec<u8>;

/// Appends one header line to a block.
pub fn push_header(block: &mut HeaderBlock, name: &[u8], value: &[u8]) {
    block.reserve(name.len() + value.len() + 4);
    block.extend(name.iter().map(u8::to_ascii_lowercase));
    block.extend_from_slice(b": ");
    block.extend_from_slice(value);
    block.extend_from_slice(b"\r\n");
}

/// A response, with only what was asked for kept.
#[derive(Debug, Default)]
pub struct Response {
    pub status: u16,
    /// Response headers (and gRPC trailers), when kept.
    pub headers: HeaderBlock,
    /// Body (gRPC: the first message, unframed), when kept.
    pub body: Bytes,
    /// Bytes received for this response, head included where the protocol shows it.
    pub bytes_received: u64,
    /// gRPC status (None for plain HTTP).
    pub grpc_status: Option<(u32, String)>,
    /// gRPC messages received.
    pub messages: u64,
    /// When the response's last bytes reached the socket, by the kernel's clock (plain
    /// HTTP/1.1 on Linux); the exchange is timed to it rather than to when our thread
    /// woke up to read them.
    pub received_at: Option<std::time::Instant>,
}
