//! The history's own tests: units, groups and their weights.
use super::*;

/// A fixed zig-zag of ±`sd` with a slow wander: noise whose first differences are known.
fn wobble(n: usize, sd: f64, phase: usize) -> Vec<f64> {
    (0..n)
        .map(|i| sd * if (i + phase) % 2 == 0 { 1.0 } else { -1.0 } * (1.0 + (i % 3) as f64 / 4.0))
        .collect()
}

fn measured(metric: Metric, samples: Vec<f64>, probe: Vec<f64>) -> crate::results::Measurement {
    let case = CaseId {
        workload: "start-only".into(),
        model: crate::api::Model::Threads.name().into(),
        variant: "default".into(),
        workers: 1,
        params: Default::default(),
    };
    let mut m = crate::results::Measurement::new(&case, metric, samples, true);
    m.probe = probe;
    m
}

#[test]
fn a_figure_beside_a_probe_has_four_powers_of_it_and_a_throughput_no_bare_loop() {
    // Start costs of 10, 20 and 30 µs beside probes of 4, 1 and 0.25 steps per ns: × each
    // power of the probe, sample by sample, the median is the middle sample's (× 1e9^k).
    let m = measured(
        Metric::Startup,
        vec![10e3, 20e3, 30e3],
        vec![4e9, 1e9, 0.25e9],
    );
    let all = in_each_unit(&BTreeMap::new(), &m);
    for (w, k) in POWERS.iter().enumerate() {
        let want = 20e3 * 1e9_f64.powf(*k);
        assert!(
            (all[w].unwrap().0 - want).abs() < 1e-9 * want,
            "{k}: {:?}",
            all[w]
        );
    }
    assert_eq!(unit_names(&m)[1], "ns × √core speed");
    assert_eq!(unit_names(&m)[3], "ns × core speed^1.5");
    // A throughput is divided by them; with no bare loop beside it, it has no last unit.
    let t = measured(Metric::Throughput, vec![1.0, 2.0, 3.0], vec![4.0, 4.0, 4.0]);
    let all = in_each_unit(&BTreeMap::new(), &t);
    assert_eq!(all[0].unwrap().0, 2.0);
    assert_eq!(all[2].unwrap().0, 0.5);
    assert_eq!(all[3].unwrap().0, 0.25);
    assert!(all[BARE].is_none());
    assert_eq!(unit_names(&t)[2], format!("{} ÷ core speed", t.unit));
}

/// A real run of this repository's, to hold made-up measurements.
fn a_run() -> Results {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("results/history-eval/vm-amd-epyc");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let mut r = crate::results::load(&files[0]).unwrap();
    r.measurements.clear();
    r
}

#[test]
fn a_start_sharing_its_bare_loops_spells_has_a_series_against_it_beside_its_own() {
    // Three runs whose spells (× 1, 3 and 1.5) move a start and the bare loop beside it
    // alike: as measured the start wanders threefold; against its bare loop it is 2.
    let runs: Vec<(Results, PathBuf)> = [1.0, 3.0, 1.5]
        .iter()
        .map(|k| {
            let mut r = a_run();
            let start = measured(Metric::Startup, vec![10e3 * k, 12e3 * k, 11e3 * k], vec![]);
            let mut bare = measured(Metric::Roundtrip, vec![5e3 * k, 6e3 * k, 5.5e3 * k], vec![]);
            bare.case.variant = crate::results::derived::PTHREAD_VARIANT.into();
            r.measurements = vec![start, bare];
            (r, PathBuf::new())
        })
        .collect();
    let h = history(&runs, 0.05);
    let start = h
        .series
        .iter()
        .find(|s| s.metric == Metric::Startup && s.label.ends_with("÷ the bare loop beside it"))
        .unwrap();
    assert_eq!(start.unit, "ns ÷ the bare OS loop's ns");
    // The start's own series beside it, as measured (no probe here): it wanders threefold.
    let own: Vec<&Series> = h
        .series
        .iter()
        .filter(|s| s.metric == Metric::Startup)
        .collect();
    assert_eq!(own.len(), 2);
    assert_eq!(own[0].unit, "ns");
    assert_eq!(own[0].points[1].1, 33e3);
    assert!(
        start.points.iter().all(|p| (p.1 - 2.0).abs() < 1e-12),
        "{:?}",
        start.points
    );
    // The bare loop has no bare loop of its own: followed as measured.
    let bare = h
        .series
        .iter()
        .find(|s| s.label.contains("pthread"))
        .unwrap();
    assert_eq!(bare.unit, "ns");
    assert!(bare.noise_pct > 50.0);
}

#[test]
fn a_wild_member_hardly_moves_its_group_and_the_weights_sum_to_one() {
    let steady = wobble(40, 0.01, 0);
    let wild = wobble(40, 0.5, 1);
    let w = weights(&[steady.clone(), wild.clone()]);
    assert!((w.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    assert!(w[0] > 0.99, "{w:?}");
    let g = weighted_logs(&[steady.clone(), wild]);
    // The group is no wilder than its steady member, where a plain mean would be 25 times.
    assert!(detect::noise(&g) <= 1.05 * detect::noise(&steady));
}

#[test]
fn a_step_of_every_member_is_the_groups_step() {
    let mut a = wobble(30, 0.01, 0);
    let mut b = wobble(30, 0.03, 1);
    for v in a[20..].iter_mut().chain(b[20..].iter_mut()) {
        *v += 0.1;
    }
    let g = weighted_logs(&[a, b]);
    let before = g[..20].iter().sum::<f64>() / 20.0;
    let after = g[20..].iter().sum::<f64>() / 10.0;
    assert!((after - before - 0.1).abs() < 0.02, "{}", after - before);
}
