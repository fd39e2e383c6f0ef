//! The test process's live heap, counted by its allocator. Resident memory would also
//! count what the allocator keeps cached after a free (per-thread arenas), which varies
//! from machine to machine; live bytes are what a leak or an unbounded queue holds.

use std::alloc::System;

use cap::Cap;

#[global_allocator]
static ALLOCATOR: Cap<System> = Cap::new(System, usize::MAX);

/// Bytes allocated and not yet freed by the whole test process, in KiB.
pub fn live_heap_kib() -> u64 {
    (ALLOCATOR.allocated() / 1024) as u64
}
