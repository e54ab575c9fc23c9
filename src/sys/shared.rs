//! The [`Shared`] marker: plain data that may live in memory shared between processes.

use std::sync::atomic::{
    AtomicBool, AtomicI8, AtomicI16, AtomicI32, AtomicI64, AtomicIsize, AtomicU8, AtomicU16,
    AtomicU32, AtomicU64, AtomicUsize,
};

/// State that can live in a `MAP_SHARED` region and be used at once by threads, forked
/// children and freshly spawned processes that map the region at different addresses.
///
/// # Safety
/// An implementing type must
/// - be valid when every byte is zero (the region starts zeroed and is zeroed between samples);
/// - hold no pointer, reference, heap allocation, file descriptor or other handle whose meaning
///   depends on the process or the address it is mapped at;
/// - change only through atomics or threadfork's [`crate::Mutex`] (shared access is `&self`).
///
/// threadfork implements it for integers, floats, atomics, arrays, tuples and
/// [`crate::Mutex`]; [`crate::shared_struct!`] implements it for a struct of such fields,
/// checking each field at compile time.
pub unsafe trait Shared: Sync + Send + 'static {}

macro_rules! plain {
    ($($t:ty),* $(,)?) => { $(
        // SAFETY: a number or an atomic number: all-zero is 0, and it holds no address.
        unsafe impl Shared for $t {}
    )* };
}

plain!(
    (),
    u8,
    u16,
    u32,
    u64,
    u128,
    usize,
    i8,
    i16,
    i32,
    i64,
    i128,
    isize,
    f32,
    f64,
    bool,
    AtomicBool,
    AtomicU8,
    AtomicU16,
    AtomicU32,
    AtomicU64,
    AtomicUsize,
    AtomicI8,
    AtomicI16,
    AtomicI32,
    AtomicI64,
    AtomicIsize,
);

// SAFETY: an array of Shared elements is Shared: all-zero elements, no addresses.
unsafe impl<T: Shared, const N: usize> Shared for [T; N] {}

macro_rules! tuples {
    ($(($($t:ident),+)),* $(,)?) => { $(
        // SAFETY: a tuple of Shared fields is Shared: all-zero fields, no addresses.
        unsafe impl<$($t: Shared),+> Shared for ($($t,)+) {}
    )* };
}

tuples!(
    (A),
    (A, B),
    (A, B, C),
    (A, B, C, D),
    (A, B, C, D, E),
    (A, B, C, D, E, F)
);

/// Declares a `#[repr(C)]` struct of [`Shared`] fields and implements [`Shared`] for it; a
/// field of any other type is a compile error.
///
/// ```
/// use std::sync::atomic::AtomicU64;
/// threadfork::shared_struct! {
///     /// An order book's totals, shared by every worker.
///     pub struct Book {
///         pub levels: threadfork::Mutex<[u64; 16]>,
///         pub trades: AtomicU64,
///     }
/// }
/// ```
#[macro_export]
macro_rules! shared_struct {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident {
            $( $(#[$fmeta:meta])* $fvis:vis $field:ident : $ty:ty ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[repr(C)]
        $vis struct $name {
            $( $(#[$fmeta])* $fvis $field : $ty ),*
        }
        // SAFETY: every field is Shared (checked just below), and a repr(C) struct of Shared
        // fields is valid all-zero and holds no address.
        unsafe impl $crate::Shared for $name {}
        const _: fn() = || {
            fn field_is_shared<T: $crate::Shared>() {}
            $( field_is_shared::<$ty>(); )*
        };
    };
}

/// A zeroed (or already initialised) stretch of a region set aside for one workload's shared
/// state, viewed as that state's type.
#[derive(Clone, Copy)]
pub struct SharedArea<'a> {
    ptr: std::ptr::NonNull<u8>,
    len: usize,
    _region: std::marker::PhantomData<&'a u8>,
}

impl<'a> SharedArea<'a> {
    /// # Safety
    /// `ptr` must be valid for reads and writes of `len` bytes for `'a`, and those bytes must
    /// be all zero or hold a value of the one [`Shared`] type this area is viewed as.
    pub unsafe fn new(ptr: std::ptr::NonNull<u8>, len: usize) -> SharedArea<'a> {
        SharedArea {
            ptr,
            len,
            _region: std::marker::PhantomData,
        }
    }

    /// The area as `S`. Panics if `S` does not fit or is misaligned (a harness bug: regions are
    /// laid out from the workload's own size and alignment).
    pub fn get<S: Shared>(&self) -> &'a S {
        assert!(
            size_of::<S>() <= self.len && self.ptr.as_ptr().align_offset(align_of::<S>()) == 0,
            "shared state of {} bytes (align {}) does not fit its area of {} bytes",
            size_of::<S>(),
            align_of::<S>(),
            self.len
        );
        // SAFETY: in bounds and aligned (checked above); the bytes are zero or a valid `S`
        // (the constructor's contract), and all-zero is a valid `S` (Shared's contract).
        unsafe { self.ptr.cast::<S>().as_ref() }
    }
}
