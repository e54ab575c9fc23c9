//! A user's own workloads for threadfork, each in a file of its own, registered in one list.

pub mod fnv;
pub mod order_book;

/// Every workload of this crate.
pub fn registry() -> threadfork::Registry {
    threadfork::Registry::new()
        .with(order_book::OrderBook)
        .with(fnv::Fnv::default())
}
