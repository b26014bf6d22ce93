//! The built-in activations by name, as the command line spells them (`name` or `name:param`).
//! What each one is (aliases, formula, parameter, kinks) is defined with it, in
//! [`activation`](super::activation); this module lists them and parses the user's choice.
//!
//! Names are case-insensitive (`ReLU` is `relu`) and recorded in lower case, so that runs
//! group by one spelling.

use super::activation::*;

/// Every built-in, in the order `all` and `actbench list` use: the reference set first.
pub const CATALOG: &[Spec] = &[
    Sigmoid::SPEC,
    Relu::SPEC,
    LeakyRelu::SPEC,
    Tanh::SPEC,
    Elu::SPEC,
    Gelu::SPEC,
    GeluErf::SPEC,
    Prelu::SPEC,
    Custom::SPEC,
    Swish::SPEC,
    Mish::SPEC,
    Selu::SPEC,
    Celu::SPEC,
    Softplus::SPEC,
    Softsign::SPEC,
    HardSigmoid::SPEC,
    HardSwish::SPEC,
    Relu6::SPEC,
    HardTanh::SPEC,
    LogSigmoid::SPEC,
    Tanhshrink::SPEC,
    Rrelu::SPEC,
    Linear::SPEC,
];

/// An activation as requested: the name to record (as written, lower case, with its parameter
/// if not the default) and what to build.
#[derive(Debug, Clone)]
pub struct Choice {
    /// The name recorded in result files (`leaky_relu:0.1`, `silu`).
    pub name: String,
    /// The activation itself.
    pub hidden: Hidden,
}

/// The built-in called `name` (a canonical name or an alias, in lower case).
pub fn find(name: &str) -> Option<&'static Spec> {
    CATALOG
        .iter()
        .find(|s| s.name == name || s.aliases.contains(&name))
}

/// Every name the command line accepts, canonical names first, then aliases.
fn names() -> impl Iterator<Item = &'static str> {
    let aliases = CATALOG.iter().flat_map(|s| s.aliases.iter().copied());
    CATALOG.iter().map(|s| s.name).chain(aliases)
}

/// The closest accepted name to a mistyped one, if one is close: at most one edit (insertion,
/// deletion, substitution or swap of neighbours) for names up to 4 letters, two for longer
/// ones, or the only name that starts with what was typed (3 letters or more).
fn did_you_mean(typed: &str) -> Option<&'static str> {
    let candidates = || names().chain(["all"]);
    let budget = if typed.chars().count() <= 4 { 1 } else { 2 };
    let close = candidates()
        .map(|n| (strsim::osa_distance(typed, n), n))
        .filter(|&(d, _)| d <= budget)
        .min_by_key(|&(d, _)| d)
        .map(|(_, n)| n);
    close.or_else(|| {
        let mut prefixed = candidates().filter(|n| typed.len() >= 3 && n.starts_with(typed));
        match (prefixed.next(), prefixed.next()) {
            (Some(n), None) => Some(n),
            _ => None,
        }
    })
}

/// User input echoed in a message: at most 40 characters, control characters escaped, so
/// that the message stays one line.
fn shown(s: &str) -> String {
    let mut out: String = s
        .chars()
        .take(40)
        .flat_map(|c| {
            if c.is_control() {
                c.escape_default().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect();
    if s.chars().nth(40).is_some() {
        out.push_str("...");
    }
    out
}

fn unknown(name: &str) -> String {
    let hint = did_you_mean(name)
        .map(|n| format!(": did you mean '{n}'?"))
        .unwrap_or_default();
    let valid = names().collect::<Vec<_>>().join(", ");
    format!(
        "unknown activation '{}'{hint} (valid: {valid}, or all)",
        shown(name)
    )
}

/// Parse `name` or `name:param` (one activation, not `all`).
pub fn parse(spec: &str) -> Result<Choice, String> {
    let spec = spec.trim().to_lowercase();
    let (name, param) = match spec.split_once(':') {
        Some((n, p)) => (n.trim(), Some(p.trim())),
        None => (spec.as_str(), None),
    };
    let entry = find(name).ok_or_else(|| unknown(name))?;
    let value = match (param, entry.param) {
        (None, _) => None,
        (Some(_), None) => {
            return Err(format!("activation '{}' takes no parameter", shown(name)));
        }
        (Some(p), Some(param)) => {
            let v: f32 = p.parse().map_err(|_| {
                format!(
                    "activation '{name}': {} '{}' is not a finite number",
                    param.name,
                    shown(p)
                )
            })?;
            let v = param
                .constraint
                .check(v)
                .map_err(|e| format!("activation '{name}': {} {e}", param.name))?;
            Some(v)
        }
    };
    let default = entry.param.map_or(0.0, |p| p.default);
    let recorded = match value {
        Some(v) if v != default => format!("{name}:{v}"),
        _ => name.to_string(),
    };
    Ok(Choice {
        name: recorded,
        hidden: (entry.build)(value.unwrap_or(default)),
    })
}

/// Parse a comma-separated list; `all` means every built-in, each function once (aliases are
/// not repeated). Duplicates are refused. Never panics, whatever the input.
pub fn parse_list(list: &str) -> Result<Vec<Choice>, String> {
    let mut out: Vec<Choice> = Vec::new();
    for item in list.split(',').map(str::trim) {
        if item.is_empty() {
            return Err(format!("empty activation name in '{}'", shown(list)));
        }
        let items = if item.eq_ignore_ascii_case("all") {
            CATALOG
                .iter()
                .map(|s| parse(s.name))
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

/// The text of `actbench list`: every built-in with its set, parameter default, formula and
/// other names.
pub fn table() -> String {
    let mut out = String::from("activation    set        parameter   formula\n");
    for s in CATALOG {
        let param = s
            .param
            .map(|p| format!("{}={}", p.name, p.default))
            .unwrap_or_else(|| "-".into());
        let set = if s.reference { "reference" } else { "extra" };
        let also = if s.aliases.is_empty() {
            String::new()
        } else {
            format!(" (also: {})", s.aliases.join(", "))
        };
        out.push_str(&format!(
            "{:<13} {set:<10} {param:<11} {}{also}\n",
            s.name, s.formula
        ));
    }
    out.push_str(
        "\nname:param sets the parameter (e.g. leaky_relu:0.1); `all` selects every one. \
         Names are case-insensitive.\n",
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each built-in's stated max_slope is the supremum of |f'|: no point of a fine grid
    /// (step 1/1024 over [-30, 30], which reaches within 1/1024 of every kink and far enough
    /// into the tails for the slopes only approached there) exceeds it, and some come within
    /// 0.1% of it. Checked at the default parameter and at a second value, where it has one.
    /// The default scan for other Activation impls must agree with the stated values.
    #[test]
    fn max_slope_is_the_largest_derivative() {
        for spec in CATALOG {
            let params = match spec.param {
                Some(p) => vec![p.default, p.default * 3.0 + 0.5],
                None => vec![0.0],
            };
            for param in params {
                let hidden = (spec.build)(param);
                let (f, stated) = (hidden.function(), hidden.max_slope());
                let seen = (-30 * 1024..=30 * 1024)
                    .map(|i| f.derivative_f64(i as f64 / 1024.0).abs())
                    .fold(0.0, f64::max);
                let name = format!("{}:{param}", spec.name);
                assert!(seen <= stated * (1.0 + 1e-9), "{name}: {seen} > {stated}");
                assert!(seen >= stated * (1.0 - 1e-3), "{name}: {seen} << {stated}");
                if let Hidden::Fixed(a) = &hidden {
                    /// Hides the built-in's stated value, so the trait's default scan runs.
                    #[derive(Debug)]
                    struct Scan<'a>(&'a dyn Activation);
                    impl Activation for Scan<'_> {
                        fn name(&self) -> String {
                            self.0.name()
                        }
                        fn value(&self, x: f32) -> f32 {
                            self.0.value(x)
                        }
                        fn derivative(&self, x: f32, y: f32) -> f32 {
                            self.0.derivative(x, y)
                        }
                        fn derivative_f64(&self, x: f64) -> f64 {
                            self.0.derivative_f64(x)
                        }
                    }
                    let scanned = Scan(a.as_ref()).max_slope();
                    assert!(
                        (scanned - stated).abs() <= 5e-3 * stated,
                        "{name}: default scan {scanned} vs stated {stated}"
                    );
                }
            }
        }
    }

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
        assert!(
            parse("elu:inf")
                .unwrap_err()
                .contains("must be a finite number")
        );
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

    #[test]
    fn names_are_case_insensitive_and_recorded_in_lower_case() {
        let names: Vec<_> = parse_list("ReLU, GELU, SiLU:2, Leaky_ReLU:0.1")
            .unwrap()
            .into_iter()
            .map(|c| c.name)
            .collect();
        assert_eq!(names, ["relu", "gelu", "silu:2", "leaky_relu:0.1"]);
        assert_eq!(parse_list("ALL").unwrap().len(), CATALOG.len());
        assert!(
            parse_list("relu,ReLU")
                .unwrap_err()
                .contains("listed twice")
        );
    }

    #[test]
    fn unknown_names_get_the_closest_valid_one() {
        let hint = |typed: &str| did_you_mean(typed);
        assert_eq!(hint("tahn"), Some("tanh"));
        assert_eq!(hint("sigmiod"), Some("sigmoid"));
        assert_eq!(hint("leaky-relu"), Some("leaky_relu"));
        assert_eq!(hint("leakyrelu"), Some("leaky_relu"));
        assert_eq!(hint("gelu-erf"), Some("gelu_erf"));
        assert_eq!(hint("sili"), Some("silu"));
        assert_eq!(hint("leaky"), Some("leaky_relu"));
        assert_eq!(hint("tanhshrnk"), Some("tanhshrink"));
        // Nothing close, or several equally plausible: no guess.
        assert_eq!(hint("nope"), None);
        assert_eq!(hint("hard"), None);
        assert_eq!(hint("x"), None);
        let e = parse("Tahn").unwrap_err();
        assert!(
            e.starts_with("unknown activation 'tahn': did you mean 'tanh'? (valid: sigmoid,"),
            "{e}"
        );
        assert!(e.ends_with("linear, silu, or all)"), "{e}");
        assert!(!parse("nope").unwrap_err().contains("did you mean"));
    }

    #[test]
    fn messages_stay_one_short_line() {
        let e = parse_list("re\nlu").unwrap_err();
        assert!(e.starts_with("unknown activation 're\\nlu'"), "{e}");
        let long = "z".repeat(10_000);
        let e = parse_list(&long).unwrap_err();
        assert!(e.len() < 600 && e.contains("zzz..."), "{e}");
        assert!(!parse_list(",").unwrap_err().contains('\n'));
    }

    /// The parser is fuzzed; here a quick deterministic sweep over awkward inputs.
    #[test]
    fn parse_list_never_panics() {
        let pieces = [
            "",
            ",",
            ":",
            "::",
            "relu",
            "ReLU",
            "all",
            "elu:",
            "elu:1e39",
            "elu:-0",
            "elu:nan",
            "prelu:0.25",
            "silu:0",
            " ",
            "\u{0}",
            "é",
            "İ",
            "ß",
            "\u{130}relu",
            "leaky_relu:1",
            "rrelu:1",
            "tanh:",
            "1e-45",
            "x:y:z",
        ];
        for a in pieces {
            for b in pieces {
                let _ = parse_list(&format!("{a}{b}"));
                let _ = parse_list(&format!("{a},{b}"));
            }
        }
    }

    #[test]
    fn every_spec_builds_what_it_names() {
        for s in CATALOG {
            let c = parse(s.name).unwrap();
            assert_eq!(c.name, s.name);
            let built = (s.build)(s.param.map_or(0.0, |p| p.default));
            assert_eq!(built.function().name(), c.hidden.function().name());
            if let Hidden::Fixed(f) = &c.hidden {
                assert_eq!(f.name(), s.name);
            }
            if let Some(p) = s.param {
                assert!(p.constraint.check(p.default).is_ok(), "{}", s.name);
            }
        }
    }
}
