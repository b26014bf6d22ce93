//! actbench: which activation function trains this network best, and at what cost?
//!
//! A hand-written dense network (no deep-learning framework) trained on MNIST once per
//! activation, with results recorded for comparison.

pub mod cli;
pub mod compare;
pub mod data;
pub mod nn;
pub mod progress;
pub mod results;
pub mod run;
pub mod train;

/// The text of `actbench list`: every built-in with its formula and parameter default.
pub fn list_activations() -> String {
    let mut out = String::from("activation     parameter      formula\n");
    for e in nn::catalog::CATALOG {
        let param = e.param.map(|(n, d)| format!("{n}={d}")).unwrap_or_else(|| "-".into());
        let tag = if e.reference { "" } else { "" };
        out.push_str(&format!("{:<14} {:<14} {}{tag}\n", e.name, param, e.formula));
    }
    out
}
