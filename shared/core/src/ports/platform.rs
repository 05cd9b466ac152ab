//! The commerce platform's APIs, in two roles: installing (OAuth) and creating discounts.

use super::PortResult;
use crate::model::{Money, ShopDomain};
use chrono::{DateTime, Utc};
use std::future::Future;

/// An offline access token and the scopes it carries.
#[derive(Clone, PartialEq, Eq)]
pub struct AccessGrant {
    pub access_token: String,
    pub scopes: Vec<String>,
    /// An expiring token's lifetime in seconds (`expires_in`).
    pub expires_in: Option<i64>,
    /// The token that buys the next access token (expiring tokens only).
    pub refresh_token: Option<String>,
    /// The refresh token's lifetime in seconds.
    pub refresh_token_expires_in: Option<i64>,
}

impl AccessGrant {
    /// A non-expiring token (what stand-ins and old grants give).
    pub fn lasting(access_token: impl Into<String>, scopes: Vec<String>) -> Self {
        Self {
            access_token: access_token.into(),
            scopes,
            expires_in: None,
            refresh_token: None,
            refresh_token_expires_in: None,
        }
    }
}

impl std::fmt::Debug for AccessGrant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessGrant")
            .field("access_token", &"<redacted>")
            .field("scopes", &self.scopes)
            .field("expires_in", &self.expires_in)
            .field("refresh_token", &self.refresh_token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// What the platform says about a shop.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ShopProfile {
    pub name: Option<String>,
    pub contact_email: Option<String>,
}

/// A single-use percentage discount code to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscountRequest {
    pub code: String,
    pub title: String,
    pub percent: u8,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// The order must reach this subtotal.
    pub minimum_subtotal: Option<Money>,
    pub combines_with_order_discounts: bool,
    pub combines_with_product_discounts: bool,
    pub combines_with_shipping_discounts: bool,
}

/// How creating a discount code ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DiscountOutcome {
    /// Created; the platform's id.
    Created(String),
    /// A code of that name exists already (created before a crash): use it.
    AlreadyExists,
    /// The platform refused it (`userErrors`).
    Refused(String),
}

/// Installing the app: Shopify's OAuth token endpoint and the shop's profile.
pub trait PlatformAuth: Send + Sync {
    /// Exchanges an authorization code for an offline access token.
    fn exchange_code(&self, shop: &ShopDomain, code: &str) -> impl Future<Output = PortResult<AccessGrant>> + Send;
    /// Exchanges an embedded app's session token for an offline access token.
    fn exchange_session_token(
        &self,
        shop: &ShopDomain,
        session_token: &str,
    ) -> impl Future<Output = PortResult<AccessGrant>> + Send;
    /// Trades a refresh token for a new expiring access token (and a new refresh token);
    /// a revoked or spent refresh token is [`PortError::Rejected`](super::PortError::Rejected).
    fn refresh_token(
        &self,
        shop: &ShopDomain,
        refresh_token: &str,
    ) -> impl Future<Output = PortResult<AccessGrant>> + Send;
    /// The shop's name and contact email.
    fn shop_profile(
        &self,
        shop: &ShopDomain,
        access_token: &str,
    ) -> impl Future<Output = PortResult<ShopProfile>> + Send;
}

/// Creating discount codes through the Admin API.
pub trait DiscountApi: Send + Sync {
    /// Creates a discount code (throttling and transient failures retried within bounds).
    fn create_discount(
        &self,
        shop: &ShopDomain,
        access_token: &str,
        discount: &DiscountRequest,
    ) -> impl Future<Output = PortResult<DiscountOutcome>> + Send;
}

/// Both platform roles.
pub trait PlatformApi: PlatformAuth + DiscountApi {}

impl<T: PlatformAuth + DiscountApi> PlatformApi for T {}
