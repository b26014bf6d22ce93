//! One model on several threads: an output cut into blocks of whole rows (or, for products of
//! few rows, of whole columns), one block per thread. Each block is computed exactly as one
//! thread computes the whole (every output element is the same sum in the same order), so
//! results do not depend on the thread count.
//!
//! The blocks run on the model's [`Team`] (installed by
//! [`crate::train::train_in`]): the calling thread takes the first block, the team's helper
//! threads the others. Between the parallel parts of a step the helpers spin instead of
//! sleeping: a training step has a dozen parallel parts with short serial work between them,
//! and a thread pool whose idle threads sleep after a few tens of microseconds (rayon's, used
//! here before) woke them for nearly every part: 13 context switches per step of the CNN, and
//! the whole CNN command 0.90x the time with this team (see README, "One model on several
//! threads"). Nothing is allocated per part, and with one thread (or no team) everything runs
//! on the calling thread.

use std::cell::{Cell, UnsafeCell};
use std::marker::PhantomData;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Products smaller than this many multiply-adds stay on one thread: handing a block to
/// another thread costs a few microseconds, as much as this much work (measured: see README,
/// "One model on several threads").
pub const MIN_SPLIT_WORK: usize = 1 << 18;

/// Element-wise loops (Adam) of fewer elements stay on one thread. Lower than
/// [`MIN_SPLIT_WORK`]: an element costs Adam a square root and a division, many multiply-adds'
/// time. At 2^18, 784-512-256-10's update of everything but the first layer's weights (134,410
/// parameters, the first layer's go through Adam with their gradient) ran on one thread while
/// the other waited; split, the batch-32 training step took 0.885 to 0.892 of the time (two
/// models in one process, steps alternating, 3 runs; see README, "One model on several
/// threads").
pub const MIN_SPLIT_ELEMENTS: usize = 1 << 15;

/// How long an idle helper spins (yielding to other threads) for the next part before it
/// sleeps: longer than any serial stretch of a training step, short enough that a finished or
/// paused model leaves its cores alone.
const SPIN: Duration = Duration::from_millis(2);

/// The parts of one parallel run, type-erased (lifetime included): `job(t)` runs thread `t`'s.
type Job = dyn Fn(usize) + Sync + 'static;

/// What the calling thread and the helpers share.
struct Shared {
    /// The current run's job, valid while `pending` is not 0 (a pointer into the caller's
    /// stack, which waits for the helpers before it returns).
    job: UnsafeCell<Option<*const Job>>,
    /// Incremented for every run; a helper runs the job when it sees a new value.
    round: AtomicUsize,
    /// Helpers still running the current round's job.
    pending: AtomicUsize,
    /// A helper's part panicked.
    panicked: AtomicBool,
    /// The team is being dropped.
    stop: AtomicBool,
    /// A run is in progress (a second thread that installed the same team runs inline).
    busy: AtomicBool,
    /// Helpers asleep on `wake` (changed under `sleep`'s lock).
    asleep: AtomicUsize,
    sleep: Mutex<()>,
    wake: Condvar,
}

// SAFETY: `job` is written only by the calling thread while no helper runs (pending is 0) and
// read by helpers only after they observe the new round (release/acquire on `round`); the job
// itself is `Sync`.
unsafe impl Sync for Shared {}
// SAFETY: as above; the raw pointer is only dereferenced under that protocol.
unsafe impl Send for Shared {}

/// A calling thread and `threads - 1` helper threads that run the parts of a model's
/// parallel work (see the module documentation).
pub struct Team {
    shared: Arc<Shared>,
    helpers: Vec<JoinHandle<()>>,
}

thread_local! {
    /// The team installed on this thread ([`Team::install`]); null while none is, and while
    /// this thread runs its own part of a run (nested splits run whole).
    static CURRENT: Cell<*const Team> = const { Cell::new(std::ptr::null()) };
}

impl Team {
    /// A team of `threads` threads in all (the caller counts as one), each computing with
    /// denormals flushed as training does.
    pub fn new(threads: usize) -> std::io::Result<Team> {
        let shared = Arc::new(Shared {
            job: UnsafeCell::new(None),
            round: AtomicUsize::new(0),
            pending: AtomicUsize::new(0),
            panicked: AtomicBool::new(false),
            stop: AtomicBool::new(false),
            busy: AtomicBool::new(false),
            asleep: AtomicUsize::new(0),
            sleep: Mutex::new(()),
            wake: Condvar::new(),
        });
        let mut team = Team {
            shared,
            helpers: Vec::new(),
        };
        for t in 1..threads.max(1) {
            let shared = Arc::clone(&team.shared);
            let helper = std::thread::Builder::new()
                .name(format!("actbench-split-{t}"))
                .spawn(move || helper(&shared, t))?;
            team.helpers.push(helper);
        }
        Ok(team)
    }

    /// Threads in the team, the caller included.
    pub fn threads(&self) -> usize {
        self.helpers.len() + 1
    }

    /// Run `f` on this thread with the team installed: the splits inside it use the team.
    pub fn install<R>(&self, f: impl FnOnce() -> R) -> R {
        let _restore = Restore(CURRENT.with(|c| c.replace(self)));
        f()
    }

    /// Run `job(t)` for every thread `t` of the team, `t = 0` on the calling thread; returns
    /// when all are done.
    fn run(&self, job: &(dyn Fn(usize) + Sync + '_)) {
        let shared = &*self.shared;
        if shared.busy.swap(true, Ordering::Acquire) {
            (0..self.threads()).for_each(job);
            return;
        }
        // SAFETY: only the lifetime is erased; `Wait` below keeps this frame (and `job`) alive
        // until every helper is done with it, even when this thread's part panics.
        let erased: *const Job =
            unsafe { std::mem::transmute::<&(dyn Fn(usize) + Sync + '_), &'static Job>(job) };
        // SAFETY: no helper runs (the last run waited for `pending` to reach 0), so none reads
        // `job` now; they read it only after the release below.
        unsafe { *shared.job.get() = Some(erased) };
        shared.pending.store(self.helpers.len(), Ordering::Relaxed);
        shared.round.fetch_add(1, Ordering::SeqCst);
        if shared.asleep.load(Ordering::SeqCst) > 0 {
            let _lock = shared.sleep.lock().unwrap_or_else(|e| e.into_inner());
            shared.wake.notify_all();
        }
        /// Waits for the helpers, takes their panic flag and frees the team: on return
        /// (`finish`) and when this thread's part unwinds (drop).
        struct Wait<'a>(&'a Shared, bool);
        impl Wait<'_> {
            fn finish(&mut self) -> bool {
                let mut spins = 0u32;
                while self.0.pending.load(Ordering::Acquire) != 0 {
                    pause(&mut spins);
                }
                self.1 = true;
                let panicked = self.0.panicked.swap(false, Ordering::Relaxed);
                self.0.busy.store(false, Ordering::Release);
                panicked
            }
        }
        impl Drop for Wait<'_> {
            fn drop(&mut self) {
                if !self.1 {
                    self.finish();
                }
            }
        }
        let mut wait = Wait(shared, false);
        {
            let _restore = Restore(CURRENT.with(|c| c.replace(std::ptr::null())));
            job(0);
        }
        if wait.finish() {
            panic!("a helper thread of the model's team panicked");
        }
    }
}

impl Drop for Team {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        {
            let _lock = self.shared.sleep.lock().unwrap_or_else(|e| e.into_inner());
            self.shared.wake.notify_all();
        }
        for helper in self.helpers.drain(..) {
            let _ = helper.join();
        }
    }
}

/// Puts back the installed team when dropped (also on unwinding): the end of
/// [`Team::install`], and of the calling thread's own part of a run.
struct Restore(*const Team);

impl Drop for Restore {
    fn drop(&mut self) {
        CURRENT.with(|c| c.set(self.0));
    }
}

/// Spin briefly, then yield the core to any other thread that wants it.
fn pause(spins: &mut u32) {
    *spins = spins.wrapping_add(1);
    if spins.is_multiple_of(64) {
        std::thread::yield_now();
    } else {
        std::hint::spin_loop();
    }
}

/// A helper thread's life: wait for a new round (spinning for [`SPIN`], then asleep), run its
/// part, report, until the team is dropped.
fn helper(shared: &Shared, t: usize) {
    let _ftz = super::FlushDenormals::new();
    let mut seen = 0;
    loop {
        let (mut spins, mut since) = (0u32, Instant::now());
        while shared.round.load(Ordering::Acquire) == seen && !shared.stop.load(Ordering::Acquire) {
            pause(&mut spins);
            if spins.is_multiple_of(1024) && since.elapsed() > SPIN {
                let mut lock = shared.sleep.lock().unwrap_or_else(|e| e.into_inner());
                shared.asleep.fetch_add(1, Ordering::SeqCst);
                while shared.round.load(Ordering::SeqCst) == seen
                    && !shared.stop.load(Ordering::SeqCst)
                {
                    lock = shared.wake.wait(lock).unwrap_or_else(|e| e.into_inner());
                }
                shared.asleep.fetch_sub(1, Ordering::SeqCst);
                since = Instant::now();
            }
        }
        if shared.stop.load(Ordering::Acquire) {
            return;
        }
        seen = shared.round.load(Ordering::Acquire);
        // SAFETY: the caller published the job before the new round and keeps it alive until
        // `pending` reaches 0, which this helper's decrement below is part of.
        let job = unsafe { (*shared.job.get()).map(|j| &*j) };
        /// Reports this helper done, also if it unwinds (the caller waits for the count).
        struct Done<'a>(&'a Shared);
        impl Drop for Done<'_> {
            fn drop(&mut self) {
                self.0.pending.fetch_sub(1, Ordering::Release);
            }
        }
        let _done = Done(shared);
        if let Some(job) = job {
            let ok = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(t)));
            if ok.is_err() {
                shared.panicked.store(true, Ordering::Relaxed);
            }
        }
    }
}

/// Run `part(p)` for every `p` in `0..parts` on the installed team, `parts` spread over its
/// threads in order (or all on this thread without a team).
pub fn for_each_part(parts: usize, part: &(dyn Fn(usize) + Sync)) {
    let team = CURRENT.with(|c| c.get());
    if parts < 2 || team.is_null() {
        (0..parts).for_each(part);
        return;
    }
    // SAFETY: `install` keeps the team alive while it is current.
    let team = unsafe { &*team };
    let threads = team.threads();
    team.run(&|t| {
        (parts * t / threads..parts * (t + 1) / threads).for_each(part);
    });
}

/// Run `a` on this thread and `b` on a helper of the installed team at the same time, and
/// return `a`'s result when both are done (without a team, `a` then `b` on this thread; with
/// more than 2 threads, two helpers run them while this thread waits).
pub fn join<R: Send>(a: impl FnOnce() -> R + Send, b: impl FnOnce() + Send) -> R {
    // Each part takes its closure once (the locks are never contended); a panic in either
    // reaches the caller through `for_each_part`.
    fn take<T>(m: &Mutex<Option<T>>) -> Option<T> {
        m.lock().unwrap_or_else(PoisonError::into_inner).take()
    }
    let (a, b, out) = (Mutex::new(Some(a)), Mutex::new(Some(b)), Mutex::new(None));
    for_each_part(2, &|p| match p {
        0 => *out.lock().unwrap_or_else(PoisonError::into_inner) = take(&a).map(|a| a()),
        _ => {
            if let Some(b) = take(&b) {
                b()
            }
        }
    });
    take(&out).expect("join: the first part ran")
}

/// A mutable slice handed out in disjoint pieces to the parts of one run.
pub struct Pieces<'a, T> {
    ptr: *mut T,
    len: usize,
    piece: usize,
    _slice: PhantomData<&'a mut [T]>,
}

// SAFETY: pieces are disjoint sub-slices, each taken by one part (see `take`).
unsafe impl<T: Send> Sync for Pieces<'_, T> {}

impl<'a, T> Pieces<'a, T> {
    /// `slice` in pieces of `piece` elements (the last may be shorter).
    pub fn new(slice: &'a mut [T], piece: usize) -> Self {
        Pieces {
            ptr: slice.as_mut_ptr(),
            len: slice.len(),
            piece: piece.max(1),
            _slice: PhantomData,
        }
    }

    /// Elements `lo..hi`.
    ///
    /// # Safety
    /// No other live reference may overlap `lo..hi`: each range is taken once per run.
    #[allow(clippy::mut_from_ref)]
    pub unsafe fn range(&self, lo: usize, hi: usize) -> &'a mut [T] {
        assert!(lo <= hi && hi <= self.len, "piece out of range");
        // SAFETY: in bounds (checked); disjointness is the caller's promise.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.add(lo), hi - lo) }
    }

    /// Piece `i`.
    ///
    /// # Safety
    /// As [`Pieces::range`]: each piece is taken once per run.
    #[allow(clippy::mut_from_ref)]
    pub unsafe fn take(&self, i: usize) -> &'a mut [T] {
        let lo = (i * self.piece).min(self.len);
        // SAFETY: the caller's promise.
        unsafe { self.range(lo, (lo + self.piece).min(self.len)) }
    }
}

/// Where part `p` of `parts` starts among `len` items: proportional, rounded to a multiple of
/// `align`, the last part ending at `len`.
fn bound(p: usize, parts: usize, len: usize, align: usize) -> usize {
    if p >= parts {
        return len;
    }
    ((len * p + parts * align / 2) / parts / align * align).min(len)
}

/// Run `f(first_row, block)` over `out`, rows of `row_len` values, cut into at most `threads`
/// blocks of whole multiples of `align` rows, in parallel on the installed team. `work` is
/// the whole job's size in multiply-adds: below [`MIN_SPLIT_WORK`] `f` gets everything.
pub fn rows<F>(threads: usize, work: usize, out: &mut [f32], row_len: usize, align: usize, f: &F)
where
    F: Fn(usize, &mut [f32]) + Sync,
{
    let (row_len, align) = (row_len.max(1), align.max(1));
    assert!(out.len().is_multiple_of(row_len), "rows: a partial row");
    let rows = out.len() / row_len;
    let parts = if work < MIN_SPLIT_WORK { 1 } else { threads };
    if parts < 2 || rows <= align {
        return f(0, out);
    }
    let out = Pieces::new(out, row_len);
    for_each_part(parts, &|p| {
        let (lo, hi) = (
            bound(p, parts, rows, align),
            bound(p + 1, parts, rows, align),
        );
        if lo < hi {
            // SAFETY: the parts' row ranges are disjoint.
            f(lo, unsafe { out.range(lo * row_len, hi * row_len) });
        }
    });
}

/// [`rows`] for element-wise work (a copy, an activation): split from [`MIN_SPLIT_ELEMENTS`]
/// values of `out`.
pub fn value_rows<F>(threads: usize, out: &mut [f32], row_len: usize, align: usize, f: &F)
where
    F: Fn(usize, &mut [f32]) + Sync,
{
    let threads = if out.len() < MIN_SPLIT_ELEMENTS {
        1
    } else {
        threads
    };
    rows(threads, MIN_SPLIT_WORK, out, row_len, align, f)
}

/// Run `f(j0, j1)` for column ranges cutting `0..len` into `threads` blocks of whole
/// multiples of `align` (the last ending at `len`), in parallel on the installed team. The
/// caller decides that the job is worth splitting.
pub fn columns(threads: usize, len: usize, align: usize, f: &(dyn Fn(usize, usize) + Sync)) {
    let parts = threads.max(1);
    for_each_part(parts, &|p| {
        let (lo, hi) = (bound(p, parts, len, align), bound(p + 1, parts, len, align));
        if lo < hi {
            f(lo, hi);
        }
    });
}

/// Call `f(i, (a_i, b_i, ...))` for the `i`-th chunks of equally many chunks of several
/// mutable buffers (`buffer => chunk length` pairs): spread over up to `threads` threads of the
/// installed team when `threads > 1`, else in order on the calling thread. Each chunk is
/// computed the same way either way (the convolutional network's images are independent), so
/// results do not depend on the thread count.
macro_rules! each_chunk {
    ($threads:expr, $f:expr, $($buf:expr => $len:expr),+ $(,)?) => {{
        let f = $f;
        let counts = [$($buf.len().div_ceil($len)),+];
        let pieces = ($($crate::nn::split::Pieces::new(&mut $buf, $len),)+);
        assert!(counts.iter().all(|&c| c == counts[0]), "unequal chunk counts");
        let chunks = counts[0];
        let parts = ($threads).clamp(1, chunks.max(1));
        $crate::nn::split::for_each_part(parts, &|p: usize| {
            for i in chunks * p / parts..chunks * (p + 1) / parts {
                // SAFETY: chunk `i` is taken by this part only.
                f(i, unsafe { $crate::nn::split::TakeAll::take_all(&pieces, i) });
            }
        });
    }};
}
pub(crate) use each_chunk;

/// The chunk length that cuts `len` elements of element-wise loops (Adam) into at most
/// `threads` chunks of whole multiples of 16 elements (64-byte lines of the aligned buffers),
/// one per thread; below [`MIN_SPLIT_ELEMENTS`] elements, one chunk of everything. For
/// `each_chunk!`, which [`elements`] runs them through.
pub fn element_chunk(threads: usize, len: usize) -> usize {
    let parts = if len < MIN_SPLIT_ELEMENTS {
        1
    } else {
        threads.max(1)
    };
    len.div_ceil(parts).next_multiple_of(16).max(16)
}

/// Run `f` over equal-length slices `a`, `b`, `c` (mutable) and `d` (read) cut at the same
/// places into [`element_chunk`]s, in parallel on the installed team: the element-wise loops
/// (Adam).
pub fn elements<F>(threads: usize, a: &mut [f32], b: &mut [f32], c: &mut [f32], d: &[f32], f: &F)
where
    F: Fn(&mut [f32], &mut [f32], &mut [f32], &[f32]) + Sync,
{
    let len = a.len();
    assert!(b.len() == len && c.len() == len && d.len() == len);
    let piece = element_chunk(threads, len);
    each_chunk!(
        threads,
        |i, (a, b, c): (&mut [f32], &mut [f32], &mut [f32])| {
            let lo = i * piece;
            f(a, b, c, &d[lo..lo + a.len()])
        },
        *a => piece,
        *b => piece,
        *c => piece,
    );
}

/// Piece `i` of every [`Pieces`] of a tuple (for the crate's `each_chunk!`).
pub trait TakeAll<'a> {
    /// The pieces, one per buffer.
    type Out;
    /// Piece `i` of each.
    ///
    /// # Safety
    /// As [`Pieces::take`].
    unsafe fn take_all(&self, i: usize) -> Self::Out;
}

macro_rules! take_all {
    ($($t:ident $n:tt),+) => {
        impl<'a, $($t),+> TakeAll<'a> for ($(Pieces<'a, $t>,)+) {
            type Out = ($(&'a mut [$t],)+);
            unsafe fn take_all(&self, i: usize) -> Self::Out {
                // SAFETY: the caller's promise, for every buffer.
                unsafe { ($(self.$n.take(i),)+) }
            }
        }
    };
}
take_all!(A 0);
take_all!(A 0, B 1);
take_all!(A 0, B 1, C 2);
take_all!(A 0, B 1, C 2, D 3);
take_all!(A 0, B 1, C 2, D 3, E 4);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join_runs_both_and_returns_the_first() {
        // Without a team: one after the other, on this thread.
        let me = std::thread::current().id();
        let mut b_on = None;
        let r = join(
            || std::thread::current().id(),
            || b_on = Some(std::thread::current().id()),
        );
        assert_eq!((r, b_on), (me, Some(me)));
        // On a team of two: the first on this thread, the second on the helper, at once (each
        // waits for the other to start).
        let team = Team::new(2).unwrap();
        let started = std::sync::Barrier::new(2);
        let (r, helper) = team.install(|| {
            let mut helper = None;
            let r = join(
                || {
                    started.wait();
                    7
                },
                || {
                    started.wait();
                    helper = Some(std::thread::current().id())
                },
            );
            (r, helper)
        });
        assert_eq!(r, 7);
        assert!(helper.is_some_and(|h| h != me));
    }

    #[test]
    fn bounds_are_aligned_proportional_and_cover_everything() {
        assert_eq!(
            (0..=2).map(|p| bound(p, 2, 32, 4)).collect::<Vec<_>>(),
            [0, 16, 32]
        );
        assert_eq!(
            (0..=3).map(|p| bound(p, 3, 96, 4)).collect::<Vec<_>>(),
            [0, 32, 64, 96]
        );
        assert_eq!(
            (0..=2).map(|p| bound(p, 2, 10, 4)).collect::<Vec<_>>(),
            [0, 4, 10]
        );
        for (parts, len, align) in [(2, 4, 4), (3, 5, 4), (5, 3, 1), (4, 1000, 16)] {
            let b: Vec<usize> = (0..=parts).map(|p| bound(p, parts, len, align)).collect();
            assert!(b.windows(2).all(|w| w[0] <= w[1]), "{b:?}");
            assert_eq!((b[0], b[parts]), (0, len));
            assert!(b[..parts].iter().all(|x| x % align == 0), "{b:?}");
        }
    }

    #[test]
    fn rows_visits_every_row_once_in_blocks() {
        for team_size in 1..=3 {
            let team = Team::new(team_size).unwrap();
            for threads in 1..=5 {
                let mut out = vec![0.0f32; 37 * 3];
                team.install(|| {
                    rows(
                        threads,
                        usize::MAX,
                        &mut out,
                        3,
                        4,
                        &|first, block: &mut [f32]| {
                            assert_eq!(first % 4, 0);
                            for (r, row) in block.chunks_exact_mut(3).enumerate() {
                                row.fill((first + r) as f32 + row[0]);
                            }
                        },
                    )
                });
                let want: Vec<f32> = (0..37).flat_map(|r| [r as f32; 3]).collect();
                assert_eq!(out, want, "team {team_size}, {threads} threads");
            }
        }
    }

    #[test]
    fn elements_and_chunks_cover_every_element_once() {
        let team = Team::new(2).unwrap();
        let n = MIN_SPLIT_ELEMENTS + 37;
        let (mut a, mut b, mut c) = (vec![0.0f32; n], vec![1.0f32; n], vec![2.0f32; n]);
        let d: Vec<f32> = (0..n).map(|i| i as f32).collect();
        team.install(|| {
            elements(2, &mut a, &mut b, &mut c, &d, &|a, b, c, d| {
                for (((a, b), c), d) in a.iter_mut().zip(b).zip(c).zip(d) {
                    (*a, *b, *c) = (*a + d, *b + d, *c + d);
                }
            })
        });
        assert!((0..n).all(|i| (a[i], b[i], c[i]) == (d[i], d[i] + 1.0, d[i] + 2.0)));

        let (mut x, mut y) = (vec![0u32; 23], vec![0.0f32; 46]);
        team.install(|| {
            each_chunk!(
                3,
                |i: usize, (x, y): (&mut [u32], &mut [f32])| {
                    x.iter_mut().for_each(|v| *v += i as u32 + 1);
                    y.iter_mut().for_each(|v| *v += i as f32 + 1.0);
                },
                x[..] => 5,
                y[..] => 10,
            )
        });
        assert_eq!(x, (0..23).map(|j| j as u32 / 5 + 1).collect::<Vec<_>>());
        assert_eq!(
            y,
            (0..46).map(|j| (j / 10) as f32 + 1.0).collect::<Vec<_>>()
        );
    }

    /// Runs two parts and says whether they ran on different threads.
    fn parts_on_two_threads() -> bool {
        let ids = Mutex::new(Vec::new());
        for_each_part(2, &|_| {
            ids.lock().unwrap().push(std::thread::current().id())
        });
        let ids = ids.into_inner().unwrap();
        ids.len() == 2 && ids[0] != ids[1]
    }

    #[test]
    fn panicking_parts_panic_the_caller_and_the_team_lives_on() {
        let team = Team::new(2).unwrap();
        // A helper's part, then both parts, then the caller's part caught inside `install`.
        for panicking in [&[1][..], &[0, 1]] {
            let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                team.install(|| {
                    for_each_part(2, &|p| {
                        if panicking.contains(&p) {
                            panic!("part {p}");
                        }
                    })
                })
            }));
            assert!(caught.is_err());
        }
        team.install(|| {
            let caught = std::panic::catch_unwind(|| for_each_part(2, &|p| assert!(p != 0)));
            assert!(caught.is_err());
            // The team is still installed and its helper still works, with no stale panic.
            assert!(parts_on_two_threads());
            let mut out = vec![0.0f32; 64];
            rows(2, usize::MAX, &mut out, 1, 1, &|first, b: &mut [f32]| {
                b.iter_mut()
                    .enumerate()
                    .for_each(|(i, v)| *v = (first + i) as f32)
            });
            assert_eq!(out, (0..64).map(|i| i as f32).collect::<Vec<_>>());
        });
    }

    #[test]
    fn helpers_that_fell_asleep_are_woken() {
        let team = Team::new(3).unwrap();
        for _ in 0..3 {
            std::thread::sleep(SPIN * 3);
            let count = AtomicUsize::new(0);
            team.install(|| {
                for_each_part(3, &|_| {
                    count.fetch_add(1, Ordering::Relaxed);
                })
            });
            assert_eq!(count.into_inner(), 3);
        }
    }
}
