//! Ballast: memory the parent holds and has touched, to show how a model's start cost grows
//! with the size of the process that starts it (fork copies page tables; posix_spawn does not).

use anyhow::{Context, Result};

use crate::sys::mmap::Mapping;

const PAGE: usize = 4096;

/// `len` bytes of private anonymous memory, every page written once, in ordinary 4 KiB pages
/// (`MADV_NOHUGEPAGE`), the way a long-running program's heap usually is.
pub struct Ballast {
    map: Option<Mapping>,
}

impl Ballast {
    pub fn new(len: u64) -> Result<Ballast> {
        let len = usize::try_from(len).context("ballast larger than the address space")?;
        if len == 0 {
            return Ok(Ballast { map: None });
        }
        let map = Mapping::private(len)
            .with_context(|| format!("cannot map {len} bytes of parent memory"))?;
        map.no_huge_pages();
        let base = map.ptr().as_ptr();
        for off in (0..len).step_by(PAGE) {
            // SAFETY: `off < len`, inside the writable mapping, which outlives this loop.
            unsafe { base.add(off).write_volatile(1) };
        }
        Ok(Ballast { map: Some(map) })
    }

    pub fn len(&self) -> usize {
        self.map.as_ref().map_or(0, Mapping::size)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ballast_is_resident() {
        let before = crate::measure::rss::current_rss_bytes().unwrap();
        let b = Ballast::new(8 << 20).unwrap();
        let after = crate::measure::rss::current_rss_bytes().unwrap();
        assert_eq!(b.len(), 8 << 20);
        assert!(after >= before + (7 << 20));
        assert!(Ballast::new(0).unwrap().is_empty());
    }
}
