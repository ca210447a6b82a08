//! Request templates resolved once at plan time: HTTP/1.1 bytes pre-encoded, HTTP/2
//! method/URI/headers parsed, endpoint interned. Nothing is formatted per request.

use std::sync::Arc;

use bytes::{BufMut, Bytes, BytesMut};
use http::header::{HeaderName, HeaderValue};

use super::endpoints::EndpointTable;
use super::target::{split_url, Target, TargetTable};
use crate::check::Check;
use crate::error::{Error, Result};
use crate::proto;

/// Wire protocol of one template.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    Http1,
    Http2,
    Grpc,
}

impl Protocol {
    /// From the proto enum value (unknown values are rejected).
    pub fn from_i32(v: i32) -> Option<Self> {
        match v {
            0 => Some(Self::Http1),
            1 => Some(Self::Http2),
            2 => Some(Self::Grpc),
            _ => None,
        }
    }
}

/// Settings that shape how every template is encoded.
#[derive(Clone, Copy, Default)]
pub struct EncodeOptions {
    /// Ask the server to close after each response.
    pub connection_close: bool,
    /// gRPC: the call's deadline, sent as `grpc-timeout` so the server gives up too.
    pub grpc_timeout: Option<std::time::Duration>,
}

/// One fully resolved request.
#[derive(Clone, Debug)]
pub struct Template {
    pub endpoint: u32,
    pub protocol: Protocol,
    pub target: Arc<Target>,
    pub method: http::Method,
    pub uri: http::Uri,
    /// Headers for HTTP/2 (no connection-specific ones).
    pub h2_headers: http::HeaderMap,
    /// The HTTP/2 request header block (pseudo-headers and `h2_headers`) as HPACK
    /// literals (`net::h2conn`), and an id unique to this template that connections key
    /// their indexed encoding of it by.
    pub h2_block: Bytes,
    pub h2_id: u64,
    /// Request body as sent (gRPC: already framed).
    pub body: Bytes,
    /// The whole HTTP/1.1 request: head and body.
    pub h1_bytes: Bytes,
    pub check: Check,
    pub keep_body: bool,
    /// HEAD responses carry no body even with a Content-Length.
    pub is_head: bool,
}

static NEXT_TEMPLATE_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// Compiles `tpl`; errors name the request.
pub fn compile(
    tpl: &proto::RequestTemplate,
    targets: &TargetTable,
    endpoints: &EndpointTable,
    opts: EncodeOptions,
) -> Result<Arc<Template>> {
    let fail = |why: String| Error::Plan(format!("request {} {}: {why}", tpl.method, tpl.url));
    let url = split_url(&tpl.url).map_err(fail)?;
    let protocol = Protocol::from_i32(tpl.protocol)
        .ok_or_else(|| fail(format!("unknown protocol {}", tpl.protocol)))?;
    // gRPC is always POST on the wire; plans spell its method "GRPC" for the statistics.
    let method_name = if protocol == Protocol::Grpc {
        "POST"
    } else if tpl.method.is_empty() {
        "GET"
    } else {
        tpl.method.as_str()
    };
    let method = http::Method::from_bytes(method_name.to_ascii_uppercase().as_bytes())
        .map_err(|_| fail(format!("invalid method {:?}", tpl.method)))?;
    let target = targets.intern(&url)?;
    let uri: http::Uri = tpl
        .url
        .parse()
        .map_err(|e| fail(format!("invalid URL: {e}")))?;
    let check = Check::compile(tpl.check.as_ref()).map_err(fail)?;

    let mut headers = Vec::with_capacity(tpl.headers.len());
    for h in &tpl.headers {
        let name = HeaderName::from_bytes(h.name.as_bytes())
            .map_err(|_| fail(format!("invalid header name {:?}", h.name)))?;
        let value = HeaderValue::from_str(&h.value)
            .map_err(|_| fail(format!("invalid value for header {:?}", h.name)))?;
        headers.push((name, value));
    }

    let body = if protocol == Protocol::Grpc {
        grpc_frame(&tpl.body)
    } else {
        Bytes::copy_from_slice(&tpl.body)
    };
    let h1_bytes = encode_h1(
        &method,
        &url.path_and_query,
        &url.authority,
        &headers,
        &body,
        opts,
    );
    let mut h2_headers = h2_headers(&headers, protocol);
    if let (Protocol::Grpc, Some(limit)) = (protocol, opts.grpc_timeout) {
        h2_headers.insert("grpc-timeout", grpc_timeout(limit));
    }
    let name = if tpl.name.is_empty() {
        url.path_and_query.split('?').next().unwrap_or("/")
    } else {
        tpl.name.as_str()
    };
    let endpoint_method = if protocol == Protocol::Grpc {
        "GRPC"
    } else {
        method.as_str()
    };
    let h2_block = crate::net::h2conn::encode_request_block(&method, &uri, &h2_headers);
    Ok(Arc::new(Template {
        endpoint: endpoints.intern(endpoint_method, name),
        protocol,
        target,
        is_head: method == http::Method::HEAD,
        method,
        uri,
        h2_headers,
        h2_block,
        h2_id: NEXT_TEMPLATE_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        body,
        h1_bytes,
        keep_body: tpl.keep_body || check.needs_body(),
        check,
    }))
}

/// gRPC length-prefixed message: flag byte 0 (uncompressed), 4-byte big-endian length.
pub fn grpc_frame(msg: &[u8]) -> Bytes {
    let mut out = BytesMut::with_capacity(5 + msg.len());
    out.put_u8(0);
    out.put_u32(msg.len() as u32);
    out.put_slice(msg);
    out.freeze()
}

/// `grpc-timeout`: at most 8 digits and a unit, in the finest unit that fits.
pub fn grpc_timeout(limit: std::time::Duration) -> HeaderValue {
    const MAX: u128 = 99_999_999;
    let text = if limit.as_micros() <= MAX {
        format!("{}u", limit.as_micros().max(1))
    } else if limit.as_millis() <= MAX {
        format!("{}m", limit.as_millis())
    } else {
        format!("{}S", limit.as_secs().min(MAX as u64))
    };
    HeaderValue::from_str(&text).expect("digits and a unit are a valid header value")
}

fn encode_h1(
    method: &http::Method,
    path: &str,
    authority: &str,
    headers: &[(HeaderName, HeaderValue)],
    body: &[u8],
    opts: EncodeOptions,
) -> Bytes {
    let has = |n: &HeaderName| headers.iter().any(|(k, _)| k == n);
    let mut out = BytesMut::with_capacity(128 + body.len());
    out.put_slice(method.as_str().as_bytes());
    out.put_u8(b' ');
    out.put_slice(path.as_bytes());
    out.put_slice(b" HTTP/1.1\r\n");
    if !has(&http::header::HOST) {
        out.put_slice(b"Host: ");
        out.put_slice(authority.as_bytes());
        out.put_slice(b"\r\n");
    }
    if !has(&http::header::USER_AGENT) {
        out.put_slice(b"User-Agent: loadforge\r\n");
    }
    for (k, v) in headers {
        if k == http::header::CONTENT_LENGTH || k == http::header::CONNECTION {
            continue; // computed below
        }
        out.put_slice(k.as_str().as_bytes());
        out.put_slice(b": ");
        out.put_slice(v.as_bytes());
        out.put_slice(b"\r\n");
    }
    let body_method = matches!(
        *method,
        http::Method::POST | http::Method::PUT | http::Method::PATCH
    );
    if !body.is_empty() || body_method {
        out.put_slice(format!("Content-Length: {}\r\n", body.len()).as_bytes());
    }
    if opts.connection_close {
        out.put_slice(b"Connection: close\r\n");
    }
    out.put_slice(b"\r\n");
    out.put_slice(body);
    out.freeze()
}

fn h2_headers(headers: &[(HeaderName, HeaderValue)], protocol: Protocol) -> http::HeaderMap {
    use http::header;
    let mut map = http::HeaderMap::with_capacity(headers.len() + 3);
    for (k, v) in headers {
        let connection_specific = k == header::HOST
            || k == header::CONNECTION
            || k == header::TRANSFER_ENCODING
            || k == header::UPGRADE
            || k == "keep-alive"
            || k == "proxy-connection"
            || (k == header::TE && v != "trailers");
        if !connection_specific {
            map.append(k.clone(), v.clone());
        }
    }
    if protocol == Protocol::Grpc {
        map.insert(header::TE, HeaderValue::from_static("trailers"));
        if !map.contains_key(header::CONTENT_TYPE) {
            map.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/grpc"),
            );
        }
    }
    if !map.contains_key(header::USER_AGENT) {
        map.insert(header::USER_AGENT, HeaderValue::from_static("loadforge"));
    }
    map
}
