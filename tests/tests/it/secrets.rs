//! Secrets come from SSM SecureString parameters, read once per cold start, never from a plain
//! environment value of a deployed function.

use reclaim_aws::Environment;
use reclaim_local::stack::sdk_config;
use reclaim_tests::emulator;

#[tokio::test]
async fn secrets_are_read_from_securestring_parameters_and_a_missing_one_is_named() {
    let sdk = sdk_config(emulator().endpoint()).await;
    let ssm = aws_sdk_ssm::Client::new(&sdk);
    let prefix = format!("/reclaim-test-{}", std::process::id());
    for (name, value) in
        [("shopify-api-secret", "shpss_from_ssm"), ("link-signing-secret", "link-secret-from-ssm-0123456789ab")]
    {
        ssm.put_parameter()
            .name(format!("{prefix}/{name}"))
            .value(value)
            .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
            .send()
            .await
            .unwrap();
    }
    let variables = |link_parameter: &str| {
        vec![
            ("SHOPIFY_API_SECRET_PARAMETER".to_owned(), format!("{prefix}/shopify-api-secret")),
            ("LINK_SIGNING_SECRET_PARAMETER".to_owned(), format!("{prefix}/{link_parameter}")),
            ("SHOPIFY_API_SECRET_PREVIOUS_PARAMETER".to_owned(), String::new()),
            ("PUBLIC_BASE_URL".to_owned(), "https://r.test".to_owned()),
            ("SENDER_EMAIL".to_owned(), "Shop <r@shop.test>".to_owned()),
            ("SHOPIFY_API_KEY".to_owned(), "key".to_owned()),
        ]
    };
    let mut environment = Environment::new(sdk.clone(), variables("link-signing-secret"));
    assert!(environment.config().is_err(), "no secret before it is read");
    environment.resolve_secrets().await.unwrap();
    let config = environment.config().unwrap();
    assert_eq!(config.shopify_api_secret, b"shpss_from_ssm");
    let signature = reclaim_core::platform::shopify::sign_webhook(b"shpss_from_ssm", b"{}");
    assert!(config.webhook_secrets.verify(b"{}", &signature), "the webhook secret is the parameter's value");

    let mut missing = Environment::new(sdk, variables("no-such-secret"));
    let error = missing.resolve_secrets().await.unwrap_err().to_string();
    assert!(error.contains("no-such-secret") && error.contains("LINK_SIGNING_SECRET"), "{error}");
}
