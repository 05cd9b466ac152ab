//! The merchant's admin API: authenticate the Shopify session token, read and write settings with
//! optimistic concurrency, preview the timeline of a cart under some settings, read stats and
//! sender health, resume paused email, and read the push-registration key.

use super::{Ports, UseCaseError};
use crate::model::{CheckoutRecord, ContactState, SenderPause, ShopDomain};
use crate::platform::{PlatformEvent, shopify};
use crate::ports::{Checkouts, Clock, PortError, SenderIdentity, SettingsStore, Shops, Stats, VersionedSettings};
use crate::rules::timeline::{TimelineEntry, timeline};
use crate::rules::{DELIVERABLE_CHANNELS, RecoverySettings, SettingsError};
use crate::session::{SessionError, verify_session_token};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The shop a request speaks for: from the verified session token only. A `shop` the request
/// names that differs from the token's is refused (403).
pub fn authenticate<P: Ports>(
    ports: &P,
    authorization: Option<&str>,
    requested_shop: Option<&str>,
) -> Result<ShopDomain, UseCaseError> {
    let config = ports.config();
    let token = authorization
        .and_then(|value| value.strip_prefix("Bearer ").or_else(|| value.strip_prefix("bearer ")))
        .ok_or(SessionError::Missing)?;
    let shop =
        verify_session_token(token.trim(), &config.shopify_api_key, &config.shopify_api_secret, ports.clock().now())?;
    if let Some(requested) = requested_shop.filter(|s| !s.is_empty())
        && !requested.eq_ignore_ascii_case(shop.as_str())
    {
        return Err(UseCaseError::Forbidden);
    }
    Ok(shop)
}

/// A shop's settings: what it saved, or the defaults at version 0.
pub async fn get_settings<P: Ports<Store: SettingsStore>>(
    ports: &P,
    shop: &ShopDomain,
) -> Result<VersionedSettings, UseCaseError> {
    Ok(ports
        .store()
        .load_settings(shop)
        .await?
        .unwrap_or(VersionedSettings { version: 0, settings: RecoverySettings::default() }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PutSettingsBody {
    version: u64,
    settings: serde_json::Value,
}

/// A settings update, parsed at the edge: the version it was read at and valid settings.
#[derive(Debug, Clone, PartialEq)]
pub struct SettingsUpdate {
    pub version: u64,
    pub settings: RecoverySettings,
}

impl SettingsUpdate {
    /// Parses a draft, `{"settings": {…}}`, for the what-if: every problem with its path.
    pub fn draft_from_json(body: &[u8]) -> Result<RecoverySettings, UseCaseError> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Draft {
            settings: serde_json::Value,
        }
        let draft: Draft = serde_json::from_slice(body)
            .map_err(|e| UseCaseError::BadRequest(format!("expected {{\"settings\": {{…}}}}: {e}")))?;
        RecoverySettings::from_json(&draft.settings.to_string()).map_err(UseCaseError::InvalidSettings)
    }

    /// Parses `{"version": n, "settings": {…}}`; invalid settings list every problem with its path.
    pub fn from_json(body: &[u8]) -> Result<Self, UseCaseError> {
        let body: PutSettingsBody = serde_json::from_slice(body)
            .map_err(|e| UseCaseError::BadRequest(format!("expected {{\"version\": n, \"settings\": {{…}}}}: {e}")))?;
        let settings =
            RecoverySettings::from_json(&body.settings.to_string()).map_err(UseCaseError::InvalidSettings)?;
        Ok(Self { version: body.version, settings })
    }
}

/// Replaces a shop's settings if `version` is the stored one; a stale version is a conflict and
/// nothing is saved. What only the operator may grant is checked here: an SMS origination
/// identity must be allow-listed for the shop, and the monthly SMS budget within the ceiling.
pub async fn put_settings<P: Ports<Store: SettingsStore + Shops>>(
    ports: &P,
    shop: &ShopDomain,
    update: SettingsUpdate,
) -> Result<VersionedSettings, UseCaseError> {
    let mut refused = Vec::new();
    if let Some(identity) = &update.settings.sms.origination_identity
        && !ports.store().shop_state(shop).await?.allowed_originations.contains(identity)
    {
        refused.push(SettingsError {
            path: "sms.origination_identity".into(),
            reason: "not allowed for this shop: the operator allows an origination identity with \
                     `reclaim originations allow`"
                .into(),
        });
    }
    if let Some(ceiling) = ports.config().sms_budget_ceiling
        && update.settings.sms.monthly_budget > ceiling
    {
        refused.push(SettingsError {
            path: "sms.monthly_budget".into(),
            reason: format!("at most {ceiling} (the operator's ceiling)"),
        });
    }
    if !refused.is_empty() {
        return Err(UseCaseError::InvalidSettings(refused));
    }
    match ports.store().save_settings(shop, &update.settings, update.version).await {
        Ok(version) => Ok(VersionedSettings { version, settings: update.settings }),
        Err(PortError::Conflict) => Err(UseCaseError::StaleVersion),
        Err(other) => Err(other.into()),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PreviewBody {
    /// A checkout in the platform's shape (a `checkouts/update` body).
    checkout: serde_json::Value,
    /// Settings to try; the shop's own when absent.
    #[serde(default)]
    settings: Option<serde_json::Value>,
}

/// A preview request, parsed at the edge: a checkout and, optionally, settings to try.
#[derive(Debug, Clone)]
pub struct PreviewRequest {
    pub checkout: crate::model::CheckoutSnapshot,
    pub settings: Option<RecoverySettings>,
}

impl PreviewRequest {
    /// Parses `{"checkout": {…a checkouts/update body…}, "settings": {…}?}`.
    pub fn from_json(body: &[u8]) -> Result<Self, UseCaseError> {
        let body: PreviewBody = serde_json::from_slice(body).map_err(|e| UseCaseError::BadRequest(e.to_string()))?;
        let settings = body
            .settings
            .map(|value| RecoverySettings::from_json(&value.to_string()).map_err(UseCaseError::InvalidSettings))
            .transpose()?;
        let raw = serde_json::to_vec(&body.checkout).map_err(|e| UseCaseError::BadRequest(e.to_string()))?;
        let PlatformEvent::CheckoutUpserted(checkout) = shopify::parse_event("checkouts/update", &raw)? else {
            return Err(UseCaseError::BadRequest("checkout: not a checkout".into()));
        };
        Ok(Self { checkout, settings })
    }
}

/// What the preview shows.
#[derive(Debug, Clone, Serialize)]
pub struct Preview {
    pub timezone: String,
    pub timeline: Vec<TimelineEntry>,
}

/// The decisions a cart would go through under some settings, with local send times.
pub async fn preview<P: Ports<Store: SettingsStore>>(
    ports: &P,
    shop: &ShopDomain,
    request: PreviewRequest,
) -> Result<Preview, UseCaseError> {
    let settings = match request.settings {
        Some(settings) => settings,
        None => get_settings(ports, shop).await?.settings,
    };
    let record = CheckoutRecord::new(shop.clone(), request.checkout);
    let timezone = crate::rules::recipient_timezone(&record, &settings).name().to_owned();
    Ok(Preview { timezone, timeline: timeline(&record, &ContactState::default(), &settings, DELIVERABLE_CHANNELS) })
}

/// How far back the what-if looks, and how many of the shop's checkouts it replays at most.
pub const WHAT_IF_DAYS: i64 = 30;
pub const WHAT_IF_CHECKOUTS: usize = 2_000;

/// The shop's own recent checkouts replayed under its saved settings and under a draft.
#[derive(Debug, Clone, Serialize)]
pub struct WhatIf {
    /// How many checkouts were replayed (the last [`WHAT_IF_DAYS`] days, at most [`WHAT_IF_CHECKOUTS`]).
    pub checkouts: usize,
    pub current: crate::rules::simulate::Tally,
    pub draft: crate::rules::simulate::Tally,
}

/// Before a save: what the draft settings would change over the shop's last 30 days of
/// checkouts (sends per step and channel, holds and stops by reason, incentive cost).
pub async fn what_if<P: Ports<Store: SettingsStore + Checkouts>>(
    ports: &P,
    shop: &ShopDomain,
    draft: RecoverySettings,
) -> Result<WhatIf, UseCaseError> {
    let current = get_settings(ports, shop).await?.settings;
    let since = ports.clock().now() - chrono::Duration::days(WHAT_IF_DAYS);
    let records = ports.store().recent_checkouts(shop, since, WHAT_IF_CHECKOUTS).await?;
    let tally = |settings: &RecoverySettings| {
        let mut tally = crate::rules::simulate::Tally::default();
        for record in &records {
            tally.add(record, settings, DELIVERABLE_CHANNELS);
        }
        tally
    };
    Ok(WhatIf { checkouts: records.len(), current: tally(&current), draft: tally(&draft) })
}

/// One item of the onboarding checklist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChecklistItem {
    pub id: &'static str,
    pub done: bool,
    /// The merchant may skip it (SMS).
    pub optional: bool,
    /// What its state is, in the merchant's words.
    pub detail: String,
}

/// The onboarding checklist, each item's state read live: the sender domain verified in SES,
/// the app embed on in the live theme (the storefront script has asked for its settings), a test
/// email sent, an SMS number configured (optional).
pub async fn onboarding<P: Ports<Store: SettingsStore + Shops, Messenger: SenderIdentity>>(
    ports: &P,
    shop: &ShopDomain,
) -> Result<Vec<ChecklistItem>, UseCaseError> {
    let state = ports.store().shop_state(shop).await?;
    let settings = get_settings(ports, shop).await?.settings;
    let sender = &ports.config().sender;
    let domain = sender.rsplit('@').next().unwrap_or_default().trim_end_matches('>');
    let sender_status = ports.messenger().sender_status(domain).await?;
    let seen = |at: Option<chrono::DateTime<chrono::Utc>>| at.map(|at| at.format("%Y-%m-%d").to_string());
    Ok(vec![
        ChecklistItem {
            id: "sender_verified",
            done: sender_status.verified,
            optional: false,
            detail: if sender_status.verified {
                format!("{domain} is verified in Amazon SES.")
            } else {
                format!("{domain} is not verified in Amazon SES yet ({}): add its DNS records.", sender_status.status)
            },
        },
        ChecklistItem {
            id: "app_embed",
            done: state.storefront_seen_at.is_some(),
            optional: false,
            detail: match seen(state.storefront_seen_at) {
                Some(day) => format!("Your storefront loaded Reclaim on {day}."),
                None => "Turn on the Reclaim app embed in your theme editor (App embeds), then open your shop.".into(),
            },
        },
        ChecklistItem {
            id: "test_email",
            done: state.test_email_sent_at.is_some(),
            optional: false,
            detail: match seen(state.test_email_sent_at) {
                Some(day) => format!("You sent yourself a test on {day}."),
                None => "Send yourself a test from Messages to see what shoppers receive.".into(),
            },
        },
        ChecklistItem {
            id: "sms_number",
            done: settings.sms.origination_identity.is_some(),
            optional: true,
            detail: match &settings.sms.origination_identity {
                Some(_) => "Texts go from your own number.".into(),
                None => "Optional: choose the number texts come from in Settings.".into(),
            },
        },
    ])
}

/// The shop's sender health: whether email is paused, why, and the figures.
pub async fn sender_health<P: Ports<Store: Shops>>(
    ports: &P,
    shop: &ShopDomain,
) -> Result<Option<SenderPause>, UseCaseError> {
    Ok(ports.store().shop_state(shop).await?.email_pause)
}

/// The merchant acknowledges a sender-health pause: email resumes. `false` when it was not paused.
pub async fn resume_email<P: Ports<Store: Shops + Stats>>(ports: &P, shop: &ShopDomain) -> Result<bool, UseCaseError> {
    let mut resumed = false;
    ports
        .store()
        .update_shop_state(shop, |state| {
            resumed = state.email_pause.take().is_some();
            resumed
        })
        .await?;
    if resumed {
        super::count_by(ports, shop, "resume", &[("email.resumed".to_owned(), 1)]).await?;
        tracing::info!(%shop, "email resumed by the merchant");
    }
    Ok(resumed)
}

/// The key the merchant's backend signs push-device registrations with (see [`crate::push`]).
pub async fn push_registration_key<P: Ports<Store: Shops>>(
    ports: &P,
    shop: &ShopDomain,
) -> Result<String, UseCaseError> {
    let generation = ports.store().shop_state(shop).await?.push_key_generation;
    Ok(crate::push::registration_key(&ports.config().shopify_api_secret, shop, generation))
}

/// Revokes the shop's push-registration key (a leaked key, a new backend) and returns the new
/// one; registrations signed with the old key are refused from now on.
pub async fn rotate_push_key<P: Ports<Store: Shops>>(ports: &P, shop: &ShopDomain) -> Result<String, UseCaseError> {
    ports
        .store()
        .update_shop_state(shop, |state| {
            state.push_key_generation += 1;
            true
        })
        .await?;
    push_registration_key(ports, shop).await
}

/// Whether the shop's offline token stopped working and the merchant must open the app again.
pub async fn needs_reauthorisation<P: Ports<Store: Shops>>(ports: &P, shop: &ShopDomain) -> Result<bool, UseCaseError> {
    Ok(ports.store().shop_state(shop).await?.needs_reauthorisation.is_some())
}

/// The longest range `stats` answers, in days.
pub const MAX_STATS_DAYS: i64 = 366;

/// A shop's counters day by day over `from..=to`, as CSV: one row per day, one column per
/// counter (the chart over time, and the merchant's own spreadsheet).
pub async fn stats_csv<P: Ports<Store: Stats>>(
    ports: &P,
    shop: &ShopDomain,
    from: Option<&str>,
    to: Option<&str>,
) -> Result<String, UseCaseError> {
    let (from, to) = stats_range(ports, from, to)?;
    let mut days = Vec::new();
    let mut day = from;
    while day <= to {
        days.push((day, ports.store().stats(shop, day, day).await?));
        day = day.succ_opt().unwrap_or(day);
        if day == from {
            break;
        }
    }
    let columns: std::collections::BTreeSet<&String> = days.iter().flat_map(|(_, counters)| counters.keys()).collect();
    let mut writer = csv::Writer::from_writer(Vec::new());
    let header = std::iter::once("day").chain(columns.iter().map(|c| c.as_str()));
    writer.write_record(header).map_err(|e| UseCaseError::BadRequest(e.to_string()))?;
    for (day, counters) in &days {
        let values = columns.iter().map(|c| counters.get(*c).copied().unwrap_or(0).to_string());
        let row: Vec<String> = std::iter::once(day.to_string()).chain(values).collect();
        writer.write_record(&row).map_err(|e| UseCaseError::BadRequest(e.to_string()))?;
    }
    let bytes = writer.into_inner().map_err(|e| UseCaseError::BadRequest(e.to_string()))?;
    Ok(String::from_utf8(bytes).unwrap_or_default())
}

/// The date range of a stats request: `to` defaults to today, `from` to 29 days before it.
fn stats_range<P: Ports>(
    ports: &P,
    from: Option<&str>,
    to: Option<&str>,
) -> Result<(NaiveDate, NaiveDate), UseCaseError> {
    let today = ports.clock().now().date_naive();
    let parse = |name: &str, value: Option<&str>, default: NaiveDate| match value {
        None | Some("") => Ok(default),
        Some(text) => NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .map_err(|_| UseCaseError::BadRequest(format!("{name}: expected YYYY-MM-DD"))),
    };
    let to = parse("to", to, today)?;
    let from = parse("from", from, to - chrono::Duration::days(29))?;
    if from > to || (to - from).num_days() >= MAX_STATS_DAYS {
        return Err(UseCaseError::BadRequest(format!(
            "from must not be after to, and the range at most {MAX_STATS_DAYS} days"
        )));
    }
    Ok((from, to))
}

/// A shop's counters summed over `from..=to` (dates as `YYYY-MM-DD`).
pub async fn stats<P: Ports<Store: Stats>>(
    ports: &P,
    shop: &ShopDomain,
    from: Option<&str>,
    to: Option<&str>,
) -> Result<BTreeMap<String, i64>, UseCaseError> {
    let (from, to) = stats_range(ports, from, to)?;
    Ok(ports.store().stats(shop, from, to).await?)
}

/// The operator's allow-list of SMS origination identities per shop (`reclaim originations`).
pub mod originations {
    use super::*;

    /// The identities a shop may send from.
    pub async fn allowed<P: Ports<Store: Shops>>(
        ports: &P,
        shop: &ShopDomain,
    ) -> Result<std::collections::BTreeSet<String>, UseCaseError> {
        Ok(ports.store().shop_state(shop).await?.allowed_originations)
    }

    /// Allows a shop to send from `identity` (an E.164 number or a sender id).
    pub async fn allow<P: Ports<Store: Shops>>(
        ports: &P,
        shop: &ShopDomain,
        identity: &str,
    ) -> Result<(), UseCaseError> {
        let identity = identity.trim();
        let valid = (identity.starts_with('+') && crate::model::PhoneE164::parse(identity, None).is_ok())
            || (!identity.is_empty() && identity.len() <= 11 && identity.chars().all(|c| c.is_ascii_alphanumeric()));
        if !valid {
            return Err(UseCaseError::BadRequest(format!(
                "{identity:?} is neither an E.164 number nor a sender id of up to 11 letters and digits"
            )));
        }
        ports.store().update_shop_state(shop, |state| state.allowed_originations.insert(identity.to_owned())).await?;
        Ok(())
    }

    /// Takes `identity` away from a shop: its texts fall back to other channels until its
    /// settings name an allowed identity.
    pub async fn revoke<P: Ports<Store: Shops>>(
        ports: &P,
        shop: &ShopDomain,
        identity: &str,
    ) -> Result<(), UseCaseError> {
        ports.store().update_shop_state(shop, |state| state.allowed_originations.remove(identity.trim())).await?;
        Ok(())
    }
}
