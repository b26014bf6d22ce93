//! 2x2 max-pooling with stride 2 over channels-last images (`rows x height x width x channels`),
//! as Keras's `MaxPooling2D()`: odd sizes floor (a last row or column that does not fill a
//! window is dropped, and its gradient is zero).
//!
//! Ties: the first maximum in window order wins (top-left, top-right, bottom-left,
//! bottom-right): a later value replaces the current one only when strictly greater. The
//! forward pass records each window's winner, and the backward pass routes the gradient to
//! exactly that element, so both follow the same rule.

/// The shapes of one 2x2 max-pooling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MaxPool2 {
    /// Input height (at least 2).
    pub height: usize,
    /// Input width (at least 2).
    pub width: usize,
    /// Channels, pooled independently.
    pub channels: usize,
}

impl MaxPool2 {
    /// Output height: `height / 2`, rounded down.
    pub fn out_height(&self) -> usize {
        self.height / 2
    }
    /// Output width: `width / 2`, rounded down.
    pub fn out_width(&self) -> usize {
        self.width / 2
    }
    /// Values in one input image.
    pub fn in_size(&self) -> usize {
        self.height * self.width * self.channels
    }
    /// Values in one output image.
    pub fn out_size(&self) -> usize {
        self.out_height() * self.out_width() * self.channels
    }

    /// Forward for `rows` images: `y` gets each window's maximum and `winner` the index, within
    /// its image, of the element chosen (see the module's tie rule). Indices are per image, so
    /// any run of whole images can be pooled (and routed back) on its own.
    pub fn forward(&self, rows: usize, x: &[f32], y: &mut [f32], winner: &mut [u32]) {
        assert!(self.height >= 2 && self.width >= 2, "bad pooling {self:?}");
        assert!(
            self.in_size() <= u32::MAX as usize,
            "image too large: {self:?}"
        );
        let (w, c) = (self.width, self.channels);
        let (oh, ow) = (self.out_height(), self.out_width());
        let line = w * c;
        let (ins, outs) = (self.in_size(), self.out_size());
        let x = &x[..rows * ins];
        let (y, winner) = (&mut y[..rows * outs], &mut winner[..rows * outs]);
        super::cpu::dispatch(
            #[inline(always)]
            || {
                let images = x.chunks_exact(ins).zip(y.chunks_exact_mut(outs));
                for ((img, yi), wi) in images.zip(winner.chunks_exact_mut(outs)) {
                    let mut o = 0;
                    for oy in 0..oh {
                        for ox in 0..ow {
                            let top = 2 * oy * line + 2 * ox * c;
                            // Window order: top-left, top-right, bottom-left, bottom-right;
                            // each corner's channels are contiguous, so the loop over channels
                            // vectorizes (the comparisons become selects).
                            let (tl, tr) = img[top..top + 2 * c].split_at(c);
                            let (bl, br) = img[top + line..top + line + 2 * c].split_at(c);
                            let (yo, wo) = (&mut yi[o..o + c], &mut wi[o..o + c]);
                            let at = [top, top + c, top + line, top + line + c].map(|a| a as u32);
                            for ch in 0..c {
                                let (mut best, mut arg) = (tl[ch], at[0]);
                                if tr[ch] > best {
                                    (best, arg) = (tr[ch], at[1]);
                                }
                                if bl[ch] > best {
                                    (best, arg) = (bl[ch], at[2]);
                                }
                                if br[ch] > best {
                                    (best, arg) = (br[ch], at[3]);
                                }
                                yo[ch] = best;
                                wo[ch] = arg + ch as u32;
                            }
                            o += c;
                        }
                    }
                }
            },
        )
    }

    /// Backward: `dx` (overwritten, `rows` images) gets `g` at each window's winner and zero
    /// elsewhere. Windows do not overlap, so no element receives two gradients.
    pub fn backward(&self, rows: usize, g: &[f32], winner: &[u32], dx: &mut [f32]) {
        let (ins, outs) = (self.in_size(), self.out_size());
        let dx = &mut dx[..rows * ins];
        dx.fill(0.0);
        let images = g[..rows * outs]
            .chunks_exact(outs)
            .zip(winner.chunks_exact(outs));
        for ((gi, wi), di) in images.zip(dx.chunks_exact_mut(ins)) {
            for (&gv, &i) in gi.iter().zip(wi) {
                di[i as usize] = gv;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ties_go_to_the_first_in_window_order_forward_and_backward() {
        // One 2x2 window per case, one channel; g = 1 shows where the gradient goes.
        let p = MaxPool2 {
            height: 2,
            width: 2,
            channels: 1,
        };
        for (x, want) in [
            ([1.0, 1.0, 1.0, 1.0], 0),
            ([0.0, 2.0, 2.0, 1.0], 1),
            ([0.0, -1.0, 3.0, 3.0], 2),
            ([-5.0, -4.0, -3.0, -2.0], 3),
        ] {
            let (mut y, mut win) = ([0.0], [9]);
            p.forward(1, &x, &mut y, &mut win);
            assert_eq!(win[0] as usize, want, "{x:?}");
            assert_eq!(y[0], x[want]);
            let mut dx = [7.0; 4];
            p.backward(1, &[1.0], &win, &mut dx);
            let mut expected = [0.0; 4];
            expected[want] = 1.0;
            assert_eq!(dx, expected, "{x:?}");
        }
    }

    #[test]
    fn odd_sizes_floor_and_channels_pool_apart() {
        // 3 x 5 x 2: output 1 x 2 x 2; the last row and column are dropped.
        let p = MaxPool2 {
            height: 3,
            width: 5,
            channels: 2,
        };
        let x: Vec<f32> = (0..30).map(|i| ((i * 7) % 30) as f32).collect();
        let (mut y, mut win) = (vec![0.0; 4], vec![0; 4]);
        p.forward(1, &x, &mut y, &mut win);
        let at = |yy: usize, xx: usize, ch: usize| x[(yy * 5 + xx) * 2 + ch];
        for ox in 0..2 {
            for ch in 0..2 {
                let want = [
                    at(0, 2 * ox, ch),
                    at(0, 2 * ox + 1, ch),
                    at(1, 2 * ox, ch),
                    at(1, 2 * ox + 1, ch),
                ]
                .into_iter()
                .fold(f32::MIN, f32::max);
                assert_eq!(y[ox * 2 + ch], want);
            }
        }
        let mut dx = vec![1.0; 30];
        p.backward(1, &[1.0, 2.0, 3.0, 4.0], &win, &mut dx);
        assert_eq!(dx.iter().sum::<f32>(), 10.0);
        for xx in 0..5 {
            assert_eq!(dx[(2 * 5 + xx) * 2], 0.0, "dropped row");
        }
    }

    /// Loss sum(y * u): each input's gradient is u at its window's output when it is the
    /// window's maximum, else 0; compared with central differences in f64 on distinct values.
    #[test]
    fn gradient_matches_finite_differences() {
        for &(rows, h, w, c) in &[(3, 5, 7, 3), (5, 4, 3, 2), (1, 2, 2, 1), (7, 6, 6, 5)] {
            let p = MaxPool2 {
                height: h,
                width: w,
                channels: c,
            };
            let len = rows * p.in_size();
            // Distinct values (a permutation scaled), so no window has a tie.
            let x: Vec<f32> = (0..len)
                .map(|i| ((i * 37 + 11) % len) as f32 / len as f32)
                .collect();
            let u: Vec<f32> = (0..rows * p.out_size())
                .map(|i| (i as f32 * 0.61).sin())
                .collect();
            let loss = |x: &[f32]| -> f64 {
                let mut s = 0.0f64;
                let (oh, ow) = (h / 2, w / 2);
                for r in 0..rows {
                    for oy in 0..oh {
                        for ox in 0..ow {
                            for ch in 0..c {
                                let mut m = f64::MIN;
                                for dy in 0..2 {
                                    for dx in 0..2 {
                                        let i = ((r * h + 2 * oy + dy) * w + 2 * ox + dx) * c + ch;
                                        m = m.max(x[i] as f64);
                                    }
                                }
                                s += m * u[((r * oh + oy) * ow + ox) * c + ch] as f64;
                            }
                        }
                    }
                }
                s
            };
            let (mut y, mut win) = (vec![0.0; u.len()], vec![0; u.len()]);
            p.forward(rows, &x, &mut y, &mut win);
            let mut dx = vec![f32::NAN; len];
            p.backward(rows, &u, &win, &mut dx);
            // A step smaller than half the gap between distinct values never changes a winner.
            let eps = 0.25 / len as f32;
            for i in 0..len {
                let (mut xp, mut xm) = (x.clone(), x.clone());
                xp[i] += eps;
                xm[i] -= eps;
                let num = (loss(&xp) - loss(&xm)) / (xp[i] as f64 - xm[i] as f64);
                assert!(
                    (dx[i] as f64 - num).abs() < 1e-4,
                    "{p:?} rows {rows} input {i}: {} vs {num}",
                    dx[i]
                );
            }
        }
    }
}
