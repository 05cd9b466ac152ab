//! Register a shopper's device for push: verify the signed request, create the push service's
//! endpoint, and keep it with the contact so that recovery can reach that device.

use super::{Ports, UseCaseError, count_by};
use crate::model::{ContactKey, PushEndpoint, ShopDomain};
use crate::platform::shopify::normalise_email;
use crate::ports::{Clock, Contacts, PushSender, Shops, Stats};
use crate::push::{DeviceRegistration, RegistrationError, verify_registration};
use serde::Serialize;

/// The answer to a registration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Registered {
    /// Whether this device was new for the contact.
    pub new_device: bool,
}

/// Parses a registration at the edge: the shop and signature headers and the raw body, signed
/// with the shop's current registration key within the last five minutes. A revoked key, and
/// any key of a shop that uninstalled the app, signs nothing.
pub async fn verify_device_registration<P: Ports<Store: Shops>>(
    ports: &P,
    shop: Option<&str>,
    signature: Option<&str>,
    body: &[u8],
) -> Result<(ShopDomain, DeviceRegistration), UseCaseError> {
    let shop = shop.and_then(|s| ShopDomain::parse(s).ok()).ok_or(RegistrationError::BadSignature)?;
    let state = ports.store().shop_state(&shop).await?;
    if state.uninstalled_at.is_some() {
        return Err(RegistrationError::BadSignature.into());
    }
    let key = (&shop, state.push_key_generation);
    let registration =
        verify_registration(&ports.config().shopify_api_secret, key, signature, body, ports.clock().now())?;
    Ok((shop, registration))
}

/// Registers a verified device with the push service and keeps it with the contact.
pub async fn register_device<P: Ports<Store: Contacts + Stats, Messenger: PushSender>>(
    ports: &P,
    shop: ShopDomain,
    registration: DeviceRegistration,
) -> Result<Registered, UseCaseError> {
    let now = ports.clock().now();
    let email = normalise_email(Some(registration.customer_email))
        .ok_or_else(|| RegistrationError::Malformed("customer_email is not an email address".into()))?;
    let arn = ports.messenger().register_device(registration.platform, registration.device_token.trim()).await?;
    let key = ContactKey::for_email(&shop, &email);
    let mut new_device = false;
    ports
        .store()
        .update_contact(&shop, &key, ports.clock().now() + super::CONTACT_TTL, |state| {
            new_device = !state.push_endpoints.iter().any(|d| d.arn == arn);
            if new_device {
                let endpoint = PushEndpoint { arn: arn.clone(), platform: registration.platform, registered_at: now };
                state.push_endpoints.push(endpoint);
            }
            new_device
        })
        .await?;
    if new_device {
        count_by(ports, &shop, key.as_str(), &[("push.registered".to_owned(), 1)]).await?;
    }
    tracing::info!(%shop, new_device, "push device registered");
    Ok(Registered { new_device })
}
