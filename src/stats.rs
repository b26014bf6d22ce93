//! Small statistics kit shared by `compare`, `plot`, `ranking` and the run summary: mean ± sample
//! std, Welch's t-test (and the t statistic's p-value), and first-seen order.

use crate::results::{RunStatus, SummaryRow};

/// The distinct items of `items`, in the order they first appear (the order of a results
/// file, so tables and colours follow it).
pub fn first_seen<T: PartialEq>(items: impl IntoIterator<Item = T>) -> Vec<T> {
    let mut out: Vec<T> = Vec::new();
    for item in items {
        if !out.contains(&item) {
            out.push(item);
        }
    }
    out
}

/// Mean of `n` values and, when `n >= 2`, their sample standard deviation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MeanStd {
    /// How many values.
    pub n: usize,
    /// Their mean.
    pub mean: f64,
    /// Sample standard deviation (n - 1 denominator); `None` for a single value.
    pub std: Option<f64>,
}

impl MeanStd {
    /// Mean ± std of one summary column over the runs that finished (`ok`), skipping empty
    /// cells; diverged runs are counted elsewhere, never averaged.
    pub fn over_ok(
        rows: &[&SummaryRow],
        column: fn(&SummaryRow) -> Option<f64>,
    ) -> Option<MeanStd> {
        let values: Vec<f64> = rows
            .iter()
            .filter(|r| r.status == RunStatus::Ok)
            .filter_map(|r| column(r))
            .collect();
        MeanStd::of(&values)
    }

    /// Mean ± std of `values`; `None` for an empty slice.
    pub fn of(values: &[f64]) -> Option<MeanStd> {
        let (mean, var) = mean_var(values)?;
        Some(MeanStd {
            n: values.len(),
            mean,
            std: var.map(f64::sqrt),
        })
    }
}

/// Result of Welch's unequal-variances t-test.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct WelchResult {
    /// `(mean(a) - mean(b)) / standard error`; ±infinity when both variances are zero.
    pub t: f64,
    /// Welch–Satterthwaite degrees of freedom.
    pub df: f64,
    /// Two-sided p-value.
    pub p: f64,
}

/// Welch's two-sided t-test of `mean(a) == mean(b)`, matching
/// `scipy.stats.ttest_ind(a, b, equal_var=False)`.
///
/// Returns `None` when either side has fewer than two values or a value is not
/// finite. Where scipy answers NaN because both sides have zero variance we
/// answer instead: identical means give `t = 0, p = 1` (no evidence of a
/// difference), different means give `t = ±inf, p = 0` (the runs are
/// deterministic, so any difference is real). Welch–Satterthwaite df is 0/0 in
/// that case, so we report the pooled `n_a + n_b - 2`.
pub fn welch_t_test(a: &[f64], b: &[f64]) -> Option<WelchResult> {
    if a.len() < 2 || b.len() < 2 || a.iter().chain(b).any(|x| !x.is_finite()) {
        return None;
    }
    let (mean_a, var_a) = mean_var(a)?;
    let (mean_b, var_b) = mean_var(b)?;
    let (na, nb) = (a.len() as f64, b.len() as f64);
    let (sa, sb) = (var_a? / na, var_b? / nb);
    let se2 = sa + sb;
    if se2 == 0.0 {
        let df = na + nb - 2.0;
        return Some(if mean_a == mean_b {
            WelchResult { t: 0.0, df, p: 1.0 }
        } else {
            let t = (mean_a - mean_b).signum() * f64::INFINITY;
            WelchResult { t, df, p: 0.0 }
        });
    }
    let t = (mean_a - mean_b) / se2.sqrt();
    let df = se2 * se2 / (sa * sa / (na - 1.0) + sb * sb / (nb - 1.0));
    Some(WelchResult {
        t,
        df,
        p: two_sided_t_p(t, df),
    })
}

/// Mean and sample variance (None for a single value). All-equal values give
/// exactly zero variance, so rounding in the mean cannot fake a tiny spread.
fn mean_var(values: &[f64]) -> Option<(f64, Option<f64>)> {
    let first = *values.first()?;
    if values.iter().all(|&x| x == first) {
        return Some((first, (values.len() > 1).then_some(0.0)));
    }
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let ss: f64 = values.iter().map(|x| (x - mean).powi(2)).sum();
    Some((mean, (values.len() > 1).then(|| ss / (n - 1.0))))
}

/// Two-sided Student-t tail probability: `I_{df/(df+t²)}(df/2, 1/2)`, with statrs' regularized
/// incomplete beta function; 0 for an infinite `t`. NaN where that is undefined (a non-finite
/// `df`). The one p-value of a t statistic: Welch's test here and the ranking's paired test use it.
pub fn two_sided_t_p(t: f64, df: f64) -> f64 {
    if t.is_infinite() {
        return 0.0;
    }
    let x = df / (df + t * t);
    statrs::function::beta::checked_beta_reg(df / 2.0, 0.5, x)
        .map_or(f64::NAN, |p| p.clamp(0.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(actual: f64, expected: f64, tol: f64) {
        assert!(
            (actual - expected).abs() <= tol * expected.abs().max(1e-300),
            "actual {actual:e}, expected {expected:e}"
        );
    }

    #[test]
    fn incomplete_beta_matches_scipy() {
        // The Welch p-value rests on statrs' I_x(a, b): scipy.special.betainc(a, b, x) values.
        use statrs::function::beta::beta_reg as reg_inc_beta;
        close(reg_inc_beta(2.0, 3.0, 0.4), 0.5248, 1e-12);
        close(reg_inc_beta(0.5, 0.5, 0.3), 0.369_010_119_565_545_36, 1e-12);
        close(
            reg_inc_beta(50.0, 0.5, 0.99),
            0.317_304_397_874_197_3,
            1e-10,
        );
        assert_eq!(reg_inc_beta(2.0, 3.0, 0.0), 0.0);
        assert_eq!(reg_inc_beta(2.0, 3.0, 1.0), 1.0);
    }

    #[test]
    fn first_seen_keeps_first_appearances_in_order() {
        assert_eq!(first_seen(["b", "a", "b", "c", "a"]), ["b", "a", "c"]);
        assert_eq!(first_seen(Vec::<u8>::new()), Vec::<u8>::new());
    }

    #[test]
    fn p_value_of_a_known_t() {
        // 1 - (integral of Student's t density, 5 df, over [-2, 2]), by Simpson's rule with
        // 200,000 intervals in Python; t = 0 gives 1.
        close(two_sided_t_p(2.0, 5.0), 0.101_939_478_829_864_76, 1e-12);
        assert_eq!(two_sided_t_p(0.0, 3.0), 1.0);
        assert!(two_sided_t_p(1.0, f64::INFINITY).is_nan());
    }

    #[test]
    fn mean_std_uses_sample_std() {
        let s = MeanStd::of(&[1.0, 2.0, 3.0, 4.0]).expect("non-empty");
        assert_eq!(s.n, 4);
        assert_eq!(s.mean, 2.5);
        close(s.std.expect("n > 1"), (5.0f64 / 3.0).sqrt(), 1e-15);
        assert_eq!(MeanStd::of(&[0.9]).map(|s| s.std), Some(None));
        assert_eq!(MeanStd::of(&[]), None);
    }

    #[test]
    fn identical_values_have_exactly_zero_std() {
        let s = MeanStd::of(&[0.1 + 0.2; 7]).expect("non-empty");
        assert_eq!(s.std, Some(0.0));
        assert_eq!(s.mean, 0.1 + 0.2);
    }
}
