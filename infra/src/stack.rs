//! The local stack: an SDK configuration aimed at the emulator, the resources that
//! `template.yaml` declares (created idempotently), and the services built on them.

use anyhow::Context;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection, ProjectionType,
    ScalarAttributeType, TimeToLiveSpecification,
};
use reclaim_aws::{AwsServices, Environment};
use reclaim_core::clock::AnyClock;

/// The services as the local stack runs them: AWS adapters on the emulator, with a clock that
/// is either real (the demo) or manual (tests).
pub type LocalServices = AwsServices<AnyClock>;

/// The local app's client id (the audience of session tokens).
pub const LOCAL_SHOPIFY_API_KEY: &str = "local-shopify-api-key";
/// The local app's client secret (signs webhooks, OAuth callbacks, session tokens).
pub const LOCAL_SHOPIFY_API_SECRET: &str = "local-shopify-api-secret";

/// The names of the local resources and secrets.
#[derive(Debug, Clone)]
pub struct LocalConfig {
    pub endpoint: String,
    pub table: String,
    pub schedule_group: String,
    pub sender: String,
    pub shopify_secret: String,
    pub shopify_api_key: String,
    pub link_secret: String,
    /// Where the local gateway answers, for links in emails.
    pub public_base_url: String,
    /// The KMS alias that wraps access tokens.
    pub kms_key_alias: String,
    /// Where Shopify is reached instead of `https://{shop}` (a stand-in in the tests).
    pub shopify_endpoint: Option<String>,
    /// How hard the Shopify client retries (tests shorten the waits).
    pub shopify_retry: reclaim_aws::RetryPolicy,
    /// The queue of invocation records that failed every retry (the functions' on-failure
    /// destination).
    pub failed_invocations_queue: String,
    /// The queue of privacy jobs (the `jobs` function's event source).
    pub jobs_queue: String,
    /// Attempts per AWS call in the services (1: the emulator answers at once, so a failure is
    /// a bug to see; the fault tests use production's 3). Provider calls never retry.
    pub sdk_attempts: u32,
}

impl LocalConfig {
    /// Local defaults for an emulator at `endpoint` and a gateway at `public_base_url`.
    pub fn new(endpoint: &str, public_base_url: &str) -> Self {
        Self {
            endpoint: endpoint.to_owned(),
            table: "reclaim-local".into(),
            schedule_group: "reclaim-local".into(),
            sender: "Reclaim Demo <recover@reclaim.example>".into(),
            shopify_secret: LOCAL_SHOPIFY_API_SECRET.into(),
            shopify_api_key: LOCAL_SHOPIFY_API_KEY.into(),
            link_secret: "local-link-signing-secret-0123456789".into(),
            public_base_url: public_base_url.to_owned(),
            kms_key_alias: "alias/reclaim-local".into(),
            shopify_endpoint: None,
            shopify_retry: reclaim_aws::RetryPolicy::default(),
            sdk_attempts: 1,
            failed_invocations_queue: "reclaim-local-failed-invocations".into(),
            jobs_queue: "reclaim-local-jobs".into(),
        }
    }

    /// The variables the functions read from their environment, with local values.
    pub fn variables(&self) -> Vec<(String, String)> {
        let mut variables = vec![
            ("TABLE_NAME", self.table.clone()),
            ("SCHEDULE_GROUP", self.schedule_group.clone()),
            ("SCHEDULER_ROLE_ARN", "arn:aws:iam::123456789012:role/reclaim-scheduler".into()),
            ("CHECK_FUNCTION_ARN", CHECK_FUNCTION_ARN.into()),
            ("SHOPIFY_API_SECRET", self.shopify_secret.clone()),
            ("LINK_SIGNING_SECRET", self.link_secret.clone()),
            ("PUBLIC_BASE_URL", self.public_base_url.clone()),
            ("SENDER_EMAIL", self.sender.clone()),
            ("SHOPIFY_API_KEY", self.shopify_api_key.clone()),
            // The embedded app's page loads the gateway's App Bridge stand-in.
            ("APP_BRIDGE_URL", crate::gateway::APP_BRIDGE_STAND_IN.into()),
            ("PUSH_APNS_APPLICATION_ARN", push_application_arn(PUSH_APPLICATIONS[0])),
            ("PUSH_FCM_APPLICATION_ARN", push_application_arn(PUSH_APPLICATIONS[1])),
            ("KMS_KEY_ID", self.kms_key_alias.clone()),
            // moto names a queue's URL after the endpoint it was reached through.
            ("JOBS_QUEUE_URL", format!("{}/123456789012/{}", self.endpoint.trim_end_matches('/'), self.jobs_queue)),
        ];
        if let Some(endpoint) = &self.shopify_endpoint {
            variables.push(("SHOPIFY_ENDPOINT", endpoint.clone()));
        }
        variables.into_iter().map(|(name, value)| (name.to_owned(), value)).collect()
    }
}

/// The ARN the local `recovery-check` goes by (in schedules and invocation records).
pub const CHECK_FUNCTION_ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:reclaim-recovery-check";

/// The local SNS platform applications for push: (SNS platform, name).
const PUSH_APPLICATIONS: [(&str, &str); 2] = [("APNS", "reclaim-local-apns"), ("GCM", "reclaim-local-fcm")];

/// The ARN the emulator gives a platform application.
fn push_application_arn((platform, name): (&str, &str)) -> String {
    format!("arn:aws:sns:us-east-1:123456789012:app/{platform}/{name}")
}

/// An SDK configuration for the emulator: dummy credentials, us-east-1, one attempt (the
/// emulator's 500s would otherwise trigger slow retries).
pub async fn sdk_config(endpoint: &str) -> aws_config::SdkConfig {
    sdk_config_with_attempts(endpoint, 1).await
}

/// [`sdk_config`] with `attempts` per call.
pub async fn sdk_config_with_attempts(endpoint: &str, attempts: u32) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "testing",
            "testing",
            None,
            None,
            "local-emulator",
        ))
        .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(attempts))
        .load()
        .await
}

/// Creates the table (keys, the three indexes, TTL), the KMS key, the schedule group, the sender identity and the
/// push platform applications.
/// Existing resources are left as they are.
pub async fn create_resources(sdk: &aws_config::SdkConfig, config: &LocalConfig) -> anyhow::Result<()> {
    let dynamodb = aws_sdk_dynamodb::Client::new(sdk);
    let attribute =
        |name: &str| AttributeDefinition::builder().attribute_name(name).attribute_type(ScalarAttributeType::S).build();
    let key = |name: &str, kind: KeyType| KeySchemaElement::builder().attribute_name(name).key_type(kind).build();
    let index = |name: &str, pk: &str| {
        GlobalSecondaryIndex::builder()
            .index_name(name)
            .key_schema(key(pk, KeyType::Hash).expect("key"))
            .key_schema(key("activity", KeyType::Range).expect("key"))
            .projection(Projection::builder().projection_type(ProjectionType::All).build())
            .build()
    };
    let created = dynamodb
        .create_table()
        .table_name(&config.table)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attribute("pk")?)
        .attribute_definitions(attribute("sk")?)
        .attribute_definitions(attribute("cart_key")?)
        .attribute_definitions(attribute("contact_key")?)
        .attribute_definitions(attribute("activity")?)
        .key_schema(key("pk", KeyType::Hash)?)
        .key_schema(key("sk", KeyType::Range)?)
        .global_secondary_indexes(index(reclaim_aws::DynamoStore::CART_INDEX, "cart_key")?)
        .global_secondary_indexes(index(reclaim_aws::DynamoStore::CONTACT_INDEX, "contact_key")?)
        .attribute_definitions(attribute("shop_shard")?)
        .attribute_definitions(attribute("owner")?)
        .attribute_definitions(attribute("due_bucket")?)
        .attribute_definitions(attribute("due_at")?)
        .global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(reclaim_aws::DynamoStore::DUE_INDEX)
                .key_schema(key("due_bucket", KeyType::Hash)?)
                .key_schema(key("due_at", KeyType::Range)?)
                .projection(Projection::builder().projection_type(ProjectionType::KeysOnly).build())
                .build()?,
        )
        .global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(reclaim_aws::DynamoStore::SHOP_INDEX)
                .key_schema(key("shop_shard", KeyType::Hash)?)
                .key_schema(key("owner", KeyType::Range)?)
                .projection(Projection::builder().projection_type(ProjectionType::KeysOnly).build())
                .build()?,
        )
        .send()
        .await;
    match created {
        Ok(_) => {
            dynamodb
                .update_time_to_live()
                .table_name(&config.table)
                .time_to_live_specification(
                    TimeToLiveSpecification::builder().attribute_name("expires_at").enabled(true).build()?,
                )
                .send()
                .await
                .context("enabling TTL")?;
        }
        Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_in_use_exception()) => {}
        Err(e) => return Err(anyhow::Error::new(e).context("creating the table")),
    }
    let scheduler = aws_sdk_scheduler::Client::new(sdk);
    match scheduler.create_schedule_group().name(&config.schedule_group).send().await {
        Ok(_) => {}
        Err(e) if e.as_service_error().is_some_and(|s| s.is_conflict_exception()) => {}
        Err(e) => return Err(anyhow::Error::new(e).context("creating the schedule group")),
    }
    let sesv2 = aws_sdk_sesv2::Client::new(sdk);
    let domain = config.sender.rsplit('@').next().unwrap_or_default().trim_end_matches('>');
    match sesv2.create_email_identity().email_identity(domain).send().await {
        Ok(_) => {}
        Err(e) if e.as_service_error().is_some_and(|s| s.is_already_exists_exception()) => {}
        Err(e) => return Err(anyhow::Error::new(e).context("verifying the sender identity")),
    }
    let kms = aws_sdk_kms::Client::new(sdk);
    if kms.describe_key().key_id(&config.kms_key_alias).send().await.is_err() {
        let key = kms.create_key().description("Reclaim local: wraps access tokens").send().await;
        let key_id = key.context("creating the KMS key")?.key_metadata.map(|m| m.key_id);
        let named = kms
            .create_alias()
            .alias_name(&config.kms_key_alias)
            .target_key_id(key_id.context("the new KMS key has no id")?)
            .send()
            .await;
        match named {
            Ok(_) => {}
            // Another stack on the same emulator named its key first: use that one.
            Err(e) if e.as_service_error().is_some_and(|s| s.is_already_exists_exception()) => {}
            Err(e) => return Err(anyhow::Error::new(e).context("naming the KMS key")),
        }
    }
    let sqs = aws_sdk_sqs::Client::new(sdk);
    sqs.create_queue()
        .queue_name(&config.failed_invocations_queue)
        .send()
        .await
        .context("creating the failed-invocations queue")?;
    sqs.create_queue().queue_name(&config.jobs_queue).send().await.context("creating the jobs queue")?;
    let sns = aws_sdk_sns::Client::new(sdk);
    for (platform, name) in PUSH_APPLICATIONS {
        sns.create_platform_application()
            .name(name)
            .platform(platform)
            .attributes("PlatformCredential", "local-emulator-credential")
            .send()
            .await
            .with_context(|| format!("creating the {platform} push application"))?;
    }
    Ok(())
}

/// Builds the services on the emulator.
/// The failed-invocations queue of a stack whose resources exist.
pub async fn failed_invocations(config: &LocalConfig) -> anyhow::Result<crate::redrive::FailedInvocations> {
    let sqs = aws_sdk_sqs::Client::new(&sdk_config_with_attempts(&config.endpoint, config.sdk_attempts).await);
    let url = sqs.get_queue_url().queue_name(&config.failed_invocations_queue).send().await.context("GetQueueUrl")?;
    Ok(crate::redrive::FailedInvocations::new(sqs, url.queue_url.context("the queue has no URL")?))
}

pub async fn services(config: &LocalConfig, clock: AnyClock) -> LocalServices {
    let environment =
        Environment::new(sdk_config_with_attempts(&config.endpoint, config.sdk_attempts).await, config.variables());
    let mut services = environment.everything(clock).expect("the local environment is complete");
    services.platform = environment.platform(config.shopify_retry).expect("the local environment is complete");
    services
}
