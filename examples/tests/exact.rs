//! The process-shared workload is exact across 4 forked and 4 spawned processes.

use std::path::Path;

use threadfork::Model;
use threadfork::Verdict;
use threadfork::testing::{Bound, run_sample};

#[test]
fn the_order_book_is_exact_across_four_forked_and_four_spawned_processes() {
    let reg = threadfork_examples::registry();
    let book = Bound::new(
        reg.find("order-book").unwrap(),
        "default",
        &[("orders", 20_000)],
    )
    .unwrap();
    let exe = Path::new(env!("CARGO_BIN_EXE_host"));
    for model in [Model::Fork, Model::Spawn] {
        let raw = run_sample(model, &book.job(4, exe)).unwrap();
        assert_eq!(raw.verdict, Verdict::Passed, "{model}");
        assert_eq!(raw.ops(), 4 * 20_000, "{model}");
        let mut pids: Vec<u32> = raw.workers.iter().map(|w| w.pid).collect();
        pids.sort();
        pids.dedup();
        assert_eq!(pids.len(), 4, "{model}: four distinct processes");
        assert!(!pids.contains(&std::process::id()));
    }
}
