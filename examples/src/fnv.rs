//! A CPU kernel with nothing shared: FNV-1a over a buffer, task after task.

use std::hint::black_box;

use threadfork::{Ctx, Output, Param, Sample, Size, Verdict, Workload};

/// The largest buffer a task hashes.
pub const MAX_BYTES: usize = 1 << 16;

/// FNV-1a, 64-bit.
pub fn fnv1a(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Hashes the first `bytes` bytes of a fixed buffer, `tasks` times per sample. The buffer is
/// made when the workload is, in every process alike (a spawned worker builds its own), so a
/// forked child allocates nothing.
pub struct Fnv {
    data: Vec<u8>,
}

impl Default for Fnv {
    fn default() -> Fnv {
        Fnv {
            data: (0..MAX_BYTES).map(|i| (i * 131 + 7) as u8).collect(),
        }
    }
}

/// Bytes hashed per task.
const BYTES: Param = Param::new("bytes", 1024)
    .range(1, MAX_BYTES as u64)
    .help("bytes hashed per task");
/// Tasks per sample.
const TASKS: Param = Param::new("tasks", 20_000)
    .range(1, 1 << 40)
    .help("tasks per sample, split between the workers");

impl Workload for Fnv {
    type Shared = ();

    fn name(&self) -> &'static str {
        "fnv"
    }
    fn op(&self) -> &'static str {
        "bytes"
    }
    fn describe(&self) -> &'static str {
        "FNV-1a over a buffer per task; each worker's checksum must be the buffer's hash times \
         its tasks"
    }
    fn params(&self) -> &'static [Param] {
        &[BYTES, TASKS]
    }
    fn size(&self) -> Size {
        Size::Split(TASKS)
    }

    fn run(&self, ctx: &Ctx<'_, ()>) -> Output {
        let buf = &self.data[..ctx.get(BYTES) as usize];
        let (mut done, mut sum) = (0u64, 0u64);
        for _ in 0..ctx.units() {
            // black_box: every task really hashes, none is folded into the one before.
            sum = sum.wrapping_add(fnv1a(black_box(buf)));
            done += 1;
        }
        Output::new(done * buf.len() as u64, sum)
    }

    fn verify(&self, s: &Sample<'_, ()>) -> Verdict {
        let bytes = s.get(BYTES);
        let one = fnv1a(&self.data[..bytes as usize]);
        for (k, out) in s.outputs().iter().enumerate() {
            let tasks = s.units(k);
            if out.checksum != one.wrapping_mul(tasks) || out.ops != tasks * bytes {
                return Verdict::Failed(format!(
                    "worker {k}: checksum {:#x} over {} bytes, expected {:#x} over {}",
                    out.checksum,
                    out.ops,
                    one.wrapping_mul(tasks),
                    tasks * bytes
                ));
            }
        }
        Verdict::Passed
    }
}
