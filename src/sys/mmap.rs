//! Memory mappings: the one place threadfork calls `mmap` and `munmap`. A [`Mapping`] is
//! unmapped when dropped; what lives in it, and who may touch it, is its owner's business
//! (the shared region, a process pool's queue, the parent's ballast).

use std::num::NonZeroUsize;
use std::os::fd::BorrowedFd;
use std::ptr::NonNull;

use nix::sys::mman::{MapFlags, MmapAdvise, ProtFlags, madvise, mmap, mmap_anonymous, munmap};

/// A readable, writable mapping of `len` bytes, page-aligned and zero-filled when fresh.
#[derive(Debug)]
pub struct Mapping {
    ptr: NonNull<u8>,
    len: usize,
}

impl Mapping {
    /// Anonymous memory shared with every thread and with children forked later
    /// (`MAP_SHARED`).
    pub fn shared(len: usize) -> nix::Result<Mapping> {
        Self::anonymous(len, MapFlags::MAP_SHARED)
    }

    /// Anonymous memory of this process alone (`MAP_PRIVATE`; a forked child gets a copy).
    pub fn private(len: usize) -> nix::Result<Mapping> {
        Self::anonymous(len, MapFlags::MAP_PRIVATE)
    }

    fn anonymous(len: usize, flags: MapFlags) -> nix::Result<Mapping> {
        let size = NonZeroUsize::new(len).ok_or(nix::Error::EINVAL)?;
        // SAFETY: a fresh anonymous mapping aliases nothing; it is unmapped in Drop.
        let ptr = unsafe {
            mmap_anonymous(
                None,
                size,
                ProtFlags::PROT_READ | ProtFlags::PROT_WRITE,
                flags,
            )
        }?;
        Ok(Mapping {
            ptr: ptr.cast(),
            len,
        })
    }

    /// The first `len` bytes of the file behind `fd`, shared with every process that maps it
    /// (a memfd handed to a spawned process).
    pub fn shared_file(fd: BorrowedFd<'_>, len: usize) -> nix::Result<Mapping> {
        let size = NonZeroUsize::new(len).ok_or(nix::Error::EINVAL)?;
        // SAFETY: a new shared mapping of a file; what it holds is typed by its owner, who
        // reads it through atomics; unmapped in Drop.
        let ptr = unsafe {
            mmap(
                None,
                size,
                ProtFlags::PROT_READ | ProtFlags::PROT_WRITE,
                MapFlags::MAP_SHARED,
                fd,
                0,
            )
        }?;
        Ok(Mapping {
            ptr: ptr.cast(),
            len,
        })
    }

    /// Asks for ordinary 4 KiB pages (`MADV_NOHUGEPAGE`); a refusal leaves the default.
    pub fn no_huge_pages(&self) {
        // SAFETY: advice on this mapping's own range.
        let _ = unsafe { madvise(self.ptr.cast(), self.len, MmapAdvise::MADV_NOHUGEPAGE) };
    }

    pub fn ptr(&self) -> NonNull<u8> {
        self.ptr
    }

    /// Its length in bytes (never 0).
    pub fn size(&self) -> usize {
        self.len
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: `ptr`/`len` describe the mapping made by the constructor, unmapped once.
        let _ = unsafe { munmap(self.ptr.cast(), self.len) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shared_mapping_is_zeroed_and_seen_by_a_forked_child() {
        let m = Mapping::shared(4096).unwrap();
        let word = m.ptr().cast::<std::sync::atomic::AtomicU64>();
        // SAFETY: the mapping is page-aligned and 4096 bytes long; an AtomicU64 fits.
        let w = unsafe { word.as_ref() };
        assert_eq!(w.load(std::sync::atomic::Ordering::Relaxed), 0);
        w.store(7, std::sync::atomic::Ordering::Relaxed);
        assert_eq!(m.size(), 4096);
        assert!(Mapping::shared(0).is_err());
    }
}
