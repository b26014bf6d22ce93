//! What the layer diagnostics read from the convolutional network (see
//! [`crate::nn::diagnostics`]): its conv layers, a channel being a unit, then its hidden dense
//! layers. Only reads the network and the last forward pass's buffers.

use super::{Cnn, CnnWorkspace};
use crate::nn::activation::{Hidden, leaky_slope};
use crate::nn::diagnostics::{LayerKind, Probed, ProbedLayer};

/// A hidden layer's buffers and PReLU slopes, conv layers first.
struct View<'w> {
    /// Pre-activations, `rows x values` (a conv layer's values: pixels x channels).
    z: &'w [f32],
    y: &'w [f32],
    /// RReLU's drawn slopes, one per value (empty for other activations).
    noise: &'w [f32],
    units: usize,
    slopes: Option<usize>,
}

impl Cnn {
    fn view<'w>(&self, l: usize, ws: &'w CnnWorkspace) -> View<'w> {
        let rows = ws.rows;
        let noisy = matches!(self.hidden, Hidden::Rrelu(_));
        let (z, y, noise, units, slopes) = match self.blocks.get(l) {
            Some(block) => {
                let buf = &ws.blocks[l];
                let n = rows * block.conv.out_size();
                let units = block.conv.out_channels;
                (
                    &buf.z[..n],
                    &buf.y[..n],
                    &buf.noise[..],
                    units,
                    block.slopes,
                )
            }
            None => {
                let d = l - self.blocks.len();
                let (layer, buf) = (self.dense[d], &ws.dense[d]);
                let n = rows * layer.outputs;
                (
                    &buf.z[..n],
                    &buf.y[..n],
                    &buf.noise[..],
                    layer.outputs,
                    layer.slopes,
                )
            }
        };
        View {
            z,
            y,
            noise: if noisy { &noise[..z.len()] } else { &[] },
            units,
            slopes,
        }
    }
}

impl Probed for Cnn {
    type Workspace = CnnWorkspace;

    fn probed_layers(&self) -> Vec<ProbedLayer> {
        let conv = self.blocks.iter().map(|b| ProbedLayer {
            kind: LayerKind::Conv,
            units: b.conv.out_channels,
            weights: b.kernel..b.bias,
        });
        let hidden_dense = &self.dense[..self.dense.len() - 1];
        let dense = hidden_dense.iter().map(|d| ProbedLayer {
            kind: LayerKind::Dense,
            units: d.outputs,
            weights: d.w..d.b,
        });
        conv.chain(dense).collect()
    }
    fn max_slope(&self) -> f64 {
        self.hidden.max_slope()
    }
    fn params(&self) -> &[f32] {
        &self.params
    }
    fn pre_activations<'w>(&self, l: usize, ws: &'w CnnWorkspace) -> &'w [f32] {
        self.view(l, ws).z
    }
    fn derivative(&self, l: usize, ws: &CnnWorkspace, out: &mut [f32]) {
        let v = self.view(l, ws);
        let out = &mut out[..v.z.len()];
        match &self.hidden {
            Hidden::Fixed(act) => {
                // backward computes g *= f'(z): from g = 1 that is f'(z) itself.
                out.fill(1.0);
                act.backward(v.z, v.y, out);
            }
            Hidden::Prelu(_) => {
                let s = v.slopes.expect("a PReLU network has slopes");
                let slopes = &self.params[s..s + v.units];
                for (dr, zr) in out.chunks_exact_mut(v.units).zip(v.z.chunks_exact(v.units)) {
                    for ((d, &z), &a) in dr.iter_mut().zip(zr).zip(slopes) {
                        *d = leaky_slope(z, a);
                    }
                }
            }
            Hidden::Rrelu(_) => {
                for ((d, &z), &a) in out.iter_mut().zip(v.z).zip(v.noise) {
                    *d = leaky_slope(z, a);
                }
            }
        }
    }
}
