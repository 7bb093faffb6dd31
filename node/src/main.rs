//! The `duet` binary: parse the command line, set up logging, run the
//! subcommand. Everything else lives in the library.

use anyhow::Context;
use clap::Parser;
use duet_node::cli::{Cli, Command};
use duet_node::control::call_client::{self, CallOutcome};
use duet_node::control::client::{self, ClientError};
use duet_node::control::protocol::Request;
use duet_node::{identity, node, paths};
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            if let Some(ClientError::NoNode(_)) = e.downcast_ref::<ClientError>() {
                eprintln!("duet: {e}");
                return ExitCode::from(2);
            }
            eprintln!("duet: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let control = cli
        .control
        .clone()
        .unwrap_or_else(paths::default_control_path);
    match cli.command {
        Command::Up(args) => {
            let config = args.into_config(control)?;
            runtime()?.block_on(async {
                node::run(config, shutdown_signal()).await?;
                Ok(ExitCode::SUCCESS)
            })
        }
        Command::Id(args) => {
            let dir = args.data_dir.unwrap_or_else(paths::default_data_dir);
            let key = identity::load_or_create(&dir)?;
            let name = identity::last_name(&dir).unwrap_or_else(paths::default_name);
            let peer_id = key.public().to_peer_id();
            if args.json {
                let v = serde_json::json!({"peer_id": peer_id.to_string(), "name": name});
                println!("{v}");
            } else {
                println!("{peer_id}  {name}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Peers(args) => runtime()?.block_on(async {
            client::print_peers(&control, args.json).await?;
            Ok(ExitCode::SUCCESS)
        }),
        Command::Status(args) => runtime()?.block_on(async {
            client::print_status(&control, args.json).await?;
            Ok(ExitCode::SUCCESS)
        }),
        Command::Call(args) => runtime()?.block_on(async {
            match call_client::call(&control, &args.target, args.json).await? {
                CallOutcome::Connected => Ok(ExitCode::SUCCESS),
                CallOutcome::Failed { .. } => Ok(ExitCode::FAILURE),
            }
        }),
        Command::Broker(args) => {
            let config = args.into_config()?;
            runtime()?.block_on(duet_node::broker::run(config, shutdown_signal()))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::NetworkKey(cmd) => cmd.run().map(|()| ExitCode::SUCCESS),
        Command::Answer => one_shot(&control, Request::Answer, "answered"),
        Command::Reject => one_shot(&control, Request::Reject, "rejected"),
        Command::Hangup => one_shot(&control, Request::Hangup, "hung up"),
        Command::Events(args) => runtime()?.block_on(async {
            tokio::select! {
                r = client::print_events(&control, args.json) => r?,
                _ = shutdown_signal() => {}
            }
            Ok(ExitCode::SUCCESS)
        }),
    }
}

fn one_shot(control: &std::path::Path, request: Request, done: &str) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async {
        call_client::simple(control, request, done).await?;
        Ok(ExitCode::SUCCESS)
    })
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        }
        Err(e) => {
            tracing::warn!("cannot listen for SIGTERM ({e}); only Ctrl-C stops the node");
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
