//! Table tests and property tests for [`decide`](super::decide) and the settings.

use super::*;
use crate::model::*;
use chrono::{Duration, NaiveTime, TimeZone, Timelike};
use proptest::prelude::*;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 14, 0, 0).unwrap()
}

fn record(status: CheckoutStatus, email: Option<&str>) -> CheckoutRecord {
    let mut snapshot = sample_snapshot(t0());
    snapshot.contact.email = email.map(|e| Email::parse(e).unwrap());
    snapshot.contact.phone = None;
    let mut record = CheckoutRecord::new(ShopDomain::parse("s.myshopify.com").unwrap(), snapshot);
    record.status = status;
    record
}

fn open() -> CheckoutRecord {
    record(CheckoutStatus::Open, Some("a@b.co"))
}

fn sent(step: u32) -> MessageRecord {
    MessageRecord { sent_at: Some(t0()), ..MessageRecord::claimed(step, Channel::Email, t0()) }
}

fn suppressed() -> ContactState {
    ContactState {
        email_suppressed: Some(Suppression { reason: SuppressionReason::Unsubscribed, at: t0() }),
        ..ContactState::default()
    }
}

fn send(step: u32, template: &str) -> Decision {
    Decision::Send {
        step,
        channel: Channel::Email,
        template: template.into(),
        variant: CONTROL_VARIANT.into(),
        incentive: None,
    }
}

fn wait(after: Duration, step: u32, reason: WaitReason) -> Decision {
    Decision::Wait { until: t0() + after, step, reason }
}

#[test]
#[allow(clippy::type_complexity)] // a table: (name, record, history, contact, elapsed, expected)
fn decision_table() {
    let s = RecoverySettings::default();
    let none = ContactState::default();
    let mut no_consent = open();
    no_consent.snapshot.contact.accepts_email_marketing = false;
    let mut empty = open();
    empty.snapshot.line_items.clear();
    let cases: Vec<(&str, CheckoutRecord, Vec<MessageRecord>, ContactState, Duration, Decision)> = vec![
        (
            "converted stops",
            record(CheckoutStatus::Converted, Some("a@b.co")),
            vec![],
            none.clone(),
            Duration::hours(2),
            Decision::Stop { reason: StopReason::Converted },
        ),
        (
            "completed stops",
            record(CheckoutStatus::Completed, Some("a@b.co")),
            vec![],
            none.clone(),
            Duration::hours(2),
            Decision::Stop { reason: StopReason::Completed },
        ),
        (
            "deleted stops",
            record(CheckoutStatus::Deleted, Some("a@b.co")),
            vec![],
            none.clone(),
            Duration::hours(2),
            Decision::Stop { reason: StopReason::Deleted },
        ),
        (
            "no email stops",
            record(CheckoutStatus::Open, None),
            vec![],
            none.clone(),
            Duration::hours(2),
            Decision::Stop { reason: StopReason::NoContact },
        ),
        (
            "empty cart stops",
            empty,
            vec![],
            none.clone(),
            Duration::hours(2),
            Decision::Stop { reason: StopReason::EmptyCart },
        ),
        (
            "unsubscribed stops",
            open(),
            vec![],
            suppressed(),
            Duration::hours(2),
            Decision::Stop { reason: StopReason::Unsubscribed },
        ),
        (
            "no marketing consent stops",
            no_consent,
            vec![],
            none.clone(),
            Duration::hours(2),
            Decision::Stop { reason: StopReason::NoConsent },
        ),
        (
            "too early waits",
            open(),
            vec![],
            none.clone(),
            Duration::minutes(10),
            wait(Duration::hours(1), 0, WaitReason::NotYetDue),
        ),
        ("due sends step 0", open(), vec![], none.clone(), Duration::hours(1), send(0, "reminder")),
        (
            "after step 0 waits for step 1",
            open(),
            vec![sent(0)],
            none.clone(),
            Duration::hours(2),
            wait(Duration::hours(24), 1, WaitReason::NotYetDue),
        ),
        ("step 1 due", open(), vec![sent(0)], none.clone(), Duration::hours(25), send(1, "follow_up")),
        (
            "all sent",
            open(),
            vec![sent(0), sent(1), sent(2)],
            none.clone(),
            Duration::hours(80),
            Decision::Stop { reason: StopReason::SequenceComplete },
        ),
        ("too old", open(), vec![], none.clone(), Duration::days(15), Decision::Stop { reason: StopReason::Expired }),
    ];
    for (name, record, history, contact, after, expected) in cases {
        assert_eq!(decide(&record, &history, &contact, &s, t0() + after), expected, "{name}");
    }
}

#[test]
fn disabled_steps_are_skipped() {
    let mut s = RecoverySettings::default();
    s.steps[0].enabled = false;
    let decision = decide(&open(), &[], &ContactState::default(), &s, t0() + Duration::hours(2));
    assert_eq!(decision, wait(Duration::hours(24), 1, WaitReason::NotYetDue));
}

#[test]
fn newer_activity_pushes_the_step_back() {
    let mut r = open();
    r.last_activity_at = t0() + Duration::minutes(50);
    let decision = decide(&r, &[], &ContactState::default(), &RecoverySettings::default(), t0() + Duration::hours(1));
    assert_eq!(decision, wait(Duration::minutes(110), 0, WaitReason::NotYetDue));
}

#[test]
fn the_abandonment_cutoff_holds_back_an_early_first_step() {
    let mut s = RecoverySettings::default();
    s.steps[0].delay = Delay::known("20m");
    s.policies.abandonment_cutoff = Delay::known("45m");
    let decision = decide(&open(), &[], &ContactState::default(), &s, t0() + Duration::minutes(25));
    assert_eq!(decision, wait(Duration::minutes(45), 0, WaitReason::NotYetDue));
}

#[test]
fn each_condition_selects_its_step() {
    let base = open();
    let with = |f: &dyn Fn(&mut Conditions)| {
        let mut c = Conditions::default();
        f(&mut c);
        c
    };
    let mut returning = base.snapshot.clone();
    returning.customer_orders = Some(3);
    let mut mobile = base.snapshot.clone();
    mobile.device = Some(Device::Mobile);
    let mut discounted = base.snapshot.clone();
    discounted.discount_codes = vec!["TENOFF".into()];
    let cases: Vec<(&str, Conditions, &CheckoutSnapshot, bool)> = vec![
        ("no conditions", Conditions::default(), &base.snapshot, true),
        (
            "value in range",
            with(&|c| c.cart_value = Some(ValueRange { min: Some(3000), max: Some(5000) })),
            &base.snapshot,
            true,
        ),
        (
            "value below min",
            with(&|c| c.cart_value = Some(ValueRange { min: Some(5000), max: None })),
            &base.snapshot,
            false,
        ),
        (
            "value above max",
            with(&|c| c.cart_value = Some(ValueRange { min: None, max: Some(1000) })),
            &base.snapshot,
            false,
        ),
        (
            "country in",
            with(&|c| c.countries_in = vec![CountryCode::known("US"), CountryCode::known("CA")]),
            &base.snapshot,
            true,
        ),
        ("country not in list", with(&|c| c.countries_in = vec![CountryCode::known("DE")]), &base.snapshot, false),
        ("country excluded", with(&|c| c.countries_not_in = vec![CountryCode::known("US")]), &base.snapshot, false),
        ("new customer", with(&|c| c.customer = Some(CustomerKind::New)), &base.snapshot, true),
        ("returning wanted, new given", with(&|c| c.customer = Some(CustomerKind::Returning)), &base.snapshot, false),
        ("returning customer", with(&|c| c.customer = Some(CustomerKind::Returning)), &returning, true),
        ("stage reached", with(&|c| c.stage_reached = Some(CheckoutStage::Shipping)), &base.snapshot, true),
        ("stage not reached", with(&|c| c.stage_reached = Some(CheckoutStage::Payment)), &base.snapshot, false),
        ("contains product", with(&|c| c.contains_products = vec![2, 9]), &base.snapshot, true),
        ("lacks product", with(&|c| c.contains_products = vec![9]), &base.snapshot, false),
        ("device unknown", with(&|c| c.device = Some(Device::Mobile)), &base.snapshot, false),
        ("device mobile", with(&|c| c.device = Some(Device::Mobile)), &mobile, true),
        ("discount used wanted", with(&|c| c.discount_code_used = Some(true)), &discounted, true),
        ("discount used, none", with(&|c| c.discount_code_used = Some(true)), &base.snapshot, false),
        ("no discount wanted", with(&|c| c.discount_code_used = Some(false)), &base.snapshot, true),
    ];
    for (name, conditions, snapshot, expected) in cases {
        assert_eq!(conditions_hold(&conditions, snapshot), expected, "{name}");
    }
}

#[test]
fn a_step_whose_conditions_fail_is_skipped_and_never_revisited() {
    let mut s = RecoverySettings::default();
    s.steps[0].conditions.cart_value = Some(ValueRange { min: Some(100_000), max: None });
    let decision = decide(&open(), &[], &ContactState::default(), &s, t0() + Duration::hours(2));
    assert_eq!(decision, wait(Duration::hours(24), 1, WaitReason::NotYetDue));
    // Once step 1 is claimed, step 0 is never considered again even if it would match now.
    s.steps[0].conditions = Conditions::default();
    let decision = decide(&open(), &[sent(1)], &ContactState::default(), &s, t0() + Duration::hours(30));
    assert_eq!(decision, wait(Duration::hours(72), 2, WaitReason::NotYetDue));
}

#[test]
fn channels_fall_back_in_order_of_preference() {
    let mut s = RecoverySettings::default();
    s.steps[0].channels = vec![Channel::Sms, Channel::Email];
    let mut r = open();
    r.snapshot.contact.phone = PhoneE164::parse("+12125550142", None).ok().map(Into::into);
    let all = [Channel::Email, Channel::Sms, Channel::Push];
    let at = t0() + Duration::hours(1);
    let channel = |r: &CheckoutRecord, contact: &ContactState, deliverable: &[Channel]| match decide_with(
        r,
        &[],
        contact,
        &s,
        at,
        deliverable,
    ) {
        Decision::Send { channel, .. } => Some(channel),
        _ => None,
    };
    assert_eq!(channel(&r, &ContactState::default(), &all), Some(Channel::Email), "no SMS consent: email");
    r.snapshot.contact.accepts_sms_marketing = true;
    assert_eq!(channel(&r, &ContactState::default(), &all), Some(Channel::Sms));
    assert_eq!(
        channel(&r, &ContactState::default(), &[Channel::Email]),
        Some(Channel::Email),
        "SMS not deliverable: email"
    );
    let stopped_sms = ContactState { sms_suppressed: suppressed().email_suppressed, ..ContactState::default() };
    assert_eq!(channel(&r, &stopped_sms, &all), Some(Channel::Email), "SMS STOPped: email");
    s.steps[0].channels = vec![Channel::Push];
    assert_eq!(
        decide_with(&r, &[], &ContactState::default(), &s, at, &all),
        Decision::Stop { reason: StopReason::NoContact }
    );
}

#[test]
fn quiet_hours_move_a_send_to_local_morning_in_each_zone() {
    let mut s = RecoverySettings::default();
    s.policies.quiet_hours = Some(QuietHours::known("21:00", "08:00"));
    // 02:00 UTC: 21:00 in New York (quiet starts), 03:00 in Berlin (quiet).
    let abandoned = Utc.with_ymd_and_hms(2026, 3, 2, 1, 0, 0).unwrap();
    for (country, province, expected_utc_hour) in [("US", "NY", 13), ("DE", "BE", 7)] {
        let mut r = open();
        r.snapshot.region = Region { country_code: Some(country.into()), province_code: Some(province.into()) };
        r.last_activity_at = abandoned;
        r.snapshot.created_at = abandoned;
        let decision = decide(&r, &[], &ContactState::default(), &s, abandoned + Duration::minutes(10));
        let Decision::Wait { until, step: 0, reason: WaitReason::QuietHours } = decision else {
            panic!("{country}: {decision:?}")
        };
        assert_eq!(until.hour(), expected_utc_hour, "{country}");
        let local = until.with_timezone(&recipient_timezone(&r, &s));
        assert_eq!(local.time(), NaiveTime::from_hms_opt(8, 0, 0).unwrap(), "{country}");
        assert!(matches!(decide(&r, &[], &ContactState::default(), &s, until), Decision::Send { step: 0, .. }));
    }
}

#[test]
fn the_frequency_cap_waits_for_the_oldest_send_to_leave_the_window() {
    let mut s = RecoverySettings::default();
    s.policies.frequency_cap = Some(FrequencyCap { max_messages: 2, per: Delay::known("24h") });
    let mut contact = ContactState::default();
    contact.record_send(t0() - Duration::hours(20), false);
    contact.record_send(t0() - Duration::hours(2), false);
    let decision = decide(&open(), &[], &contact, &s, t0() + Duration::hours(1));
    assert_eq!(decision, wait(Duration::hours(4), 0, WaitReason::FrequencyCap));
}

#[test]
fn holdout_is_stable_and_near_its_share() {
    let mut s = RecoverySettings::default();
    s.policies.holdout_percent = 10;
    let held: Vec<bool> = (0..10_000)
        .map(|i| {
            let mut r = open();
            r.snapshot.token = CheckoutToken::new(format!("chk-{i}")).unwrap();
            in_holdout(&r, &s)
        })
        .collect();
    let share = held.iter().filter(|h| **h).count();
    assert!((800..1200).contains(&share), "{share} of 10000");
    let mut r = open();
    r.snapshot.token = CheckoutToken::new("chk-7").unwrap();
    assert_eq!(in_holdout(&r, &s), held[7]);
    let decision = decide(&r, &[], &ContactState::default(), &s, t0() + Duration::hours(2));
    assert_eq!(matches!(decision, Decision::Stop { reason: StopReason::Holdout }), held[7]);
}

#[test]
fn variants_are_stable_and_follow_their_weights() {
    let mut step = StepSettings::email("s", "1h", "reminder");
    step.variants = vec![
        Variant { name: "A".into(), weight: 3, email_template: None },
        Variant { name: "B".into(), weight: 1, email_template: Some(EmailTemplate::known("follow_up")) },
    ];
    let mut a = 0;
    for i in 0..4000 {
        let mut r = open();
        r.snapshot.token = CheckoutToken::new(format!("chk-{i}")).unwrap();
        let (name, template) = variant_of(&r, 0, &step);
        assert_eq!(variant_of(&r, 0, &step), (name, template), "stable");
        if name == "A" {
            a += 1;
            assert_eq!(template, "reminder");
        } else {
            assert_eq!((name, template), ("B", "follow_up"));
        }
    }
    assert!((2800..3200).contains(&a), "{a}");
}

#[test]
fn incentives_follow_the_policy() {
    let mut s = RecoverySettings::default();
    s.policies.incentives = IncentivePolicy {
        not_before_step: 2,
        min_cart_value: 3000,
        max_percent: 15,
        once_per_contact_days: 30,
        ..IncentivePolicy::default()
    };
    let mut step = s.steps[1].clone();
    step.incentive = Some(IncentiveOffer { percent: 10 });
    let r = open();
    let now = t0() + Duration::days(1);
    let fresh = ContactState::default();
    assert_eq!(incentive_for(1, &step, &r, &fresh, &s, now), Some(Incentive { percent: 10 }));
    assert_eq!(incentive_for(0, &step, &r, &fresh, &s, now), None, "before step 2");
    let mut cheap = open();
    cheap.snapshot.total.minor = 2000;
    assert_eq!(incentive_for(1, &step, &cheap, &fresh, &s, now), None, "cart below minimum");
    let recent = ContactState { last_incentive_at: Some(now - Duration::days(10)), ..ContactState::default() };
    assert_eq!(incentive_for(1, &step, &r, &recent, &s, now), None, "one per contact per 30 days");
    let mut greedy = step.clone();
    greedy.incentive = Some(IncentiveOffer { percent: 40 });
    assert_eq!(incentive_for(1, &greedy, &r, &fresh, &s, now), None, "over the maximum percent");
}

#[test]
fn settings_validation_names_every_field() {
    let json = r#"{"timezone":"Mars/Olympus","steps":[
        {"name":"a","delay":"2h","channels":["email","email"]},
        {"name":"","delay":"1h","incentive":{"percent":60}},
        {"name":"c","delay":"soon","templates":{"email":"nope"},"variants":[{"name":"x","weight":0}],
         "conditions":{"countries_in":["usa"],"cart_value":{"min":500,"max":100}}}],
        "policies":{"attribution_window":"0s","quiet_hours":{"start":"25:00","end":"08:00"},"holdout_percent":80}}"#;
    let errors = RecoverySettings::from_json(json).unwrap_err();
    let messages: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
    for expected in [
        "timezone:",
        "steps[0].channels[1]:",
        "steps[1].delay: must be later than steps[0].delay",
        "steps[1].name:",
        "steps[1].incentive.percent:",
        "steps[2].delay:",
        "steps[2].templates.email:",
        "steps[2].variants[0].weight:",
        "steps[2].conditions.countries_in[0]:",
        "steps[2].conditions.cart_value.max:",
        "policies.attribution_window:",
        "policies.quiet_hours.start:",
        "policies.holdout_percent:",
    ] {
        assert!(messages.iter().any(|m| m.starts_with(expected)), "{expected} missing from {messages:#?}");
    }
    assert!(RecoverySettings::default().validate().is_ok());
}

#[test]
fn the_placeholder_for_unparsed_values_cannot_be_sent_in() {
    let json = "{\"steps\":[{\"name\":\"x\",\"delay\":\"\\u0000reclaim:unparsed\"}]}";
    let errors = RecoverySettings::from_json(json).unwrap_err();
    assert_eq!(errors.iter().map(|e| e.path.as_str()).collect::<Vec<_>>(), ["steps[0].delay"], "{errors:?}");
    assert!(serde_json::from_str::<RecoverySettings>(json).is_err(), "nor read back from storage");
}

#[test]
fn settings_read_back_exactly_as_written() {
    let json = r#"{"timezone":"Europe/Berlin","steps":[{"name":"a","delay":"90m","conditions":{"countries_in":["DE"]}}],
        "policies":{"quiet_hours":{"start":"21:30","end":"07:00"},"frequency_cap":{"max_messages":2,"per":"2days"}}}"#;
    let settings = RecoverySettings::from_json(json).unwrap();
    assert_eq!(settings.steps[0].delay(), Duration::minutes(90));
    assert_eq!(settings.shop_timezone(), chrono_tz::Europe::Berlin);
    let written = serde_json::to_value(&settings).unwrap();
    assert_eq!(written["steps"][0]["delay"], "90m");
    assert_eq!(written["policies"]["quiet_hours"], serde_json::json!({"start": "21:30", "end": "07:00"}));
    assert_eq!(written["steps"][0]["conditions"]["countries_in"], serde_json::json!(["DE"]));
    assert_eq!(RecoverySettings::from_json(&written.to_string()).unwrap(), settings);
}

#[test]
fn unknown_or_mistyped_fields_name_their_path() {
    let errors = RecoverySettings::from_json(r#"{"steps":[{"name":"x","delay":"1h","colour":"red"}]}"#).unwrap_err();
    assert_eq!(errors[0].path, "steps[0].colour");
    let errors =
        RecoverySettings::from_json(r#"{"steps":[{"name":"x","delay":"1h"}],"policies":{"holdout_percent":"ten"}}"#)
            .unwrap_err();
    assert_eq!(errors[0].path, "policies.holdout_percent");
}

/// One generated situation: a checkout, what was claimed, the contact, the settings and the time.
#[derive(Debug, Clone)]
struct Case {
    record: CheckoutRecord,
    history: Vec<MessageRecord>,
    contact: ContactState,
    settings: RecoverySettings,
    now: DateTime<Utc>,
    /// The channels deliverable now (email paused, SMS budget spent: fewer).
    channels: Vec<Channel>,
}

fn any_status() -> impl Strategy<Value = CheckoutStatus> {
    prop_oneof![
        6 => Just(CheckoutStatus::Open),
        1 => Just(CheckoutStatus::Completed),
        1 => Just(CheckoutStatus::Converted),
        1 => Just(CheckoutStatus::Deleted)
    ]
}

fn any_settings() -> impl Strategy<Value = RecoverySettings> {
    let countries = || proptest::sample::subsequence(vec!["US", "DE", "JP", "CA"], 0..=2);
    let conditions = (
        proptest::option::of((proptest::option::of(0i64..10_000), proptest::option::of(5_000i64..20_000))),
        countries(),
        countries(),
        proptest::option::of(prop_oneof![Just(CustomerKind::New), Just(CustomerKind::Returning)]),
    )
        .prop_map(|(value, countries_in, countries_not_in, customer)| Conditions {
            cart_value: value.map(|(min, max)| ValueRange { min, max }),
            countries_in: countries_in.into_iter().map(CountryCode::known).collect(),
            countries_not_in: countries_not_in.into_iter().map(CountryCode::known).collect(),
            customer,
            ..Conditions::default()
        });
    let variants = proptest::collection::vec(1u32..5, 0..=3);
    let steps = proptest::collection::vec(
        (
            1i64..48 * 60,
            proptest::sample::subsequence(vec![Channel::Sms, Channel::Email, Channel::Push], 1..=3),
            proptest::option::of(1u8..60),
            proptest::option::weighted(0.3, conditions),
            variants,
        ),
        1..=5,
    );
    let hours = (0u32..24, 0u32..24).prop_filter("start differs from end", |(a, b)| a != b);
    let quiet = (proptest::option::of(hours.clone()), hours);
    let cap = proptest::option::of((1u32..4, 1i64..48));
    (steps, quiet, cap, 0u8..=50, any::<bool>(), (1u32..5, 0i64..6000, 0u8..60, 0u32..60)).prop_map(
        |(steps, (quiet, text_quiet), cap, holdout, any_contact, (not_before, min_value, max_percent, once_per))| {
            let hours =
                |(start, end): (u32, u32)| QuietHours::known(&format!("{start:02}:00"), &format!("{end:02}:00"));
            let mut minutes = 0;
            let steps = steps
                .into_iter()
                .enumerate()
                .map(|(i, (gap, channels, incentive, conditions, weights))| {
                    minutes += gap;
                    let mut step = StepSettings::email(&format!("step {i}"), &format!("{minutes}m"), "reminder");
                    step.channels = channels;
                    step.incentive = incentive.map(|percent| IncentiveOffer { percent });
                    step.conditions = conditions.unwrap_or_default();
                    step.variants = weights
                        .into_iter()
                        .enumerate()
                        .map(|(v, weight)| Variant {
                            name: format!("v{v}"),
                            weight,
                            email_template: (v == 1).then(|| EmailTemplate::known("follow_up")),
                        })
                        .collect();
                    step
                })
                .collect();
            RecoverySettings {
                timezone: ShopZone::known("Europe/Paris"),
                steps,
                policies: Policies {
                    abandonment_cutoff: Delay::known("15m"),
                    quiet_hours: quiet.map(hours),
                    text_quiet_hours: hours(text_quiet),
                    frequency_cap: cap.map(|(max, hours)| FrequencyCap {
                        max_messages: max,
                        per: Delay::known(&format!("{hours}h")),
                    }),
                    email_consent: if any_contact { EmailConsent::AnyContact } else { EmailConsent::MarketingOnly },
                    max_sequence_age: Delay::known("14days"),
                    holdout_percent: holdout,
                    attribution_window: Delay::known("5days"),
                    incentives: IncentivePolicy {
                        not_before_step: not_before,
                        min_cart_value: min_value,
                        max_percent,
                        once_per_contact_days: once_per,
                        ..IncentivePolicy::default()
                    },
                },
                storefront: StorefrontSettings::default(),
                sms: Default::default(),
            }
        },
    )
}

fn any_case() -> impl Strategy<Value = Case> {
    let regions = prop_oneof![
        Just(Region { country_code: Some("US".into()), province_code: Some("NY".into()) }),
        Just(Region { country_code: Some("US".into()), province_code: Some("CA".into()) }),
        Just(Region { country_code: Some("DE".into()), province_code: None }),
        Just(Region { country_code: Some("JP".into()), province_code: None }),
        Just(Region::default()),
    ];
    let contact_flags = (any::<bool>(), any::<bool>(), any::<bool>(), any::<bool>());
    let suppression = (any::<bool>(), any::<bool>(), any::<bool>(), any::<bool>(), any::<bool>());
    let sends = proptest::collection::vec(0i64..(6 * 24 * 60), 0..6);
    (
        (any_status(), "[a-z0-9]{4,12}", regions, contact_flags, 0i64..(3 * 24 * 60), 500i64..20_000),
        proptest::collection::btree_set(0u32..5, 0..=3),
        (suppression, sends, proptest::option::of(0i64..(60 * 24 * 60))),
        any_settings(),
        (0i64..(16 * 24 * 60), proptest::sample::subsequence(ALL_CHANNELS.to_vec(), 1..=3)),
    )
        .prop_map(
            |(
                (status, token, region, (email, phone, email_ok, sms_ok), activity, total),
                claimed,
                ((no_email, no_sms, no_push, device, sms_consent), sends, incentive),
                settings,
                (now, channels),
            )| {
                let mut snapshot = sample_snapshot(t0());
                snapshot.token = CheckoutToken::new(token).unwrap();
                snapshot.region = region;
                snapshot.total.minor = total;
                snapshot.contact.email = email.then(|| Email::parse("a@b.co").unwrap());
                snapshot.contact.phone = phone.then(|| PhoneE164::parse("+12125550142", None).unwrap().into());
                snapshot.contact.accepts_email_marketing = email_ok;
                snapshot.contact.accepts_sms_marketing = sms_ok;
                let mut record = CheckoutRecord::new(ShopDomain::parse("s.myshopify.com").unwrap(), snapshot);
                record.status = status;
                record.last_activity_at = t0() + Duration::minutes(activity);
                let suppression = Some(Suppression { reason: SuppressionReason::Unsubscribed, at: t0() });
                let now = t0() + Duration::minutes(now);
                let mut contact = ContactState {
                    email_suppressed: if no_email { suppression.clone() } else { None },
                    sms_suppressed: if no_sms { suppression.clone() } else { None },
                    push_suppressed: if no_push { suppression } else { None },
                    sms_consent: sms_consent.then(|| ConsentEvidence {
                        source: "customers/update".into(),
                        at: t0(),
                        text: "single_opt_in".into(),
                        page: None,
                    }),
                    push_endpoints: if device {
                        vec![PushEndpoint {
                            arn: "arn:endpoint".into(),
                            platform: PushPlatform::Apns,
                            registered_at: t0(),
                        }]
                    } else {
                        Vec::new()
                    },
                    last_incentive_at: incentive.map(|m| now - Duration::minutes(m)),
                    ..ContactState::default()
                };
                for minutes in sends {
                    contact.record_send(now - Duration::minutes(minutes), false);
                }
                Case { record, history: claimed.into_iter().map(sent).collect(), contact, settings, now, channels }
            },
        )
}

const ALL_CHANNELS: &[Channel] = &[Channel::Email, Channel::Sms, Channel::Push];

impl Case {
    /// The decision on the channels available now.
    fn decision(&self) -> Decision {
        decide_with(&self.record, &self.history, &self.contact, &self.settings, self.now, &self.channels)
    }

    /// The decision if it is a send: (step, channel, incentive).
    fn send(&self) -> Option<(u32, Channel, Option<Incentive>)> {
        match self.decision() {
            Decision::Send { step, channel, incentive, .. } => Some((step, channel, incentive)),
            _ => None,
        }
    }
}

/// A step's conditions, by rules written apart from `conditions_hold` (for the fields generated).
fn oracle_conditions_hold(conditions: &Conditions, checkout: &CheckoutSnapshot) -> bool {
    let total = checkout.total.minor;
    let country = checkout.region.country_code.clone().unwrap_or_default();
    let orders = checkout.customer_orders.unwrap_or(0);
    let listed = |codes: &[CountryCode]| codes.iter().any(|code| code.as_str() == country);
    conditions.cart_value.as_ref().is_none_or(|r| r.min.is_none_or(|m| total >= m) && r.max.is_none_or(|m| total <= m))
        && (conditions.countries_in.is_empty() || listed(&conditions.countries_in))
        && !listed(&conditions.countries_not_in)
        && match conditions.customer {
            None => true,
            Some(CustomerKind::New) => orders == 0,
            Some(CustomerKind::Returning) => orders > 0,
        }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(10_000))]

    #[test]
    fn never_send_after_conversion(case in any_case()) {
        if case.send().is_some() {
            prop_assert_eq!(case.record.status, CheckoutStatus::Open);
        }
    }

    #[test]
    fn never_send_to_a_suppressed_contact(case in any_case()) {
        if let Some((_, channel, _)) = case.send() {
            prop_assert!(!case.contact.is_suppressed(channel));
        }
    }

    #[test]
    fn never_send_inside_quiet_hours(case in any_case()) {
        if let (Some(_), Some(quiet)) = (case.send(), &case.settings.policies.quiet_hours) {
            let local = case.now.with_timezone(&recipient_timezone(&case.record, &case.settings));
            prop_assert!(!quiet.contains(local.time()), "sent at local {}", local);
        }
    }

    #[test]
    fn never_send_a_step_twice_or_before_it_is_due(case in any_case()) {
        if let Some((step, _, _)) = case.send() {
            prop_assert!(!already_claimed(&case.history, step));
            prop_assert!(case.now >= case.record.last_activity_at + case.settings.steps[step as usize].delay());
        }
    }

    #[test]
    fn never_send_beyond_the_cap(case in any_case()) {
        if let (Some(_), Some(cap)) = (case.send(), &case.settings.policies.frequency_cap) {
            let window = cap.per.duration();
            let recent = case.contact.recent_sends.iter().filter(|s| **s > case.now - window && **s <= case.now).count();
            prop_assert!(recent < cap.max_messages as usize);
        }
    }

    #[test]
    fn never_text_or_push_inside_text_quiet_hours(case in any_case()) {
        if let Some((_, Channel::Sms | Channel::Push, _)) = case.send() {
            let local = case.now.with_timezone(&recipient_timezone(&case.record, &case.settings));
            prop_assert!(!case.settings.policies.text_quiet_hours.contains(local.time()), "texted at local {}", local);
        }
    }

    #[test]
    fn never_sms_without_sms_consent(case in any_case()) {
        if let Some((_, Channel::Sms, _)) = case.send() {
            prop_assert!(case.record.snapshot.contact.accepts_sms_marketing || case.contact.sms_consent.is_some());
            prop_assert!(case.record.snapshot.contact.phone_e164().is_some());
        }
    }

    #[test]
    fn never_push_without_a_registered_device(case in any_case()) {
        if let Some((_, Channel::Push, _)) = case.send() {
            prop_assert!(!case.contact.push_endpoints.is_empty());
        }
    }

    #[test]
    fn never_send_to_a_holdout_cart(case in any_case()) {
        if case.send().is_some() {
            prop_assert!(!in_holdout(&case.record, &case.settings));
        }
    }

    #[test]
    fn never_an_incentive_outside_policy(case in any_case()) {
        if let Some((step, _, Some(incentive))) = case.send() {
            let policy = &case.settings.policies.incentives;
            prop_assert!(step + 1 >= policy.not_before_step);
            prop_assert!(case.record.snapshot.total.minor >= policy.min_cart_value);
            prop_assert!(incentive.percent <= policy.max_percent);
            let once = Duration::days(i64::from(policy.once_per_contact_days));
            prop_assert!(case.contact.last_incentive_at.is_none_or(|last| case.now - last >= once));
        }
    }

    /// Only a channel that is deliverable now is used (fewer when email is paused or the SMS
    /// budget is spent).
    #[test]
    fn never_a_channel_that_is_out(case in any_case()) {
        if let Some((_, channel, _)) = case.send() {
            prop_assert!(case.channels.contains(&channel), "{:?} not in {:?}", channel, case.channels);
        }
    }

    /// A step goes only to carts its conditions select, and with one of its own variants.
    #[test]
    fn a_sent_step_meets_its_conditions_and_uses_its_variants(case in any_case()) {
        if let Decision::Send { step, variant, template, channel, .. } = case.decision() {
            let settings = &case.settings.steps[step as usize];
            prop_assert!(oracle_conditions_hold(&settings.conditions, &case.record.snapshot));
            if settings.variants.is_empty() {
                prop_assert_eq!(variant.as_str(), CONTROL_VARIANT);
            } else {
                let chosen = settings.variants.iter().find(|v| v.name == variant);
                prop_assert!(chosen.is_some(), "{} is not a variant of step {}", variant, step);
                if channel == Channel::Email {
                    let expected = chosen.and_then(|v| v.email_template.clone()).unwrap_or(settings.templates.email.clone());
                    prop_assert_eq!(template.as_str(), expected.as_str());
                }
            }
        }
    }

    /// A wait always points into the future, so a re-armed check cannot spin.
    #[test]
    fn waits_point_forward(case in any_case()) {
        if let Decision::Wait { until, .. } = case.decision() {
            prop_assert!(until > case.now);
        }
    }
}

/// Regions whose zones are known here independently of `recipient_timezone`'s tables, including
/// half-hour offsets (India, Newfoundland, South Australia) and zones with an autumn clock change.
const ZONES: &[(&str, Option<&str>, chrono_tz::Tz)] = &[
    ("US", Some("NY"), chrono_tz::America::New_York),
    ("DE", None, chrono_tz::Europe::Berlin),
    ("IN", None, chrono_tz::Asia::Kolkata),
    ("CA", Some("NL"), chrono_tz::America::St_Johns),
    ("AU", Some("SA"), chrono_tz::Australia::Adelaide),
    ("JP", None, chrono_tz::Asia::Tokyo),
];

/// Autumn clock changes of those zones in 2026 (UTC), where a local hour happens twice.
fn autumn_changes() -> [DateTime<Utc>; 4] {
    [
        Utc.with_ymd_and_hms(2026, 11, 1, 6, 0, 0).unwrap(), // New York, 02:00 EDT -> 01:00 EST
        Utc.with_ymd_and_hms(2026, 10, 25, 1, 0, 0).unwrap(), // Berlin, 03:00 CEST -> 02:00 CET
        Utc.with_ymd_and_hms(2026, 11, 1, 4, 30, 0).unwrap(), // St. John's, 02:00 NDT -> 01:00 NST
        Utc.with_ymd_and_hms(2026, 4, 4, 16, 30, 0).unwrap(), // Adelaide, 03:00 ACDT -> 02:00 ACST
    ]
}

/// A case where every guard but the clock is satisfied: open, an email with marketing consent,
/// nothing suppressed, nothing claimed, no holdout, no cap, one email step.
#[derive(Debug)]
struct DueCase {
    record: CheckoutRecord,
    settings: RecoverySettings,
    zone: chrono_tz::Tz,
    due: DateTime<Utc>,
}

fn due_case() -> impl Strategy<Value = DueCase> {
    let delays = prop_oneof![Just("15m"), Just("1h"), Just("4h"), Just("1day")];
    let activity = prop_oneof![
        (0usize..4, -180i64 * 60..180 * 60).prop_map(|(i, s)| autumn_changes()[i] + Duration::seconds(s)),
        (0i64..(400 * 24 * 3600))
            .prop_map(|s| Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap() + Duration::seconds(s)),
    ];
    (0..ZONES.len(), delays, activity).prop_map(|(zone, delay, activity)| {
        let (country, province, tz) = ZONES[zone];
        let mut snapshot = sample_snapshot(activity);
        snapshot.region = Region { country_code: Some(country.into()), province_code: province.map(str::to_owned) };
        snapshot.contact.phone = None;
        let record = CheckoutRecord::new(ShopDomain::parse("s.myshopify.com").unwrap(), snapshot);
        let mut settings = RecoverySettings {
            steps: vec![StepSettings::email("first", delay, "reminder")],
            ..RecoverySettings::default()
        };
        settings.policies.quiet_hours = None;
        settings.policies.frequency_cap = None;
        settings.policies.holdout_percent = 0;
        let due = activity + settings.steps[0].delay();
        DueCase { record, settings, zone: tz, due }
    })
}

/// Found by the oracle property: in New York's autumn fold, quiet hours ending at 01:30 must end
/// at the *second* 01:30 (EST) for a check at 01:20 EST; the first (EDT) lies in the past.
#[test]
fn quiet_hours_ending_inside_the_autumn_fold_end_after_the_check() {
    let quiet = QuietHours::known("04:00", "01:30");
    let at = Utc.with_ymd_and_hms(2026, 11, 1, 6, 20, 28).unwrap(); // 01:20:28 EST, the second time
    let end = after_quiet_hours(at, &quiet, chrono_tz::America::New_York);
    assert_eq!(end, Utc.with_ymd_and_hms(2026, 11, 1, 6, 30, 0).unwrap(), "01:30 EST");
}

/// Quiet hours as minutes of the local day, by a rule written apart from `QuietHours::contains`.
fn oracle_is_quiet(start_minute: u32, end_minute: u32, local_minute: u32) -> bool {
    if start_minute < end_minute {
        (start_minute..end_minute).contains(&local_minute)
    } else {
        local_minute >= start_minute || local_minute < end_minute
    }
}

fn hh_mm(minute: u32) -> String {
    format!("{:02}:{:02}", minute / 60, minute % 60)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4_000))]

    /// Liveness: the "never" properties above all hold for a `decide` that never sends; this one
    /// does not. Due (to the second, or later), every guard satisfied: it sends the first step by
    /// email. One second early: it does not.
    #[test]
    fn a_due_case_with_every_guard_satisfied_sends(case in due_case(), late in prop_oneof![Just(0i64), Just(1), 2i64..(6 * 3600)]) {
        let now = case.due + Duration::seconds(late);
        let decision = decide(&case.record, &[], &ContactState::default(), &case.settings, now);
        prop_assert!(matches!(decision, Decision::Send { step: 0, channel: Channel::Email, .. }), "{decision:?} at {now}");
        let early = decide(&case.record, &[], &ContactState::default(), &case.settings, case.due - Duration::seconds(1));
        prop_assert!(matches!(early, Decision::Wait { .. }), "one second early: {early:?}");
    }

    /// The recipient's zone is the one its region says, half-hour offsets included.
    #[test]
    fn the_recipient_zone_is_the_regions(case in due_case()) {
        prop_assert_eq!(recipient_timezone(&case.record, &case.settings), case.zone);
    }

    /// Quiet hours, checked against an independent oracle on the local clock (around autumn clock
    /// changes too): a due case sends exactly when the oracle says the local time is not quiet,
    /// and a wait ends when the window does.
    #[test]
    fn quiet_hours_agree_with_an_independent_oracle(
        case in due_case(),
        start in (0u32..48).prop_map(|h| h * 30),
        length in (1u32..47).prop_map(|h| h * 30),
        late in 0i64..(2 * 24 * 3600),
    ) {
        let end = (start + length) % (24 * 60);
        let mut settings = case.settings.clone();
        settings.policies.quiet_hours = Some(QuietHours::known(&hh_mm(start), &hh_mm(end)));
        let now = case.due + Duration::seconds(late);
        let local = now.with_timezone(&case.zone);
        let quiet = oracle_is_quiet(start, end, local.hour() * 60 + local.minute());
        match decide(&case.record, &[], &ContactState::default(), &settings, now) {
            Decision::Send { .. } => prop_assert!(!quiet, "sent at local {}", local),
            Decision::Wait { until, .. } => {
                prop_assert!(quiet, "held at local {} outside quiet hours {}-{}", local, hh_mm(start), hh_mm(end));
                let resumes = until.with_timezone(&case.zone);
                prop_assert!(!oracle_is_quiet(start, end, resumes.hour() * 60 + resumes.minute()), "resumes at local {}", resumes);
                prop_assert!(until > now);
            }
            other => prop_assert!(false, "{:?}", other),
        }
    }
}

#[test]
fn a_steps_copy_is_checked_field_by_field_with_its_path_and_reads_back_as_written() {
    let json = r#"{"steps":[{"name":"x","delay":"1h","copy":{
        "email":{"de":{"subject":"Hallo {{ first_name }}","body":"{{ order_id }}"}},
        "sms":{"en":{"subject":"not an SMS field"},"xx":{"text":"hi"}},
        "push":{"fr":{"title":"{{ shop_name }}","text":"no"}}}}]}"#;
    let errors = RecoverySettings::from_json(json).unwrap_err();
    let paths: Vec<&str> = errors.iter().map(|e| e.path.as_str()).collect();
    assert!(paths.contains(&"steps[0].copy.email.de.body"), "{errors:?}");
    assert!(paths.contains(&"steps[0].copy.sms.xx"), "an unknown language: {errors:?}");
    let fine = r#"{"steps":[{"name":"x","delay":"1h","copy":{
        "sms":{"en":{"subject":"not an SMS field"}},"push":{"fr":{"title":"{{ shop_name }}","text":"no"}}}}]}"#;
    let errors = RecoverySettings::from_json(fine).unwrap_err();
    let paths: Vec<&str> = errors.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(paths, ["steps[0].copy.sms.en.subject", "steps[0].copy.push.fr.text"], "{errors:?}");
    assert!(errors[0].reason.contains("it has text"), "{errors:?}");
    let good = r#"{"steps":[{"name":"x","delay":"1h","copy":{"email":{"de":{"subject":"Hallo {{ first_name }}"}}}}]}"#;
    let settings = RecoverySettings::from_json(good).unwrap();
    let written = serde_json::to_value(&settings).unwrap();
    assert_eq!(
        written["steps"][0]["copy"],
        serde_json::json!({"email": {"de": {"subject": "Hallo {{ first_name }}"}}})
    );
    assert!(RecoverySettings::from_json(r#"{"steps":[{"name":"x","delay":"1h"}]}"#).unwrap().steps[0].copy.is_empty());
}

#[test]
fn a_steps_own_email_copy_and_ab_variants_of_email_templates_do_not_mix() {
    let json = r#"{"steps":[{"name":"x","delay":"1h",
        "variants":[{"name":"A","weight":1},{"name":"B","weight":1,"email_template":"follow_up"}],
        "copy":{"email":{"en":{"subject":"Hello"}}}}]}"#;
    let errors = RecoverySettings::from_json(json).unwrap_err();
    assert_eq!(errors.iter().map(|e| e.path.as_str()).collect::<Vec<_>>(), ["steps[0].copy.email"], "{errors:?}");
    // SMS copy, or variants without templates, are fine.
    let fine = r#"{"steps":[{"name":"x","delay":"1h",
        "variants":[{"name":"A","weight":1},{"name":"B","weight":1,"email_template":"follow_up"}],
        "copy":{"sms":{"en":{"text":"Hi"}}}}]}"#;
    assert!(RecoverySettings::from_json(fine).is_ok());
}
