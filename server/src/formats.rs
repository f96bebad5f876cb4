//! `edasim import` and `edasim export`: a topology from, or to, a format users already have
//! (RabbitMQ definitions, AsyncAPI 3.0). Exit 0 with the file written; 2 on bad input, every problem with the
//! file's name and its path; 1 when the output cannot be written.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use edasim_sim::Model;
use edasim_sim::formats::{asyncapi, rabbitmq};
use serde_json::Value;

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Format {
    /// RabbitMQ definitions (`rabbitmqctl export_definitions`, the management UI's export).
    Rabbitmq,
    /// An AsyncAPI 3.0 document.
    Asyncapi,
}

#[derive(Args, Debug)]
pub struct ImportArgs {
    pub format: Format,
    /// The file to import.
    pub file: PathBuf,
    /// Write the topology here instead of standard output.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// The virtual host to import (RabbitMQ definitions).
    #[arg(long, default_value = "/")]
    pub vhost: String,
}

#[derive(Args, Debug)]
pub struct ExportArgs {
    pub format: Format,
    /// The topology file to export.
    pub file: PathBuf,
    /// Write the export here instead of standard output.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

fn read_json(path: &Path) -> Result<Value, String> {
    let name = path.display();
    let text = std::fs::read_to_string(path).map_err(|e| format!("{name}: {e}"))?;
    serde_json::from_str(&text).map_err(|e| format!("{name}: not JSON: {e}"))
}

fn write(out: Option<&Path>, v: &Value) -> ExitCode {
    let text = serde_json::to_string_pretty(v).unwrap_or_default() + "\n";
    match out {
        Some(p) => match std::fs::write(p, text) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("{}: {e}", p.display());
                ExitCode::from(1)
            }
        },
        None => {
            print!("{text}");
            ExitCode::SUCCESS
        }
    }
}

pub fn import(args: ImportArgs) -> ExitCode {
    let defs = match read_json(&args.file) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let name = args.file.file_stem().map_or("imported".into(), |s| s.to_string_lossy().into_owned());
    let result = match args.format {
        Format::Rabbitmq => rabbitmq::import(&defs, &name, &args.vhost).map(|i| (i.topology, i.notes)),
        Format::Asyncapi => asyncapi::import(&defs, &name).map(|i| (i.topology, i.notes)),
    };
    match result {
        Ok((topology, notes)) => {
            // What it made is a topology like any other: checked as one.
            if let Err(e) = Model::from_value(&topology) {
                for p in e.problems {
                    eprintln!("{}: imported topology: {p}", args.file.display());
                }
                return ExitCode::from(2);
            }
            for note in &notes {
                eprintln!("{}: {note}", args.file.display());
            }
            write(args.out.as_deref(), &topology)
        }
        Err(problems) => {
            for p in problems {
                eprintln!("{}: {p}", args.file.display());
            }
            ExitCode::from(2)
        }
    }
}

pub fn export(args: ExportArgs) -> ExitCode {
    let model = match read_json(&args.file).and_then(|v| {
        Model::from_value(&v).map_err(|e| {
            e.problems.iter().map(|p| format!("{}: {p}", args.file.display())).collect::<Vec<_>>().join("\n")
        })
    }) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let out = match args.format {
        Format::Rabbitmq => rabbitmq::export(model.topology()),
        Format::Asyncapi => asyncapi::export(&model),
    };
    write(args.out.as_deref(), &out)
}
