//! `edasim walkthrough check`: plays each walkthrough headless over several seeds and checks
//! every claim (`docs/walkthrough.md`). Exit 0 when all hold, 1 listing each that failed with the
//! value seen and the seed, 2 on a bad file (every problem with its path).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Subcommand};
use edasim_sim::Model;
use edasim_sim::walkthrough::{ClaimResult, ScenarioRef, Walkthrough, check};

use crate::scenarios::Scenarios;

#[derive(Args, Debug)]
pub struct WalkthroughArgs {
    #[command(subcommand)]
    pub command: WalkthroughCommand,
}

#[derive(Subcommand, Debug)]
pub enum WalkthroughCommand {
    /// Check every claim of each walkthrough over several seeds.
    Check {
        /// Walkthrough files (JSON).
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Seeds to run each on: the walkthrough's own, then the next ones.
        #[arg(long, default_value_t = 5)]
        seeds: u64,
    },
}

pub fn main(args: WalkthroughArgs) -> ExitCode {
    match args.command {
        WalkthroughCommand::Check { files, seeds } => check_files(&files, seeds.max(1)),
    }
}

/// A walkthrough ready to play: its file, itself, its model and its first seed.
struct Loaded {
    path: PathBuf,
    walkthrough: Walkthrough,
    model: Model,
    seed: u64,
}

/// Reads a walkthrough and its scenario; every problem, each prefixed with the file's name.
fn load(path: &Path, shipped: &Scenarios) -> Result<Loaded, Vec<String>> {
    let name = path.display();
    let text = std::fs::read_to_string(path).map_err(|e| vec![format!("{name}: {e}")])?;
    let at = |problems: Vec<edasim_sim::Problem>| problems.iter().map(|p| format!("{name}: {p}")).collect::<Vec<_>>();
    let walkthrough = Walkthrough::from_json_str(&text).map_err(|e| at(e.problems))?;
    let model = match &walkthrough.scenario {
        ScenarioRef::Named(s) => shipped.model(s).cloned().ok_or_else(|| {
            vec![format!("{name}: scenario: no shipped scenario \"{s}\"; there are {}", shipped.names().join(", "))]
        })?,
        ScenarioRef::Inline(v) => Model::from_value(v)
            .map_err(|e| e.problems.iter().map(|p| format!("{name}: scenario.{p}")).collect::<Vec<_>>())?,
    };
    let problems = walkthrough.problems_with(&model);
    if problems.iter().any(|p| p.is_error()) {
        return Err(at(problems));
    }
    let seed = walkthrough.seed.unwrap_or(model.topology().seed);
    Ok(Loaded { path: path.to_path_buf(), walkthrough, model, seed })
}

fn check_files(files: &[PathBuf], seeds: u64) -> ExitCode {
    let shipped = Scenarios::load();
    let mut loaded = Vec::new();
    let mut bad = false;
    for f in files {
        match load(f, &shipped) {
            Ok(l) => loaded.push(l),
            Err(problems) => {
                bad = true;
                for p in problems {
                    eprintln!("{p}");
                }
            }
        }
    }
    if bad {
        return ExitCode::from(2);
    }
    // Every (walkthrough, seed) on its own thread, as many at once as there are cores.
    let jobs: Vec<(usize, u64)> =
        loaded.iter().enumerate().flat_map(|(i, l)| (0..seeds).map(move |k| (i, l.seed.wrapping_add(k)))).collect();
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get()).min(jobs.len().max(1));
    let next = std::sync::atomic::AtomicUsize::new(0);
    let outcomes: Vec<(usize, u64, Result<Vec<ClaimResult>, String>)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let j = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(&(i, seed)) = jobs.get(j) else { break };
                        let l = &loaded[i];
                        done.push((i, seed, check(&l.walkthrough, &l.model, seed).map_err(|e| e.to_string())));
                    }
                    done
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().unwrap_or_default()).collect()
    });
    let mut failed = false;
    for (i, l) in loaded.iter().enumerate() {
        let mut mine: Vec<_> = outcomes.iter().filter(|o| o.0 == i).collect();
        mine.sort_by_key(|o| o.1);
        let claims = mine.first().and_then(|o| o.2.as_ref().ok()).map_or(0, Vec::len);
        let mut lines = Vec::new();
        for (_, seed, result) in &mine {
            match result {
                Err(halt) => lines.push(format!("seed {seed}: the run stopped: {halt}")),
                Ok(results) => {
                    for r in results.iter().filter(|r| !r.holds) {
                        let step = &l.walkthrough.steps[r.step].title;
                        let seen = match &r.value {
                            Ok(x) => format!("{} = {}", r.expr, fmt(*x)),
                            Err(why) => format!("{}: {why}", r.expr),
                        };
                        lines.push(format!(
                            "step {} \"{step}\", claim {} \"{}\": {seen} at {} s, needs {} (seed {seed})",
                            r.step + 1,
                            r.claim + 1,
                            r.says,
                            r.at_s,
                            r.test
                        ));
                    }
                }
            }
        }
        let name = l.path.display();
        if lines.is_empty() {
            println!("{name}: \"{}\": {claims} claims × {} seeds hold", l.walkthrough.title, mine.len());
        } else {
            failed = true;
            for line in lines {
                println!("FAIL {name}: {line}");
            }
        }
    }
    if failed { ExitCode::from(1) } else { ExitCode::SUCCESS }
}

/// Four significant figures.
fn fmt(x: f64) -> String {
    if x == x.trunc() && x.abs() < 1e15 { format!("{x}") } else { format!("{x:.4}") }
}
