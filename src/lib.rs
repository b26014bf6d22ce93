//! actbench: which activation function trains this network best, and at what cost?
//!
//! A hand-written dense network (no deep-learning framework) trained on MNIST once per
//! activation, with results recorded for comparison.

pub mod cli;
pub mod compare;
pub mod data;
pub mod nn;
pub mod plot;
pub mod progress;
pub mod ranking;
pub mod results;
pub mod run;
pub mod stats;
pub mod train;
