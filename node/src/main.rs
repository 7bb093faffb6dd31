//! The `duet` binary: parse the command line, set up logging, run the
//! subcommand. Everything else lives in the library.

use anyhow::Context;
use clap::{CommandFactory, FromArgMatches};
use duet_node::cli::{Cli, Command};
use duet_node::control::call_client::{self, CallExit, CallPlan};
use duet_node::control::client::{self, ClientError};
use duet_node::control::protocol::Request;
use duet_node::{config_file, contacts_command, identity, node, paths};
use std::process::ExitCode;
use std::time::Duration;

fn main() -> ExitCode {
    duet_node::allocator::configure();
    // Bad arguments exit 1: 2 means "no node" (see `duet call --help`).
    let parsed = Cli::command()
        .try_get_matches()
        .and_then(|m| Cli::from_arg_matches(&m).map(|c| (c, m)));
    let (cli, matches) = match parsed {
        Ok(p) => p,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    init_tracing();
    match run(cli, &matches) {
        Ok(code) => code,
        Err(e) => {
            if let Some(ClientError::NoNode(_)) = e.downcast_ref::<ClientError>() {
                eprintln!("duet: {e}");
                return ExitCode::from(CallExit::NoNode.code());
            }
            eprintln!("duet: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Logs go to stderr: coloured in a terminal; plain without one (a
/// service, a pipe), and without timestamps under journald, which adds its own.
fn init_tracing() {
    use std::io::IsTerminal;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let ansi = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi);
    if std::env::var_os("JOURNAL_STREAM").is_some() && !ansi {
        builder.without_time().init();
    } else {
        builder.init();
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")
}

fn run(cli: Cli, matches: &clap::ArgMatches) -> anyhow::Result<ExitCode> {
    let control = cli
        .control
        .clone()
        .unwrap_or_else(paths::default_control_path);
    match cli.command {
        Command::Up(mut args) => {
            if let Some(up) = matches.subcommand_matches("up") {
                config_file::merge(&mut args, up)?;
            }
            if args.print_config {
                print!("{}", config_file::render(&args));
                return Ok(ExitCode::SUCCESS);
            }
            let config = args.into_config(control)?;
            let rt = runtime()?;
            let result = rt.block_on(async { node::run(config, shutdown_signal()).await });
            // A media thread stuck on a device that hangs must not keep
            // the process alive after the node said goodbye, nor crash it
            // in the libraries' exit handlers (`duet_node::exit`).
            rt.shutdown_timeout(RUNTIME_STOP);
            if let Err(e) = result {
                eprintln!("duet: {e:#}");
                duet_node::exit::now(1);
            }
            duet_node::exit::now(0)
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
            let plan = CallPlan {
                target: args.target,
                json: args.json,
                hold: args.hold,
                wait_for_peer: args.wait_for_peer,
                timeout: args.timeout,
            };
            let exit = call_client::call(&control, &plan).await?;
            Ok(ExitCode::from(exit.code()))
        }),
        Command::Broker(mut args) => {
            if let Some(cmd) = args.command.take() {
                return cmd.run().map(|()| ExitCode::SUCCESS);
            }
            let config = args.into_config()?;
            runtime()?
                .block_on(async { duet_node::broker::run(config, shutdown_signal()).await })?;
            Ok(ExitCode::SUCCESS)
        }
        Command::NetworkKey(cmd) => cmd.run().map(|()| ExitCode::SUCCESS),
        Command::Answer => one_shot(&control, Request::Answer, "answered"),
        Command::Reject => one_shot(&control, Request::Reject, "rejected"),
        Command::Devices(args) => {
            duet_node::devices::print(args.json)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Hangup => one_shot(&control, Request::Hangup, "hung up"),
        Command::Mute(args) => {
            let done = format!("muted {}", args.kind);
            one_shot(&control, Request::Mute { kind: args.kind }, &done)
        }
        Command::Unmute(args) => {
            let done = format!("unmuted {}", args.kind);
            one_shot(&control, Request::Unmute { kind: args.kind }, &done)
        }
        Command::SetStatus(args) => {
            let status = args.status.into();
            let done = format!("status: {status}");
            one_shot(&control, Request::SetStatus { status }, &done)
        }
        Command::Contacts(args) => {
            contacts_command::run(args)?;
            Ok(ExitCode::SUCCESS)
        }
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

/// How long blocking tasks get once the node has stopped.
const RUNTIME_STOP: Duration = Duration::from_secs(1);

/// Resolves on the first Ctrl-C or SIGTERM; a second one exits at once
/// (code 130, `_exit`: see `duet_node::exit`), whatever the graceful stop
/// is waiting for. One task owns
/// both signal streams from the start, so a quick second signal is not lost.
/// Call it inside the runtime (it spawns that task).
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    use tokio::signal::unix::{signal, SignalKind};
    let (first_tx, first_rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let (mut int, mut term) = match (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
        ) {
            (Ok(i), Ok(t)) => (i, t),
            (Err(e), _) | (_, Err(e)) => {
                tracing::warn!("cannot listen for signals ({e}); only Ctrl-C stops the node");
                let _ = tokio::signal::ctrl_c().await;
                let _ = first_tx.send(());
                return;
            }
        };
        tokio::select! {
            _ = int.recv() => {}
            _ = term.recv() => {}
        }
        let _ = first_tx.send(());
        tokio::select! {
            _ = int.recv() => {}
            _ = term.recv() => {}
        }
        eprintln!("duet: second signal: exiting now");
        duet_node::exit::now(130);
    });
    async move {
        let _ = first_rx.await;
    }
}
