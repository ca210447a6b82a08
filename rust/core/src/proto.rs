//! Plan and Snapshot messages generated from `proto/loadforge/v1/*.proto`.
#![allow(clippy::all, missing_docs)]

include!(concat!(env!("OUT_DIR"), "/loadforge.v1.rs"));
