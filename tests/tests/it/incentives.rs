//! Unique incentives against the emulator and the Shopify stand-in: one single-use code per cart
//! and step (even when a check runs twice), applied by the restore link, never for a holdout cart;
//! throttling, 429 and 5xx are retried within bounds; a code that cannot be created sends the step
//! without an incentive and says so in the stats.

use chrono::Duration;
use reclaim_core::ports::CheckInput;
use reclaim_core::usecases::{CheckOutcome, run_check};
use reclaim_local::fixtures;
use reclaim_tests::{Scripted, TestStack, link, outcome_of};
use serde_json::json;

/// A one-step sequence that offers 10% off carts of USD 20 or more, combinable with shipping.
fn incentive_settings(holdout: u8) -> serde_json::Value {
    json!({
        "steps": [{"name": "offer", "delay": "1h", "incentive": {"percent": 10}}],
        "policies": {
            "holdout_percent": holdout,
            "incentives": {"not_before_step": 1, "min_cart_value": 2000, "code_valid_for": "3days",
                           "combines_with": {"shipping_discounts": true}}
        }
    })
}

/// Installs the app through the token exchange (the stand-in grants a token).
async fn install(stack: &TestStack) {
    let response = stack.admin(reqwest::Method::POST, "/auth/token-exchange").send().await.unwrap();
    assert_eq!(response.status(), 200);
}

async fn abandon(stack: &TestStack, token: &str, email: &str) {
    let body = fixtures::checkout(&stack.checkout(token, Some(email)));
    assert_eq!(stack.deliver("checkouts/create", &format!("wh-{token}"), &body).await.status(), 200);
}

#[tokio::test]
async fn one_single_use_code_per_cart_and_step_applied_by_the_restore_link() {
    let stack = TestStack::start("incentive").await;
    install(&stack).await;
    stack.put_settings(0, incentive_settings(0)).await;
    abandon(&stack, "chk-offer", "offer@shopper.test").await;
    // A throttled query, a 429 and a 503 first: all retried within bounds.
    stack.shopify.script([Scripted::Throttled, Scripted::TooManyRequests, Scripted::ServerError]);
    stack.advance_and_pump(Duration::hours(1)).await;

    let discounts = stack.shopify.discounts();
    assert_eq!(discounts.len(), 1);
    assert_eq!(stack.shopify.discount_calls(), 4);
    let input = &discounts[0];
    let code = input["code"].as_str().unwrap().to_owned();
    assert!(code.starts_with("BACK-"));
    assert_eq!(input["usageLimit"], 1);
    assert_eq!(input["appliesOncePerCustomer"], true);
    assert_eq!(input["customerGets"]["value"]["percentage"], 0.1);
    assert_eq!(input["minimumRequirement"]["subtotal"]["greaterThanOrEqualToSubtotal"], "20.00");
    assert_eq!(
        input["combinesWith"],
        json!({"orderDiscounts": false, "productDiscounts": false, "shippingDiscounts": true})
    );
    let (starts, ends) = (input["startsAt"].as_str().unwrap(), input["endsAt"].as_str().unwrap());
    let lifetime =
        chrono::DateTime::parse_from_rfc3339(ends).unwrap() - chrono::DateTime::parse_from_rfc3339(starts).unwrap();
    assert_eq!(lifetime, Duration::days(3));

    let email = &stack.emails_to("offer@shopper.test").await[0];
    assert!(email.text.contains(&code) && email.text.contains("10% off"), "{}", email.text);
    let owner = stack.shopify.contact_email();
    assert_eq!(
        email.reply_to.as_deref(),
        Some(owner.as_str()),
        "a shopper's answer goes to the shop, not the operator"
    );
    let restore = link(&email.text, &format!("{}/r/", stack.gateway.url()));
    let response = stack.http.get(&restore).send().await.unwrap();
    let location = response.headers()["location"].to_str().unwrap();
    let expected = format!(
        "https://{}/discount/{code}?redirect=%2F70012345%2Fcheckouts%2Fchk-offer%2Frecover%3Fkey%3Ddemo",
        stack.shop
    );
    assert_eq!(location, expected);

    // The same check again (a duplicate schedule firing): no second send, no second code.
    let again = CheckInput {
        shop: stack.shop_domain(),
        checkout: reclaim_core::model::CheckoutToken::new("chk-offer").unwrap(),
        step: 0,
        generation: 0,
    };
    let outcome = run_check(stack.services.as_ref(), &again).await.unwrap();
    assert!(matches!(outcome, CheckOutcome::Superseded | CheckOutcome::AlreadySent { .. }), "{outcome:?}");
    assert_eq!(stack.shopify.discounts().len(), 1);
    assert_eq!(stack.emails_to("offer@shopper.test").await.len(), 1);
    let stats = stack.stats(1).await;
    assert_eq!(stats.get("incentive.step0"), Some(&1));
}

#[tokio::test]
async fn two_checks_of_the_same_step_at_once_send_once_with_one_code() {
    let stack = TestStack::start("incentive-race").await;
    install(&stack).await;
    stack.put_settings(0, incentive_settings(0)).await;
    abandon(&stack, "chk-race", "incentive-race@shopper.test").await;
    let armed = stack.schedule_inputs().await.remove(0);
    stack.clock.advance(Duration::hours(1));
    // The schedule fires twice at once (a duplicate delivery): both checks run for real.
    let services = stack.services.as_ref();
    let (first, second) = tokio::join!(run_check(services, &armed), run_check(services, &armed));
    let outcomes = [first.unwrap(), second.unwrap()];
    let sent = outcomes.iter().filter(|o| matches!(o, CheckOutcome::Sent { .. })).count();
    assert_eq!(sent, 1, "{outcomes:?}");
    assert!(
        outcomes.iter().any(|o| matches!(o, CheckOutcome::AlreadySent { step: 0 } | CheckOutcome::Superseded)),
        "{outcomes:?}"
    );
    assert_eq!(stack.shopify.discounts().len(), 1, "one code");
    assert_eq!(stack.emails_to("incentive-race@shopper.test").await.len(), 1, "one email");
}

#[tokio::test]
async fn a_platform_that_is_down_delays_the_step_and_a_refused_code_sends_it_without_an_incentive() {
    let stack = TestStack::start("incentive-failures").await;
    install(&stack).await;
    stack.put_settings(0, incentive_settings(0)).await;
    // Shopify stays down through every HTTP retry of the first attempt: the step is released,
    // not sent without its code, and goes out with it once Shopify is back.
    stack.shopify.script([Scripted::ServerError, Scripted::ServerError, Scripted::ServerError, Scripted::ServerError]);
    abandon(&stack, "chk-down", "down@shopper.test").await;
    let fired = stack.advance_and_pump(Duration::hours(1)).await;
    assert!(matches!(outcome_of(&fired, "chk-down"), CheckOutcome::Retrying { step: 0, attempt: 1, .. }));
    assert!(stack.emails_to("down@shopper.test").await.is_empty(), "nothing sent while the code is missing");
    let fired = stack.advance_and_pump(Duration::minutes(2)).await;
    assert!(matches!(outcome_of(&fired, "chk-down"), CheckOutcome::Sent { step: 0, .. }));
    let emails = stack.emails_to("down@shopper.test").await;
    assert_eq!(emails.len(), 1, "sent once");
    assert!(emails[0].text.contains("BACK-"), "with its code");

    stack.shopify.script([Scripted::UserError("Minimum subtotal must be less than 1000000".into())]);
    abandon(&stack, "chk-refused", "refused@shopper.test").await;
    stack.advance_and_pump(Duration::hours(1)).await;
    let emails = stack.emails_to("refused@shopper.test").await;
    assert_eq!(emails.len(), 1, "a refused code does not hold the step back");
    assert!(!emails[0].text.contains("BACK-") && !emails[0].text.contains("% off"), "no incentive");
    assert_eq!(stack.shopify.discounts().len(), 1, "only the first cart's code");
    let stats = stack.stats(1).await;
    assert_eq!(stats.get("incentive.failed.step0"), Some(&1));
    assert_eq!(stats.get("incentive.step0"), Some(&1));
    assert_eq!(stats.get("released.step0"), Some(&1));
}

#[tokio::test]
async fn holdout_carts_never_get_a_code() {
    let stack = TestStack::start("incentive-holdout").await;
    install(&stack).await;
    stack.put_settings(0, incentive_settings(50)).await;
    for i in 0..8 {
        abandon(&stack, &format!("chk-h{i}"), &format!("h{i}@shopper.test")).await;
    }
    stack.advance_and_pump(Duration::hours(1)).await;
    // The shop's hour-long token expires just then: checks that met its one refresher at work
    // were released and go a minute later with the new token.
    stack.advance_and_pump(Duration::minutes(2)).await;
    let mut emailed = 0;
    for i in 0..8 {
        emailed += stack.emails_to(&format!("h{i}@shopper.test")).await.len();
    }
    let held_out = stack.stats(1).await.get("holdout").copied().unwrap_or(0);
    assert!(held_out > 0 && emailed > 0, "both groups present: {held_out} held out, {emailed} emailed");
    assert_eq!(emailed as i64 + held_out, 8);
    assert_eq!(stack.shopify.discounts().len(), emailed, "one code per emailed cart, none for the holdout");
}
