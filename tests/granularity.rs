//! The granularity sweep's derived figures, on a synthetic run whose speedups are known: the
//! break-even task size (interpolated log-log at the crossing of 1.05×), no break-even for a
//! model that never wins, a per-task overhead for pools only, and the findings in words.

mod common;

use threadfork::__private::results::{CaseId, Measurement, Metric};
use threadfork::__private::sweep::granularity;

fn throughput(model: &str, workers: usize, work: u64, per_s: f64) -> Measurement {
    let case = CaseId {
        workload: "square".into(),
        model: model.into(),
        variant: "default".into(),
        workers,
        params: [("work".to_string(), work)].into_iter().collect(),
    };
    Measurement::new(&case, Metric::Throughput, vec![per_s; 5], true)
}

#[test]
fn break_even_is_the_interpolated_crossing_and_a_loser_has_none() {
    let works = [1u64, 10, 100, 1000];
    let mut ms = Vec::new();
    for (i, &w) in works.iter().enumerate() {
        ms.push(throughput("sequential", 1, w, 1e9));
        ms.push(throughput(
            "thread-pool-map",
            2,
            w,
            1e9 * [0.1, 0.5, 0.8, 1.6][i],
        ));
        ms.push(throughput(
            "thread-pool-submit-wait",
            2,
            w,
            1e9 * [0.01, 0.05, 0.1, 0.2][i],
        ));
        ms.push(throughput("threads", 2, w, 1.9e9));
    }
    let mut r = common::synthetic_results("granularity", "synthetic", Some(2), ms);
    granularity::derive(&mut r);
    let find = |model: &str, metric: Metric| {
        r.measurements
            .iter()
            .find(|m| m.case.model == model && m.metric == metric)
    };
    // Between 100 (0.8×) and 1000 (1.6×): 100 × 10^((ln 1.05 − ln 0.8) / ln 2) ≈ 246.9.
    let be = find("thread-pool-map", Metric::BreakEven).expect("a break-even");
    assert!((be.median - 246.9).abs() < 0.5, "{}", be.median);
    assert_eq!(
        be.param("work"),
        None,
        "the figure belongs to the whole sweep"
    );
    assert!(find("thread-pool-submit-wait", Metric::BreakEven).is_none());
    // A model that wins from the smallest size on breaks even there.
    assert_eq!(find("threads", Metric::BreakEven).unwrap().median, 1.0);
    // A per-task overhead is a pool's figure only.
    assert!(
        find("thread-pool-map", Metric::TaskOverhead)
            .unwrap()
            .median
            .is_finite()
    );
    assert!(find("threads", Metric::TaskOverhead).is_none());
    let words = granularity::findings(&r).join("\n");
    assert!(
        words.contains("thread-pool-submit-wait never up to 10^3"),
        "{words}"
    );
    assert!(
        words.contains("thread-pool-map ≈ 247 (between 100 and 10^3)"),
        "{words}"
    );
    assert!(
        words.contains("thread-pool-submit-wait 0.010–0.200×"),
        "{words}"
    );
}
