//! Where requests go: scheme, host and resolved addresses, parsed once per distinct origin.

use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::{Arc, Mutex};

use crate::error::{Error, Result};

/// Whether the origin is reached in clear text or over TLS.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scheme {
    Http,
    Https,
}

/// One origin (scheme://host:port) with its addresses resolved up front.
#[derive(Debug)]
pub struct Target {
    /// Index into the engine's target table.
    pub id: u32,
    pub scheme: Scheme,
    /// Host name as written (used for SNI and `Host`).
    pub host: String,
    pub port: u16,
    /// `host:port` as it goes into `Host` / `:authority`.
    pub authority: String,
    pub addrs: Vec<SocketAddr>,
}

/// A URL split into its origin and the request target (`/path?query`).
pub struct SplitUrl {
    pub scheme: Scheme,
    pub host: String,
    pub port: u16,
    pub authority: String,
    pub path_and_query: String,
}

/// Splits an absolute `http://` or `https://` URL.
pub fn split_url(url: &str) -> std::result::Result<SplitUrl, String> {
    let uri: http::Uri = url
        .parse()
        .map_err(|e| format!("invalid URL {url:?}: {e}"))?;
    let scheme = match uri.scheme_str() {
        Some("http") => Scheme::Http,
        Some("https") => Scheme::Https,
        Some(other) => return Err(format!("unsupported URL scheme {other:?} in {url:?}")),
        None => return Err(format!("URL {url:?} is not absolute (scheme://host/...)")),
    };
    let authority = uri
        .authority()
        .ok_or_else(|| format!("URL {url:?} has no host"))?;
    let host = authority
        .host()
        .trim_start_matches('[')
        .trim_end_matches(']');
    let port = authority.port_u16().unwrap_or(match scheme {
        Scheme::Http => 80,
        Scheme::Https => 443,
    });
    let path_and_query = uri
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "/".to_owned());
    Ok(SplitUrl {
        scheme,
        host: host.to_owned(),
        port,
        authority: authority.as_str().to_owned(),
        path_and_query,
    })
}

/// Interns origins so every request to one origin shares its resolved addresses and
/// connection pools.
#[derive(Default)]
pub struct TargetTable {
    targets: Mutex<Vec<Arc<Target>>>,
}

impl TargetTable {
    /// The target for `url`'s origin, resolving it the first time it is seen.
    pub fn intern(&self, url: &SplitUrl) -> Result<Arc<Target>> {
        let mut targets = self.targets.lock().expect("target table poisoned");
        if let Some(t) = targets
            .iter()
            .find(|t| t.scheme == url.scheme && t.host == url.host && t.port == url.port)
        {
            return Ok(t.clone());
        }
        let addrs: Vec<SocketAddr> = (url.host.as_str(), url.port)
            .to_socket_addrs()
            .map_err(|e| Error::Plan(format!("cannot resolve {}: {e}", url.authority)))?
            .collect();
        if addrs.is_empty() {
            return Err(Error::Plan(format!(
                "{} resolves to no address",
                url.authority
            )));
        }
        let target = Arc::new(Target {
            id: targets.len() as u32,
            scheme: url.scheme,
            host: url.host.clone(),
            port: url.port,
            authority: url.authority.clone(),
            addrs,
        });
        targets.push(target.clone());
        Ok(target)
    }
}
