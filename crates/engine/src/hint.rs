//! A cache hint: [`prefetch`] asks the processor to start loading a value's cache line, so that
//! a driver applying a batch of commands can have the memory of the next ones on its way while
//! the current one runs (`Engine::prefetch`). A hint only: it reads nothing, changes nothing,
//! cannot fault, and compiles to nothing on processors other than x86_64.

/// Starts loading the cache line holding `value` into every level of cache.
// A hint has no effect a test can see (only time): its mutants would all be missed.
#[mutants::skip]
#[inline(always)]
pub(crate) fn prefetch<T>(value: &T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: `prefetch` is a hint with no effect a program can observe: it never dereferences
    // its address architecturally and never faults (Intel SDM, PREFETCHh), and the address is
    // a live reference's anyway. SSE, which it needs, is part of every x86_64 processor.
    #[allow(unsafe_code)]
    unsafe {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        _mm_prefetch::<_MM_HINT_T0>((value as *const T).cast::<i8>());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = value;
}
