//! Install the app on a shop: the authorization code grant (`GET /auth`, `GET /auth/callback`)
//! and the token exchange embedded apps use (`POST /auth/token-exchange`). Either way the offline
//! access token is sealed by the [`Vault`] before it is stored, the granted scopes and the shop's
//! contact address are recorded, and a previous uninstall is cleared.

use super::{Ports, UseCaseError, admin, count_by};
use crate::model::{Email, Installation, ShopDomain, StoredToken, WebhookId};
use crate::platform::oauth::{self, OAuthError};
use crate::ports::{
    AccessGrant, Clock, Deliveries, DeliveryClaim, PlatformAuth, PortError, Shops, Stats, Tokens, Vault,
};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// What installing needs: code dedupe, the token, the shop's state, stats, the vault and the
/// platform's OAuth.
pub trait InstallPorts:
    Ports<Store: Deliveries + Tokens + Shops + Stats, Vault: Vault, Platform: PlatformAuth>
{
}
impl<P: Ports<Store: Deliveries + Tokens + Shops + Stats, Vault: Vault, Platform: PlatformAuth>> InstallPorts for P {}

/// The scopes Reclaim asks for (as in `shopify.app.toml`).
pub const SCOPES: &[&str] = &["read_checkouts", "read_orders", "read_customers", "write_discounts"];

/// How long a used authorization code is remembered, to refuse a replay.
const USED_CODE_TTL: chrono::Duration = chrono::Duration::days(1);

/// Where `GET /auth` sends the merchant, and the cookie that keeps the state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstallStart {
    pub location: String,
    pub set_cookie: String,
}

/// Starts an install for `shop` with a fresh 32-byte `nonce` (the caller draws it from the
/// operating system's generator; the core does no I/O).
pub fn begin_install<P: Ports>(ports: &P, shop: Option<&str>, nonce: &[u8; 32]) -> Result<InstallStart, UseCaseError> {
    let shop = shop.and_then(|s| ShopDomain::parse(s).ok()).ok_or(OAuthError::BadShop)?;
    let config = ports.config();
    let state = hex::encode(nonce);
    let scopes: Vec<String> = SCOPES.iter().map(|s| (*s).to_owned()).collect();
    let redirect_uri = format!("{}/auth/callback", config.public_base_url.trim_end_matches('/'));
    Ok(InstallStart {
        location: oauth::authorize_url(&shop, &config.shopify_api_key, &scopes, &redirect_uri, &state),
        set_cookie: oauth::state_cookie(&config.shopify_api_secret, &shop, &state),
    })
}

/// Verifies Shopify's callback at the edge (`query` is the raw query string, `cookie` the
/// request's `Cookie` header): the shop, the query HMAC, the timestamp and the state.
pub fn verify_install_callback<P: Ports>(
    ports: &P,
    query: Option<&str>,
    cookie: Option<&str>,
) -> Result<oauth::Callback, UseCaseError> {
    let pairs = oauth::query_pairs(query.unwrap_or_default());
    Ok(oauth::verify_callback(&ports.config().shopify_api_secret, &pairs, cookie, ports.clock().now())?)
}

/// Completes an install from a verified callback. Nothing is stored before the code is claimed,
/// once, so a replayed callback is refused. Returns where to send the merchant: into the app.
pub async fn complete_install<P: InstallPorts>(ports: &P, callback: oauth::Callback) -> Result<String, UseCaseError> {
    let config = ports.config();
    let now = ports.clock().now();
    let used = WebhookId::new(format!("oauth-code-{}", hex::encode(&Sha256::digest(callback.code.as_bytes())[..16])))
        .map_err(|e| UseCaseError::BadRequest(e.to_string()))?;
    if !ports.store().claim_delivery(&callback.shop, &used, now + USED_CODE_TTL).await? {
        return Err(OAuthError::CodeReused.into());
    }
    let grant = ports.platform().exchange_code(&callback.shop, &callback.code).await?;
    install(ports, &callback.shop, grant).await?;
    Ok(format!("https://{}/admin/apps/{}", callback.shop, config.shopify_api_key))
}

/// What a token exchange installed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Installed {
    pub shop: ShopDomain,
    pub scopes: Vec<String>,
}

/// An embedded app's session token, verified at the edge: the shop it speaks for and the token
/// itself (which Shopify takes in exchange for an offline token).
#[derive(Clone)]
pub struct VerifiedSessionToken {
    pub shop: ShopDomain,
    token: String,
}

impl std::fmt::Debug for VerifiedSessionToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifiedSessionToken").field("shop", &self.shop).finish_non_exhaustive()
    }
}

/// Verifies the `Authorization: Bearer …` session token of a token exchange.
pub fn verify_session_token<P: Ports>(
    ports: &P,
    authorization: Option<&str>,
) -> Result<VerifiedSessionToken, UseCaseError> {
    let shop = admin::authenticate(ports, authorization, None)?;
    let token = authorization.and_then(|a| a.split_once(' ')).map(|(_, t)| t.trim()).unwrap_or_default();
    Ok(VerifiedSessionToken { shop, token: token.to_owned() })
}

/// The embedded app's install: its verified session token is exchanged for an offline access token.
pub async fn token_exchange<P: InstallPorts>(
    ports: &P,
    session: VerifiedSessionToken,
) -> Result<Installed, UseCaseError> {
    let shop = session.shop;
    let grant = ports.platform().exchange_session_token(&shop, &session.token).await?;
    let scopes = grant.scopes.clone();
    install(ports, &shop, grant).await?;
    Ok(Installed { shop, scopes })
}

/// Seals a grant's tokens for the shop, with their expiries.
async fn sealed_grant<P: Ports<Vault: Vault>>(
    ports: &P,
    shop: &ShopDomain,
    grant: &AccessGrant,
) -> Result<StoredToken, UseCaseError> {
    let now = ports.clock().now();
    let after = |seconds: Option<i64>| seconds.map(|s| now + chrono::Duration::seconds(s));
    let refresh = match &grant.refresh_token {
        Some(refresh) => Some(ports.vault().seal(shop, refresh).await?),
        None => None,
    };
    Ok(StoredToken {
        access: ports.vault().seal(shop, &grant.access_token).await?,
        access_expires_at: after(grant.expires_in),
        refresh,
        refresh_expires_at: after(grant.refresh_token_expires_in),
    })
}

/// Seals and stores the tokens, records the installation, and clears a previous uninstall and
/// any "needs re-authorisation".
async fn install<P: InstallPorts>(ports: &P, shop: &ShopDomain, grant: AccessGrant) -> Result<(), UseCaseError> {
    let sealed = sealed_grant(ports, shop, &grant).await?;
    ports.store().save_token(shop, &sealed).await?;
    let profile = match ports.platform().shop_profile(shop, &grant.access_token).await {
        Ok(profile) => profile,
        Err(error) => {
            tracing::warn!(%shop, %error, "could not read the shop's profile; continuing without a contact address");
            Default::default()
        }
    };
    let installation = Installation {
        installed_at: ports.clock().now(),
        scopes: grant.scopes,
        contact_email: profile.contact_email.as_deref().and_then(|e| Email::parse(e).ok()),
    };
    ports
        .store()
        .update_shop_state(shop, |state| {
            state.installation = Some(installation.clone());
            state.uninstalled_at = None;
            state.needs_reauthorisation = None;
            true
        })
        .await?;
    count_by(ports, shop, "install", &[("installs".to_owned(), 1)]).await?;
    tracing::info!(%shop, scopes = ?installation.scopes, "app installed");
    Ok(())
}

/// How long before an expiring access token runs out it is refreshed.
pub const REFRESH_AHEAD: chrono::Duration = chrono::Duration::minutes(5);

/// How long one refresher holds the right to refresh a shop's token.
const REFRESH_LEASE: chrono::Duration = chrono::Duration::seconds(60);

/// What using a shop's token needs: the token and its refresh lease, the shop's state, the
/// vault and the platform's token endpoint.
pub trait TokenPorts: Ports<Store: Tokens + Deliveries + Shops, Vault: Vault, Platform: PlatformAuth> {}
impl<P: Ports<Store: Tokens + Deliveries + Shops, Vault: Vault, Platform: PlatformAuth>> TokenPorts for P {}

/// The shop's offline access token, opened from the vault; `None` when the app is not installed,
/// or when its refresh token no longer works (the shop is then marked "needs re-authorisation").
///
/// An expiring token is refreshed [`REFRESH_AHEAD`] of its expiry, by one caller at a time: the
/// refresh takes a lease named after the token it replaces (a conditional write), so of many
/// callers at once one refreshes, and the others are told to try again shortly (an error that
/// releases a step for a later attempt), after which they find the new token.
pub async fn access_token<P: TokenPorts>(ports: &P, shop: &ShopDomain) -> Result<Option<String>, UseCaseError> {
    let Some(stored) = ports.store().load_token(shop).await? else { return Ok(None) };
    let now = ports.clock().now();
    if stored.access_expires_at.is_none_or(|expires| expires - REFRESH_AHEAD > now) {
        return Ok(Some(ports.vault().open(shop, &stored.access).await?));
    }
    let refresh = match (&stored.refresh, stored.refresh_expires_at) {
        (Some(refresh), expires) if expires.is_none_or(|at| at > now) => refresh,
        _ => return needs_reauthorisation(ports, shop, "the refresh token has expired").await,
    };
    let generation = stored.access_expires_at.map_or(0, |at| at.timestamp());
    let lease =
        WebhookId::new(format!("token-refresh-{generation}")).map_err(|e| UseCaseError::BadRequest(e.to_string()))?;
    let owner = ports.clock().unique_id();
    let store = ports.store();
    match store.begin_delivery(shop, &lease, &owner, now, now + REFRESH_LEASE, now + chrono::Duration::days(2)).await? {
        DeliveryClaim::Started => {}
        // Another caller refreshed (or is refreshing) this very token: use what it stored.
        DeliveryClaim::Done => {
            let fresh = store.load_token(shop).await?;
            return match fresh {
                Some(fresh) if fresh.access_expires_at != stored.access_expires_at => {
                    Ok(Some(ports.vault().open(shop, &fresh.access).await?))
                }
                _ => Err(PortError::Unavailable("the shop's token is being refreshed".into()).into()),
            };
        }
        DeliveryClaim::InProgress => {
            return Err(PortError::Unavailable("the shop's token is being refreshed".into()).into());
        }
    }
    let refresh_token = ports.vault().open(shop, refresh).await?;
    match ports.platform().refresh_token(shop, &refresh_token).await {
        Ok(grant) => {
            let sealed = sealed_grant(ports, shop, &grant).await?;
            store.save_token(shop, &sealed).await?;
            store.finish_delivery(shop, &lease, now + chrono::Duration::days(2)).await?;
            tracing::info!(%shop, "offline access token refreshed");
            Ok(Some(grant.access_token))
        }
        Err(PortError::Rejected(reason)) => {
            store.finish_delivery(shop, &lease, now + chrono::Duration::days(2)).await?;
            needs_reauthorisation(ports, shop, &reason).await
        }
        Err(error) => {
            store.release_delivery(shop, &lease).await?;
            Err(error.into())
        }
    }
}

/// Marks the shop as needing the merchant to open the app again; no token until then.
async fn needs_reauthorisation<P: TokenPorts>(
    ports: &P,
    shop: &ShopDomain,
    reason: &str,
) -> Result<Option<String>, UseCaseError> {
    let now = ports.clock().now();
    ports.store().update_shop_state(shop, |state| state.needs_reauthorisation.replace(now).is_none()).await?;
    tracing::warn!(%shop, reason, "the shop needs to re-authorise the app");
    Ok(None)
}
