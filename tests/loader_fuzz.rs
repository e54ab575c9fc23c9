//! The results loader never panics: random bytes and mutations of a valid file (bit flips,
//! cuts, insertions, deleted spans) are loaded or refused with an error, never a crash.

use std::path::Path;

use threadfork::__private::results::parse;
use threadfork::__private::stats::SplitMix64;

fn valid_file() -> Vec<u8> {
    let out = std::env::temp_dir().join(format!("threadfork-fuzz-{}", std::process::id()));
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_threadfork"))
        .args([
            "run",
            "--quick",
            "--workload",
            "square,counter",
            "--model",
            "threads,fork",
        ])
        .args([
            "--workers",
            "1",
            "--samples",
            "2",
            "--tasks",
            "100",
            "--increments",
            "100",
        ])
        .args(["--parent-rss", "0", "--no-charts", "--out"])
        .arg(&out)
        .status()
        .unwrap();
    assert!(status.success());
    let mut found = None;
    for e in std::fs::read_dir(&out).unwrap().flatten() {
        for f in std::fs::read_dir(e.path()).unwrap().flatten() {
            found = Some(std::fs::read(f.path()).unwrap());
        }
    }
    let _ = std::fs::remove_dir_all(&out);
    found.expect("a results file")
}

#[test]
fn random_and_mutated_inputs_never_panic() {
    let path = Path::new("fuzz.json");
    let valid = valid_file();
    assert!(parse(&valid, path).is_ok(), "the untouched file loads");
    let mut rng = SplitMix64::new(7);
    let (mut ok, mut refused) = (0, 0);
    for round in 0..3000 {
        let bytes: Vec<u8> = match round % 5 {
            0 => (0..rng.below(512)).map(|_| rng.next_u64() as u8).collect(),
            1 => {
                let mut b = valid.clone();
                for _ in 0..1 + rng.below(8) {
                    let i = rng.below(b.len());
                    b[i] ^= 1 << rng.below(8);
                }
                b
            }
            2 => valid[..rng.below(valid.len())].to_vec(),
            3 => {
                let mut b = valid.clone();
                let i = rng.below(b.len());
                const JSONISH: &[u8] = b"{}[]\",:0-9eE.tfn\\ ";
                let junk: Vec<u8> = (0..1 + rng.below(16))
                    .map(|_| JSONISH[rng.below(JSONISH.len())])
                    .collect();
                b.splice(i..i, junk);
                b
            }
            _ => {
                let mut b = valid.clone();
                let i = rng.below(b.len());
                let j = (i + 1 + rng.below(64)).min(b.len());
                b.drain(i..j);
                b
            }
        };
        match parse(&bytes, path) {
            Ok(_) => ok += 1,
            Err(e) => {
                let msg = e.to_string();
                assert!(msg.starts_with("fuzz.json: "), "{msg}");
                assert!(!msg.contains('\n'), "one line: {msg}");
                refused += 1;
            }
        }
    }
    // Most mutations break the file; the point is that none of them panics.
    assert!(refused > 1000, "{refused} refused, {ok} accepted");
}
