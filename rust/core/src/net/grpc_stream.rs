//! Streaming gRPC over one HTTP/2 stream: messages are framed as they are sent, and the
//! response is cut into messages as DATA arrives, in batches (everything the connection
//! has already delivered), so a fast stream costs one event per batch, not per message.

use std::future::poll_fn;
use std::task::Poll;

use bytes::{Buf, Bytes, BytesMut};
use h2::client::{ResponseFuture, SendRequest};
use h2::{RecvStream, SendStream};

use super::http2::{h2_error, status_from};
use super::RequestError;
use crate::plan::Template;
use crate::recorder::ErrorKind;

/// An open call: the half we write to and the response still to come.
pub struct OpenCall {
    pub send: SendStream<Bytes>,
    pub response: ResponseFuture,
}

/// Starts a gRPC call for `tpl` (its headers; the body is sent message by message).
pub async fn open(sender: &SendRequest<Bytes>, tpl: &Template) -> Result<OpenCall, RequestError> {
    let mut request = http::Request::new(());
    *request.method_mut() = tpl.method.clone();
    *request.uri_mut() = tpl.uri.clone();
    *request.headers_mut() = tpl.h2_headers.clone();
    let mut ready = sender.clone().ready().await.map_err(h2_error)?;
    let (response, send) = ready.send_request(request, false).map_err(h2_error)?;
    Ok(OpenCall { send, response })
}

/// Cuts a byte stream into gRPC messages.
#[derive(Default)]
pub struct Deframer {
    buf: BytesMut,
}

impl Deframer {
    /// Adds received bytes.
    pub fn push(&mut self, chunk: &[u8]) {
        self.buf.extend_from_slice(chunk);
    }

    /// Complete messages so far (payloads, unframed); compressed ones are an error, as
    /// the call never offers an encoding.
    pub fn drain(&mut self, out: &mut Vec<Bytes>) -> Result<(), RequestError> {
        while self.buf.len() >= 5 {
            let len = u32::from_be_bytes([self.buf[1], self.buf[2], self.buf[3], self.buf[4]]);
            if self.buf.len() < 5 + len as usize {
                break;
            }
            if self.buf[0] != 0 {
                return Err(RequestError::new(
                    ErrorKind::Protocol,
                    "compressed gRPC message, but no encoding was offered",
                ));
            }
            self.buf.advance(5);
            out.push(self.buf.split_to(len as usize).freeze());
        }
        Ok(())
    }

    /// Bytes of an unfinished message left over.
    pub fn leftover(&self) -> usize {
        self.buf.len()
    }
}

/// The response head: HTTP status and the headers (a trailers-only response already
/// carries `grpc-status` here).
pub struct Head {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: RecvStream,
}

/// Waits for the response head.
pub async fn head(response: ResponseFuture) -> Result<Head, RequestError> {
    let response = response.await.map_err(h2_error)?;
    let (parts, body) = response.into_parts();
    Ok(Head {
        status: parts.status.as_u16(),
        headers: parts.headers,
        body,
    })
}

/// Receives the next batch: waits for one DATA chunk, then takes every chunk already
/// delivered without waiting. Returns the bytes received, None at the end of the body.
pub async fn next_batch(
    body: &mut RecvStream,
    deframer: &mut Deframer,
) -> Result<Option<usize>, RequestError> {
    let mut received = match body.data().await {
        None => return Ok(None),
        Some(chunk) => take(body, deframer, chunk)?,
    };
    loop {
        let ready = poll_fn(|cx| match body.poll_data(cx) {
            Poll::Ready(chunk) => Poll::Ready(chunk),
            Poll::Pending => Poll::Ready(None),
        })
        .await;
        match ready {
            Some(chunk) => received += take(body, deframer, chunk)?,
            None => return Ok(Some(received)),
        }
    }
}

fn take(
    body: &mut RecvStream,
    deframer: &mut Deframer,
    chunk: Result<Bytes, h2::Error>,
) -> Result<usize, RequestError> {
    let chunk = chunk.map_err(h2_error)?;
    let _ = body.flow_control().release_capacity(chunk.len());
    deframer.push(&chunk);
    Ok(chunk.len())
}

/// The trailers' gRPC status (None when the server sent none).
pub async fn trailers(
    body: &mut RecvStream,
) -> Result<(Option<(u32, String)>, Option<http::HeaderMap>), RequestError> {
    let trailers = body.trailers().await.map_err(h2_error)?;
    Ok((trailers.as_ref().and_then(status_from), trailers))
}
