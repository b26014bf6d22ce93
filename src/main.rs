//! Thin: parse the arguments, call the library, map errors to exit codes
//! (0 ok, 1 failure or regression, 2 bad input).

use actbench::cli::{Cli, Command, PlotCommand};
use actbench::compare::{self, CompareOptions};
use actbench::run::{self, RunError};
use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => e.exit(), // prints the one-line error (or help) and exits 2 (0 for help)
    };
    match dispatch(cli) {
        Ok(code) => ExitCode::from(code),
        Err((code, msg)) => {
            eprintln!("error: {msg}");
            ExitCode::from(code)
        }
    }
}

fn dispatch(cli: Cli) -> Result<u8, (u8, String)> {
    match cli.command {
        None => train(&cli.train),
        Some(Command::Train(args)) => train(&args),
        Some(Command::List) => {
            print!("{}", actbench::nn::catalog::table());
            Ok(0)
        }
        Some(Command::Datasets) => {
            print!("{}", actbench::data::dataset::table());
            Ok(0)
        }
        Some(Command::Fetch(args)) => {
            let m = run::fetch(args.dataset, args.data_dir.as_deref(), args.quiet)
                .map_err(|e| (1, e.to_string()))?;
            let checked = match (m.verified, m.dataset.idx_files()) {
                (true, Some(_)) => "SHA-256 verified",
                (true, None) => "MD5 verified",
                (false, _) => "extracted folder: the authors publish no checksum for it",
            };
            println!(
                "{} ok: {} training and {} test images, {checked}",
                m.dataset.title(),
                m.train.len(),
                m.test.len()
            );
            Ok(0)
        }
        Some(Command::Compare(a)) if a.pair.is_some() => compare_pair(&a),
        Some(Command::Compare(a)) => {
            let opts = CompareOptions {
                max_accuracy_drop_pp: a.max_accuracy_drop,
                max_loss_increase: a.max_loss_increase,
                max_slowdown: a.max_slowdown,
                normalize_speed: a.normalize_speed,
                allow_config_mismatch: a.allow_config_mismatch,
                two_sided: a.two_sided,
                format: a.format,
            };
            let report = compare::compare(&a.baseline, &a.candidate, &opts)
                .map_err(|e| (2, e.to_string()))?;
            print!("{}", report.render());
            Ok(report.exit_code() as u8)
        }
        Some(Command::Rank(a)) => rank(&a),
        Some(Command::Plot(PlotCommand::Activations(a))) => {
            let curves: Vec<_> = a
                .activations
                .0
                .iter()
                .map(|c| actbench::plot::ActivationCurve::sample(&c.name, &c.hidden, a.range))
                .collect();
            actbench::plot::plot_activations(&curves, &a.out).map_err(plot_error)?;
            println!("Wrote {}", a.out.display());
            Ok(0)
        }
        Some(Command::Plot(PlotCommand::Run { run_dir })) => {
            actbench::plot::plot_run(&run_dir).map_err(plot_error)?;
            println!(
                "Wrote {} and {}",
                run_dir.join("curves.png").display(),
                run_dir.join("curves.svg").display()
            );
            // Runs from before layers.csv have no layer plot to draw.
            if actbench::plot::plot_run_layers(&run_dir).map_err(plot_error)? {
                println!(
                    "Wrote {} and {}",
                    run_dir.join("layers.png").display(),
                    run_dir.join("layers.svg").display()
                );
            }
            Ok(0)
        }
    }
}

/// Bad input (a malformed run folder, an unknown file type) exits 2; failing to draw or write, 1.
fn plot_error(e: actbench::plot::PlotError) -> (u8, String) {
    use actbench::plot::PlotError::*;
    let code = match e {
        Read(_) | BadData { .. } | UnsupportedFormat { .. } => 2,
        Write { .. } | Draw { .. } | Font => 1,
    };
    (code, e.to_string())
}

fn train(args: &actbench::cli::TrainArgs) -> Result<u8, (u8, String)> {
    match run::train_command(args) {
        Ok(_) => Ok(0),
        Err(e @ RunError::Config(_)) => Err((2, e.to_string())),
        Err(e) => Err((1, e.to_string())),
    }
}

/// `actbench rank RUN`: unreadable or malformed results exit 2, a failed write 1.
fn rank(a: &actbench::cli::RankArgs) -> Result<u8, (u8, String)> {
    let rows = actbench::results::read::read_summary(&a.run).map_err(|e| (2, e.to_string()))?;
    let dir = if a.run.is_dir() {
        a.run.clone()
    } else {
        a.run.parent().map(Into::into).unwrap_or_default()
    };
    if !actbench::ranking::has_repeats(&rows) {
        return Err((
            2,
            format!(
                "{}: every activation ran one seed, so there is nothing to test (train with --seeds 2 or more)",
                a.run.display()
            ),
        ));
    }
    let text = actbench::rank_and_record(&dir, &rows, a.format).map_err(|e| (1, e))?;
    print!("{text}");
    Ok(0)
}

/// `actbench compare A B --pair X=Y`: activation X of run A against activation Y of run B.
fn compare_pair(a: &actbench::cli::CompareArgs) -> Result<u8, (u8, String)> {
    use actbench::results::read::read_summary;
    let (x, y) = a.pair.clone().unwrap_or_default();
    let base = read_summary(&a.baseline).map_err(|e| (2, e.to_string()))?;
    let cand = read_summary(&a.candidate).map_err(|e| (2, e.to_string()))?;
    let rankings = actbench::ranking::compare_pair(
        (&a.baseline, &base, &x),
        (&a.candidate, &cand, &y),
        a.allow_config_mismatch,
    )
    .map_err(|e| (2, e))?;
    print!("{}", actbench::ranking::render::render(&rankings, a.format));
    Ok(0)
}
