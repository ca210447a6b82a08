//! Opening a connection to a target: TCP with a connect timeout, then TLS when the
//! scheme asks for it. Errors come back already classified.

use std::io;
use std::time::Duration;

use tokio::net::TcpStream;

use super::stream::Stream;
use super::tls::{server_name, TlsConfigs};
use super::RequestError;
use crate::plan::{Scheme, Target};
use crate::recorder::ErrorKind;

/// Which ALPN offer to make on TLS connections.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Alpn {
    Http1,
    H2,
}

/// Connects to `target`, trying each resolved address in turn.
pub async fn connect(
    target: &Target,
    tls: Option<&TlsConfigs>,
    alpn: Alpn,
    timeout: Duration,
) -> Result<Stream, RequestError> {
    let tcp = tokio::time::timeout(timeout, tcp_connect(target))
        .await
        .map_err(|_| RequestError::new(ErrorKind::ConnectTimeout, "connect timed out"))??;
    if target.scheme == Scheme::Http {
        return Ok(Stream::Plain(tcp));
    }
    let tls = tls.ok_or_else(|| RequestError::new(ErrorKind::Tls, "TLS is not configured"))?;
    let connector = match alpn {
        Alpn::H2 => &tls.h2,
        Alpn::Http1 => &tls.h1,
    };
    let name = server_name(&target.host).map_err(|e| RequestError::text(ErrorKind::Tls, e))?;
    let stream = tokio::time::timeout(timeout, connector.connect(name, tcp))
        .await
        .map_err(|_| RequestError::new(ErrorKind::ConnectTimeout, "TLS handshake timed out"))?
        .map_err(|e| RequestError::text(ErrorKind::Tls, format!("TLS handshake: {e}")))?;
    Ok(Stream::Tls(Box::new(stream)))
}

async fn tcp_connect(target: &Target) -> Result<TcpStream, RequestError> {
    let mut last: Option<io::Error> = None;
    for addr in &target.addrs {
        match TcpStream::connect(addr).await {
            Ok(s) => {
                // Small requests must leave at once, not wait for Nagle.
                let _ = s.set_nodelay(true);
                super::stream::enable_rx_timestamps(&s);
                return Ok(s);
            }
            Err(e) => last = Some(e),
        }
    }
    let e = last.unwrap_or_else(|| io::Error::other("no address"));
    let kind = match e.kind() {
        io::ErrorKind::ConnectionRefused => ErrorKind::ConnectRefused,
        io::ErrorKind::TimedOut => ErrorKind::ConnectTimeout,
        _ => ErrorKind::Io,
    };
    Err(RequestError {
        kind,
        detail: super::Detail::Text(format!("connect to {}: {e}", target.authority)),
    })
}
