//! `loadforge._core`: the thin PyO3 layer over `loadforge-core`.

mod engine;
mod errors;
mod gil;
mod histogram;

use pyo3::prelude::*;

/// The engine allocates per request (task, events, bodies) on threads that hand memory to
/// each other; mimalloc's thread-local free lists do that for a fraction of glibc
/// malloc's cost. Only Rust's allocations use it; Python keeps its own allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

extern "C" {
    fn mi_option_set(option: std::ffi::c_int, value: std::ffi::c_long);
}

/// `mi_option_arena_eager_commit` in the bundled mimalloc v3's `mi_option_e`
/// (libmimalloc-sys 0.1.49, pinned in Cargo.lock).
const MI_OPTION_ARENA_EAGER_COMMIT: std::ffi::c_int = 4;

/// Commit arena memory as it is used, not ahead: with 10,000 users each connection's
/// mostly untouched 16 KB read buffer would otherwise count in full (RSS 258 MB instead
/// of 126 MB in benches/memory.py). Runs when the library is loaded (`.init_array`),
/// before its first allocation makes an arena.
extern "C" fn lazy_commit() {
    // SAFETY: sets a documented mimalloc option, a plain global, before any allocation.
    unsafe { mi_option_set(MI_OPTION_ARENA_EAGER_COMMIT, 0) }
}

#[used]
#[link_section = ".init_array"]
static LAZY_COMMIT: extern "C" fn() = lazy_commit;

#[pymodule]
mod _core {

    #[pymodule_export]
    use crate::engine::PyEngine;
    #[pymodule_export]
    use crate::errors::{EngineError, LoadforgeError, PlanError};
    #[pymodule_export]
    use crate::histogram::PyHistogram;
}
