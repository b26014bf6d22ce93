//! The built-in activations by name, as the command line spells them (`name` or `name:param`).

use super::activation::*;
use std::sync::Arc;

/// One built-in: its CLI name, formula and optional parameter.
pub struct Entry {
    pub name: &'static str,
    pub formula: &'static str,
    /// `(parameter name, default)` for activations that take one.
    pub param: Option<(&'static str, f32)>,
    /// Whether it belongs to the reference set the comparison is about.
    pub reference: bool,
    build: fn(Option<f32>) -> Hidden,
}

fn fixed(a: impl Activation + 'static) -> Hidden {
    Hidden::Fixed(Arc::new(a))
}

macro_rules! entry {
    ($name:literal, $formula:literal, $reference:expr, $build:expr) => {
        Entry {
            name: $name,
            formula: $formula,
            param: None,
            reference: $reference,
            build: $build,
        }
    };
    ($name:literal, $formula:literal, $reference:expr, ($p:literal, $d:expr), $build:expr) => {
        Entry {
            name: $name,
            formula: $formula,
            param: Some(($p, $d)),
            reference: $reference,
            build: $build,
        }
    };
}

/// Other names for built-ins, `(alias, name)`. An alias is recorded as the user wrote it, but
/// `all` includes each function once.
pub const ALIASES: &[(&str, &str)] = &[("silu", "swish")];

/// Every built-in, reference set first.
pub const CATALOG: &[Entry] = &[
    entry!("sigmoid", "1 / (1 + e^-x)", true, |_| fixed(Sigmoid)),
    entry!("relu", "max(0, x)", true, |_| fixed(Relu)),
    entry!(
        "leaky_relu",
        "x if x > 0 else alpha*x",
        true,
        ("alpha", 0.01),
        |p| { fixed(LeakyRelu(p.unwrap_or(0.01))) }
    ),
    entry!("tanh", "tanh(x)", true, |_| fixed(Tanh)),
    entry!(
        "elu",
        "x if x > 0 else alpha*(e^x - 1)",
        true,
        ("alpha", 1.0),
        |p| { fixed(Elu(p.unwrap_or(1.0))) }
    ),
    entry!(
        "gelu",
        "0.5x(1 + tanh(sqrt(2/pi)(x + 0.044715x^3)))",
        true,
        |_| fixed(Gelu)
    ),
    entry!(
        "gelu_erf",
        "x * Phi(x), Phi the standard normal CDF",
        true,
        |_| fixed(GeluErf)
    ),
    entry!(
        "prelu",
        "x if x > 0 else a_j*x, a_j learned per unit",
        true,
        ("init", 0.25),
        |p| {
            Hidden::Prelu {
                init: p.unwrap_or(0.25),
            }
        }
    ),
    entry!("custom", "relu(x) + 0.5*tanh(x)", true, |_| fixed(Custom)),
    entry!("swish", "x * sigmoid(beta*x)", false, ("beta", 1.0), |p| {
        fixed(Swish(p.unwrap_or(1.0)))
    }),
    entry!("mish", "x * tanh(softplus(x))", false, |_| fixed(Mish)),
    entry!(
        "selu",
        "lambda*x if x > 0 else lambda*alpha*(e^x - 1)",
        false,
        |_| fixed(Selu)
    ),
    entry!(
        "celu",
        "max(0, x) + min(0, alpha*(e^(x/alpha) - 1))",
        false,
        ("alpha", 1.0),
        |p| { fixed(Celu(p.unwrap_or(1.0))) }
    ),
    entry!("softplus", "ln(1 + e^x)", false, |_| fixed(Softplus)),
    entry!("softsign", "x / (1 + |x|)", false, |_| fixed(Softsign)),
    entry!("hard_sigmoid", "clip(x/6 + 1/2, 0, 1)", false, |_| fixed(
        HardSigmoid
    )),
    entry!("hard_swish", "x * clip(x/6 + 1/2, 0, 1)", false, |_| fixed(
        HardSwish
    )),
    entry!("relu6", "min(max(0, x), 6)", false, |_| fixed(Relu6)),
    entry!("hard_tanh", "clip(x, -1, 1)", false, |_| fixed(HardTanh)),
    entry!("log_sigmoid", "-ln(1 + e^-x)", false, |_| fixed(LogSigmoid)),
    entry!("tanhshrink", "x - tanh(x)", false, |_| fixed(Tanhshrink)),
    entry!(
        "rrelu",
        "x if x > 0 else a*x, a ~ U(1/8, 1/3) in training, mean at eval",
        false,
        |_| {
            Hidden::Rrelu {
                lower: 1.0 / 8.0,
                upper: 1.0 / 3.0,
            }
        }
    ),
    entry!("linear", "x", false, |_| fixed(Linear)),
];

/// An activation as requested: the name the user wrote (canonical) and what to build.
#[derive(Debug, Clone)]
pub struct Choice {
    pub name: String,
    pub hidden: Hidden,
}

/// Where a built-in's derivative jumps (`name` without parameter), for plots and gradient checks.
pub fn kinks(name: &str) -> &'static [f64] {
    let (base, param) = name.split_once(':').unwrap_or((name, ""));
    match base {
        // elu's slope is continuous at 0 only for alpha = 1; celu's always is.
        "elu" if param.parse::<f32>().is_ok_and(|a| a != 1.0) => &[0.0],
        "relu" | "leaky_relu" | "prelu" | "rrelu" | "custom" | "selu" => &[0.0],
        "hard_sigmoid" | "hard_swish" => &[-3.0, 3.0],
        "relu6" => &[0.0, 6.0],
        "hard_tanh" => &[-1.0, 1.0],
        _ => &[],
    }
}

fn valid_names() -> String {
    CATALOG
        .iter()
        .map(|e| e.name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Parse `name` or `name:param`.
pub fn parse(spec: &str) -> Result<Choice, String> {
    let spec = spec.trim();
    let (name, param) = match spec.split_once(':') {
        Some((n, p)) => (n.trim(), Some(p.trim())),
        None => (spec, None),
    };
    let target = ALIASES
        .iter()
        .find(|(a, _)| *a == name)
        .map_or(name, |(_, t)| t);
    let entry = CATALOG.iter().find(|e| e.name == target).ok_or_else(|| {
        format!(
            "unknown activation '{name}' (valid: {}, silu, or all)",
            valid_names()
        )
    })?;
    let value = match (param, entry.param) {
        (None, _) => None,
        (Some(_), None) => return Err(format!("activation '{name}' takes no parameter")),
        (Some(p), Some((pname, _))) => {
            let v: f32 = p
                .parse()
                .ok()
                .filter(|v: &f32| v.is_finite())
                .ok_or_else(|| {
                    format!("activation '{name}': {pname} '{p}' is not a finite number")
                })?;
            if matches!(target, "elu" | "celu" | "swish") && v <= 0.0 {
                return Err(format!(
                    "activation '{name}': {pname} must be positive, got {v}"
                ));
            }
            Some(v)
        }
    };
    let canonical = match (value, entry.param) {
        (Some(v), Some((_, d))) if v != d => format!("{name}:{v}"),
        _ => name.to_string(),
    };
    Ok(Choice {
        name: canonical,
        hidden: (entry.build)(value),
    })
}

/// Parse a comma-separated list; `all` means every built-in. Duplicates are refused.
pub fn parse_list(list: &str) -> Result<Vec<Choice>, String> {
    let mut out: Vec<Choice> = Vec::new();
    for item in list.split(',').map(str::trim) {
        if item.is_empty() {
            return Err(format!("empty activation name in '{list}'"));
        }
        let items = if item == "all" {
            CATALOG
                .iter()
                .map(|e| parse(e.name))
                .collect::<Result<Vec<_>, _>>()?
        } else {
            vec![parse(item)?]
        };
        for c in items {
            if out.iter().any(|o| o.name == c.name) {
                return Err(format!("activation '{}' is listed twice", c.name));
            }
            out.push(c);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names_params_and_lists() {
        assert_eq!(parse("relu").unwrap().name, "relu");
        assert_eq!(parse("leaky_relu:0.1").unwrap().name, "leaky_relu:0.1");
        assert_eq!(parse("leaky_relu:0.01").unwrap().name, "leaky_relu");
        let f = parse("leaky_relu:0.1").unwrap().hidden.function();
        assert!((f.value(-2.0) + 0.2).abs() < 1e-7);
        assert!(parse("nope").unwrap_err().contains("valid: sigmoid, relu"));
        assert!(parse("relu:2").unwrap_err().contains("takes no parameter"));
        assert!(parse("elu:x").unwrap_err().contains("not a finite number"));
        assert!(parse("elu:-1").unwrap_err().contains("must be positive"));
        assert_eq!(parse_list("all").unwrap().len(), CATALOG.len());
        assert!(parse_list("all").unwrap().iter().all(|c| c.name != "silu"));
        assert_eq!(parse("silu:2").unwrap().name, "silu:2");
        assert!((parse("silu").unwrap().hidden.function().value(1.0) - 0.731_059).abs() < 1e-6);
        assert!(
            parse_list("relu,tanh,relu")
                .unwrap_err()
                .contains("listed twice")
        );
        assert!(parse_list("relu,,tanh").is_err());
        let names: Vec<_> = parse_list("relu, elu:0.5")
            .unwrap()
            .into_iter()
            .map(|c| c.name)
            .collect();
        assert_eq!(names, ["relu", "elu:0.5"]);
    }
}
