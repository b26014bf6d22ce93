//! What the training loop needs from a network, so that one loop trains the dense network and
//! the convolutional one alike: a forward pass to logits, a backward pass from the logits'
//! gradient into a flat gradient buffer laid out like the parameters, and the parameters
//! themselves for the optimizer.

use super::adam::Adam;
use super::cnn::{Cnn, CnnWorkspace};
use super::diagnostics::{LayerStats, Probe};
use super::input::Batch;
use super::mlp::{Mlp, Mode, Workspace};

/// A network the training loop can drive.
pub trait Model {
    /// Per-batch buffers, allocated once per capacity.
    type Workspace;
    /// Rows per evaluation chunk: larger chunks reuse each weight more, at the cost of
    /// workspace memory. Per-row results do not depend on it.
    const EVAL_ROWS: usize;

    /// Buffers for batches of up to `capacity` rows.
    fn workspace(&self, capacity: usize) -> Self::Workspace;
    /// Buffers whose large products are split over up to `threads` threads of the installed
    /// team (see [`super::split`]); networks that do not split use one thread.
    fn workspace_split(&self, capacity: usize, _threads: usize) -> Self::Workspace {
        self.workspace(capacity)
    }
    /// The flat parameter buffer (the optimizer's view).
    fn params_mut(&mut self) -> &mut [f32];
    /// Learnable parameters.
    fn parameter_count(&self) -> usize;
    /// Output classes.
    fn classes(&self) -> usize;
    /// Forward pass to the logits.
    fn forward(&self, x: &Batch, ws: &mut Self::Workspace, mode: Mode<'_>);
    /// Backward pass from the logits' gradient into `grads` (every entry overwritten).
    fn backward(&self, x: &Batch, ws: &mut Self::Workspace, grads: &mut [f32]);
    /// The backward pass into `grads`, then Adam's update of every parameter from it (on the
    /// threads the workspace was made for, see [`Self::workspace_split`]). A network may
    /// apply parts of the update as their gradients are summed, without storing them: the same
    /// parameters bit for bit as [`Self::backward`] then [`Self::update_reporting`], but
    /// `grads` need not hold every gradient afterwards.
    fn backward_update(
        &mut self,
        x: &Batch,
        ws: &mut Self::Workspace,
        grads: &mut [f32],
        adam: &mut Adam,
    );
    /// Adam's update of every parameter from `grads` (on the workspace's threads), replacing
    /// each gradient with the change applied ([`Adam::update_split_reporting`]): the update of
    /// a batch whose diagnostics are taken.
    fn update_reporting(&mut self, ws: &Self::Workspace, grads: &mut [f32], adam: &mut Adam);
    /// The last forward pass's logits.
    fn logits<'w>(&self, ws: &'w Self::Workspace) -> &'w [f32];
    /// The logits and the buffer for their gradient, for the loss head.
    fn logits_and_grad<'w>(&self, ws: &'w mut Self::Workspace) -> (&'w [f32], &'w mut [f32]);
    /// Per-layer diagnostics (`layers.csv`) sampled every `every` batches, for the networks
    /// that have them (both built-in ones); `None` otherwise.
    fn probe(&self, _every: usize) -> Option<Probe> {
        None
    }
    /// Record one sampled batch into `probe`, after [`Probe::take_gradients`] and
    /// [`Self::update_reporting`] (`updates` is the buffer it left).
    fn observe(&self, _probe: &mut Probe, _ws: &Self::Workspace, _updates: &[f32]) {}
    /// The epoch's per-layer figures, and a fresh start for the next epoch.
    fn finish_epoch(&self, _probe: &mut Probe) -> Vec<LayerStats> {
        Vec::new()
    }
}

impl Model for Mlp {
    type Workspace = Workspace;
    const EVAL_ROWS: usize = 256;

    fn workspace(&self, capacity: usize) -> Workspace {
        Workspace::new(self, capacity)
    }
    fn workspace_split(&self, capacity: usize, threads: usize) -> Workspace {
        Workspace::new(self, capacity).threads(threads)
    }
    fn params_mut(&mut self) -> &mut [f32] {
        &mut self.params
    }
    fn parameter_count(&self) -> usize {
        Mlp::parameter_count(self)
    }
    fn classes(&self) -> usize {
        Mlp::classes(self)
    }
    fn forward(&self, x: &Batch, ws: &mut Workspace, mode: Mode<'_>) {
        Mlp::forward(self, x, ws, mode)
    }
    fn backward(&self, x: &Batch, ws: &mut Workspace, grads: &mut [f32]) {
        Mlp::backward(self, x, ws, grads)
    }
    fn backward_update(
        &mut self,
        x: &Batch,
        ws: &mut Workspace,
        grads: &mut [f32],
        adam: &mut Adam,
    ) {
        Mlp::backward_update(self, x, ws, grads, adam)
    }
    fn update_reporting(&mut self, ws: &Workspace, grads: &mut [f32], adam: &mut Adam) {
        Mlp::update_reporting(self, ws, grads, adam)
    }
    fn logits<'w>(&self, ws: &'w Workspace) -> &'w [f32] {
        ws.logits()
    }
    fn logits_and_grad<'w>(&self, ws: &'w mut Workspace) -> (&'w [f32], &'w mut [f32]) {
        ws.logits_and_grad()
    }
    fn probe(&self, every: usize) -> Option<Probe> {
        Some(Probe::new(self, every))
    }
    fn observe(&self, probe: &mut Probe, ws: &Workspace, updates: &[f32]) {
        probe.observe_update(self, ws, updates)
    }
    fn finish_epoch(&self, probe: &mut Probe) -> Vec<LayerStats> {
        probe.finish_epoch(self)
    }
}

impl Model for Cnn {
    type Workspace = CnnWorkspace;
    /// A 64-image chunk of the tutorial's network already holds about 30 MB of activations
    /// and patches; 256 would hold 120 MB per model for no change in results.
    const EVAL_ROWS: usize = 64;

    fn workspace(&self, capacity: usize) -> CnnWorkspace {
        CnnWorkspace::new(self, capacity)
    }
    fn workspace_split(&self, capacity: usize, threads: usize) -> CnnWorkspace {
        CnnWorkspace::new(self, capacity).threads(threads)
    }
    fn params_mut(&mut self) -> &mut [f32] {
        &mut self.params
    }
    fn parameter_count(&self) -> usize {
        Cnn::parameter_count(self)
    }
    fn classes(&self) -> usize {
        Cnn::classes(self)
    }
    fn forward(&self, x: &Batch, ws: &mut CnnWorkspace, mode: Mode<'_>) {
        Cnn::forward(self, x, ws, mode)
    }
    fn backward(&self, _x: &Batch, ws: &mut CnnWorkspace, grads: &mut [f32]) {
        Cnn::backward(self, ws, grads)
    }
    fn backward_update(
        &mut self,
        _x: &Batch,
        ws: &mut CnnWorkspace,
        grads: &mut [f32],
        adam: &mut Adam,
    ) {
        Cnn::backward(self, ws, grads);
        adam.update_split(ws.split_threads(), &mut self.params, grads);
    }
    fn update_reporting(&mut self, ws: &CnnWorkspace, grads: &mut [f32], adam: &mut Adam) {
        adam.update_split_reporting(ws.split_threads(), &mut self.params, grads)
    }
    fn logits<'w>(&self, ws: &'w CnnWorkspace) -> &'w [f32] {
        ws.logits()
    }
    fn logits_and_grad<'w>(&self, ws: &'w mut CnnWorkspace) -> (&'w [f32], &'w mut [f32]) {
        ws.logits_and_grad()
    }
    fn probe(&self, every: usize) -> Option<Probe> {
        Some(Probe::new(self, every))
    }
    fn observe(&self, probe: &mut Probe, ws: &CnnWorkspace, updates: &[f32]) {
        probe.observe_update(self, ws, updates)
    }
    fn finish_epoch(&self, probe: &mut Probe) -> Vec<LayerStats> {
        probe.finish_epoch(self)
    }
}
