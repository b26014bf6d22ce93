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
pub mod results;
pub mod run;
pub mod stats;
pub mod train;

/// The text of `actbench list`: every built-in with its formula and parameter default.
pub fn list_activations() -> String {
    let mut out = String::from("activation    set        parameter   formula\n");
    for e in nn::catalog::CATALOG {
        let param = e
            .param
            .map(|(n, d)| format!("{n}={d}"))
            .unwrap_or_else(|| "-".into());
        let set = if e.reference { "reference" } else { "extra" };
        let aliases: Vec<&str> = nn::catalog::ALIASES
            .iter()
            .filter(|(_, target)| *target == e.name)
            .map(|(alias, _)| *alias)
            .collect();
        let also = if aliases.is_empty() {
            String::new()
        } else {
            format!(" (also: {})", aliases.join(", "))
        };
        out.push_str(&format!(
            "{:<13} {set:<10} {param:<11} {}{also}\n",
            e.name, e.formula
        ));
    }
    out.push_str(
        "\nname:param sets the parameter (e.g. leaky_relu:0.1); `all` selects every one.\n",
    );
    out
}

/// An activation sampled over `range` for `actbench plot activations`: f, f' and its kinks.
pub fn activation_curve(
    choice: &nn::catalog::Choice,
    (lo, hi): (f64, f64),
) -> plot::ActivationCurve {
    const POINTS: usize = 601;
    let f = choice.hidden.function();
    let xs: Vec<f64> = (0..POINTS)
        .map(|i| lo + (hi - lo) * i as f64 / (POINTS - 1) as f64)
        .collect();
    plot::ActivationCurve {
        name: choice.name.clone(),
        values: xs.iter().map(|&x| f.value_f64(x)).collect(),
        derivatives: xs.iter().map(|&x| f.derivative_f64(x)).collect(),
        kinks: nn::catalog::kinks(&choice.name)
            .iter()
            .copied()
            .filter(|k| (lo..=hi).contains(k))
            .collect(),
        xs,
    }
}
