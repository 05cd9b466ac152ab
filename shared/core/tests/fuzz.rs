//! Fuzz targets for everything that reads what a stranger sends: webhook verification and
//! parsing, settings parsing, link tokens, app-proxy signatures and session tokens.
//!
//! Each target gets random bytes and structure-aware mutations of valid inputs (byte flips,
//! cuts, splices, and JSON's sharp edges: deep nesting, huge numbers, NUL, lone surrogates) from
//! proptest, and must never panic; the verifying targets must also never accept what was not
//! signed with their secret. `make test` runs a short bounded pass (`RECLAIM_FUZZ_CASES`, 2,000 per
//! target by default); `make fuzz` runs a long one in release mode (a million per target).

use chrono::{TimeZone, Utc};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use reclaim_core::links::{LinkKind, LinkSigner};
use reclaim_core::model::{CheckoutToken, ShopDomain};
use reclaim_core::platform::proxy;
use reclaim_core::platform::shopify::{WebhookSecrets, parse_event, sign_webhook, verify_and_parse};
use reclaim_core::rules::RecoverySettings;
use reclaim_core::session::{sign_session_token, verify_session_token};

const SECRET: &[u8] = b"fuzz-secret";

fn cases() -> u32 {
    std::env::var("RECLAIM_FUZZ_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(2000)
}

fn runner() -> TestRunner {
    TestRunner::new(Config { cases: cases(), failure_persistence: None, ..Config::default() })
}

/// Fragments that break parsers: nesting, huge and odd numbers, escapes, control characters.
const SHARP_EDGES: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    "\"",
    ",",
    ":",
    "null",
    "true",
    "1e999",
    "-0",
    "18446744073709551616",
    "NaN",
    "\\u0000",
    "\\ud800",
    "\u{0}",
    "\r\n",
    "<script>",
    "\u{202e}",
    "0.0000000000000000000001",
    "[[[[[[[[[[[[[[[[",
];

/// Mutations of `seed`: a few random edits of its bytes.
fn mutated(seed: Vec<u8>) -> impl Strategy<Value = Vec<u8>> {
    let len = seed.len().max(1);
    prop::collection::vec((0..4u8, 0..len, any::<u8>(), prop::sample::select(SHARP_EDGES)), 1..6).prop_map(
        move |edits| {
            let mut bytes = seed.clone();
            for (kind, at, byte, edge) in edits {
                let at = at.min(bytes.len());
                match kind {
                    0 if at < bytes.len() => bytes[at] = byte,
                    1 => bytes.truncate(at),
                    2 => bytes.splice(at..at, edge.bytes()).for_each(drop),
                    _ => {
                        let tail = bytes[at..].to_vec();
                        bytes.extend_from_slice(&tail[..tail.len().min(64)]);
                    }
                }
            }
            bytes
        },
    )
}

/// Random bytes, or a mutation of one of the seeds.
fn inputs(seeds: Vec<Vec<u8>>) -> impl Strategy<Value = Vec<u8>> {
    let mutations = prop::sample::select(seeds).prop_flat_map(mutated);
    prop_oneof![1 => prop::collection::vec(any::<u8>(), 0..512), 4 => mutations]
}

fn checkout_seed() -> Vec<u8> {
    reclaim_core::testing::checkout_webhook_body(2 * 1024)
}

#[test]
fn webhook_parsing_never_panics_and_unsigned_bodies_never_pass() {
    let secrets = WebhookSecrets::new(SECRET, None);
    let topics = [
        "checkouts/create",
        "checkouts/update",
        "checkouts/delete",
        "carts/update",
        "orders/create",
        "customers/update",
        "customers/redact",
        "customers/data_request",
        "shop/redact",
        "app/uninstalled",
    ];
    let seeds = vec![
        checkout_seed(),
        br#"{"id": 1, "token": "c1", "line_items": [{"title": "t", "quantity": 1, "price": "1.00"}], "updated_at": "2026-06-01T10:00:00Z"}"#.to_vec(),
        br#"{"shop_domain": "a.myshopify.com", "customer": {"id": 1, "email": "a@b.co"}}"#.to_vec(),
        br#"{"id": 9, "checkout_token": "c1", "total_price": "5.00", "currency": "USD", "created_at": "2026-06-01T10:00:00Z"}"#.to_vec(),
    ];
    runner()
        .run(&(inputs(seeds), prop::sample::select(topics.to_vec()), any::<bool>()), |(body, topic, signed)| {
            let _ = parse_event(topic, &body);
            let signature = if signed { sign_webhook(SECRET, &body) } else { sign_webhook(b"other", &body) };
            let header = |name: &str| match name {
                "x-shopify-hmac-sha256" => Some(signature.as_str()),
                "x-shopify-topic" => Some(topic),
                "x-shopify-shop-domain" => Some("a.myshopify.com"),
                "x-shopify-webhook-id" => Some("w1"),
                _ => None,
            };
            let verified = verify_and_parse(&secrets, header, &body);
            prop_assert!(signed || verified.is_err(), "an unsigned body passed");
            Ok(())
        })
        .unwrap();
}

/// Arbitrary JSON values, to reach every branch of the settings reader.
fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(Into::into),
        any::<i64>().prop_map(Into::into),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map_or(serde_json::Value::Null, Into::into)),
        prop::sample::select(vec![
            "1h",
            "30m",
            "-5d",
            "99999999d",
            "21:00",
            "25:61",
            "America/New_York",
            "Mars/X",
            "US",
            "",
            "reminder",
            "<b>"
        ])
        .prop_map(Into::into),
        ".{0,12}".prop_map(serde_json::Value::String),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        let keys = prop::sample::select(vec![
            "steps",
            "policies",
            "name",
            "delay",
            "channels",
            "template",
            "quiet_hours",
            "from",
            "to",
            "time_zone",
            "holdout_percent",
            "frequency_cap",
            "incentives",
            "sms",
            "storefront",
            "conditions",
            "variants",
            "weight",
        ]);
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::Array),
            prop::collection::btree_map(keys.prop_map(str::to_owned), inner, 0..5)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

#[test]
fn settings_parsing_never_panics_and_what_it_accepts_validates() {
    let valid = serde_json::to_vec(&RecoverySettings::default()).unwrap();
    runner()
        .run(&inputs(vec![valid]), |bytes| {
            if let Ok(text) = std::str::from_utf8(&bytes)
                && let Ok(settings) = RecoverySettings::from_json(text)
            {
                prop_assert!(settings.validate().is_ok(), "parsed settings must be valid");
            }
            Ok(())
        })
        .unwrap();
    runner()
        .run(&json_value(), |value| {
            if let Ok(settings) = RecoverySettings::from_json(&value.to_string()) {
                prop_assert!(settings.validate().is_ok());
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn link_tokens_never_panic_and_only_our_own_verify() {
    let now = Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).unwrap();
    let ours = LinkSigner::new(b"links-secret-links-secret-links!");
    let theirs = LinkSigner::new(b"another-secret-another-secret-xx");
    let shop = ShopDomain::parse("a.myshopify.com").unwrap();
    let checkout = CheckoutToken::new("c1").unwrap();
    let seeds = vec![
        ours.restore(&shop, &checkout, 0, now).into_bytes(),
        theirs.restore(&shop, &checkout, 0, now).into_bytes(),
    ];
    let valid = ours.restore(&shop, &checkout, 0, now);
    runner()
        .run(&inputs(seeds), |bytes| {
            let token = String::from_utf8_lossy(&bytes);
            for kind in [LinkKind::Restore, LinkKind::Unsubscribe] {
                if ours.verify(&token, kind, now).is_ok() {
                    prop_assert_eq!(&*token, valid.as_str(), "only the token we signed verifies");
                }
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn app_proxy_signatures_never_panic_and_forgeries_never_pass() {
    let now = Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).unwrap();
    let pairs = |shop: &str, timestamp: &str| {
        vec![
            ("shop".to_owned(), shop.to_owned()),
            ("path_prefix".to_owned(), "/apps/reclaim".to_owned()),
            ("timestamp".to_owned(), timestamp.to_owned()),
        ]
    };
    let seed = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs({
            let mut p = pairs("a.myshopify.com", &now.timestamp().to_string());
            let signature = proxy::sign(SECRET, &p);
            p.push(("signature".into(), signature));
            p
        })
        .finish();
    runner()
        .run(&inputs(vec![seed.clone().into_bytes()]), |bytes| {
            let query: Vec<(String, String)> = url::form_urlencoded::parse(&bytes).into_owned().collect();
            if proxy::verify(SECRET, &query, now).is_ok() {
                // What verifies must carry a signature we made over what it says.
                let unsigned: Vec<(String, String)> = query.iter().filter(|(k, _)| k != "signature").cloned().collect();
                let signature =
                    query.iter().find(|(k, _)| k == "signature").map(|(_, v)| v.clone()).unwrap_or_default();
                // (Hex is read either case: the same bytes, not a forgery.)
                prop_assert_eq!(signature.to_ascii_lowercase(), proxy::sign(SECRET, &unsigned));
            }
            prop_assert!(proxy::verify(b"forged", &query, now).is_err(), "a forgery passed");
            Ok(())
        })
        .unwrap();
}

#[test]
fn session_tokens_never_panic_and_forgeries_never_pass() {
    let now = Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).unwrap();
    let shop = ShopDomain::parse("a.myshopify.com").unwrap();
    let valid = sign_session_token(&shop, "api-key", SECRET, now, 60);
    let forged = sign_session_token(&shop, "api-key", b"forged", now, 60);
    runner()
        .run(&inputs(vec![valid.clone().into_bytes(), forged.into_bytes()]), |bytes| {
            let token = String::from_utf8_lossy(&bytes);
            if verify_session_token(&token, "api-key", SECRET, now).is_ok() {
                prop_assert_eq!(&*token, valid.as_str(), "only the token we signed verifies");
            }
            Ok(())
        })
        .unwrap();
}
