//! Table tests and property tests for [`decide`](super::decide).

use super::*;
use crate::model::*;
use chrono::{Duration, TimeZone};
use proptest::prelude::*;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap()
}

fn record(status: CheckoutStatus, email: Option<&str>) -> CheckoutRecord {
    let usd = Currency::parse("USD").unwrap();
    let snapshot = CheckoutSnapshot {
        token: CheckoutToken::new("chk").unwrap(),
        cart_token: None,
        contact: Contact {
            email: email.map(str::to_owned),
            ..Contact::default()
        },
        locale: None,
        region: Region::default(),
        line_items: vec![LineItem {
            title: "Mug".into(),
            variant_title: None,
            variant_id: Some(1),
            product_id: Some(2),
            quantity: 1,
            unit_price: Money {
                minor: 1500,
                currency: usd.clone(),
            },
            image_url: None,
        }],
        subtotal: Money {
            minor: 1500,
            currency: usd.clone(),
        },
        total: Money {
            minor: 1500,
            currency: usd,
        },
        restore_url: None,
        created_at: t0(),
        updated_at: t0(),
        completed_at: None,
    };
    let mut record = CheckoutRecord::new(ShopDomain::parse("s.myshopify.com").unwrap(), snapshot);
    record.status = status;
    record
}

fn sent(step: u32) -> MessageRecord {
    MessageRecord {
        step,
        channel: Channel::Email,
        claimed_at: t0(),
        sent_at: Some(t0()),
        provider_id: None,
        failure: None,
        clicked_at: None,
    }
}

fn suppressed() -> ContactState {
    ContactState {
        email_suppressed: Some(Suppression {
            reason: SuppressionReason::Unsubscribed,
            at: t0(),
        }),
    }
}

#[test]
#[allow(clippy::type_complexity)] // a table: (name, record, history, contact, elapsed, expected)
fn decision_table() {
    let s = RecoverySettings::default();
    let open = || record(CheckoutStatus::Open, Some("a@b.co"));
    let none = ContactState::default();
    let cases: Vec<(
        &str,
        CheckoutRecord,
        Vec<MessageRecord>,
        ContactState,
        Duration,
        Decision,
    )> = vec![
        (
            "converted stops",
            record(CheckoutStatus::Converted, Some("a@b.co")),
            vec![],
            none.clone(),
            Duration::hours(2),
            Decision::Stop {
                reason: StopReason::Converted,
            },
        ),
        (
            "completed stops",
            record(CheckoutStatus::Completed, Some("a@b.co")),
            vec![],
            none.clone(),
            Duration::hours(2),
            Decision::Stop {
                reason: StopReason::Completed,
            },
        ),
        (
            "deleted stops",
            record(CheckoutStatus::Deleted, Some("a@b.co")),
            vec![],
            none.clone(),
            Duration::hours(2),
            Decision::Stop {
                reason: StopReason::Deleted,
            },
        ),
        (
            "no email stops",
            record(CheckoutStatus::Open, None),
            vec![],
            none.clone(),
            Duration::hours(2),
            Decision::Stop {
                reason: StopReason::NoContact,
            },
        ),
        (
            "unsubscribed stops",
            open(),
            vec![],
            suppressed(),
            Duration::hours(2),
            Decision::Stop {
                reason: StopReason::Unsubscribed,
            },
        ),
        (
            "too early waits",
            open(),
            vec![],
            none.clone(),
            Duration::minutes(10),
            Decision::Wait {
                until: t0() + Duration::hours(1),
                step: 0,
                reason: WaitReason::NotYetDue,
            },
        ),
        (
            "due sends step 0",
            open(),
            vec![],
            none.clone(),
            Duration::hours(1),
            Decision::Send {
                step: 0,
                channel: Channel::Email,
                template: "reminder".into(),
            },
        ),
        (
            "after step 0 waits for step 1",
            open(),
            vec![sent(0)],
            none.clone(),
            Duration::hours(2),
            Decision::Wait {
                until: t0() + Duration::hours(24),
                step: 1,
                reason: WaitReason::NotYetDue,
            },
        ),
        (
            "step 1 due",
            open(),
            vec![sent(0)],
            none.clone(),
            Duration::hours(25),
            Decision::Send {
                step: 1,
                channel: Channel::Email,
                template: "follow_up".into(),
            },
        ),
        (
            "all sent",
            open(),
            vec![sent(0), sent(1), sent(2)],
            none.clone(),
            Duration::hours(80),
            Decision::Stop {
                reason: StopReason::SequenceComplete,
            },
        ),
        (
            "too old",
            open(),
            vec![],
            none.clone(),
            Duration::days(15),
            Decision::Stop {
                reason: StopReason::Expired,
            },
        ),
    ];
    for (name, record, history, contact, after, expected) in cases {
        assert_eq!(
            decide(&record, &history, &contact, &s, t0() + after),
            expected,
            "{name}"
        );
    }
}

#[test]
fn disabled_steps_are_skipped() {
    let mut s = RecoverySettings::default();
    s.steps[0].enabled = false;
    let decision = decide(
        &record(CheckoutStatus::Open, Some("a@b.co")),
        &[],
        &ContactState::default(),
        &s,
        t0() + Duration::hours(2),
    );
    assert_eq!(
        decision,
        Decision::Wait {
            until: t0() + Duration::hours(24),
            step: 1,
            reason: WaitReason::NotYetDue
        }
    );
}

#[test]
fn newer_activity_pushes_the_step_back() {
    let mut r = record(CheckoutStatus::Open, Some("a@b.co"));
    r.last_activity_at = t0() + Duration::minutes(50);
    let decision = decide(
        &r,
        &[],
        &ContactState::default(),
        &RecoverySettings::default(),
        t0() + Duration::hours(1),
    );
    assert_eq!(
        decision,
        Decision::Wait {
            until: t0() + Duration::minutes(110),
            step: 0,
            reason: WaitReason::NotYetDue
        }
    );
}

#[test]
fn settings_validation_names_every_field() {
    let json = r#"{"steps":[{"name":"a","delay":"2h"},{"name":"","delay":"1h"},{"name":"c","delay":"soon","template":"nope"}],"attribution_window":"0s"}"#;
    let errors = RecoverySettings::from_json(json).unwrap_err();
    let paths: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
    assert!(
        paths.contains(&"steps[1].delay: must be later than steps[0].delay".to_owned()),
        "{paths:?}"
    );
    assert!(
        paths.iter().any(|p| p.starts_with("steps[1].name")),
        "{paths:?}"
    );
    assert!(
        paths.iter().any(|p| p.starts_with("steps[2].delay")),
        "{paths:?}"
    );
    assert!(
        paths.iter().any(|p| p.starts_with("steps[2].template")),
        "{paths:?}"
    );
    assert!(
        paths.iter().any(|p| p.starts_with("attribution_window")),
        "{paths:?}"
    );
    assert!(RecoverySettings::default().validate().is_ok());
    assert!(
        RecoverySettings::from_json(r#"{"steps":[{"name":"x","delay":"1h","colour":"red"}]}"#)
            .is_err()
    );
}

fn any_status() -> impl Strategy<Value = CheckoutStatus> {
    prop_oneof![
        Just(CheckoutStatus::Open),
        Just(CheckoutStatus::Completed),
        Just(CheckoutStatus::Converted),
        Just(CheckoutStatus::Deleted)
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(10_000))]

    /// Never send after conversion (or completion, or deletion), never to a suppressed contact,
    /// never a step twice, never before the step is due.
    #[test]
    fn send_only_when_allowed(
        status in any_status(),
        has_email in any::<bool>(),
        is_suppressed in any::<bool>(),
        sent_steps in proptest::collection::btree_set(0u32..3, 0..=3),
        activity_after_minutes in 0i64..(5 * 24 * 60),
        now_after_minutes in 0i64..(20 * 24 * 60),
    ) {
        let mut r = record(status, has_email.then_some("a@b.co"));
        r.last_activity_at = t0() + Duration::minutes(activity_after_minutes);
        let history: Vec<_> = sent_steps.iter().copied().map(sent).collect();
        let contact = if is_suppressed { suppressed() } else { ContactState::default() };
        let settings = RecoverySettings::default();
        let now = t0() + Duration::minutes(now_after_minutes);
        if let Decision::Send { step, .. } = decide(&r, &history, &contact, &settings, now) {
            prop_assert_eq!(status, CheckoutStatus::Open);
            prop_assert!(has_email);
            prop_assert!(!is_suppressed);
            prop_assert!(!sent_steps.contains(&step));
            prop_assert!(now >= r.last_activity_at + settings.steps[step as usize].delay());
        }
    }

    /// A wait always points into the future, so a re-armed check cannot spin.
    #[test]
    fn waits_point_forward(now_after_minutes in 0i64..(3 * 24 * 60), sent_steps in proptest::collection::btree_set(0u32..3, 0..=3)) {
        let r = record(CheckoutStatus::Open, Some("a@b.co"));
        let history: Vec<_> = sent_steps.iter().copied().map(sent).collect();
        let now = t0() + Duration::minutes(now_after_minutes);
        if let Decision::Wait { until, .. } = decide(&r, &history, &ContactState::default(), &RecoverySettings::default(), now) {
            prop_assert!(until > now);
        }
    }
}
