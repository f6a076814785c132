//! `ab-gateway serve | migrate | token create --role admin|sdk`.

use ab_gateway::settings::{Cli, Command, LogFormat, ServeSettings, TokenCommand};
use ab_gateway::{app, db, store};
use tracing_subscriber::EnvFilter;

fn main() {
    let cli: Cli = ab_service_config::parse();
    let log_format = match &cli.command {
        Command::Serve(settings) => settings.log_format,
        _ => LogFormat::Text,
    };
    let filter = EnvFilter::try_from_env("AB_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match log_format {
        LogFormat::Json => logs.json().init(),
        LogFormat::Text => logs.init(),
    }
    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    if let Command::Serve(ServeSettings { worker_threads: Some(threads), .. }) = &cli.command {
        runtime.worker_threads(*threads);
    }
    let runtime = runtime.enable_all().build().expect("a tokio runtime");
    if let Err(error) = runtime.block_on(run(cli)) {
        eprintln!("ab-gateway: {error:#}");
        std::process::exit(1);
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(settings) => app::serve(&cli.database_url, settings).await,
        Command::Migrate => {
            let mut client = db::connect(&db::parse_config(&cli.database_url)?).await?;
            let applied = db::migrate(&mut client).await?;
            if applied.is_empty() {
                println!("schema up to date");
            } else {
                println!("applied migrations {applied:?}");
            }
            Ok(())
        }
        Command::Token { command: TokenCommand::Create { role, description } } => {
            let client = db::connect(&db::parse_config(&cli.database_url)?).await?;
            println!("{}", store::create_token(&client, role, &description).await?);
            Ok(())
        }
    }
}
