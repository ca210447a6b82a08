//! Errors the engine reports to its caller (not per-request failures, which are counted).

/// What went wrong outside the counted request failures.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The plan or a request template is invalid; the message names the request.
    #[error("{0}")]
    Plan(String),
    /// The engine itself failed (runtime start, misuse of the lifecycle).
    #[error("{0}")]
    Engine(String),
    /// A histogram could not be decoded or merged.
    #[error("{0}")]
    Histogram(String),
}

/// Result alias for engine operations.
pub type Result<T> = std::result::Result<T, Error>;
