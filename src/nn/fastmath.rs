//! exp, expm1, tanh and ln(1 + e^-|x|) for f32 written as straight-line arithmetic, so that loops over them
//! vectorize (a call into libm per element does not). Accuracy: a few ulp (tested against f64
//! below); the polynomials are Cephes' (Moshier), which libm implementations descend from.

const LOG2E: f32 = std::f32::consts::LOG2_E;
// ln 2 split in two so that n * LN2_HI is exact for the n that occur (Cody-Waite reduction).
const LN2_HI: f32 = 0.693_359_4;
const LN2_LO: f32 = -2.121_944_4e-4;

/// e^x. Saturates to +inf above 88.72 and to 0 below -87.33 (where e^x would be denormal).
#[inline(always)]
pub fn exp(x: f32) -> f32 {
    let xc = x.clamp(-87.336_55, 88.722_84);
    // n = round(x / ln 2) by the 1.5 * 2^23 trick: the addition rounds to an integer.
    const MAGIC: f32 = 12_582_912.0;
    let shifted = xc * LOG2E + MAGIC;
    let n = shifted - MAGIC;
    let r = n.mul_add(-LN2_LO, n.mul_add(-LN2_HI, xc));
    // e^r on |r| <= ln(2)/2.
    let mut p = 1.987_569_1e-4f32;
    p = p.mul_add(r, 1.398_199_9e-3);
    p = p.mul_add(r, 8.333_452e-3);
    p = p.mul_add(r, 4.166_579_6e-2);
    p = p.mul_add(r, 1.666_666_5e-1);
    p = p.mul_add(r, 0.5);
    let er = (p * r).mul_add(r, r) + 1.0;
    // Multiply by 2^n through the exponent bits, in two halves so that n = 128 (just below
    // f32::MAX) and n = -126 stay representable.
    // The integer n is in the low mantissa bits of `shifted` (|n| <= 128 < 2^22): read it there.
    // (`n as i32` is the same number, but its saturating conversion compiles to a scalar
    // instruction per lane, which made a vector of exp 5x slower.)
    let n = shifted.to_bits() as i32 - MAGIC.to_bits() as i32;
    let half = n >> 1;
    let pow2 = |e: i32| f32::from_bits(((e + 127) as u32) << 23);
    let y = er * pow2(half) * pow2(n - half);
    if x > 88.722_84 {
        f32::INFINITY
    } else if x < -87.336_55 {
        0.0
    } else {
        y
    }
}

/// e^x - 1, accurate near 0 (a Taylor polynomial there, where e^x - 1 would cancel).
#[inline(always)]
pub fn exp_m1(x: f32) -> f32 {
    // x^9/9! relative to x is below 1.1e-8 for |x| <= 0.5.
    let mut p = 1.0f32 / 40_320.0;
    p = p.mul_add(x, 1.0 / 5040.0);
    p = p.mul_add(x, 1.0 / 720.0);
    p = p.mul_add(x, 1.0 / 120.0);
    p = p.mul_add(x, 1.0 / 24.0);
    p = p.mul_add(x, 1.0 / 6.0);
    p = p.mul_add(x, 0.5);
    let small = (p * x).mul_add(x, x);
    let large = exp(x) - 1.0;
    if x.abs() <= 0.5 { small } else { large }
}

/// tanh(x): an odd polynomial below 0.625, (1 - e^-2|x|) / (1 + e^-2|x|) above (never overflows).
#[inline(always)]
pub fn tanh(x: f32) -> f32 {
    let a = x.abs();
    let z = x * x;
    let mut p = -5.704_988_7e-3f32;
    p = p.mul_add(z, 2.063_909e-2);
    p = p.mul_add(z, -5.373_971_6e-2);
    p = p.mul_add(z, 1.333_144_2e-1);
    p = p.mul_add(z, -3.333_328e-1);
    let small = (p * z).mul_add(x, x);
    let e = exp(-2.0 * a);
    let large = ((1.0 - e) / (1.0 + e)).copysign(x);
    if a < 0.625 { small } else { large }
}

/// ln(1 + e^-|x|), the tail of softplus: with u = e^-|x| in (0, 1], ln(1 + u) = 2 atanh(s),
/// s = u / (2 + u) <= 1/3, whose odd series needs 9 terms for f32 and never cancels.
#[inline(always)]
pub fn ln_1p_exp_neg_abs(x: f32) -> f32 {
    let u = exp(-x.abs());
    let s = u / (2.0 + u);
    let z = s * s;
    let mut p = 1.0f32 / 19.0;
    for c in [17.0f32, 15.0, 13.0, 11.0, 9.0, 7.0, 5.0, 3.0] {
        p = p.mul_add(z, 1.0 / c);
    }
    2.0 * (p * z).mul_add(s, s)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Relative error in units of f32's epsilon, against the f64 function.
    fn ulps(got: f32, want: f64) -> f64 {
        if want == 0.0 {
            return if got == 0.0 { 0.0 } else { f64::INFINITY };
        }
        ((got as f64 - want) / want).abs() / f32::EPSILON as f64
    }

    fn grid() -> impl Iterator<Item = f32> {
        (-200_000..=200_000)
            .map(|i| i as f32 * 4.4e-4)
            .chain([0.0, -0.0, 1e-30, -1e-30, 1e-6])
    }

    #[test]
    fn exp_is_within_a_few_ulp() {
        // Below -87.34 e^x is denormal in f32, and flushed to 0 by design.
        let (worst, at) = grid()
            .filter(|&x| x > -87.336)
            .map(|x| (ulps(exp(x), (x as f64).exp()), x))
            .fold((0.0, 0.0), |a, b| if b.0 > a.0 { b } else { a });
        assert!(worst < 3.0, "exp worst error {worst} ulp at {at}");
        assert_eq!(exp(-87.34), 0.0);
        assert_eq!(exp(100.0), f32::INFINITY);
        assert_eq!(exp(-100.0), 0.0);
        assert_eq!(exp(0.0), 1.0);
    }

    #[test]
    fn exp_m1_and_tanh_are_within_a_few_ulp() {
        let worst = grid()
            .map(|x| ulps(exp_m1(x), (x as f64).exp_m1()))
            .fold(0.0, f64::max);
        assert!(worst < 4.0, "exp_m1 worst error {worst} ulp");
        let worst = grid()
            .map(|x| ulps(tanh(x), (x as f64).tanh()))
            .fold(0.0, f64::max);
        assert!(worst < 4.0, "tanh worst error {worst} ulp");
        assert_eq!(tanh(1e4), 1.0);
        assert_eq!(tanh(-1e30), -1.0);
        assert_eq!(exp_m1(-1e4), -1.0);
    }

    #[test]
    fn ln_1p_exp_neg_abs_is_within_a_few_ulp() {
        let want = |x: f32| (-(x as f64).abs()).exp().ln_1p();
        let worst = grid()
            .filter(|x| x.abs() < 87.0)
            .map(|x| ulps(ln_1p_exp_neg_abs(x), want(x)))
            .fold(0.0, f64::max);
        assert!(worst < 4.0, "worst error {worst} ulp");
        assert_eq!(ln_1p_exp_neg_abs(0.0), std::f32::consts::LN_2);
        assert_eq!(ln_1p_exp_neg_abs(1e4), 0.0);
    }
}
