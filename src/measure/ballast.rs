//! Ballast: memory the parent holds and has touched, to show how a model's start cost grows
//! with the size of the process that starts it (fork copies page tables; posix_spawn does not).

use std::num::NonZeroUsize;
use std::ptr::NonNull;

use anyhow::{Context, Result};
use nix::sys::mman::{MapFlags, MmapAdvise, ProtFlags, madvise, mmap_anonymous, munmap};

const PAGE: usize = 4096;

/// `len` bytes of private anonymous memory, every page written once, in ordinary 4 KiB pages
/// (`MADV_NOHUGEPAGE`), the way a long-running program's heap usually is.
pub struct Ballast {
    ptr: Option<NonNull<std::ffi::c_void>>,
    len: usize,
}

impl Ballast {
    pub fn new(len: u64) -> Result<Ballast> {
        let len = usize::try_from(len).context("ballast larger than the address space")?;
        let Some(size) = NonZeroUsize::new(len) else {
            return Ok(Ballast { ptr: None, len: 0 });
        };
        // SAFETY: a fresh private anonymous mapping aliases nothing; unmapped in Drop.
        let ptr = unsafe {
            mmap_anonymous(
                None,
                size,
                ProtFlags::PROT_READ | ProtFlags::PROT_WRITE,
                MapFlags::MAP_PRIVATE,
            )
        }
        .with_context(|| format!("cannot map {len} bytes of parent memory"))?;
        // SAFETY: advice on the range just mapped; failure only leaves the default.
        let _ = unsafe { madvise(ptr, len, MmapAdvise::MADV_NOHUGEPAGE) };
        let base = ptr.as_ptr().cast::<u8>();
        for off in (0..len).step_by(PAGE) {
            // SAFETY: `off < len`, inside the writable mapping.
            unsafe { base.add(off).write_volatile(1) };
        }
        Ok(Ballast {
            ptr: Some(ptr),
            len,
        })
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl Drop for Ballast {
    fn drop(&mut self) {
        if let Some(p) = self.ptr {
            // SAFETY: the mapping made in `new`, unmapped once.
            let _ = unsafe { munmap(p, self.len) };
        }
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
