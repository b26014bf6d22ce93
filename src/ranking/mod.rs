//! Which activations are really better: paired statistics across seeds and the ranking built
//! on them.

pub mod stats;
