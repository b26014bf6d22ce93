//! The softmax cross-entropy head, fused: loss, accuracy and the logits' gradient in one pass.

/// For row-major `rows x classes` logits: returns (sum of per-row losses, correct predictions).
/// When `grad` is given it receives `(softmax - onehot(label)) / scale`, the gradient of the mean
/// loss over a batch of `scale` rows. Log-sum-exp keeps it finite for any finite logits.
pub fn softmax_cross_entropy(
    logits: &[f32],
    labels: &[u8],
    classes: usize,
    mut grad: Option<(&mut [f32], f32)>,
) -> (f64, usize) {
    let mut loss = 0.0f64;
    let mut correct = 0;
    for (r, (z, &label)) in logits.chunks_exact(classes).zip(labels).enumerate() {
        let label = label as usize;
        let (mut max, mut argmax) = (z[0], 0);
        for (j, &v) in z.iter().enumerate().skip(1) {
            if v > max {
                max = v;
                argmax = j;
            }
        }
        let sum: f32 = z.iter().map(|&v| (v - max).exp()).sum();
        // loss = log(sum e^z) - z_label, with the max taken out for stability.
        loss += ((max + sum.ln()) - z[label]) as f64;
        correct += usize::from(argmax == label);
        if let Some((g, scale)) = grad.as_mut() {
            let inv = 1.0 / (sum * *scale);
            let row = &mut g[r * classes..(r + 1) * classes];
            for (gj, &v) in row.iter_mut().zip(z) {
                *gj = (v - max).exp() * inv;
            }
            row[label] -= 1.0 / *scale;
        }
    }
    (loss, correct)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values_and_stability() {
        // Uniform logits: loss ln(3); gradient (1/3 - onehot) / 2 for a batch of 2.
        let mut g = vec![0.0; 6];
        let (loss, correct) = softmax_cross_entropy(&[0.0; 6], &[1, 2], 3, Some((&mut g, 2.0)));
        assert!((loss - 2.0 * 3f64.ln()).abs() < 1e-6);
        assert_eq!(correct, 1 - 1); // ties go to the first class, labels are 1 and 2
        let third = 1.0 / 6.0;
        let want = [third, third - 0.5, third, third, third, third - 0.5];
        for (a, b) in g.iter().zip(want) {
            assert!((a - b).abs() < 1e-7, "{g:?}");
        }
        // Huge logits stay finite.
        let (loss, correct) = softmax_cross_entropy(&[1e30, -1e30, 0.0], &[0], 3, None);
        assert_eq!((loss, correct), (0.0, 1));
        let (loss, _) = softmax_cross_entropy(&[1e4, -1e4, 0.0], &[1], 3, None);
        assert_eq!(loss, 2e4);
    }
}
