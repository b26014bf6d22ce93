//! An f32 buffer whose start is aligned to a cache line (64 bytes), and large ones in huge
//! pages where the system offers them.
//!
//! Measured: with `Vec<f32>` (16-byte aligned by malloc) the same model trained ~30% slower or
//! faster depending on where the allocator happened to place its buffers; aligning every hot
//! buffer to 64 bytes makes the kernels' vector loads never straddle cache lines.
//!
//! Buffers of [`HUGE_MIN_BYTES`] or more (a wide network's weights, Adam's moments and
//! gradients, its batch-256 activations) are mapped on their own on Linux, aligned to 2 MiB and
//! advised as huge pages (`madvise(MADV_HUGEPAGE)`, which the kernel honours under its default
//! `transparent_hugepage=madvise`): one TLB entry then covers 2 MiB instead of 4 KiB, where the
//! products read weight rows 4 KiB apart and the sparse first layer one weight row per input
//! pixel. 784-1024-1024-10 at batch 256 on 2 threads, the whole command with transparent huge
//! pages for every allocation against none, 8 pairs: 0.907 of the epoch time (README, "Large
//! products").

use std::ops::{Deref, DerefMut};

#[derive(Clone, Copy)]
#[repr(C, align(64))]
struct Line([f32; 16]);

/// Buffers from this size on are mapped in huge pages (see the module documentation): half a
/// huge page, so that less than one huge page per buffer is left unused (its last huge page
/// holds at least half of this).
pub const HUGE_MIN_BYTES: usize = 1 << 20;

/// Where Linux says which transparent huge pages setting is in force (`always [madvise]
/// never`); absent where the kernel has none.
pub const THP_SETTING_FILE: &str = "/sys/kernel/mm/transparent_hugepage/enabled";

/// A fixed-length, zero-initialised, 64-byte-aligned `[f32]`.
pub struct AlignedVec {
    buf: Buf,
    len: usize,
}

enum Buf {
    Lines(Vec<Line>),
    #[cfg(target_os = "linux")]
    Huge(huge::Mapping),
}

impl AlignedVec {
    /// An empty buffer (no allocation).
    pub const fn new() -> Self {
        AlignedVec {
            buf: Buf::Lines(Vec::new()),
            len: 0,
        }
    }

    /// `len` zeros.
    pub fn zeros(len: usize) -> Self {
        #[cfg(target_os = "linux")]
        if len.saturating_mul(4) >= HUGE_MIN_BYTES
            && let Some(mapping) = huge::Mapping::zeros(len)
        {
            return AlignedVec {
                buf: Buf::Huge(mapping),
                len,
            };
        }
        Self::zeros_in_small_pages(len)
    }

    /// `len` zeros from the allocator whatever the size, as every buffer was before huge pages:
    /// the calibration product's (`crate::results::meta::calibrate`), so that its figure stays
    /// comparable with older runs'.
    pub(crate) fn zeros_in_small_pages(len: usize) -> Self {
        AlignedVec {
            buf: Buf::Lines(vec![Line([0.0; 16]); len.div_ceil(16)]),
            len,
        }
    }

    /// True when the buffer is its own mapping and the kernel took the huge-page advice (see
    /// the module documentation; refused where the kernel has no transparent huge pages).
    pub fn in_huge_pages(&self) -> bool {
        match &self.buf {
            Buf::Lines(_) => false,
            #[cfg(target_os = "linux")]
            Buf::Huge(m) => m.advised,
        }
    }

    fn ptr(&self) -> *const f32 {
        match &self.buf {
            Buf::Lines(lines) => lines.as_ptr().cast(),
            #[cfg(target_os = "linux")]
            Buf::Huge(m) => m.data,
        }
    }

    fn ptr_mut(&mut self) -> *mut f32 {
        match &mut self.buf {
            Buf::Lines(lines) => lines.as_mut_ptr().cast(),
            #[cfg(target_os = "linux")]
            Buf::Huge(m) => m.data.cast_mut(),
        }
    }
}

impl Default for AlignedVec {
    fn default() -> Self {
        Self::new()
    }
}

impl Clone for AlignedVec {
    fn clone(&self) -> Self {
        let mut copy = AlignedVec::zeros(self.len);
        copy.copy_from_slice(self);
        copy
    }
}

impl Deref for AlignedVec {
    type Target = [f32];
    fn deref(&self) -> &[f32] {
        // SAFETY: the buffer holds at least `len` initialised f32s (`zeros`), valid while
        // `self` lives.
        unsafe { std::slice::from_raw_parts(self.ptr(), self.len) }
    }
}

impl DerefMut for AlignedVec {
    fn deref_mut(&mut self) -> &mut [f32] {
        // SAFETY: as in `deref`, and `&mut self` makes this the only reference.
        unsafe { std::slice::from_raw_parts_mut(self.ptr_mut(), self.len) }
    }
}

impl std::fmt::Debug for AlignedVec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

#[cfg(target_os = "linux")]
mod huge {
    /// Huge-page size and alignment on x86-64 and most Linux targets.
    const HUGE_PAGE: usize = 2 << 20;

    /// An anonymous private mapping (zeros until written), its data aligned to [`HUGE_PAGE`].
    pub(super) struct Mapping {
        base: *mut libc::c_void,
        bytes: usize,
        pub(super) data: *const f32,
        /// The kernel accepted `MADV_HUGEPAGE` (it refuses it without transparent huge pages).
        pub(super) advised: bool,
    }

    // SAFETY: the mapping is owned memory, like a `Vec`'s; `AlignedVec` hands out references
    // to it only through `&self` / `&mut self`.
    unsafe impl Send for Mapping {}
    // SAFETY: as above.
    unsafe impl Sync for Mapping {}

    impl Mapping {
        /// `len` zeros, or `None` when the system refuses the mapping (the caller then
        /// allocates as for small buffers).
        pub(super) fn zeros(len: usize) -> Option<Mapping> {
            // One huge page more than the data, so that the data can start on a boundary and
            // its last huge page lies whole inside the mapping.
            let bytes = len
                .checked_mul(4)?
                .checked_next_multiple_of(HUGE_PAGE)?
                .checked_add(HUGE_PAGE)?;
            // SAFETY: a fresh anonymous mapping; no existing memory is touched.
            let base = unsafe {
                libc::mmap(
                    std::ptr::null_mut(),
                    bytes,
                    libc::PROT_READ | libc::PROT_WRITE,
                    libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                    -1,
                    0,
                )
            };
            if base == libc::MAP_FAILED {
                return None;
            }
            let skip = (base as usize).next_multiple_of(HUGE_PAGE) - base as usize;
            // SAFETY: `skip < HUGE_PAGE`, inside the mapping.
            let data = unsafe { base.cast::<u8>().add(skip) };
            // SAFETY: advice on our own mapping; refused advice (no transparent huge pages)
            // only leaves it in small pages.
            let advised = unsafe { libc::madvise(data.cast(), bytes - skip, libc::MADV_HUGEPAGE) };
            Some(Mapping {
                base,
                bytes,
                data: data.cast(),
                advised: advised == 0,
            })
        }
    }

    impl Drop for Mapping {
        fn drop(&mut self) {
            // SAFETY: the mapping made in `zeros`, unmapped once.
            unsafe { libc::munmap(self.base, self.bytes) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligned_zeroed_and_writable() {
        let huge = HUGE_MIN_BYTES / 4;
        for len in [0, 1, 15, 16, 17, 1000, huge - 1, huge, 3 * huge + 5] {
            let mut v = AlignedVec::zeros(len);
            assert_eq!(v.len(), len);
            assert_eq!(v.as_ptr() as usize % 64, 0);
            assert_eq!(AlignedVec::new().len(), 0);
            assert!(v.iter().all(|&x| x == 0.0));
            v.iter_mut()
                .enumerate()
                .for_each(|(i, x)| *x = (i % 1000) as f32);
            let copy = v.clone();
            assert_eq!(copy[..], v[..]);
            assert_eq!(copy.in_huge_pages(), v.in_huge_pages());
            v.fill(1.0);
            assert!(
                copy.iter()
                    .enumerate()
                    .all(|(i, &x)| x == (i % 1000) as f32)
            );
        }
    }

    /// A large buffer starts on a huge-page boundary and, where the kernel has transparent huge
    /// pages, carries their advice (`hg` among its mapping's flags in `/proc/self/smaps`);
    /// where it has none, it says it is not in huge pages.
    #[cfg(target_os = "linux")]
    #[test]
    fn large_buffers_are_advised_as_huge_pages() {
        let small = AlignedVec::zeros(HUGE_MIN_BYTES / 4 - 16);
        assert!(!small.in_huge_pages());
        assert!(!AlignedVec::zeros_in_small_pages(3 << 20).in_huge_pages());
        let v = AlignedVec::zeros(3 << 20);
        let thp = std::path::Path::new(THP_SETTING_FILE).exists();
        assert_eq!(
            v.in_huge_pages(),
            thp,
            "advice taken exactly where the kernel has THP"
        );
        let at = v.as_ptr() as usize;
        assert_eq!(at % (2 << 20), 0);
        let smaps = std::fs::read_to_string("/proc/self/smaps").expect("smaps");
        let mut inside = false;
        let mut flags = None;
        for line in smaps.lines() {
            let range = line
                .split_whitespace()
                .next()
                .and_then(|r| r.split_once('-'));
            if let Some((lo, hi)) = range
                && let (Ok(lo), Ok(hi)) =
                    (usize::from_str_radix(lo, 16), usize::from_str_radix(hi, 16))
            {
                inside = lo <= at && at < hi;
            } else if inside && let Some(f) = line.strip_prefix("VmFlags:") {
                flags = Some(f.split_whitespace().map(str::to_owned).collect::<Vec<_>>());
            }
        }
        let flags = flags.expect("the buffer's mapping in /proc/self/smaps");
        assert_eq!(flags.iter().any(|f| f == "hg"), thp, "flags {flags:?}");
    }
}
