//! The `threadfork` binary: a host of the built-in workloads like any user's bench binary,
//! with the counting allocator the heap figures need (`main!` installs it).

threadfork::main!(registry: threadfork::builtin::registry());
