//! `reclaim`: Reclaim's local commands. Run `reclaim --help`.

use clap::{Parser, Subcommand};
use reclaim_core::clock::{AnyClock, SystemClock};
use reclaim_local::{demo, emulator::Emulator, gateway, outbox, pump, stack};
use std::path::PathBuf;
use std::sync::Arc;

/// Reclaim's local stack: AWS emulated by moto, the functions' own handlers behind a local
/// gateway, and a scheduler pump that fires due schedules.
#[derive(Parser)]
#[command(name = "reclaim", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the demo store through the whole recovery flow and print a summary.
    Demo {
        /// Delay of the first reminder, in seconds (the second and third come at 2x and 3x).
        #[arg(long, default_value_t = 2.0)]
        step_delay: f64,
        /// Where to write the sent emails as HTML files.
        #[arg(long, default_value = "target/demo/outbox")]
        outbox: PathBuf,
    },
    /// Start the emulator, create the resources and serve the gateway until Ctrl-C.
    Up {
        /// Gateway port on 127.0.0.1.
        #[arg(long, default_value_t = 4000)]
        port: u16,
    },
    /// Write the emails an emulator has sent to HTML files.
    Outbox {
        /// The emulator's URL, e.g. http://127.0.0.1:5000.
        #[arg(long, env = "AWS_ENDPOINT_URL")]
        endpoint: String,
        #[arg(long, default_value = "target/demo/outbox")]
        dir: PathBuf,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    // The demo prints its own story; logs only for warnings unless RUST_LOG asks for more.
    reclaim_aws::init_tracing_with_default(if matches!(cli.command, Command::Demo { .. }) { "warn" } else { "info" });
    match cli.command {
        Command::Demo { step_delay, outbox } => {
            let options = demo::DemoOptions { step_delay: std::time::Duration::from_secs_f64(step_delay), outbox };
            let report = demo::run(&options).await?;
            demo::print_report(&report, &options.outbox);
        }
        Command::Up { port } => {
            let emulator = Emulator::start(0)?;
            let listener = gateway::bind(port).await?;
            let config = stack::LocalConfig::new(emulator.endpoint(), &format!("http://{}", listener.local_addr()?));
            stack::create_resources(&stack::sdk_config(&config.endpoint).await, &config).await?;
            let services = Arc::new(stack::services(&config, AnyClock::System(SystemClock)).await);
            let gateway = gateway::serve(listener, services.clone())?;
            let _pump = pump::spawn(services, std::time::Duration::from_millis(500));
            println!("emulator:  {}  (AWS_ENDPOINT_URL)", config.endpoint);
            println!("gateway:   {}  (POST /webhooks/shopify, GET /r/{{token}}, GET|POST /u/{{token}})", gateway.url());
            println!("table:     {}   schedule group: {}", config.table, config.schedule_group);
            println!("webhook secret: {}", config.shopify_secret);
            println!("Ctrl-C to stop.");
            tokio::signal::ctrl_c().await?;
        }
        Command::Outbox { endpoint, dir } => {
            let emails = outbox::sent_emails(&endpoint).await?;
            for path in outbox::write_html(&emails, &dir)? {
                println!("{}", path.display());
            }
        }
    }
    Ok(())
}
