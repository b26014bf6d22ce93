use std::fs;
use std::path::Path;

use super::activations::{KinkMarks, derivative_segments, kink_marks};
use super::curves::EpochAxis;
use super::*;
use crate::results::read::read_epochs;
use crate::results::{EpochRow, Network};

/// Decodes a PNG written by this module into (width, height, RGB bytes).
fn decode_png(path: &Path) -> (u32, u32, Vec<u8>) {
    let file = fs::File::open(path).expect("png exists");
    let mut reader = png::Decoder::new(std::io::BufReader::new(file))
        .read_info()
        .expect("valid png header");
    let mut buf = vec![0; reader.output_buffer_size().expect("sane size")];
    let info = reader.next_frame(&mut buf).expect("valid png data");
    assert_eq!(info.color_type, png::ColorType::Rgb);
    buf.truncate(info.buffer_size());
    (info.width, info.height, buf)
}

/// Pixels in the rectangle dark enough to be (anti-aliased) black text.
fn dark_pixels(
    png: &(u32, u32, Vec<u8>),
    xs: std::ops::Range<u32>,
    ys: std::ops::Range<u32>,
) -> usize {
    let (w, _, rgb) = png;
    ys.flat_map(|y| xs.clone().map(move |x| ((y * w + x) * 3) as usize))
        .filter(|&i| rgb[i..i + 3].iter().all(|&c| c < 80))
        .count()
}

/// The contents of the SVG's `<text>` elements (plotters writes text as text, not paths).
fn svg_texts(svg: &str) -> Vec<String> {
    svg.split("<text")
        .skip(1)
        .filter_map(|t| {
            Some(
                t.split_once('>')?
                    .1
                    .split_once("</text>")?
                    .0
                    .trim()
                    .to_owned(),
            )
        })
        .collect()
}

fn relu(name: &str) -> ActivationCurve {
    let xs: Vec<f64> = (0..=200)
        .map(|i| -3.0 + 6.0 * f64::from(i) / 200.0)
        .collect();
    ActivationCurve {
        name: name.to_owned(),
        values: xs.iter().map(|x| x.max(0.0)).collect(),
        derivatives: xs
            .iter()
            .map(|&x| if x > 0.0 { 1.0 } else { 0.0 })
            .collect(),
        kinks: vec![0.0],
        xs,
    }
}

fn tanh() -> ActivationCurve {
    let xs: Vec<f64> = (0..=100).map(|i| -3.0 + 0.06 * f64::from(i)).collect();
    ActivationCurve {
        name: "tanh".to_owned(),
        values: xs.iter().map(|x| x.tanh()).collect(),
        derivatives: xs.iter().map(|x| 1.0 - x.tanh().powi(2)).collect(),
        kinks: vec![],
        xs,
    }
}

/// 2 activations x 2 seeds x 3 epochs, with validation columns.
fn rows() -> Vec<EpochRow> {
    let mut rows = Vec::new();
    for activation in ["relu", "tanh"] {
        for seed in [1, 2] {
            for epoch in 1..=3 {
                let e = f64::from(epoch) + seed as f64 * 0.1;
                rows.push(EpochRow {
                    activation: activation.to_owned(),
                    seed,
                    model: Network::Mlp,
                    epoch,
                    seconds: 1.25,
                    train_loss: 1.0 / e,
                    train_accuracy: 1.0 - 0.3 / e,
                    val_loss: Some(1.1 / e),
                    val_accuracy: Some(0.98 - 0.3 / e),
                    test_loss: (epoch == 3).then_some(0.2),
                    test_accuracy: (epoch == 3).then_some(0.95),
                    dataset: "mnist".into(),
                });
            }
        }
    }
    rows
}

fn write_csv(dir: &Path, text: &str) {
    fs::write(dir.join("epochs.csv"), text).expect("write csv");
}

const HEADER_LINE: &str = "activation,seed,epoch,seconds,train_loss,train_accuracy,val_loss,val_accuracy,test_loss,test_accuracy";

/// Every error is one line and names the file it is about.
fn assert_clear(err: PlotError, file: &str) -> String {
    let msg = err.to_string();
    assert!(!msg.contains('\n'), "multi-line error: {msg}");
    assert!(msg.contains(file), "error does not name {file}: {msg}");
    msg
}

fn file_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .expect("list dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn png_contains_rendered_caption_text() {
    let dir = tempfile::tempdir().unwrap();
    let (named, unnamed) = (dir.path().join("named.png"), dir.path().join("unnamed.png"));
    plot_activations(&[relu("relu")], &named).unwrap();
    plot_activations(&[relu("")], &unnamed).unwrap();
    let (named, unnamed) = (decode_png(&named), decode_png(&unnamed));
    // The panel caption sits just below the header, centred; tick labels are further left.
    let (x0, x1) = (named.0 * 3 / 10, named.0 * 7 / 10);
    let (y0, y1) = (76, 76 + 30);
    let with_text = dark_pixels(&named, x0..x1, y0..y1);
    assert!(with_text > 20, "no caption text pixels ({with_text})");
    assert_eq!(
        dark_pixels(&unnamed, x0..x1, y0..y1),
        0,
        "empty caption drew something"
    );
    // The figure title is always drawn.
    assert!(dark_pixels(&unnamed, x0..x1, 0..34) > 50);
}

#[test]
fn activations_with_kinks_render_to_png_and_svg() {
    let dir = tempfile::tempdir().unwrap();
    let curves = [relu("relu"), tanh(), relu("relu_again")];
    plot_activations(&curves, &dir.path().join("act.png")).unwrap();
    plot_activations(&curves, &dir.path().join("act.SVG")).unwrap();
    // 3 panels -> 2x2 grid of 400x300 under a 76 px header.
    let (w, h, _) = decode_png(&dir.path().join("act.png"));
    assert_eq!((w, h), (800, 76 + 600));
    let svg = fs::read_to_string(dir.path().join("act.SVG")).unwrap();
    assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
    assert!(svg_texts(&svg).contains(&"relu_again".to_owned()));
    assert_eq!(file_names(dir.path()), ["act.SVG", "act.png"]);
}

#[test]
fn derivative_is_split_at_kinks_without_a_joining_line() {
    let c = relu("relu");
    let segments = derivative_segments(&c.xs, &c.derivatives, &[0.0]);
    assert_eq!(segments.len(), 2);
    assert!(segments[0].iter().all(|&(x, d)| x < 0.0 && d == 0.0));
    assert!(segments[1].iter().all(|&(x, d)| x > 0.0 && d == 1.0));
    let marks = kink_marks(&c.xs, &c.derivatives, 0.0);
    assert_eq!(
        marks,
        KinkMarks {
            left: Some(0.0),
            right: Some(1.0),
            at: Some(0.0)
        }
    );

    // No sample on the kink: still two pieces, and no value "at" it.
    let xs = [-1.5, -0.5, 0.5, 1.5];
    let ds = [0.0, 0.0, 1.0, 1.0];
    assert_eq!(derivative_segments(&xs, &ds, &[0.0]).len(), 2);
    assert_eq!(kink_marks(&xs, &ds, 0.0).at, None);
    // NaN breaks a line too; no kinks means one piece.
    assert_eq!(
        derivative_segments(&xs, &[0.0, f64::NAN, 1.0, 1.0], &[]).len(),
        2
    );
    assert_eq!(derivative_segments(&xs, &ds, &[]).len(), 1);
}

#[test]
fn simplify_keeps_corners_and_drops_collinear_points() {
    let path = [(0, 0), (1, 0), (2, 0), (3, 0), (3, 1), (3, 2), (3, 3)];
    assert_eq!(
        super::raster::simplify(&path, 0.6),
        [(0, 0), (3, 0), (3, 3)]
    );
    assert_eq!(super::raster::simplify(&path[..2], 0.6), [(0, 0), (1, 0)]);
}

#[test]
fn epoch_axis_ticks_are_integers() {
    assert_eq!(EpochAxis::new(1, 3).ticks, [1.0, 2.0, 3.0]);
    assert_eq!(EpochAxis::new(1, 1).ticks, [1.0]);
    assert_eq!(
        EpochAxis::new(1, 30).ticks,
        [1.0, 5.0, 10.0, 15.0, 20.0, 25.0, 30.0]
    );
    let many = EpochAxis::new(1, 5000).ticks;
    assert!(many.len() <= 12 && many.iter().all(|t| t.fract() == 0.0));
}

#[test]
fn curves_write_png_and_svg() {
    let dir = tempfile::tempdir().unwrap();
    plot_curves(&rows(), dir.path()).unwrap();
    let (w, h, rgb) = decode_png(&dir.path().join("curves.png"));
    assert_eq!((w, h), (1200, 500));
    assert!(rgb.iter().any(|&c| c < 255), "blank image");
    let svg = fs::read_to_string(dir.path().join("curves.svg")).unwrap();
    let texts = svg_texts(&svg);
    assert!(
        texts.iter().any(|t| t.starts_with("Training curves")),
        "{texts:?}"
    );
    assert!(texts.contains(&"tanh".to_owned()) && texts.contains(&"epoch".to_owned()));
    assert_eq!(file_names(dir.path()), ["curves.png", "curves.svg"]);
}

/// The point counts of the SVG's polylines drawn in `colour` (`#RRGGBB`) with `width`.
fn polylines(svg: &str, colour: &str, width: u32) -> Vec<usize> {
    let attrs = format!("stroke=\"{colour}\" stroke-width=\"{width}\" points=\"");
    svg.split("<polyline")
        .filter_map(|p| p.split_once(&attrs))
        .map(|(_, rest)| rest.split('"').next().unwrap().split_whitespace().count())
        .collect()
}

#[test]
fn curves_tolerate_missing_validation_and_diverged_runs() {
    let dir = tempfile::tempdir().unwrap();
    // One seed, five epochs, no validation; relu's loss is not finite at epoch 3.
    let mut rows = Vec::new();
    for activation in ["relu", "tanh"] {
        for epoch in 1..=5u32 {
            rows.push(EpochRow {
                activation: activation.to_owned(),
                seed: 1,
                model: Network::Mlp,
                epoch,
                seconds: 1.0,
                train_loss: 1.0 / f64::from(epoch),
                train_accuracy: 0.5 + 0.05 * f64::from(epoch),
                val_loss: None,
                val_accuracy: None,
                test_loss: None,
                test_accuracy: None,
                dataset: "mnist".into(),
            });
        }
    }
    rows[2].train_loss = f64::NAN;
    plot_curves(&rows, dir.path()).unwrap();
    let svg = fs::read_to_string(dir.path().join("curves.svg")).unwrap();
    // Mean lines are 2 px wide in the series colour: relu (first colour) has its accuracy line
    // whole and its loss line split around epoch 3; tanh has both whole.
    assert_eq!(polylines(&svg, "#1F77B4", 2), [5, 2, 2]);
    assert_eq!(polylines(&svg, "#FF7F0E", 2), [5, 5]);
    // Legend: one 3 px swatch per activation, the names, and only the keys that apply.
    assert_eq!(polylines(&svg, "#1F77B4", 3), [2]);
    assert_eq!(polylines(&svg, "#FF7F0E", 3), [2]);
    let texts = svg_texts(&svg);
    for present in ["relu", "tanh", "train (solid)", "activation"] {
        assert!(
            texts.iter().any(|t| t == present),
            "{present} missing: {texts:?}"
        );
    }
    for absent in ["validation (dashed)", "± 1 sd over seeds"] {
        assert!(
            !texts.iter().any(|t| t == absent),
            "{absent} shown: {texts:?}"
        );
    }
    assert_eq!(
        texts
            .iter()
            .find(|t| t.starts_with("Training curves"))
            .unwrap(),
        "Training curves on MNIST: 2 activations"
    );
    // A single epoch with nothing finite to draw still gives a chart.
    rows[0].train_loss = f64::INFINITY;
    plot_curves(&rows[..1], dir.path()).unwrap();
    let svg = fs::read_to_string(dir.path().join("curves.svg")).unwrap();
    assert_eq!(polylines(&svg, "#1F77B4", 2), [1]);
}

#[test]
fn huge_values_keep_axes_finite_and_plotting_bounded() {
    for (lo, hi) in [(-1e308, 1e308), (-8.9e307, 8.9e307), (0.0, f64::MAX)] {
        let (a, b) = padded_range([lo, hi], 0.05);
        assert!(
            a.is_finite() && b.is_finite() && a < b,
            "{lo}..{hi}: {a}..{b}"
        );
    }
    // The repro of issue 11, in memory (the reader refuses such files): must finish.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_owned();
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut row = rows().remove(0);
        (row.train_loss, row.val_loss) = (1e308, Some(-1e308));
        let _ = done.send(plot_curves(&[row], &path));
    });
    let result = finished
        .recv_timeout(std::time::Duration::from_secs(60))
        .expect("plotting huge values did not finish within 60 s");
    result.unwrap();
}

#[test]
fn epochs_csv_round_trips_with_exact_header() {
    let dir = tempfile::tempdir().unwrap();
    let rows = rows();
    let mut writer = csv::Writer::from_path(dir.path().join("epochs.csv")).unwrap();
    for row in &rows {
        writer.serialize(row).unwrap();
    }
    writer.flush().unwrap();
    let text = fs::read_to_string(dir.path().join("epochs.csv")).unwrap();
    // The written header has the model column after the seed; HEADER_LINE (an older
    // file's, without model and dataset) reads too.
    let written = format!("{HEADER_LINE},dataset").replace("seed,epoch", "seed,model,epoch");
    assert_eq!(text.lines().next(), Some(written.as_str()));
    assert_eq!(read_epochs(dir.path()).unwrap(), rows);
    plot_run(dir.path()).unwrap();
    assert_eq!(
        file_names(dir.path()),
        ["curves.png", "curves.svg", "epochs.csv"]
    );
}

#[test]
fn empty_validation_cells_read_as_none() {
    let dir = tempfile::tempdir().unwrap();
    write_csv(
        dir.path(),
        &format!("{HEADER_LINE}\nrelu,7,1,0.5,0.9,0.7,,,,\n"),
    );
    let rows = read_epochs(dir.path()).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(
        (rows[0].seed, rows[0].val_loss, rows[0].test_accuracy),
        (7, None, None)
    );
}

#[test]
fn bad_run_folders_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let msg = assert_clear(plot_run(dir.path()).unwrap_err(), "epochs.csv");
    assert!(msg.contains("cannot read"), "{msg}");
    assert_clear(
        plot_run(&dir.path().join("missing")).unwrap_err(),
        "epochs.csv",
    );

    let good = "relu,1,1,0.5,0.9,0.7,,,,";
    let cases = [
        ("", "file is empty"),
        (
            "activation,seed,epoch\nrelu,1,1\n",
            "missing column(s) `seconds`",
        ),
        (
            &format!("{HEADER_LINE},note\n{good},x\n"),
            "unexpected column(s) `note`",
        ),
        (
            &format!("{HEADER_LINE}\n"),
            "has a header but no result rows",
        ),
        (
            &format!("{HEADER_LINE}\n{good}\nrelu,1,2,0.5,abc,0.7,,,,\n"),
            "line 3, column `train_loss`",
        ),
        (
            &format!("{HEADER_LINE}\nrelu,1,1,0.5,0.9,0.7,n/a,,,\n"),
            "column `val_loss`",
        ),
        (
            &format!("{HEADER_LINE}\nrelu,-1,1,0.5,0.9,0.7,,,,\n"),
            "line 2, column `seed`",
        ),
        (
            &format!("{HEADER_LINE}\nrelu,1,1,0.5,0.9\n"),
            "line 2: expected 10 fields, found 5",
        ),
        (
            &format!("{HEADER_LINE}\nrelu,1,0,0.5,0.9,0.7,,,,\n"),
            "epochs count from 1",
        ),
        (&format!("{HEADER_LINE}\n{good}\n{good}\n"), "duplicate"),
    ];
    for (text, expected) in cases {
        write_csv(dir.path(), text);
        let msg = assert_clear(plot_run(dir.path()).unwrap_err(), "epochs.csv");
        assert!(msg.contains(expected), "for {text:?}: {msg}");
        assert_eq!(file_names(dir.path()), ["epochs.csv"], "left files behind");
    }
}

#[test]
fn bad_outputs_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let curves = [relu("relu")];
    for name in ["act.jpg", "act", "act.png.bak"] {
        let msg = assert_clear(
            plot_activations(&curves, &dir.path().join(name)).unwrap_err(),
            name,
        );
        assert!(msg.contains("unsupported output format"), "{msg}");
    }
    // Unwritable: a missing folder, a folder under a regular file, a folder in the way.
    let msg = assert_clear(
        plot_curves(&rows(), &dir.path().join("no-such-dir")).unwrap_err(),
        "curves.png",
    );
    assert!(msg.starts_with("cannot write"), "{msg}");
    fs::write(dir.path().join("file"), "x").unwrap();
    assert_clear(
        plot_activations(&curves, &dir.path().join("file/act.svg")).unwrap_err(),
        "act.svg",
    );
    fs::create_dir(dir.path().join("taken.png")).unwrap();
    assert_clear(
        plot_activations(&curves, &dir.path().join("taken.png")).unwrap_err(),
        "taken.png",
    );
    assert_clear(plot_curves(&[], dir.path()).unwrap_err(), "curves.png");
    assert_eq!(
        file_names(dir.path()),
        ["file", "taken.png"],
        "left temp files behind"
    );
}

#[test]
fn bad_curves_are_clear_errors() {
    let out = Path::new("act.png");
    type Spoil = fn(&mut ActivationCurve);
    let cases: [(&str, Spoil); 5] = [
        ("values has 200", |c| {
            c.values.pop();
        }),
        ("derivatives has 202", |c| c.derivatives.push(0.0)),
        ("strictly increasing", |c| c.xs.swap(3, 4)),
        ("at least 2", |c| {
            c.xs.truncate(1);
            c.values.truncate(1);
            c.derivatives.truncate(1);
        }),
        ("kinks must be finite", |c| c.kinks.push(f64::NAN)),
    ];
    for (expected, spoil) in cases {
        let mut curve = relu("relu");
        spoil(&mut curve);
        let msg = assert_clear(plot_activations(&[curve], out).unwrap_err(), "act.png");
        assert!(msg.contains(expected) && msg.contains("`relu`"), "{msg}");
    }
    assert_clear(plot_activations(&[], out).unwrap_err(), "act.png");
}

#[test]
fn rewriting_replaces_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("act.svg");
    fs::write(&out, "old").unwrap();
    plot_activations(&[tanh()], &out).unwrap();
    assert!(svg_texts(&fs::read_to_string(&out).unwrap()).contains(&"tanh".to_owned()));
    assert_eq!(file_names(dir.path()), ["act.svg"]);
}

#[test]
fn tick_labels_are_short_and_never_negative_zero() {
    for (v, want) in [
        (-0.0, "0"),
        (-1e-17, "0"),
        (0.0, "0"),
        (0.30000000000000004, "0.3"),
        (0.05, "0.05"),
        (0.25, "0.25"),
        (-0.02, "-0.02"),
        (1.0, "1"),
    ] {
        assert_eq!(tick_label(v), want, "{v:e}");
    }
}

#[test]
fn layer_plot_axis_padded_below_zero_has_no_negative_zero_tick() {
    // A series of zero dead units (sigmoid) pads the axis below 0: its tick at 0 reads "0".
    let csv = "activation,seed,model,epoch,layer,kind,units,sampled_batches,grad_rms,\
weight_norm,update_ratio,dead_fraction,saturated_fraction,preact_mean,preact_std,dataset
relu,42,mlp,1,1,dense,128,10,0.0035,15.8,0.0056,0.023,0.31,0.37,0.83,mnist
relu,42,mlp,1,2,dense,64,10,0.0101,9.7,0.0034,0.047,0.26,0.68,1.32,mnist
sigmoid,42,mlp,1,1,dense,128,10,0.0005,15.1,0.0040,0.0,0.008,0.1,0.9,mnist
sigmoid,42,mlp,1,2,dense,64,10,0.0024,9.1,0.0030,0.0,0.0,0.2,1.1,mnist
";
    let rows = crate::results::read::layers_from_bytes(csv.as_bytes()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    plot_layers(&rows, dir.path()).unwrap();
    let texts = svg_texts(&fs::read_to_string(dir.path().join("layers.svg")).unwrap());
    assert!(texts.iter().any(|t| t == "0"), "{texts:?}");
    assert!(!texts.iter().any(|t| t.starts_with("-0")), "{texts:?}");
}
