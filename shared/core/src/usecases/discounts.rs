//! Unique incentives: a single-use, expiring discount code per checkout and step, created on the
//! platform when a decision grants an incentive, and applied by the restore link.
//!
//! The code is derived from the shop, checkout and step under the app secret, so every attempt
//! for one step names the same code: the step's claim makes a second send impossible, the
//! `DISCOUNT#{step}` record makes a second creation unnecessary, and a code the platform already
//! has ("taken") is the one created before a crash. When the platform is down (after the HTTP
//! client's own bounded retries) the step is released and tried again later; on its last
//! attempt, and whenever the platform refuses the code, the step goes without an incentive and
//! `incentive.failed.step{n}` is counted.

use super::install::access_token;
use super::{PERSONAL_DATA_TTL, Ports, UseCaseError, count};
use crate::model::{CheckoutRecord, DiscountRecord, Money};
use crate::ports::{
    Deliveries, DiscountApi, DiscountLedger, DiscountOutcome, DiscountRequest, PlatformAuth, Shops, Stats, Tokens,
    Vault,
};
use crate::rules::{Incentive, RecoverySettings};
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The code of a checkout's step: `BACK-` and ten characters from an alphabet without look-alikes.
pub fn discount_code(secret: &[u8], record: &CheckoutRecord, step: u32) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(format!("reclaim discount\n{}\n{}\n{step}", record.shop, record.snapshot.token).as_bytes());
    let digest = mac.finalize().into_bytes();
    let code: String = digest.iter().take(10).map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char).collect();
    format!("BACK-{code}")
}

/// The code for this step, created once; `None` when it cannot be created (the step is then
/// sent without an incentive). A platform that is down is an error (the step is retried),
/// except on the `last_attempt`, which goes without.
pub(super) async fn code_for_step<
    P: Ports<
            Store: DiscountLedger + Stats + Tokens + Deliveries + Shops,
            Vault: Vault,
            Platform: DiscountApi + PlatformAuth,
        >,
>(
    ports: &P,
    record: &CheckoutRecord,
    step: u32,
    incentive: Incentive,
    settings: &RecoverySettings,
    now: DateTime<Utc>,
    last_attempt: bool,
) -> Result<Option<String>, UseCaseError> {
    let (shop, checkout) = (&record.shop, &record.snapshot.token);
    let policy = &settings.policies.incentives;
    let code = discount_code(&ports.config().shopify_api_secret, record, step);
    let pending = DiscountRecord {
        step,
        code: code.clone(),
        percent: incentive.percent,
        ends_at: now + policy.code_valid_for.duration(),
        platform_id: None,
    };
    let discount =
        match ports.store().claim_discount(shop, checkout, &pending, pending.ends_at + PERSONAL_DATA_TTL).await? {
            Some(existing) if existing.platform_id.is_some() => return Ok(Some(existing.code)),
            Some(existing) => existing,
            None => pending,
        };
    let failed = |reason: String| async move {
        tracing::warn!(%shop, step, reason, "no discount code: the step goes without an incentive");
        count(ports, shop, checkout, &[(format!("incentive.failed.step{step}"), 1)]).await?;
        Ok::<_, UseCaseError>(None)
    };
    let Some(token) = access_token(ports, shop).await? else {
        return failed("the app is not installed (no access token)".into()).await;
    };
    let minimum = (policy.min_cart_value > 0)
        .then(|| Money { minor: policy.min_cart_value, currency: record.snapshot.total.currency.clone() });
    let request = DiscountRequest {
        code: discount.code.clone(),
        title: format!("Reclaim {}% cart recovery ({code})", discount.percent),
        percent: discount.percent,
        starts_at: now,
        ends_at: discount.ends_at,
        minimum_subtotal: minimum,
        combines_with_order_discounts: policy.combines_with.order_discounts,
        combines_with_product_discounts: policy.combines_with.product_discounts,
        combines_with_shipping_discounts: policy.combines_with.shipping_discounts,
    };
    let platform_id = match ports.platform().create_discount(shop, &token, &request).await {
        Ok(DiscountOutcome::Created(id)) => id,
        Ok(DiscountOutcome::AlreadyExists) => "existing".to_owned(),
        Ok(DiscountOutcome::Refused(reason)) => return failed(format!("refused: {reason}")).await,
        Err(error) if last_attempt => return failed(error.to_string()).await,
        Err(error) => return Err(error.into()),
    };
    let created = DiscountRecord { platform_id: Some(platform_id), ..discount };
    ports.store().save_discount(shop, checkout, &created, created.ends_at + PERSONAL_DATA_TTL).await?;
    Ok(Some(created.code))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ShopDomain, sample_snapshot};

    #[test]
    fn codes_are_stable_per_step_and_differ_between_steps_and_carts() {
        let record = CheckoutRecord::new(ShopDomain::parse("a.myshopify.com").unwrap(), sample_snapshot(Utc::now()));
        let code = discount_code(b"secret", &record, 1);
        assert_eq!(code, discount_code(b"secret", &record, 1));
        assert_ne!(code, discount_code(b"secret", &record, 2));
        assert_ne!(code, discount_code(b"other", &record, 1));
        assert!(code.starts_with("BACK-") && code.len() == 15 && !code.contains(['0', 'O', '1', 'I']));
    }
}
