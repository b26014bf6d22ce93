//! Statistics for comparing activations across seeds: no I/O, plain slices in, numbers out.
//!
//! Every activation of a run with `--seeds N` trains from the same seeds and sees the same
//! batch order, so two activations' results form pairs (one per seed) and the tests here work
//! on the per-seed differences. Conventions, each checked against scipy / statsmodels in
//! `tests` below (the script that computed the expected numbers is `tests/ranking_golden.py`):
//!
//! - fewer than two values: no interval and no test (`None`); one seed says nothing about
//!   the spread;
//! - zero spread (identical differences, e.g. two deterministic runs): a zero difference
//!   gives `t = 0, p = 1`, a non-zero one `t = ±inf, p = 0`, an interval of zero width, never
//!   NaN (scipy answers NaN for the first);
//! - the exact test flips signs of the differences: zero differences drop out (flipping a
//!   zero changes nothing) and ties need no special rule because the statistic is the sum of
//!   the differences themselves, not of their ranks.

use statrs::distribution::{ContinuousCDF, Normal, StudentsT};
use statrs::function::gamma::ln_gamma;

/// Two-sided significance level of every test and interval here (95% intervals).
pub const ALPHA: f64 = 0.05;

/// Power that [`seeds_for_power`] aims for.
pub const TARGET_POWER: f64 = 0.8;

/// Largest number of differences the sign-flip test enumerates exactly (2^20 sign patterns);
/// above it the test draws [`MONTE_CARLO_DRAWS`] random patterns from a fixed seed.
pub const EXACT_LIMIT: usize = 20;

/// Random sign patterns drawn when there are more than [`EXACT_LIMIT`] non-zero differences.
pub const MONTE_CARLO_DRAWS: usize = 100_000;

/// Largest seed count [`seeds_for_power`] searches; beyond it the answer is "more than this".
pub const MAX_SEEDS_SEARCHED: usize = 1_000_000;

/// Mean of some values with its t-based 95% confidence interval.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MeanCi {
    /// Number of values.
    pub n: usize,
    /// Arithmetic mean.
    pub mean: f64,
    /// Sample standard deviation (n - 1 denominator); `None` for one value.
    pub std: Option<f64>,
    /// `(low, high)` of the 95% interval `mean ± t(0.975, n-1) · std / √n`; `None` for one value.
    pub ci: Option<(f64, f64)>,
}

/// Mean, sample standard deviation and 95% interval; `None` when `values` is empty or holds a
/// non-finite number. Identical values have exactly zero spread (no rounding residue).
pub fn mean_ci(values: &[f64]) -> Option<MeanCi> {
    if values.iter().any(|v| !v.is_finite()) {
        return None;
    }
    let crate::stats::MeanStd { n, mean, std } = crate::stats::MeanStd::of(values)?;
    let ci = std.map(|s| {
        let half = t_quantile(n as f64 - 1.0) * s / (n as f64).sqrt();
        (mean - half, mean + half)
    });
    Some(MeanCi { n, mean, std, ci })
}

/// Paired t-test of `mean(a - b) == 0` (scipy's `ttest_rel(a, b)`) with the 95% interval of
/// the mean difference.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PairedT {
    /// Number of pairs.
    pub n: usize,
    /// Mean of `a - b`.
    pub mean_diff: f64,
    /// Sample standard deviation of `a - b`.
    pub std_diff: f64,
    /// `(low, high)` of the 95% interval of the mean difference.
    pub ci: (f64, f64),
    /// `mean_diff / (std_diff / √n)`; `±inf` when the differences are identical and non-zero.
    pub t: f64,
    /// Degrees of freedom, `n - 1`.
    pub df: f64,
    /// Two-sided p-value.
    pub p: f64,
}

/// Paired t-test of `a` against `b` (same length, element `i` of each from the same seed).
/// `None` with fewer than two pairs, unequal lengths or a non-finite value.
pub fn paired_t_test(a: &[f64], b: &[f64]) -> Option<PairedT> {
    let d = differences(a, b)?;
    let m = mean_ci(&d)?;
    let (std_diff, ci) = (m.std?, m.ci?);
    let df = m.n as f64 - 1.0;
    let (t, p) = if std_diff == 0.0 {
        if m.mean == 0.0 {
            (0.0, 1.0)
        } else {
            (m.mean.signum() * f64::INFINITY, 0.0)
        }
    } else {
        let t = m.mean / (std_diff / (m.n as f64).sqrt());
        (t, crate::stats::two_sided_t_p(t, df))
    };
    Some(PairedT {
        n: m.n,
        mean_diff: m.mean,
        std_diff,
        ci,
        t,
        df,
        p,
    })
}

/// Welch's unequal-variances t-test of `mean(a) == mean(b)` (scipy's
/// `ttest_ind(a, b, equal_var=False)`) with the 95% interval of `mean(a) - mean(b)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Welch {
    /// `mean(a) - mean(b)`.
    pub mean_diff: f64,
    /// `(low, high)` of the 95% interval of the difference, Welch–Satterthwaite df.
    pub ci: (f64, f64),
    /// t statistic; `±inf` when both sides have zero spread and different means.
    pub t: f64,
    /// Welch–Satterthwaite degrees of freedom (`n_a + n_b - 2` when both spreads are zero).
    pub df: f64,
    /// Two-sided p-value.
    pub p: f64,
}

/// Welch's test for runs that cannot be paired (different seed sets): t, df and p from
/// [`crate::stats::welch_t_test`] (same zero-spread rule as the paired test), plus the interval.
/// `None` when a side has fewer than two values or a value is not finite.
pub fn welch_t_test(a: &[f64], b: &[f64]) -> Option<Welch> {
    let crate::stats::WelchResult { t, df, p } = crate::stats::welch_t_test(a, b)?;
    let (ma, mb) = (mean_ci(a)?, mean_ci(b)?);
    let mean_diff = ma.mean - mb.mean;
    let se = (ma.std?.powi(2) / ma.n as f64 + mb.std?.powi(2) / mb.n as f64).sqrt();
    let half = if se == 0.0 { 0.0 } else { t_quantile(df) * se };
    Some(Welch {
        mean_diff,
        ci: (mean_diff - half, mean_diff + half),
        t,
        df,
        p,
    })
}

/// Result of the sign-flip permutation test.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SignFlip {
    /// Two-sided p-value: the share of sign patterns whose |sum| is at least the observed one.
    pub p: f64,
    /// `true` when every sign pattern was enumerated; `false` for the Monte Carlo estimate.
    pub exact: bool,
}

/// Sign-flip permutation test of paired differences `a - b` (scipy's
/// `permutation_test((a, b), mean_diff, permutation_type='samples', n_resamples=inf)`): under
/// "no difference" each pair's difference is as likely positive as negative, so the observed
/// |sum| is compared with the |sum| of every pattern of signs. Exact up to [`EXACT_LIMIT`]
/// non-zero differences; above, a Monte Carlo estimate `(hits + 1) / (draws + 1)` from a fixed
/// seed. The smallest p it can give with n pairs is `2 / 2^n` (0.0625 at n = 5, 0.002 at
/// n = 10). `None` with fewer than two pairs, unequal lengths or a non-finite value.
pub fn sign_flip_test(a: &[f64], b: &[f64]) -> Option<SignFlip> {
    let d = differences(a, b)?;
    if d.len() < 2 {
        return None;
    }
    let d: Vec<f64> = d.into_iter().filter(|&x| x != 0.0).collect();
    if d.is_empty() {
        return Some(SignFlip {
            p: 1.0,
            exact: true,
        });
    }
    let observed = d.iter().sum::<f64>().abs();
    // Sums that are equal in exact arithmetic may differ in the last bits; count them as equal.
    let tolerance = 1e-9 * d.iter().map(|x| x.abs()).sum::<f64>();
    let reaches = |sum: f64| sum.abs() >= observed - tolerance;
    if d.len() <= EXACT_LIMIT {
        // Gray code: each step flips one sign, so each pattern's sum costs one addition.
        let mut signs = vec![1.0; d.len()];
        let mut sum: f64 = d.iter().sum();
        let mut hits = u64::from(reaches(sum));
        let patterns = 1u64 << d.len();
        for step in 1..patterns {
            let i = step.trailing_zeros() as usize;
            signs[i] = -signs[i];
            sum += 2.0 * signs[i] * d[i];
            hits += u64::from(reaches(sum));
        }
        Some(SignFlip {
            p: hits as f64 / patterns as f64,
            exact: true,
        })
    } else {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0x5eed);
        let mut hits = 0u64;
        for _ in 0..MONTE_CARLO_DRAWS {
            let sum: f64 = d
                .iter()
                .map(|&x| if rng.random::<bool>() { x } else { -x })
                .sum();
            hits += u64::from(reaches(sum));
        }
        Some(SignFlip {
            p: (hits + 1) as f64 / (MONTE_CARLO_DRAWS + 1) as f64,
            exact: false,
        })
    }
}

/// Holm's step-down adjustment of a family of p-values (statsmodels'
/// `multipletests(p, method='holm')`): the i-th smallest of m is multiplied by `m - i`, kept
/// non-decreasing in that order, and capped at 1. Output in input order.
pub fn holm(p: &[f64]) -> Vec<f64> {
    let m = p.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&i, &j| p[i].total_cmp(&p[j]));
    let mut adjusted = vec![0.0; m];
    let mut running = 0.0f64;
    for (rank, &i) in order.iter().enumerate() {
        running = running.max(((m - rank) as f64 * p[i]).min(1.0));
        adjusted[i] = running;
    }
    adjusted
}

/// How many seeds a paired t-test needs to detect a difference.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SeedsNeeded {
    /// This many seeds give at least [`TARGET_POWER`] at level [`ALPHA`] (two-sided).
    Seeds(usize),
    /// Even [`MAX_SEEDS_SEARCHED`] seeds would not.
    MoreThan(usize),
    /// The observed mean difference is exactly zero: no number of seeds detects it.
    NoDifference,
}

/// Seeds needed to detect the observed paired difference (`mean_diff`, with per-seed
/// standard deviation `std_diff`) with 80% power at α = 0.05, two-sided: the smallest n ≥ 2
/// whose paired t-test power for effect size `|mean_diff| / std_diff` reaches
/// [`TARGET_POWER`] (statsmodels' `TTestPower().solve_power`, rounded up). Differences with
/// zero spread are detected by any 2 seeds.
pub fn seeds_for_power(mean_diff: f64, std_diff: f64) -> SeedsNeeded {
    if mean_diff == 0.0 || !mean_diff.is_finite() || !std_diff.is_finite() {
        return SeedsNeeded::NoDifference;
    }
    if std_diff == 0.0 {
        return SeedsNeeded::Seeds(2);
    }
    let effect = mean_diff.abs() / std_diff;
    let enough = |n: usize| paired_t_power(effect, n) >= TARGET_POWER;
    if enough(2) {
        return SeedsNeeded::Seeds(2);
    }
    // Power grows with n: double until enough, then bisect (lo never enough, hi enough).
    let mut hi = 4;
    while !enough(hi) {
        if hi >= MAX_SEEDS_SEARCHED {
            return SeedsNeeded::MoreThan(MAX_SEEDS_SEARCHED);
        }
        hi = (hi * 2).min(MAX_SEEDS_SEARCHED);
    }
    let mut lo = hi / 2;
    while hi - lo > 1 {
        let mid = (lo + hi) / 2;
        if enough(mid) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    SeedsNeeded::Seeds(hi)
}

/// Power of the two-sided paired t-test at level [`ALPHA`] with `n` pairs when the true mean
/// difference is `effect` standard deviations (statsmodels' `TTestPower().power`).
///
/// The statistic is `T = (Z + δ) / (W / √ν)` with `Z` standard normal, `W` chi-distributed with
/// `ν = n - 1` degrees of freedom and `δ = effect · √n` (non-central t). Conditioning on `W`:
/// `power = ∫ chi_ν(w) [Φ(δ - c w / √ν) + Φ(-δ - c w / √ν)] dw`, `c` the critical t value,
/// integrated with Simpson's rule over `√ν ± 12` (the chi density is negligible beyond).
pub fn paired_t_power(effect: f64, n: usize) -> f64 {
    assert!(n >= 2, "a paired t-test needs two pairs");
    let nu = n as f64 - 1.0;
    let delta = effect * (n as f64).sqrt();
    let c = t_quantile(nu);
    let normal = Normal::standard();
    let ln_norm = (nu / 2.0 - 1.0) * std::f64::consts::LN_2 + ln_gamma(nu / 2.0);
    let chi_pdf = |w: f64| {
        if w <= 0.0 {
            // The chi density at 0 is non-zero only for one degree of freedom.
            return if nu == 1.0 {
                (2.0 / std::f64::consts::PI).sqrt()
            } else {
                0.0
            };
        }
        ((nu - 1.0) * w.ln() - w * w / 2.0 - ln_norm).exp()
    };
    let integrand = |w: f64| {
        let cw = c * w / nu.sqrt();
        chi_pdf(w) * (normal.cdf(delta - cw) + normal.cdf(-delta - cw))
    };
    let (lo, hi) = ((nu.sqrt() - 12.0).max(0.0), nu.sqrt() + 12.0);
    const INTERVALS: usize = 4000;
    let h = (hi - lo) / INTERVALS as f64;
    let inner: f64 = (1..INTERVALS)
        .map(|i| {
            let weight = if i % 2 == 1 { 4.0 } else { 2.0 };
            weight * integrand(lo + i as f64 * h)
        })
        .sum();
    ((integrand(lo) + inner + integrand(hi)) * h / 3.0).clamp(0.0, 1.0)
}

/// Critical value `t(1 - α/2, df)` of the two-sided 95% interval and test.
pub fn t_quantile(df: f64) -> f64 {
    StudentsT::new(0.0, 1.0, df)
        .expect("df > 0")
        .inverse_cdf(1.0 - ALPHA / 2.0)
}

/// `a - b` element-wise; `None` for unequal lengths or a non-finite value.
fn differences(a: &[f64], b: &[f64]) -> Option<Vec<f64>> {
    if a.len() != b.len() || a.iter().chain(b).any(|x| !x.is_finite()) {
        return None;
    }
    Some(a.iter().zip(b).map(|(x, y)| x - y).collect())
}

#[cfg(test)]
// The expected values keep every digit scipy printed.
#[allow(clippy::excessive_precision)]
mod tests {
    //! Expected numbers printed by `tests/ranking_golden.py` (scipy 1.17.1, statsmodels 0.15.0).
    use super::*;

    const A: [f64; 10] = [
        0.9745, 0.9761, 0.9738, 0.9752, 0.9749, 0.9770, 0.9741, 0.9755, 0.9760, 0.9747,
    ];
    const B: [f64; 10] = [
        0.9731, 0.9755, 0.9740, 0.9736, 0.9744, 0.9751, 0.9733, 0.9748, 0.9742, 0.9739,
    ];
    // Ties among the differences (three of 0.001) and two zero differences.
    const C: [f64; 7] = [0.9700, 0.9710, 0.9720, 0.9730, 0.9740, 0.9750, 0.9760];
    const E: [f64; 7] = [0.9690, 0.9710, 0.9710, 0.9720, 0.9740, 0.9740, 0.9750];

    // ttest_ind(A, B[:6], equal_var=False) and its confidence_interval(0.95).
    const WELCH_T: f64 = 1.851_828_489_638_065_5;
    const WELCH_DF: f64 = 11.434_696_066_624_499;
    const WELCH_P: f64 = 0.090_028_151_518_806_721;
    const WELCH_LO: f64 = -0.000_164_141_578_257_629_31;
    const WELCH_HI: f64 = 0.001_957_474_911_590_942_8;

    fn close(actual: f64, expected: f64, rel: f64) {
        assert!(
            (actual - expected).abs() <= rel * expected.abs(),
            "actual {actual:e}, expected {expected:e}"
        );
    }

    #[test]
    fn mean_ci_matches_scipy() {
        let m = mean_ci(&A).unwrap();
        close(m.mean, 0.975_18, 1e-14);
        close(m.std.unwrap(), 0.000_987_477_144_601_887_8, 1e-12);
        let (lo, hi) = m.ci.unwrap();
        close(lo, 0.974_473_601_405_120_96, 1e-12);
        close(hi, 0.975_886_398_594_879_36, 1e-12);
        let m = mean_ci(&A[..3]).unwrap();
        let (lo, hi) = m.ci.unwrap();
        close(lo, 0.971_871_244_831_399_19, 1e-12);
        close(hi, 0.977_728_755_168_601_03, 1e-12);
    }

    #[test]
    fn one_value_has_no_interval_and_no_test() {
        let m = mean_ci(&[0.97]).unwrap();
        assert_eq!((m.n, m.mean, m.std, m.ci), (1, 0.97, None, None));
        assert_eq!(paired_t_test(&[0.97], &[0.96]), None);
        assert_eq!(sign_flip_test(&[0.97], &[0.96]), None);
        assert_eq!(mean_ci(&[]), None);
    }

    #[test]
    fn bad_input_gives_no_answer() {
        assert_eq!(paired_t_test(&A, &B[..9]), None);
        assert_eq!(paired_t_test(&[1.0, f64::NAN], &[1.0, 2.0]), None);
        assert_eq!(sign_flip_test(&[1.0, f64::INFINITY], &[1.0, 2.0]), None);
        assert_eq!(mean_ci(&[1.0, f64::NAN]), None);
    }

    #[test]
    fn paired_t_matches_scipy_ttest_rel() {
        let r = paired_t_test(&A, &B).unwrap();
        assert_eq!((r.n, r.df), (10, 9.0));
        close(r.t, 4.702_452_649_152_594, 1e-10);
        close(r.p, 0.001_116_308_201_844_106_4, 1e-8);
        close(r.mean_diff, 0.000_989_999_999_999_990_89, 1e-10);
        close(r.std_diff, 0.000_665_749_368_923_646_07, 1e-10);
        close(r.ci.0, 0.000_513_751_591_294_848_81, 1e-9);
        close(r.ci.1, 0.001_466_248_408_705_133, 1e-9);

        let r = paired_t_test(&C, &E).unwrap();
        close(r.t, 3.872_983_346_207_416_6, 1e-10);
        close(r.p, 0.008_237_354_145_108_098, 1e-8);

        let r = paired_t_test(&A[..4], &B[..4]).unwrap();
        close(r.t, 2.066_624_291_106_418_1, 1e-10);
        close(r.p, 0.130_663_806_377_265_43, 1e-8);
        close(r.ci.0, -0.000_458_936_206_320_748_1, 1e-9);
        close(r.ci.1, 0.002_158_936_206_320_727_2, 1e-9);
    }

    #[test]
    fn identical_differences_give_no_nan() {
        // Same results: difference exactly zero everywhere.
        let r = paired_t_test(&A, &A).unwrap();
        assert_eq!(
            (r.mean_diff, r.std_diff, r.t, r.p, r.ci),
            (0.0, 0.0, 0.0, 1.0, (0.0, 0.0))
        );
        assert_eq!(
            sign_flip_test(&A, &A),
            Some(SignFlip {
                p: 1.0,
                exact: true
            })
        );
        assert_eq!(seeds_for_power(0.0, 0.0), SeedsNeeded::NoDifference);
        // A constant non-zero shift: deterministic, so any 2 seeds show it.
        let shifted = [0.5, 0.6, 0.7];
        let r = paired_t_test(&shifted, &[0.4, 0.5, 0.6]).unwrap();
        assert_eq!((r.t, r.p), (f64::INFINITY, 0.0));
        assert_eq!(r.std_diff, 0.0);
        assert_eq!(r.ci.0, r.ci.1);
        assert_eq!(seeds_for_power(0.1, 0.0), SeedsNeeded::Seeds(2));
        // Three pairs: the sign-flip test cannot go below 2/8.
        let s = sign_flip_test(&shifted, &[0.4, 0.5, 0.6]).unwrap();
        assert_eq!(
            s,
            SignFlip {
                p: 0.25,
                exact: true
            }
        );
    }

    #[test]
    fn welch_matches_scipy_ttest_ind() {
        let r = welch_t_test(&A, &B[..6]).unwrap();
        close(r.t, WELCH_T, 1e-10);
        close(r.df, WELCH_DF, 1e-10);
        close(r.p, WELCH_P, 1e-8);
        close(r.ci.0, WELCH_LO, 1e-9);
        close(r.ci.1, WELCH_HI, 1e-9);
        let same = welch_t_test(&[0.5, 0.5], &[0.5, 0.5, 0.5]).unwrap();
        assert_eq!((same.t, same.p, same.df), (0.0, 1.0, 3.0));
        let apart = welch_t_test(&[0.5, 0.5], &[0.4, 0.4]).unwrap();
        assert_eq!((apart.t, apart.p), (f64::INFINITY, 0.0));
        assert_eq!(welch_t_test(&[0.5], &[0.4, 0.4]), None);
    }

    #[test]
    fn sign_flip_matches_scipy_permutation_test() {
        assert_eq!(sign_flip_test(&A, &B).unwrap().p, 0.003_906_25);
        // Zeros drop out, tied differences count as equal sums.
        assert_eq!(sign_flip_test(&C, &E).unwrap().p, 0.0625);
        assert_eq!(sign_flip_test(&A[..4], &B[..4]).unwrap().p, 0.25);
    }

    #[test]
    fn sign_flip_monte_carlo_is_close_to_the_exact_answer() {
        let x = [
            0.975, 0.9753, 0.9747, 0.9741, 0.9745, 0.974, 0.9751, 0.9763, 0.9745, 0.9744, 0.9755,
            0.9754, 0.9751, 0.9741, 0.975, 0.9757, 0.9737, 0.9745, 0.9731, 0.9737, 0.9732,
        ];
        let y = [
            0.9744, 0.9736, 0.9746, 0.9739, 0.9739, 0.9711, 0.9742, 0.9759, 0.9742, 0.9725, 0.9746,
            0.974, 0.9739, 0.9748, 0.9738, 0.9753, 0.9742, 0.9735, 0.9726, 0.9734, 0.9729,
        ];
        let r = sign_flip_test(&x, &y).unwrap();
        assert!(!r.exact);
        // scipy, all 2^21 patterns: 0.00025177; 100,000 draws put the estimate within about
        // 3 binomial standard deviations (0.00015) of it.
        let exact = 0.000_251_770_019_531_25;
        assert!((r.p - exact).abs() < 0.000_15, "p {}", r.p);
        // The first 20 pairs are enumerated exactly.
        assert!(sign_flip_test(&x[..20], &y[..20]).unwrap().exact);
    }

    #[test]
    fn holm_matches_statsmodels() {
        let adjusted = holm(&[0.01, 0.04, 0.03, 0.005, 0.5, 0.04]);
        let expected = [0.05, 0.12, 0.12, 0.03, 0.5, 0.12];
        for (a, e) in adjusted.iter().zip(expected) {
            close(*a, e, 1e-12);
        }
        assert_eq!(holm(&[]), Vec::<f64>::new());
        assert_eq!(holm(&[0.9, 0.8]), vec![1.0, 1.0]);
    }

    #[test]
    fn power_matches_statsmodels() {
        for (effect, n, expected) in [
            (0.5, 10, 0.293_175_606_514_076_7),
            (1.2, 3, 0.230_406_860_766_337_01),
            (0.3, 50, 0.547_657_038_970_514_65),
            (2.0, 2, 0.175_707_411_097_760_03),
        ] {
            close(paired_t_power(effect, n), expected, 1e-7);
        }
    }

    #[test]
    fn seeds_needed_match_statsmodels_solve_power() {
        // solve_power: 33.37, 9.94, 198.15, 3141.47, rounded up.
        assert_eq!(seeds_for_power(0.5, 1.0), SeedsNeeded::Seeds(34));
        assert_eq!(seeds_for_power(-1.0, 1.0), SeedsNeeded::Seeds(10));
        assert_eq!(seeds_for_power(0.02, 0.1), SeedsNeeded::Seeds(199));
        assert_eq!(seeds_for_power(0.05, 1.0), SeedsNeeded::Seeds(3142));
        // The A - B difference: 5.74 -> 6 seeds.
        let r = paired_t_test(&A, &B).unwrap();
        assert_eq!(
            seeds_for_power(r.mean_diff, r.std_diff),
            SeedsNeeded::Seeds(6)
        );
        assert_eq!(
            seeds_for_power(1e-6, 1.0),
            SeedsNeeded::MoreThan(MAX_SEEDS_SEARCHED)
        );
    }
}
