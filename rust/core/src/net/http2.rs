//! HTTP/2 exchanges over the `h2` crate (h2c with prior knowledge, or TLS with ALPN), and
//! unary gRPC on top: 5-byte message framing, `grpc-status` from trailers or a
//! trailers-only response.

use bytes::{Buf, Bytes, BytesMut};
use h2::client::SendRequest;

use super::stream::Stream;
use super::{push_header, HeaderBlock, Keep, RequestError, Response};
use crate::plan::{Protocol, Template};
use crate::recorder::{ErrorKind, BODY_SAMPLE_BYTES};

/// Performs the HTTP/2 handshake and drives the connection on the current runtime.
pub async fn handshake(io: Stream) -> Result<SendRequest<Bytes>, RequestError> {
    let (send, conn) = h2::client::Builder::new()
        .initial_window_size(4 * 1024 * 1024)
        .initial_connection_window_size(16 * 1024 * 1024)
        .handshake::<_, Bytes>(io)
        .await
        .map_err(h2_error)?;
    tokio::spawn(async move {
        // Errors surface on the streams that use the connection.
        let _ = conn.await;
    });
    Ok(send)
}

/// Classifies an h2 error.
pub fn h2_error(e: h2::Error) -> RequestError {
    if e.is_io() {
        return match e.into_io() {
            Some(io) => RequestError::io(io),
            None => RequestError::new(ErrorKind::Io, "HTTP/2 I/O error"),
        };
    }
    let kind = if e.is_reset() || e.is_go_away() {
        ErrorKind::Reset
    } else {
        ErrorKind::Protocol
    };
    RequestError::text(kind, format!("HTTP/2: {e}"))
}

/// Sends one request on `send` and reads the whole response.
pub async fn exchange(
    send: &SendRequest<Bytes>,
    tpl: &Template,
    keep: Keep,
) -> Result<Response, RequestError> {
    let mut request = http::Request::new(());
    *request.method_mut() = tpl.method.clone();
    *request.uri_mut() = tpl.uri.clone();
    *request.headers_mut() = tpl.h2_headers.clone();
    exchange_request(send, request, tpl.body.clone(), tpl.protocol, keep).await
}

/// Sends a prepared request (the body already gRPC-framed for gRPC).
pub async fn exchange_request(
    send: &SendRequest<Bytes>,
    request: http::Request<()>,
    body: Bytes,
    protocol: Protocol,
    keep: Keep,
) -> Result<Response, RequestError> {
    let grpc = protocol == Protocol::Grpc;
    let mut send = send.clone().ready().await.map_err(h2_error)?;
    let (response, mut stream) = send
        .send_request(request, body.is_empty())
        .map_err(h2_error)?;
    if !body.is_empty() {
        // h2 queues data beyond the flow-control window and sends it as credit arrives.
        stream.send_data(body, true).map_err(h2_error)?;
    }
    let response = response.await.map_err(h2_error)?;
    let (parts, mut recv) = response.into_parts();
    let status = parts.status.as_u16();
    let mut headers = HeaderBlock::new();
    let mut grpc_status = grpc.then(|| status_from(&parts.headers)).flatten();
    if keep.headers {
        push_headers(&mut headers, &parts.headers);
    }
    let mut received = 0u64;
    let mut body_buf = BytesMut::new();
    let keep_body = keep.body || grpc;
    while let Some(chunk) = recv.data().await {
        let chunk = chunk.map_err(h2_error)?;
        let _ = recv.flow_control().release_capacity(chunk.len());
        received += chunk.len() as u64;
        if keep_body {
            body_buf.extend_from_slice(&chunk);
        } else if status >= 400 && body_buf.len() < BODY_SAMPLE_BYTES {
            // A failed answer's first bytes go with the failure's sample.
            let room = BODY_SAMPLE_BYTES - body_buf.len();
            body_buf.extend_from_slice(&chunk[..chunk.len().min(room)]);
        }
    }
    if let Some(trailers) = recv.trailers().await.map_err(h2_error)? {
        if grpc {
            grpc_status = status_from(&trailers).or(grpc_status);
        }
        if keep.headers {
            push_headers(&mut headers, &trailers);
        }
    }
    let mut messages = 0;
    let mut body = body_buf.freeze();
    if grpc {
        let (first, count) = deframe(&body);
        messages = count;
        body = first;
        if status == 200 && grpc_status.is_none() {
            return Err(RequestError::new(
                ErrorKind::Protocol,
                "gRPC response without grpc-status",
            ));
        }
    }
    Ok(Response {
        status,
        headers,
        body,
        bytes_received: received,
        grpc_status,
        messages,
        received_at: None,
    })
}

pub(crate) fn push_headers(out: &mut HeaderBlock, map: &http::HeaderMap) {
    for (k, v) in map {
        push_header(out, k.as_str().as_bytes(), v.as_bytes());
    }
}

pub(crate) fn status_from(map: &http::HeaderMap) -> Option<(u32, String)> {
    let code = map.get("grpc-status")?.to_str().ok()?.trim().parse().ok()?;
    let message = map
        .get("grpc-message")
        .and_then(|v| v.to_str().ok())
        .map(percent_decode)
        .unwrap_or_default();
    Some((code, message))
}

/// The first message's payload and the number of complete messages in `body`.
pub(crate) fn deframe(body: &Bytes) -> (Bytes, u64) {
    let mut rest = body.clone();
    let mut first = None;
    let mut count = 0;
    while rest.len() >= 5 {
        let len = u32::from_be_bytes([rest[1], rest[2], rest[3], rest[4]]) as usize;
        if rest.len() < 5 + len {
            break;
        }
        rest.advance(5);
        let msg = rest.split_to(len);
        first.get_or_insert(msg);
        count += 1;
    }
    (first.unwrap_or_default(), count)
}

/// grpc-message is percent-encoded.
pub(crate) fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = |b: u8| (b as char).to_digit(16);
            if let (Some(hi), Some(lo)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((hi * 16 + lo) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
