//! Benchmarks of the budgets in DESIGN.md §6: the webhook hot path (verify + parse + normalise a
//! 10 KB checkout, no I/O) and `decide()`.

use chrono::{Duration, TimeZone, Utc};
use criterion::{BatchSize, Criterion, Throughput, black_box, criterion_group, criterion_main};
use reclaim_core::model::{CheckoutRecord, ContactState, ShopDomain};
use reclaim_core::platform::PlatformEvent;
use reclaim_core::platform::shopify::{WebhookSecrets, sign_webhook, verify_and_parse};
use reclaim_core::rules::simulate::Tally;
use reclaim_core::rules::{
    DELIVERABLE_CHANNELS, EmailTemplate, IncentiveOffer, QuietHours, RecoverySettings, StepSettings, Variant, decide,
};

/// The 10 KB checkout that every hot-path figure is measured on.
fn checkout_10kb() -> Vec<u8> {
    reclaim_core::testing::checkout_webhook_body(10 * 1024)
}

/// The 10 KB checkout, parsed into the model.
fn snapshot_10kb() -> reclaim_core::model::CheckoutSnapshot {
    match reclaim_core::platform::shopify::parse_event("checkouts/update", &checkout_10kb()).unwrap() {
        PlatformEvent::CheckoutUpserted(snapshot) => snapshot,
        other => panic!("not a checkout: {other:?}"),
    }
}

fn hot_path(c: &mut Criterion) {
    let body = checkout_10kb();
    let secrets = WebhookSecrets::new(&b"bench-secret"[..], Some(b"previous-secret".to_vec()));
    let signature = sign_webhook(b"bench-secret", &body);
    let headers = [
        ("x-shopify-topic", "checkouts/update"),
        ("x-shopify-hmac-sha256", signature.as_str()),
        ("x-shopify-shop-domain", "demo-store.myshopify.com"),
        ("x-shopify-webhook-id", "b7c1d2e3-0000-4000-8000-000000000001"),
    ];
    let mut group = c.benchmark_group("webhook");
    group.throughput(Throughput::Bytes(body.len() as u64));
    group.bench_function(format!("verify+parse+normalise {} B checkout", body.len()), |b| {
        b.iter(|| {
            let header = |name: &str| headers.iter().find(|(n, _)| *n == name).map(|(_, v)| *v);
            let delivery = verify_and_parse(&secrets, header, black_box(&body)).unwrap();
            black_box(delivery)
        })
    });
    group.finish();
}

fn decisions(c: &mut Criterion) {
    let snapshot = snapshot_10kb();
    let record = CheckoutRecord::new(ShopDomain::parse("demo-store.myshopify.com").unwrap(), snapshot);
    // Five steps with every policy switched on: the realistic worst case.
    let mut settings = RecoverySettings {
        steps: ["30m", "4h", "1day", "3days", "6days"]
            .iter()
            .enumerate()
            .map(|(i, delay)| StepSettings::email(&format!("step {i}"), delay, "reminder"))
            .collect(),
        ..RecoverySettings::default()
    };
    settings.steps[1].variants = vec![
        Variant { name: "A".into(), weight: 1, email_template: None },
        Variant { name: "B".into(), weight: 1, email_template: Some(EmailTemplate::known("follow_up")) },
    ];
    settings.steps[2].incentive = Some(IncentiveOffer { percent: 10 });
    settings.policies.quiet_hours = Some(QuietHours::known("21:00", "08:00"));
    settings.policies.holdout_percent = 10;
    let contact = ContactState::default();
    let start = Utc.with_ymd_and_hms(2026, 11, 20, 14, 20, 0).unwrap();
    let mut group = c.benchmark_group("rules");
    group.throughput(Throughput::Elements(1));
    group.bench_function("decide (5-step sequence)", |b| {
        let mut minutes = 0;
        b.iter_batched(
            || {
                minutes = (minutes + 37) % (7 * 24 * 60);
                start + Duration::minutes(minutes)
            },
            |now| black_box(decide(black_box(&record), &[], &contact, &settings, now)),
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

fn simulation(c: &mut Criterion) {
    let snapshot = snapshot_10kb();
    let settings = RecoverySettings::from_json(
        r#"{"steps":[{"name":"a","delay":"1h"},{"name":"b","delay":"1day","templates":{"email":"follow_up"}},
                     {"name":"c","delay":"3days","templates":{"email":"last_chance"},"incentive":{"percent":10}}],
            "policies":{"holdout_percent":10,"quiet_hours":{"start":"21:00","end":"08:00"}}}"#,
    )
    .unwrap();
    let shop = ShopDomain::parse("demo-store.myshopify.com").unwrap();
    let records: Vec<CheckoutRecord> = (0..1000)
        .map(|i| {
            let mut snapshot = snapshot.clone();
            snapshot.token = reclaim_core::model::CheckoutToken::new(format!("chk-{i}")).unwrap();
            let mut record = CheckoutRecord::new(shop.clone(), snapshot);
            record.last_activity_at += Duration::minutes(i * 97 % 1440);
            record
        })
        .collect();
    let mut group = c.benchmark_group("simulate");
    group.throughput(Throughput::Elements(records.len() as u64));
    group.bench_function("timeline of 1000 checkouts (3 steps, quiet hours, holdout)", |b| {
        b.iter(|| {
            let mut tally = Tally::default();
            for record in &records {
                tally.add(record, &settings, DELIVERABLE_CHANNELS);
            }
            black_box(tally)
        })
    });
    group.finish();
}

criterion_group!(benches, hot_path, decisions, simulation);
criterion_main!(benches);
