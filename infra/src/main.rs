//! `reclaim`: Reclaim's local commands. Run `reclaim --help`.

use anyhow::Context;
use clap::{Parser, Subcommand};
use reclaim_core::clock::{AnyClock, SystemClock};
use reclaim_core::rules::RecoverySettings;
use reclaim_local::local_stack::{LocalStack, StackOptions};
use reclaim_local::{classifier, coldstart, demo, emulator::Emulator, outbox, redrive, simulate, stack};
use std::io::Write;
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
    /// What-if: replay historical checkouts (JSON lines) under some settings and count the outcome.
    Simulate {
        /// Recovery settings (JSON, as saved through the admin API).
        #[arg(long)]
        settings: PathBuf,
        /// One checkout per line: a platform checkout or the compact form of `generate-checkouts`.
        #[arg(long)]
        checkouts: PathBuf,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Write synthetic checkouts in the compact form, for `simulate`.
    GenerateCheckouts {
        #[arg(long, default_value_t = 1_000_000)]
        count: u64,
        #[arg(long, default_value_t = 7)]
        seed: u64,
        #[arg(long)]
        out: PathBuf,
    },
    /// Cold start and peak RSS of the HTTP function binaries against a local Lambda Runtime API.
    ColdStart {
        /// Where the release binaries are (`cargo build --release` puts them in target/release).
        #[arg(long, default_value = "target/release")]
        dir: PathBuf,
        /// Runs per function; the median is reported.
        #[arg(long, default_value_t = 7)]
        runs: usize,
    },
    /// Train the reply classifier on the labelled replies and write the model the core embeds.
    TrainClassifier {
        #[arg(long, default_value = "data/replies")]
        data: PathBuf,
        #[arg(long, default_value = "shared/core/src/conversation/model/intents.bin")]
        out: PathBuf,
    },
    /// The embedded classifier on the held-out replies: accuracy per intent and language, size,
    /// replies per second; fails under budget.
    EvaluateClassifier {
        #[arg(long, default_value = "data/replies")]
        data: PathBuf,
        /// Instead: try training settings on the training part (four fifths fit, one scored).
        #[arg(long)]
        sweep: bool,
    },
    /// Classify replies: JSON lines `{"text": "..."}` on stdin, `{"intent", "confidence", "also"}`
    /// per line on stdout.
    Classify,
    /// Lighthouse on each screen of the embedded app, against a local stack started for it
    /// (`npm ci --prefix bench/lighthouse` first); fails when a screen is over its budget.
    Lighthouse {
        /// The Node side.
        #[arg(long, default_value = "bench/lighthouse/run.mjs")]
        script: PathBuf,
    },
    /// Re-submit the invocations that failed every retry (the failed-invocations queue) to their
    /// functions, and delete each one that was re-submitted.
    Redrive {
        /// The queue's URL on AWS (the stack output `FailedInvocationsQueueUrl`); records are
        /// re-submitted with Lambda `Invoke` (asynchronous) under the default credentials.
        #[arg(long, required_unless_present = "local_endpoint")]
        queue_url: Option<String>,
        /// Instead: the emulator of a local stack (`reclaim up` prints it); records are handed to
        /// the functions' handlers in this process.
        #[arg(long, conflicts_with = "queue_url")]
        local_endpoint: Option<String>,
        /// At most this many records in one run.
        #[arg(long, default_value_t = 1000)]
        limit: u32,
    },
    /// The operator's allow-list of SMS origination identities per shop: a shop's settings may
    /// only name an identity allowed here, and texts go only from one.
    Originations {
        #[command(subcommand)]
        action: OriginationAction,
        /// The table (the stack output `TableName`) on AWS under the default credentials...
        #[arg(long, global = true, required_unless_present = "local_endpoint")]
        table: Option<String>,
        /// ...or the local stack (`reclaim up`) on this emulator.
        #[arg(long, global = true, conflicts_with = "table")]
        local_endpoint: Option<String>,
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

/// The configuration of an operator's command, which signs and sends nothing.
fn operator_config() -> reclaim_core::usecases::Config {
    reclaim_core::usecases::Config {
        webhook_secrets: reclaim_core::platform::shopify::WebhookSecrets::new(Vec::new(), None),
        links: reclaim_core::links::LinkSigner::new(b"unused"),
        public_base_url: String::new(),
        sender: String::new(),
        shopify_api_key: String::new(),
        shopify_api_secret: Vec::new(),
        shop_daily_send_cap: None,
        sms_budget_ceiling: None,
        app_bridge_url: String::new(),
    }
}

#[derive(Subcommand)]
enum OriginationAction {
    /// Allow a shop to send from an identity (an E.164 number or a sender id).
    Allow {
        #[arg(long)]
        shop: String,
        #[arg(long)]
        identity: String,
    },
    /// Take an identity away from a shop.
    Revoke {
        #[arg(long)]
        shop: String,
        #[arg(long)]
        identity: String,
    },
    /// List what a shop may send from.
    List {
        #[arg(long)]
        shop: String,
    },
}

/// Runs an allow-list action on `services`.
async fn originations<P: reclaim_core::usecases::Ports<Store: reclaim_core::ports::Shops>>(
    services: &P,
    action: OriginationAction,
) -> anyhow::Result<()> {
    use reclaim_core::usecases::admin::originations as allow_list;
    let shop_of = |shop: &str| reclaim_core::model::ShopDomain::parse(shop).map_err(anyhow::Error::new);
    match action {
        OriginationAction::Allow { shop, identity } => {
            allow_list::allow(services, &shop_of(&shop)?, &identity).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("{shop} may now send from {identity}");
        }
        OriginationAction::Revoke { shop, identity } => {
            allow_list::revoke(services, &shop_of(&shop)?, &identity).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("{shop} may no longer send from {identity}");
        }
        OriginationAction::List { shop } => {
            for identity in allow_list::allowed(services, &shop_of(&shop)?).await.map_err(|e| anyhow::anyhow!("{e}"))? {
                println!("{identity}");
            }
        }
    }
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    // The demo prints its own story; logs only for warnings unless RUST_LOG asks for more.
    reclaim_aws::init_tracing_with_default(if matches!(cli.command, Command::Demo { .. }) { "warn" } else { "info" });
    match cli.command {
        Command::Demo { step_delay, outbox } => {
            let options = demo::DemoOptions {
                step_delay: std::time::Duration::from_secs_f64(step_delay),
                outbox,
                time: demo::DemoTime::Real,
            };
            let report = demo::run(&options).await?;
            demo::print_report(&report, &options.outbox);
        }
        Command::Up { port } => {
            let emulator = Emulator::start(0)?;
            let options = StackOptions {
                port,
                clock: AnyClock::System(SystemClock),
                shop: demo::DEMO_SHOP.to_owned(),
                pump_every: Some(std::time::Duration::from_millis(500)),
            };
            let local = LocalStack::start(emulator.endpoint(), options, |_| {}).await?;
            let (config, gateway) = (&local.config, &local.gateway);
            println!("emulator:  {}  (AWS_ENDPOINT_URL)", config.endpoint);
            println!("gateway:   {}  (POST /webhooks/shopify, GET /r/{{token}}, GET|POST /u/{{token}})", gateway.url());
            println!("table:     {}   schedule group: {}", config.table, config.schedule_group);
            println!(
                "storefront: {}/store/products/linen-throw  (local test shop with the theme extension)",
                gateway.url()
            );
            println!(
                "merchant app: {}/app?shop={}  (the embedded app, with a local App Bridge stand-in)",
                gateway.url(),
                demo::DEMO_SHOP
            );
            println!("webhook secret: {}", config.shopify_secret);
            println!("Ctrl-C to stop.");
            tokio::signal::ctrl_c().await?;
        }
        Command::Simulate { settings, checkouts, json } => {
            let text = std::fs::read_to_string(&settings).with_context(|| format!("reading {}", settings.display()))?;
            let settings = RecoverySettings::from_json(&text).map_err(|errors| {
                let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
                anyhow::anyhow!("invalid settings:\n  {}", lines.join("\n  "))
            })?;
            let started = std::time::Instant::now();
            let report = simulate::run(&settings, &checkouts, !json)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                simulate::print(&report);
                println!("\n({} checkouts in {:.2} s)", report.tally.checkouts, started.elapsed().as_secs_f64());
            }
        }
        Command::GenerateCheckouts { count, seed, out } => {
            if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent)?;
            }
            let mut file = std::io::BufWriter::new(std::fs::File::create(&out)?);
            simulate::generate(count, seed, &mut file)?;
            file.flush()?;
            println!("{count} checkouts written to {}", out.display());
        }
        Command::TrainClassifier { data, out } => classifier::train(&data, &out)?,
        Command::EvaluateClassifier { data, sweep: false } => classifier::evaluate(&data)?,
        Command::EvaluateClassifier { data, sweep: true } => classifier::sweep(&data)?,
        Command::Classify => classifier::classify(std::io::stdin().lock(), std::io::stdout().lock())?,
        Command::Lighthouse { script } => {
            let emulator = Emulator::start(0)?;
            let options = StackOptions {
                port: 0,
                clock: AnyClock::System(SystemClock),
                shop: demo::DEMO_SHOP.to_owned(),
                pump_every: None,
            };
            let local = LocalStack::start(emulator.endpoint(), options, |_| {}).await?;
            let status = tokio::process::Command::new("node")
                .arg(&script)
                .env("RECLAIM_BASE", local.gateway.url())
                .env("RECLAIM_SHOP", demo::DEMO_SHOP)
                .status()
                .await
                .context("running node (Node 20+, and `npm ci --prefix bench/lighthouse`)")?;
            anyhow::ensure!(status.success(), "a screen of the app is over its Lighthouse budget (see above)");
        }
        Command::ColdStart { dir, runs } => {
            coldstart::run(&dir, runs).await?;
        }
        Command::Redrive { queue_url, local_endpoint, limit } => {
            let report = match (queue_url, local_endpoint) {
                (_, Some(endpoint)) => {
                    let config = stack::LocalConfig::new(&endpoint, "http://127.0.0.1:4000");
                    let queue = stack::failed_invocations(&config).await?;
                    let services = Arc::new(stack::services(&config, AnyClock::System(SystemClock)).await);
                    redrive::redrive(&queue, &redrive::LocalHandlers(services), limit).await?
                }
                (Some(url), None) => {
                    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
                    let queue = redrive::FailedInvocations::new(aws_sdk_sqs::Client::new(&sdk), url);
                    redrive::redrive(&queue, &redrive::LambdaInvoke(aws_sdk_lambda::Client::new(&sdk)), limit).await?
                }
                (None, None) => anyhow::bail!("--queue-url or --local-endpoint is required"),
            };
            for (function, count) in &report.resubmitted {
                println!("re-submitted {count} to {function}");
            }
            for left in &report.left {
                println!("left in the queue: {left}");
            }
            println!("{} re-submitted, {} left", report.total(), report.left.len());
            if !report.left.is_empty() {
                std::process::exit(1);
            }
        }
        Command::Originations { action, table, local_endpoint } => match (table, local_endpoint) {
            (_, Some(endpoint)) => {
                let config = stack::LocalConfig::new(&endpoint, "http://127.0.0.1:4000");
                let services = stack::services(&config, AnyClock::System(SystemClock)).await;
                originations(&services, action).await?;
            }
            (Some(table), None) => {
                let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
                let store = reclaim_aws::DynamoStore::new(aws_sdk_dynamodb::Client::new(&sdk), table);
                let services = reclaim_core::usecases::Services {
                    store,
                    scheduler: (),
                    messenger: (),
                    events: (),
                    clock: SystemClock,
                    vault: (),
                    platform: (),
                    jobs: (),
                    config: operator_config(),
                };
                originations(&services, action).await?;
            }
            (None, None) => anyhow::bail!("--table or --local-endpoint is required"),
        },
        Command::Outbox { endpoint, dir } => {
            let emails = outbox::sent_emails(&endpoint).await?;
            for path in outbox::write_html(&emails, &dir)? {
                println!("{}", path.display());
            }
        }
    }
    Ok(())
}
