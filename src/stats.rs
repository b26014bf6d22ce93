//! Small statistics kit shared by `compare`, `plot` and the run summary: mean ± sample std,
//! Welch's t-test, and first-seen order.

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
        p: two_sided_p(t, df),
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

/// Two-sided Student-t tail probability: `I_{df/(df+t²)}(df/2, 1/2)`.
fn two_sided_p(t: f64, df: f64) -> f64 {
    if t.is_infinite() {
        return 0.0;
    }
    let x = df / (df + t * t);
    reg_inc_beta(df / 2.0, 0.5, x).clamp(0.0, 1.0)
}

/// Regularized incomplete beta function I_x(a, b) (Numerical Recipes `betai`).
pub(crate) fn reg_inc_beta(a: f64, b: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let ln_front = ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln();
    let front = ln_front.exp();
    // The continued fraction converges fast only below this point; use the
    // symmetry I_x(a, b) = 1 - I_{1-x}(b, a) above it.
    if x < (a + 1.0) / (a + b + 2.0) {
        front * beta_cf(a, b, x) / a
    } else {
        1.0 - front * beta_cf(b, a, 1.0 - x) / b
    }
}

/// Continued fraction for the incomplete beta function, modified Lentz method
/// (Numerical Recipes `betacf`).
fn beta_cf(a: f64, b: f64, x: f64) -> f64 {
    const MAX_ITER: usize = 10_000;
    const EPS: f64 = 1e-15;
    const TINY: f64 = 1e-300;
    let not_tiny = |v: f64| if v.abs() < TINY { TINY } else { v };
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let mut c = 1.0;
    let mut d = 1.0 / not_tiny(1.0 - qab * x / qap);
    let mut h = d;
    for m in 1..=MAX_ITER {
        let m = m as f64;
        let m2 = 2.0 * m;
        // Even step.
        let aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 / not_tiny(1.0 + aa * d);
        c = not_tiny(1.0 + aa / c);
        h *= d * c;
        // Odd step.
        let aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 / not_tiny(1.0 + aa * d);
        c = not_tiny(1.0 + aa / c);
        let delta = d * c;
        h *= delta;
        if (delta - 1.0).abs() < EPS {
            break;
        }
    }
    h
}

/// ln Γ(x) for x > 0 by the Lanczos approximation (g = 7, 9 terms; relative
/// error around 1e-15).
pub(crate) fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const COEF: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection keeps the series in its accurate range.
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let series = COEF[1..]
        .iter()
        .enumerate()
        .fold(COEF[0], |acc, (i, c)| acc + c / (x + i as f64 + 1.0));
    let t = x + G + 0.5;
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + series.ln()
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
    fn ln_gamma_matches_known_values() {
        // Γ(1) = Γ(2) = 1, Γ(1/2) = √π, Γ(10) = 9!.
        assert!(ln_gamma(1.0).abs() < 1e-14);
        assert!(ln_gamma(2.0).abs() < 1e-14);
        close(ln_gamma(0.5), std::f64::consts::PI.sqrt().ln(), 1e-14);
        close(ln_gamma(10.0), 362_880f64.ln(), 1e-14);
        // scipy.special.gammaln(0.1), gammaln(123.4)
        close(ln_gamma(0.1), 2.252_712_651_734_206, 1e-13);
        close(ln_gamma(123.4), 469.336_097_442_190_6, 1e-13);
    }

    #[test]
    fn incomplete_beta_matches_scipy() {
        // scipy.special.betainc(a, b, x)
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
