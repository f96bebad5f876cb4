//! `edasim run`: the headless run and its report (`docs/run-report.md`).

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::{Args, ValueEnum};
use edasim_sim::time::{NS_PER_S, Time, s_to_ns};
use edasim_sim::topology::too_large;
use edasim_sim::{Engine, Model, Options, Report};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

#[derive(Args, Debug)]
pub struct RunArgs {
    /// The topology file (JSON).
    pub file: PathBuf,
    /// Simulated seconds to run (default 60; with --messages, a cap).
    #[arg(long, value_name = "S")]
    pub duration_s: Option<f64>,
    /// Run until producers have emitted N messages in all and the system has drained.
    #[arg(long, value_name = "N")]
    pub messages: Option<u64>,
    /// Overrides the file's seed.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Statistics ignore messages produced before this many simulated seconds.
    #[arg(long, value_name = "S", default_value_t = 0.0)]
    pub warmup_s: f64,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Write the report here instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Messages the run may hold before the broker's memory alarm blocks its producers, as
    /// RabbitMQ blocks publishers at its high watermark (about 200 bytes each); 0: no limit.
    #[arg(long, value_name = "MESSAGES", default_value_t = DEFAULT_WATERMARK)]
    pub memory_watermark: u64,
    /// Also write pictures of the per-second series here: an SVG per node and for the whole
    /// system, and a PNG overview (the last six simulated hours of a longer run).
    #[arg(long, value_name = "DIR")]
    pub plot: Option<PathBuf>,
}

/// Per-second points kept per node for `--plot`: six simulated hours.
const PLOT_SECONDS: usize = 6 * 3600;

/// The default memory watermark of a headless run: a million messages, a few hundred MB.
pub const DEFAULT_WATERMARK: u64 = 1_000_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

/// A failed run: bad input (exit 2) or anything else (exit 1).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("{0}")]
    Input(String),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

impl RunError {
    /// Says what failed on standard error and gives the exit code: 2 for bad input (its
    /// message says it all), 1 for anything else (prefixed with the `command`).
    pub fn exit(self, command: &str) -> ExitCode {
        match self {
            RunError::Input(msg) => {
                eprintln!("{msg}");
                ExitCode::from(2)
            }
            RunError::Other(e) => {
                eprintln!("edasim {command}: {e:#}");
                ExitCode::FAILURE
            }
        }
    }
}

pub fn main(args: RunArgs) -> ExitCode {
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => e.exit("run"),
    }
}

fn run(args: &RunArgs) -> Result<(), RunError> {
    let name = args.file.display().to_string();
    let duration = check_args(args).map_err(|m| RunError::Input(format!("edasim run: {m}")))?;
    let model = load(&args.file)?;
    for w in model.warnings() {
        eprintln!("{name}: {w}");
    }
    let opts = Options {
        seed: args.seed,
        warmup: s_to_ns(args.warmup_s),
        series_capacity: if args.plot.is_some() {
            ((duration / NS_PER_S) as usize).saturating_add(1).min(PLOT_SECONDS)
        } else {
            0
        },
        memory_watermark: (args.memory_watermark > 0).then_some(args.memory_watermark),
        ..Options::default()
    };
    let mut engine = Engine::new(&model, &opts);
    engine.set_message_budget(args.messages);
    let started = Instant::now();
    simulate(&mut engine, duration, args.messages).map_err(|e| RunError::Other(e.into()))?;
    let wall_s = started.elapsed().as_secs_f64();
    let report = Report::new(&engine, wall_s, model.warnings());
    if let Some(a) = report.memory_alarm.as_ref().filter(|a| a.raised > 0) {
        eprintln!(
            "{name}: the memory alarm went off {} times: the run held {} messages (--memory-watermark), so producers were blocked {} times over {:.1} simulated s; the services cannot keep up",
            a.raised, a.watermark, a.blocked, a.seconds_on
        );
    }
    let text = match args.format {
        Format::Text => report.to_text(),
        Format::Json => serde_json::to_string_pretty(&report).context("serialising the report")? + "\n",
    };
    match &args.out {
        Some(path) => std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?,
        None => std::io::stdout().write_all(text.as_bytes()).context("writing the report")?,
    }
    if let Some(dir) = &args.plot {
        let written = crate::plot::write_plots(dir, &engine, &model)?;
        eprintln!("{name}: {} pictures in {}", written.len(), dir.display());
    }
    Ok(())
}

/// The run's end time, or why the arguments make no sense.
fn check_args(args: &RunArgs) -> Result<Time, String> {
    let positive = |x: f64| x.is_finite() && x > 0.0;
    if let Some(d) = args.duration_s
        && !positive(d)
    {
        return Err(format!("--duration-s must be a positive number of seconds, not {d}"));
    }
    if !(args.warmup_s.is_finite() && args.warmup_s >= 0.0) {
        return Err(format!("--warmup-s must be 0 or more seconds, not {}", args.warmup_s));
    }
    if args.messages == Some(0) {
        return Err("--messages must be at least 1".to_string());
    }
    let duration = match (args.duration_s, args.messages) {
        (Some(d), _) => s_to_ns(d),
        // With --messages alone, the run ends when the system drains.
        (None, Some(_)) => Time::MAX,
        (None, None) => 60 * NS_PER_S,
    };
    if args.duration_s.is_some() && s_to_ns(args.warmup_s) >= duration {
        return Err(format!(
            "--warmup-s {} leaves nothing of a {} s run to measure",
            args.warmup_s,
            args.duration_s.unwrap_or_default()
        ));
    }
    Ok(duration)
}

/// Reads and validates a topology file; every problem is reported with the file's name.
pub fn load(path: &Path) -> Result<Model, RunError> {
    let name = path.display();
    let meta = std::fs::metadata(path).map_err(|e| RunError::Input(format!("{name}: cannot read: {e}")))?;
    if let Some(why) = too_large(meta.len()) {
        return Err(RunError::Input(format!("{name}: {why}")));
    }
    let bytes = std::fs::read(path).map_err(|e| RunError::Input(format!("{name}: cannot read: {e}")))?;
    let text = String::from_utf8(bytes)
        .map_err(|e| RunError::Input(format!("{name}: not UTF-8 text (byte {})", e.utf8_error().valid_up_to())))?;
    Model::from_json_str(&text).map_err(|invalid| {
        RunError::Input(invalid.problems.iter().map(|p| format!("{name}: {p}")).collect::<Vec<_>>().join("\n"))
    })
}

/// Runs to `end` (or until drained, with a budget); on a terminal, once the run has taken a
/// second, a progress bar of simulated time (or of messages, with `--messages` alone).
fn simulate(engine: &mut Engine, end: Time, budget: Option<u64>) -> Result<(), edasim_sim::engine::Halt> {
    let started = Instant::now();
    let by_messages = end == Time::MAX;
    let len = if by_messages { budget.unwrap_or(0) } else { end / NS_PER_S };
    let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::hidden());
    let mut shown = false;
    let mut last_draw = Instant::now();
    engine.run_until(end, |e| {
        if last_draw.elapsed() < Duration::from_millis(100) {
            return;
        }
        last_draw = Instant::now();
        if !shown && started.elapsed() > Duration::from_secs(1) && std::io::stderr().is_terminal() {
            shown = true;
            bar.set_draw_target(ProgressDrawTarget::stderr());
            let unit = if by_messages { "messages" } else { "simulated s" };
            let style = ProgressStyle::with_template(&format!(
                "{{bar:40}} {{pos}}/{{len}} {unit} {{msg}} [{{elapsed}}, eta {{eta}}]"
            ))
            .unwrap_or_else(|_| ProgressStyle::default_bar());
            bar.set_style(style);
        }
        if shown {
            bar.set_position(if by_messages { e.ledger().produced } else { e.now() / NS_PER_S });
            bar.set_message(format!("{} events", e.events()));
        }
    })?;
    bar.finish_and_clear();
    Ok(())
}
