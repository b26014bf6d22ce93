//! The numeric core: activations, matrix kernels, the network, its loss head and optimizer.
//! No I/O and no printing here, so all of it can be tested and benchmarked alone.

pub mod activation;
pub mod adam;
pub mod aligned;
pub mod catalog;
pub mod cnn;
pub mod conv;
pub mod cpu;
pub mod diagnostics;
pub mod fastmath;
pub mod input;
pub mod kernels;
pub mod loss;
pub mod mlp;
pub mod model;
pub mod pool;
pub mod split;

pub use activation::{Activation, Builtin, Hidden};
pub use adam::{Adam, AdamConfig, AdamStep};
pub use aligned::AlignedVec;
pub use cnn::{Cnn, CnnShape, CnnWorkspace};
pub use diagnostics::{LayerKind, LayerStats, Probe, Probed, ProbedLayer};
pub use input::{Batch, FirstLayerKernel, Samples, Split};
pub use mlp::{Init, Mlp, Mode, Workspace};
pub use model::Model;

/// Flush denormal floats to zero on this thread while the guard lives.
///
/// Adam's moments for rarely-lit pixels decay geometrically into the denormal range, where x86
/// arithmetic is many times slower. Flushing them changes values below 1e-38 only.
pub struct FlushDenormals {
    #[cfg(target_arch = "x86_64")]
    saved: u32,
}

impl FlushDenormals {
    /// Set flush-to-zero and denormals-are-zero until the guard drops.
    #[allow(deprecated)] // _mm_getcsr/_mm_setcsr: deprecated in favour of inline asm, still correct
    pub fn new() -> Self {
        #[cfg(target_arch = "x86_64")]
        {
            use std::arch::x86_64::{_mm_getcsr, _mm_setcsr};
            // SAFETY: reading and writing MXCSR only changes this thread's float modes;
            // 0x8040 sets flush-to-zero and denormals-are-zero.
            let saved = unsafe { _mm_getcsr() };
            unsafe { _mm_setcsr(saved | 0x8040) };
            FlushDenormals { saved }
        }
        #[cfg(not(target_arch = "x86_64"))]
        FlushDenormals {}
    }
}

impl Default for FlushDenormals {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for FlushDenormals {
    #[allow(deprecated)]
    fn drop(&mut self) {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: restores the modes saved in `new`.
        unsafe {
            std::arch::x86_64::_mm_setcsr(self.saved)
        };
    }
}
