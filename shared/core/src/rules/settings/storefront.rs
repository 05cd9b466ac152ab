//! What the storefront script does and says: cart rescuer, exit-intent help, idle help, capture.

use serde::{Deserialize, Serialize};

/// What the storefront script does and says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StorefrontSettings {
    /// Ask for confirmation when a shopper with a non-empty cart leaves the site.
    pub cart_rescuer: bool,
    /// Offer help when the shopper is about to leave.
    pub exit_intent: bool,
    /// Offer help on the cart page after a while without input.
    pub idle_help: bool,
    pub idle_seconds: u32,
    /// Offer an email or phone field (always with an explicit consent checkbox).
    pub capture: bool,
    pub answers: StorefrontAnswers,
    /// Shown next to the consent checkbox, and stored as the evidence of what was agreed to.
    pub consent_text: String,
}

/// The merchant's answers to the usual doubts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StorefrontAnswers {
    pub shipping: String,
    pub returns: String,
    pub payment: String,
    pub support: String,
    pub size_guide_url: Option<String>,
}

impl Default for StorefrontAnswers {
    fn default() -> Self {
        Self {
            shipping: "Free standard shipping on orders over $50; delivery in 3 to 5 business days.".into(),
            returns: "Free returns within 30 days.".into(),
            payment: "We accept all major cards, Shop Pay, PayPal, Apple Pay and Google Pay.".into(),
            support: "Questions? Write to us and we answer within a day.".into(),
            size_guide_url: None,
        }
    }
}

impl Default for StorefrontSettings {
    fn default() -> Self {
        Self {
            cart_rescuer: true,
            exit_intent: true,
            idle_help: true,
            idle_seconds: 45,
            capture: true,
            answers: StorefrontAnswers::default(),
            consent_text: "Yes, email or text me a reminder about my cart. Consent is not a condition of purchase; unsubscribe any time.".into(),
        }
    }
}
