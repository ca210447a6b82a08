//! The gRPC status a call is counted under in `status_codes`, as a gRPC client would
//! report it. Every call gets exactly one, so a gRPC endpoint's codes sum to its requests,
//! deadline-cut and unreachable calls included (the HTTP status of the response under it
//! is no gRPC status: 200 for most failed calls).

use crate::recorder::ErrorKind;

/// `DEADLINE_EXCEEDED`: a call cut off by its deadline or by the engine stopping.
pub const DEADLINE_EXCEEDED: u16 = 4;

/// The code of a call that ended with `error` (None: it succeeded) after an answer with
/// HTTP status `http_status` (0 when nothing was answered).
pub fn of(error: Option<&ErrorKind>, http_status: u16) -> u16 {
    match error {
        None => 0,
        Some(ErrorKind::Grpc(code)) => *code as u16,
        Some(ErrorKind::HttpStatus) => from_http(http_status),
        Some(ErrorKind::Timeout) => DEADLINE_EXCEEDED,
        Some(
            ErrorKind::ConnectRefused
            | ErrorKind::ConnectTimeout
            | ErrorKind::Reset
            | ErrorKind::Io
            | ErrorKind::Tls,
        ) => 14, // UNAVAILABLE
        Some(ErrorKind::Protocol) => 13, // INTERNAL
        Some(_) => 2,                    // UNKNOWN
    }
}

/// gRPC's mapping of an HTTP status without `grpc-status` (grpc/doc/http-grpc-status-mapping.md).
fn from_http(status: u16) -> u16 {
    match status {
        400 => 13,             // INTERNAL
        401 => 16,             // UNAUTHENTICATED
        403 => 7,              // PERMISSION_DENIED
        404 => 12,             // UNIMPLEMENTED
        429 | 502..=504 => 14, // UNAVAILABLE
        _ => 2,                // UNKNOWN
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_outcome_has_a_code() {
        assert_eq!(of(None, 200), 0);
        assert_eq!(of(Some(&ErrorKind::Grpc(5)), 200), 5);
        assert_eq!(of(Some(&ErrorKind::Timeout), 0), 4);
        assert_eq!(of(Some(&ErrorKind::ConnectRefused), 0), 14);
        assert_eq!(of(Some(&ErrorKind::HttpStatus), 404), 12);
        assert_eq!(of(Some(&ErrorKind::HttpStatus), 500), 2);
        assert_eq!(of(Some(&ErrorKind::Protocol), 200), 13);
    }
}
