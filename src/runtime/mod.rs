//! Runtimes besides threadfork's own Rust, driven through a small protocol: CPython runs the
//! classic Python examples through the driver in `python/`.

pub mod cpython;
