//! The application root: each adapter built from the environment (variable names as in
//! `template.yaml`) and the shared SDK configuration, once per cold start. A function builds only
//! the adapters its use cases name and puts `()` in the other slots of [`Services`], so it needs
//! neither their clients nor their variables: `links` never builds an SNS client, `webhooks`
//! never reads `KMS_KEY_ID`.

use crate::{
    AwsMessenger, AwsScheduler, DynamoStore, EventBridgeBus, KmsVault, PushApplications, RetryPolicy, SchedulerTarget,
    SesMailer, ShopifyHttp, SnsPush, SnsSms, SqsJobQueue,
};
use reclaim_core::clock::SystemClock;
use reclaim_core::links::LinkSigner;
use reclaim_core::platform::shopify::WebhookSecrets;
use reclaim_core::ports::Clock;
use reclaim_core::usecases::{Config, Services};
use std::collections::HashMap;

/// Every adapter, on AWS, with any clock: the bundle of a function that does everything
/// (`recovery-check`), of the local stack and of the tests.
pub type AwsServices<C> =
    Services<DynamoStore, AwsScheduler, AwsMessenger, EventBridgeBus, C, KmsVault, ShopifyHttp, SqsJobQueue>;

/// Every adapter with the system clock.
pub type App = AwsServices<SystemClock>;

/// How long one provider call (SendEmail, Publish) may take before its outcome is unknown.
pub const PROVIDER_CALL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// The secrets a deployment keeps in SSM SecureString parameters, by the variable they fill.
pub const SECRETS: [&str; 4] =
    ["SHOPIFY_API_SECRET", "SHOPIFY_API_SECRET_PREVIOUS", "LINK_SIGNING_SECRET", "LINK_SIGNING_SECRET_PREVIOUS"];

/// The secrets could not be read.
#[derive(Debug, thiserror::Error)]
#[error("reading secrets: {0}")]
pub struct SecretsError(pub String);

/// A required environment variable was missing.
#[derive(Debug, thiserror::Error)]
#[error("environment variable {0} is required")]
pub struct MissingVariable(pub &'static str);

/// The environment a function runs in: its variables and the SDK configuration (region,
/// credentials and `AWS_ENDPOINT_URL` from the environment, or an emulator's).
#[derive(Debug, Clone)]
pub struct Environment {
    sdk: aws_config::SdkConfig,
    variables: HashMap<String, String>,
}

impl Environment {
    /// The process's environment and the SDK's default configuration, with the secrets read
    /// from SSM (see [`Environment::resolve_secrets`]).
    pub async fn from_process() -> Result<Self, SecretsError> {
        let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
        let mut environment = Self::new(sdk, std::env::vars());
        environment.resolve_secrets().await?;
        Ok(environment)
    }

    /// Reads the secrets whose SSM SecureString parameters the environment names
    /// (`SHOPIFY_API_SECRET_PARAMETER` for `SHOPIFY_API_SECRET`, and so on for
    /// [`SECRETS`]) in one `GetParameters` call with decryption, once per cold start: a secret
    /// is never a plain environment value of a deployed function. A value given directly (the
    /// local stack, the tests) is kept as it is.
    pub async fn resolve_secrets(&mut self) -> Result<(), SecretsError> {
        let wanted: Vec<(&str, String)> = SECRETS
            .iter()
            .filter(|name| !self.variables.contains_key(**name))
            .filter_map(|name| self.optional(&format!("{name}_PARAMETER")).map(|parameter| (*name, parameter)))
            .collect();
        if wanted.is_empty() {
            return Ok(());
        }
        let ssm = aws_sdk_ssm::Client::new(&self.sdk);
        let names: Vec<String> = wanted.iter().map(|(_, parameter)| parameter.clone()).collect();
        let out = ssm
            .get_parameters()
            .set_names(Some(names))
            .with_decryption(true)
            .send()
            .await
            .map_err(|e| SecretsError(format!("GetParameters: {}", aws_sdk_ssm::error::DisplayErrorContext(&e))))?;
        for (name, parameter) in wanted {
            let value = out
                .parameters()
                .iter()
                .find(|p| p.name() == Some(parameter.as_str()))
                .and_then(|p| p.value())
                .ok_or_else(|| SecretsError(format!("SSM parameter {parameter} (for {name}) not found")))?;
            if !value.is_empty() {
                self.variables.insert(name.to_owned(), value.to_owned());
            }
        }
        Ok(())
    }

    /// An explicit SDK configuration and variables (the local stack and the tests).
    pub fn new(sdk: aws_config::SdkConfig, variables: impl IntoIterator<Item = (String, String)>) -> Self {
        let variables = variables.into_iter().filter(|(_, value)| !value.is_empty()).collect();
        Self { sdk, variables }
    }

    /// The SDK configuration.
    pub fn sdk(&self) -> &aws_config::SdkConfig {
        &self.sdk
    }

    fn required(&self, name: &'static str) -> Result<String, MissingVariable> {
        self.variables.get(name).cloned().ok_or(MissingVariable(name))
    }

    fn optional(&self, name: &str) -> Option<String> {
        self.variables.get(name).cloned()
    }

    /// What the use cases need to know about the deployment: secrets, the link signer, the
    /// public base URL, the sender.
    pub fn config(&self) -> Result<Config, MissingVariable> {
        let secret = self.required("SHOPIFY_API_SECRET")?;
        Ok(Config {
            webhook_secrets: WebhookSecrets::new(
                secret.clone().into_bytes(),
                self.optional("SHOPIFY_API_SECRET_PREVIOUS").map(String::into_bytes),
            ),
            links: LinkSigner::rotating(
                self.required("LINK_SIGNING_SECRET")?.as_bytes(),
                self.optional("LINK_SIGNING_SECRET_PREVIOUS").as_deref().map(str::as_bytes),
            ),
            public_base_url: self.required("PUBLIC_BASE_URL")?,
            sender: self.required("SENDER_EMAIL")?,
            shopify_api_key: self.required("SHOPIFY_API_KEY")?,
            shopify_api_secret: secret.into_bytes(),
            shop_daily_send_cap: self.optional("SHOP_DAILY_SEND_CAP").and_then(|cap| cap.parse().ok()),
            sms_budget_ceiling: self.optional("SMS_BUDGET_CEILING").and_then(|cap| cap.parse().ok()),
            app_bridge_url: self
                .optional("APP_BRIDGE_URL")
                .unwrap_or_else(|| reclaim_core::usecases::APP_BRIDGE_CDN.to_owned()),
        })
    }

    /// The table (`TABLE_NAME`).
    pub fn store(&self) -> Result<DynamoStore, MissingVariable> {
        Ok(DynamoStore::new(aws_sdk_dynamodb::Client::new(&self.sdk), self.required("TABLE_NAME")?))
    }

    /// The schedule group and the check it fires (`SCHEDULE_GROUP`, `SCHEDULER_ROLE_ARN`,
    /// `CHECK_FUNCTION_ARN`, optionally `SCHEDULE_DLQ_ARN`).
    pub fn scheduler(&self) -> Result<AwsScheduler, MissingVariable> {
        let target = SchedulerTarget {
            group: self.required("SCHEDULE_GROUP")?,
            role_arn: self.required("SCHEDULER_ROLE_ARN")?,
            function_arn: self.required("CHECK_FUNCTION_ARN")?,
            dead_letter_arn: self.optional("SCHEDULE_DLQ_ARN"),
        };
        Ok(AwsScheduler::new(aws_sdk_scheduler::Client::new(&self.sdk), target))
    }

    /// The SDK configuration for calls that hand a message to a provider: no SDK retries (a
    /// repeated SendEmail whose first answer was lost is a second email), and an operation
    /// timeout well inside the function's, so that a hung call ends as an unknown outcome.
    fn provider_sdk(&self) -> aws_config::SdkConfig {
        use aws_config::retry::RetryConfig;
        use aws_config::timeout::TimeoutConfig;
        let timeouts = TimeoutConfig::builder()
            .connect_timeout(std::time::Duration::from_secs(3))
            .operation_timeout(PROVIDER_CALL_TIMEOUT)
            .build();
        self.sdk.to_builder().retry_config(RetryConfig::disabled()).timeout_config(timeouts).build()
    }

    /// Email through SES (optionally `SES_CONFIGURATION_SET`), sent once per call, paced to
    /// `SES_MAX_SEND_RATE` (per second, the account's) shared by `CHECK_CONCURRENCY` instances.
    pub fn mailer(&self) -> SesMailer {
        let mailer =
            SesMailer::new(aws_sdk_sesv2::Client::new(&self.provider_sdk()), self.optional("SES_CONFIGURATION_SET"));
        let number = |name: &str| self.optional(name).and_then(|value| value.parse::<f64>().ok());
        match (number("SES_MAX_SEND_RATE"), number("CHECK_CONCURRENCY")) {
            (Some(rate), Some(instances)) if instances >= 1.0 => mailer.paced(rate / instances),
            (Some(rate), None) => mailer.paced(rate),
            _ => mailer,
        }
    }

    /// SMS through SNS, sent once per call.
    pub fn sms(&self) -> SnsSms {
        SnsSms::new(aws_sdk_sns::Client::new(&self.provider_sdk()))
    }

    /// Push through SNS (`PUSH_APNS_APPLICATION_ARN`, `PUSH_FCM_APPLICATION_ARN`: absent, that
    /// platform is off), sent once per call.
    pub fn push(&self) -> SnsPush {
        SnsPush::new(aws_sdk_sns::Client::new(&self.provider_sdk()), self.push_applications())
    }

    fn push_applications(&self) -> PushApplications {
        PushApplications {
            apns: self.optional("PUSH_APNS_APPLICATION_ARN"),
            fcm: self.optional("PUSH_FCM_APPLICATION_ARN"),
        }
    }

    /// Every channel.
    pub fn messenger(&self) -> AwsMessenger {
        AwsMessenger::new(self.mailer(), aws_sdk_sns::Client::new(&self.provider_sdk()), self.push_applications())
    }

    /// Domain events on EventBridge (`EVENT_BUS_NAME`, `default` unless set).
    pub fn events(&self) -> EventBridgeBus {
        let bus = self.optional("EVENT_BUS_NAME").unwrap_or_else(|| "default".to_owned());
        EventBridgeBus::new(aws_sdk_eventbridge::Client::new(&self.sdk), bus)
    }

    /// The privacy jobs queue (`JOBS_QUEUE_URL`).
    pub fn jobs(&self) -> Result<SqsJobQueue, MissingVariable> {
        Ok(SqsJobQueue::new(aws_sdk_sqs::Client::new(&self.sdk), self.required("JOBS_QUEUE_URL")?))
    }

    /// Envelope encryption with KMS (`KMS_KEY_ID`).
    pub fn vault(&self) -> Result<KmsVault, MissingVariable> {
        Ok(KmsVault::new(aws_sdk_kms::Client::new(&self.sdk), self.required("KMS_KEY_ID")?))
    }

    /// Shopify's OAuth and Admin API (the app's key and secret; `SHOPIFY_ENDPOINT` only for a
    /// local stand-in), retrying as `retry` says.
    pub fn platform(&self, retry: RetryPolicy) -> Result<ShopifyHttp, MissingVariable> {
        Ok(ShopifyHttp::new(
            self.required("SHOPIFY_API_KEY")?,
            self.required("SHOPIFY_API_SECRET")?,
            self.optional("SHOPIFY_ENDPOINT"),
            retry,
        ))
    }

    /// Every adapter, with `clock`.
    pub fn everything<C: Clock>(&self, clock: C) -> Result<AwsServices<C>, MissingVariable> {
        Ok(Services {
            store: self.store()?,
            scheduler: self.scheduler()?,
            messenger: self.messenger(),
            events: self.events(),
            clock,
            vault: self.vault()?,
            platform: self.platform(RetryPolicy::default())?,
            jobs: self.jobs()?,
            config: self.config()?,
        })
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
