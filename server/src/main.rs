//! `edasim`: the live server (`edasim serve`, the default), the headless run (`edasim run`) and
//! the walkthroughs' checker (`edasim walkthrough check`), and the formats' import and export.

use edasim_server::{formats, lessons, render, run, serve};

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "edasim", version, about = "A visual simulator of event-driven architectures")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the browser app on localhost (the default).
    Serve(serve::ServeArgs),
    /// Run a topology headless and print its report.
    Run(run::RunArgs),
    /// Walkthroughs: check every claim of each over several seeds.
    Walkthrough(lessons::WalkthroughArgs),
    /// Draw a topology playing as an animated GIF.
    Render(render::RenderArgs),
    /// Import a topology from a format users already have (RabbitMQ definitions, AsyncAPI 3.0).
    Import(formats::ImportArgs),
    /// Export a topology as RabbitMQ definitions (its broker) or an AsyncAPI 3.0 document.
    Export(formats::ExportArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Run(args)) => run::main(args),
        Some(Command::Walkthrough(args)) => lessons::main(args),
        Some(Command::Serve(args)) => serve::main(args),
        Some(Command::Render(args)) => render::main(args),
        Some(Command::Import(args)) => formats::import(args),
        Some(Command::Export(args)) => formats::export(args),
        None => serve::main(serve::ServeArgs::parse_from(["edasim"])),
    }
}
