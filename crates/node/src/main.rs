//! `wakunode`: runs a Waku v2 node configured with nwaku's flags.

use std::process::ExitCode;

use clap::error::ErrorKind;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use waku_node::log_format::{LogFormat, NwakuFormat};
use waku_node::{Cli, LogControl, Node, NodeConfig};

/// Exit code for unusable flags, as clap uses for parse errors.
const EXIT_BAD_FLAG: u8 = 2;

fn main() -> ExitCode {
    let (cli, warnings) = match Cli::try_parse_with_warnings() {
        Ok(parsed) => parsed,
        Err(err)
            if matches!(
                err.kind(),
                ErrorKind::DisplayHelp | ErrorKind::DisplayVersion
            ) =>
        {
            let _ = err.print();
            return ExitCode::SUCCESS;
        }
        Err(err) => {
            // One line naming the flag, not clap's usage block.
            let rendered = err.to_string();
            eprintln!(
                "{}",
                rendered.lines().next().unwrap_or("error: invalid flags")
            );
            return ExitCode::from(EXIT_BAD_FLAG);
        }
    };
    let log_format = match cli.log_format.parse::<LogFormat>() {
        Ok(format) => format,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::from(EXIT_BAD_FLAG);
        }
    };
    let mut config = match NodeConfig::try_from(&cli) {
        Ok(config) => config,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::from(EXIT_BAD_FLAG);
        }
    };
    let filter =
        EnvFilter::try_from_env("RUST_LOG").unwrap_or_else(|_| EnvFilter::new(&config.log_filter));
    // A reloadable filter, so that `POST /admin/v1/log-level` can change it.
    let (filter, reload) = tracing_subscriber::reload::Layer::new(filter);
    // nwaku's log lines on stdout; the level tags coloured on a terminal,
    // unless NO_COLOR is set.
    let colour = std::io::IsTerminal::is_terminal(&std::io::stdout())
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    tracing_subscriber::registry()
        .with(filter)
        .with(
            tracing_subscriber::fmt::layer()
                .event_format(NwakuFormat::new(log_format))
                .with_writer(std::io::stdout)
                .with_ansi(colour),
        )
        .init();
    config.log_control = Some(LogControl::new(move |directive| {
        reload
            .modify(|filter| *filter = EnvFilter::new(directive))
            .map_err(|e| e.to_string())
    }));
    for warning in warnings {
        tracing::warn!("{warning}");
    }

    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        let stop = match waku_node::node::shutdown_signal() {
            Ok(stop) => stop,
            Err(err) => {
                eprintln!("error: {err}");
                return ExitCode::FAILURE;
            }
        };
        tokio::pin!(stop);
        let node = tokio::select! {
            started = Node::start(config) => match started {
                Ok(node) => node,
                Err(err) => {
                    eprintln!("error: {err}");
                    return ExitCode::FAILURE;
                }
            },
            () = &mut stop => return ExitCode::SUCCESS,
        };
        node.run(stop).await;
        ExitCode::SUCCESS
    })
}
