//! Message rendering: a recovery email as HTML and plain text from one set of values, with the
//! shopper's name, the items, the total, the restore link and the unsubscribe link. HTML is
//! auto-escaped, so nothing from a cart can inject markup.

use crate::model::{Channel, CheckoutSnapshot};
use minijinja::{AutoEscape, Environment, context};
use serde::Serialize;
use std::sync::OnceLock;

/// The copy of each template: (name, subject, headline, body, button).
const TEMPLATES: &[(&str, &str, &str, &str, &str)] = &[
    (
        "reminder",
        "You left something in your cart",
        "Your cart is waiting",
        "you left these items in your cart. We saved them for you, so you can pick up right where you left off.",
        "Return to your cart",
    ),
    (
        "follow_up",
        "Still thinking it over?",
        "Still thinking it over?",
        "your items are still in your cart. If you have a question about shipping, sizing or returns, just reply to this email and we will help.",
        "Complete your order",
    ),
    (
        "last_chance",
        "Last chance: your cart is about to expire",
        "Your cart is about to expire",
        "we can only hold your cart a little longer. Come back now to make sure your items are still available.",
        "Finish checking out",
    ),
];

/// Short-message templates, by channel: (name, text). `{shop}` and `{link}` are filled in.
const SHORT_TEMPLATES: &[(Channel, &str, &str)] = &[
    (
        Channel::Sms,
        "sms_reminder",
        "{shop}: you left items in your cart. Pick up where you left off: {link} Reply STOP to opt out",
    ),
    (Channel::Push, "push_reminder", "Your cart at {shop} is waiting. Tap to pick up where you left off."),
];

/// True when `name` is a template this version can render on `channel`.
pub fn is_known_template(channel: Channel, name: &str) -> bool {
    match channel {
        Channel::Email => TEMPLATES.iter().any(|t| t.0 == name),
        other => SHORT_TEMPLATES.iter().any(|(c, n, _)| *c == other && *n == name),
    }
}

/// Renders a short message (SMS text or push body) for `shop_name` with `link`. SMS templates end
/// with "Reply STOP to opt out".
pub fn render_short(channel: Channel, template: &str, shop_name: &str, link: &str) -> Result<String, RenderError> {
    let (_, _, text) = SHORT_TEMPLATES
        .iter()
        .find(|(c, n, _)| *c == channel && *n == template)
        .ok_or_else(|| RenderError::UnknownTemplate(template.to_owned()))?;
    Ok(text.replace("{shop}", shop_name).replace("{link}", link))
}

/// The values a recovery email is rendered from.
#[derive(Debug, Clone)]
pub struct EmailInput<'a> {
    pub template: &'a str,
    pub shop_name: &'a str,
    pub checkout: &'a CheckoutSnapshot,
    pub restore_url: &'a str,
    pub unsubscribe_url: &'a str,
    /// A discount code that comes with this email, and its percentage.
    pub discount: Option<(&'a str, u8)>,
}

/// A rendered email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedEmail {
    pub subject: String,
    pub html: String,
    pub text: String,
}

/// Why a message could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("unknown template {0:?}")]
    UnknownTemplate(String),
    #[error("template error: {0}")]
    Template(#[from] minijinja::Error),
}

#[derive(Serialize)]
struct ItemView<'a> {
    title: &'a str,
    variant_title: Option<&'a str>,
    quantity: u32,
    price: String,
    image_url: Option<&'a str>,
}

fn environment() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        env.set_auto_escape_callback(|name| if name.ends_with(".html") { AutoEscape::Html } else { AutoEscape::None });
        env.add_template("email.html", include_str!("../templates/email.html")).expect("html template parses");
        env.add_template("email.txt", include_str!("../templates/email.txt")).expect("text template parses");
        env
    })
}

/// Renders a recovery email.
pub fn render_email(input: &EmailInput<'_>) -> Result<RenderedEmail, RenderError> {
    let (_, subject, headline, body, button) = TEMPLATES
        .iter()
        .find(|t| t.0 == input.template)
        .ok_or_else(|| RenderError::UnknownTemplate(input.template.to_owned()))?;
    let checkout = input.checkout;
    let items: Vec<ItemView<'_>> = checkout
        .line_items
        .iter()
        .map(|l| ItemView {
            title: &l.title,
            variant_title: l.variant_title.as_deref(),
            quantity: l.quantity,
            price: l.unit_price.display(),
            image_url: l.image_url.as_deref().filter(|u| u.starts_with("https://")),
        })
        .collect();
    let values = context! {
        subject, headline, body, button,
        shop_name => input.shop_name,
        first_name => checkout.contact.first_name,
        locale => checkout.locale.as_deref().unwrap_or("en"),
        items,
        total => checkout.total.display(),
        restore_url => input.restore_url,
        unsubscribe_url => input.unsubscribe_url,
        discount_code => input.discount.map(|(code, _)| code),
        discount_percent => input.discount.map(|(_, percent)| percent),
    };
    let env = environment();
    Ok(RenderedEmail {
        subject: (*subject).to_owned(),
        html: env.get_template("email.html")?.render(&values)?,
        text: env.get_template("email.txt")?.render(&values)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::*;
    use chrono::Utc;

    fn checkout(title: &str) -> CheckoutSnapshot {
        let mut checkout = crate::model::sample_snapshot(Utc::now());
        checkout.line_items[0].title = title.into();
        checkout
    }

    #[test]
    fn email_has_name_items_total_and_both_links() {
        let c = checkout("Mug");
        let email = render_email(&EmailInput {
            template: "reminder",
            shop_name: "Demo Store",
            checkout: &c,
            restore_url: "https://r.example/r/TOKEN",
            unsubscribe_url: "https://r.example/u/UNSUB",
            discount: Some(("BACK-7Q2X9", 10)),
        })
        .unwrap();
        // minijinja's HTML escaping writes `/` as `&#x2f;`, which browsers read back as `/`.
        for part in [&email.html.replace("&#x2f;", "/"), &email.text] {
            for needle in [
                "Ada",
                "Mug",
                "Large",
                "USD 19.99",
                "USD 39.98",
                "https://r.example/r/TOKEN",
                "https://r.example/u/UNSUB",
                "BACK-7Q2X9",
                "10% off",
            ] {
                assert!(part.contains(needle), "{needle} missing from {part}");
            }
        }
        assert_eq!(email.subject, "You left something in your cart");
    }

    #[test]
    fn sms_is_short_with_link_and_opt_out() {
        let text = render_short(Channel::Sms, "sms_reminder", "Demo Store", "https://r.example/s/abc123").unwrap();
        assert!(text.starts_with("Demo Store:"), "{text}");
        assert!(text.contains("https://r.example/s/abc123") && text.ends_with("Reply STOP to opt out"), "{text}");
        assert!(text.len() <= 160, "one SMS segment: {} chars", text.len());
        assert!(render_short(Channel::Sms, "push_reminder", "S", "x").is_err());
        assert!(render_short(Channel::Push, "push_reminder", "S", "x").unwrap().contains('S'));
    }

    #[test]
    fn html_is_escaped() {
        let c = checkout("<script>alert(1)</script>");
        let email = render_email(&EmailInput {
            template: "follow_up",
            shop_name: "S",
            checkout: &c,
            restore_url: "x",
            unsubscribe_url: "y",
            discount: None,
        })
        .unwrap();
        assert!(!email.html.contains("<script>"));
        assert!(email.html.contains("&lt;script&gt;"));
    }

    #[test]
    fn every_template_renders_and_unknown_is_refused() {
        let c = checkout("Mug");
        for (name, ..) in TEMPLATES {
            assert!(
                render_email(&EmailInput {
                    template: name,
                    shop_name: "S",
                    checkout: &c,
                    restore_url: "x",
                    unsubscribe_url: "y",
                    discount: None,
                })
                .is_ok()
            );
        }
        assert!(
            render_email(&EmailInput {
                template: "nope",
                shop_name: "S",
                checkout: &c,
                restore_url: "x",
                unsubscribe_url: "y",
                discount: None,
            })
            .is_err()
        );
    }
}
