//! The application root: configuration from the environment and the AWS clients, built once per
//! cold start and shared by every invocation.

use crate::{
    AwsMessenger, AwsScheduler, DynamoStore, EventBridgeBus, KmsVault, PushApplications, RetryPolicy, SchedulerTarget,
    SesMailer, ShopifyHttp,
};
use reclaim_core::clock::SystemClock;
use reclaim_core::links::LinkSigner;
use reclaim_core::platform::shopify::WebhookSecrets;
use reclaim_core::ports::Clock;
use reclaim_core::usecases::{Config, Services};

/// The services every function uses, on AWS, with any clock.
pub type AwsServices<C> = Services<DynamoStore, AwsScheduler, AwsMessenger, EventBridgeBus, C, KmsVault, ShopifyHttp>;

/// The production application: AWS adapters and the system clock.
pub type App = AwsServices<SystemClock>;

/// Deployment settings, read from the environment (names as in `template.yaml`).
#[derive(Debug, Clone)]
pub struct Settings {
    pub table_name: String,
    pub schedule_group: String,
    pub scheduler_role_arn: String,
    pub check_function_arn: String,
    pub schedule_dead_letter_arn: Option<String>,
    pub ses_configuration_set: Option<String>,
    /// The EventBridge bus domain events go to (`default` unless set).
    pub event_bus_name: String,
    /// The SNS platform applications for push (absent: that platform is off).
    pub push: PushApplications,
    /// The KMS key that wraps access tokens.
    pub kms_key_id: String,
    /// Where Shopify is reached instead of `https://{shop}` (the local stand-in only).
    pub shopify_endpoint: Option<String>,
    /// How hard the Shopify client retries.
    pub shopify_retry: RetryPolicy,
    pub core: Config,
}

/// A required environment variable was missing.
#[derive(Debug, thiserror::Error)]
#[error("environment variable {0} is required")]
pub struct MissingVariable(&'static str);

impl Settings {
    /// Reads the settings from the process environment.
    pub fn from_env() -> Result<Self, MissingVariable> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the settings through `lookup` (tests and the local stack pass their own).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, MissingVariable> {
        let required = |name: &'static str| lookup(name).filter(|v| !v.is_empty()).ok_or(MissingVariable(name));
        let optional = |name: &str| lookup(name).filter(|v| !v.is_empty());
        Ok(Self {
            table_name: required("TABLE_NAME")?,
            schedule_group: required("SCHEDULE_GROUP")?,
            scheduler_role_arn: required("SCHEDULER_ROLE_ARN")?,
            check_function_arn: required("CHECK_FUNCTION_ARN")?,
            schedule_dead_letter_arn: optional("SCHEDULE_DLQ_ARN"),
            ses_configuration_set: optional("SES_CONFIGURATION_SET"),
            event_bus_name: optional("EVENT_BUS_NAME").unwrap_or_else(|| "default".to_owned()),
            push: PushApplications {
                apns: optional("PUSH_APNS_APPLICATION_ARN"),
                fcm: optional("PUSH_FCM_APPLICATION_ARN"),
            },
            kms_key_id: required("KMS_KEY_ID")?,
            shopify_endpoint: optional("SHOPIFY_ENDPOINT"),
            shopify_retry: RetryPolicy::default(),
            core: Config {
                webhook_secrets: WebhookSecrets::new(
                    required("SHOPIFY_API_SECRET")?.into_bytes(),
                    optional("SHOPIFY_API_SECRET_PREVIOUS").map(String::into_bytes),
                ),
                links: LinkSigner::new(required("LINK_SIGNING_SECRET")?.as_bytes()),
                public_base_url: required("PUBLIC_BASE_URL")?,
                sender: required("SENDER_EMAIL")?,
                shopify_api_key: required("SHOPIFY_API_KEY")?,
                shopify_api_secret: required("SHOPIFY_API_SECRET")?.into_bytes(),
            },
        })
    }
}

/// Builds every client from the shared AWS configuration (region, credentials and
/// `AWS_ENDPOINT_URL` come from the environment) and the given settings and clock.
pub async fn build_services<C: Clock>(settings: Settings, clock: C) -> AwsServices<C> {
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    services_from_config(&sdk, settings, clock)
}

/// Builds every client from an explicit SDK configuration (the local stack points it at the
/// emulator without touching the process environment).
pub fn services_from_config<C: Clock>(sdk: &aws_config::SdkConfig, settings: Settings, clock: C) -> AwsServices<C> {
    {
        Services {
            store: DynamoStore::new(aws_sdk_dynamodb::Client::new(sdk), settings.table_name),
            scheduler: AwsScheduler::new(
                aws_sdk_scheduler::Client::new(sdk),
                SchedulerTarget {
                    group: settings.schedule_group,
                    role_arn: settings.scheduler_role_arn,
                    function_arn: settings.check_function_arn,
                    dead_letter_arn: settings.schedule_dead_letter_arn,
                },
            ),
            messenger: AwsMessenger::new(
                SesMailer::new(aws_sdk_sesv2::Client::new(sdk), settings.ses_configuration_set),
                aws_sdk_sns::Client::new(sdk),
                settings.push,
            ),
            events: EventBridgeBus::new(aws_sdk_eventbridge::Client::new(sdk), settings.event_bus_name),
            clock,
            vault: KmsVault::new(aws_sdk_kms::Client::new(sdk), settings.kms_key_id),
            platform: ShopifyHttp::new(
                settings.core.shopify_api_key.clone(),
                String::from_utf8_lossy(&settings.core.shopify_api_secret).into_owned(),
                settings.shopify_endpoint,
                settings.shopify_retry,
            ),
            config: settings.core,
        }
    }
}

/// `App::from_env()`: the production application, configured from the environment.
pub trait FromEnv: Sized {
    fn from_env() -> impl std::future::Future<Output = Result<Self, MissingVariable>> + Send;
}

impl FromEnv for App {
    async fn from_env() -> Result<Self, MissingVariable> {
        Ok(build_services(Settings::from_env()?, SystemClock).await)
    }
}

/// Structured logs: JSON in Lambda (where `AWS_LAMBDA_FUNCTION_NAME` is set), compact text
/// elsewhere; the level comes from `RUST_LOG` (default `info`).
pub fn init_tracing() {
    init_tracing_with_default("info");
}

/// Like [`init_tracing`], with another level when `RUST_LOG` is not set.
pub fn init_tracing_with_default(level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| level.into());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_target(false);
    let result = if std::env::var_os("AWS_LAMBDA_FUNCTION_NAME").is_some() {
        builder.json().without_time().try_init()
    } else {
        builder.compact().try_init()
    };
    // A second initialisation (tests, the local stack) keeps the first subscriber.
    let _ = result;
}
