//! Message rendering: a recovery email as HTML and plain text, an SMS and a push notification,
//! from one set of values: the step's copy in the shopper's language ([`copy`]), the shopper's
//! name, the items with their images, quantities and prices in the shopper's currency and locale
//! format (CLDR, through ICU4X), the total, the restore link and the unsubscribe link. HTML is
//! auto-escaped, so nothing from a cart or from the merchant's copy can inject markup.

pub mod copy;
mod language;

pub use language::Language;

use crate::model::{Channel, CheckoutSnapshot};
use crate::rules::StepCopy;
use copy::{CopyField, CopyValues};
use minijinja::{AutoEscape, Environment, context};
use serde::Serialize;
use std::sync::OnceLock;

/// True when `name` is a template this version can render on `channel`.
pub fn is_known_template(channel: Channel, name: &str) -> bool {
    copy::templates(channel).any(|known| known == name)
}

/// What every message is rendered from: the template and the step's own copy, the shop, the
/// shopper's checkout (its locale chooses the language and the money format) and the discount.
#[derive(Debug, Clone, Copy)]
pub struct MessageInput<'a> {
    pub template: &'a str,
    /// The step's copy (the merchant's words, per channel and language), if any.
    pub copy: Option<&'a StepCopy>,
    pub shop_name: &'a str,
    pub checkout: &'a CheckoutSnapshot,
    /// A discount code that comes with this message, and its percentage.
    pub discount: Option<(&'a str, u8)>,
}

impl<'a> MessageInput<'a> {
    /// The language the shopper is written to in.
    pub fn language(&self) -> Language {
        Language::for_shopper(self.checkout.locale.as_deref())
    }

    /// The locale money is written in: the shopper's when Reclaim writes in its language, else
    /// English (so that the amounts read like the words around them).
    fn money_locale(&self) -> &'a str {
        match self.checkout.locale.as_deref() {
            Some(locale) if Language::of_locale(locale).is_some() => locale,
            _ => "en",
        }
    }

    fn values(&self) -> CopyValues<'a> {
        let checkout = self.checkout;
        CopyValues {
            first_name: checkout.contact.first_name.as_deref().unwrap_or_default(),
            shop_name: self.shop_name,
            total: checkout.total.format_for(self.money_locale()),
            item_count: checkout.line_items.iter().map(|item| item.quantity).sum(),
            discount_code: self.discount.map_or("", |(code, _)| code),
            discount_percent: self.discount.map_or(0, |(_, percent)| percent),
        }
    }

    /// The step's `field` on `channel`, rendered.
    fn text(&self, channel: Channel, field: CopyField, values: &CopyValues<'_>) -> Result<String, RenderError> {
        copy::render(copy::field(channel, self.template, self.language(), self.copy, field)?, values)
    }
}

/// The values a recovery email is rendered from.
#[derive(Debug, Clone, Copy)]
pub struct EmailInput<'a> {
    pub message: MessageInput<'a>,
    pub restore_url: &'a str,
    pub unsubscribe_url: &'a str,
}

/// A rendered email.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RenderedEmail {
    pub subject: String,
    pub html: String,
    pub text: String,
}

/// A rendered push notification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RenderedPush {
    pub title: String,
    pub body: String,
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
        env.add_template("email.html", include_str!("../../templates/email.html")).expect("html template parses");
        env.add_template("email.txt", include_str!("../../templates/email.txt")).expect("text template parses");
        env
    })
}

/// Renders a recovery email: the step's copy in the shopper's language around the cart.
pub fn render_email(input: &EmailInput<'_>) -> Result<RenderedEmail, RenderError> {
    let message = &input.message;
    let values = message.values();
    let text = |field| message.text(Channel::Email, field, &values);
    let layout = copy::layout(message.language());
    let words = |copy| copy::render(copy, &values);
    let checkout = message.checkout;
    let items: Vec<ItemView<'_>> = checkout
        .line_items
        .iter()
        .map(|l| ItemView {
            title: &l.title,
            variant_title: l.variant_title.as_deref(),
            quantity: l.quantity,
            price: l.unit_price.format_for(message.money_locale()),
            image_url: l.image_url.as_deref().filter(|u| u.starts_with("https://")),
        })
        .collect();
    let subject = text(CopyField::Subject)?;
    let greeting = if values.first_name.is_empty() { String::new() } else { text(CopyField::Greeting)? };
    let values = context! {
        subject => &subject,
        greeting,
        headline => text(CopyField::Heading)?,
        body => text(CopyField::Body)?,
        button => text(CopyField::Button)?,
        layout => context! {
            quantity => words(&layout.quantity)?,
            total => words(&layout.total)?,
            discount => words(&layout.discount)?,
            why => words(&layout.why)?,
            unsubscribe => words(&layout.unsubscribe)?,
        },
        shop_name => message.shop_name,
        locale => message.language().code(),
        items,
        total => values.total,
        discount_code => message.discount.map(|(code, _)| code),
        restore_url => input.restore_url,
        unsubscribe_url => input.unsubscribe_url,
    };
    let env = environment();
    // The subject is a header: one line, however the copy was written.
    Ok(RenderedEmail {
        subject: subject.split_whitespace().collect::<Vec<_>>().join(" "),
        html: env.get_template("email.html")?.render(&values)?,
        text: env.get_template("email.txt")?.render(&values)?,
    })
}

/// Renders an SMS: the step's copy, the (short) restore link, and the opt-out line in the
/// shopper's language, which no copy can leave out.
pub fn render_sms(message: &MessageInput<'_>, link: &str) -> Result<String, RenderError> {
    let values = message.values();
    let text = message.text(Channel::Sms, CopyField::Text, &values)?;
    let stop = copy::render(&copy::layout(message.language()).stop, &values)?;
    Ok(format!("{} {link} {stop}", text.trim()))
}

/// Renders a push notification: the step's title and body.
pub fn render_push(message: &MessageInput<'_>) -> Result<RenderedPush, RenderError> {
    let values = message.values();
    Ok(RenderedPush {
        title: message.text(Channel::Push, CopyField::Title, &values)?,
        body: message.text(Channel::Push, CopyField::Body, &values)?,
    })
}

/// How an SMS travels: its encoding and how many segments (billed messages) it takes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SmsSegments {
    /// `GSM-7` (160 characters in one segment, 153 in each of several) or `UCS-2` (70, 67),
    /// as GSM 03.38 decides from the characters.
    pub encoding: &'static str,
    pub segments: usize,
    pub characters: usize,
}

/// The encoding and segment count of `text`.
pub fn sms_segments(text: &str) -> SmsSegments {
    let split = sms_splitter::SplitSms::default().split(text.to_owned());
    let encoding = if split.character_set == "GSM" { "GSM-7" } else { "UCS-2" };
    SmsSegments { encoding, segments: split.parts.len(), characters: split.length }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::*;
    use crate::rules::CopyText;
    use chrono::Utc;

    fn checkout(title: &str) -> CheckoutSnapshot {
        let mut checkout = crate::model::sample_snapshot(Utc::now());
        checkout.line_items[0].title = title.into();
        checkout
    }

    fn message<'a>(template: &'a str, checkout: &'a CheckoutSnapshot) -> MessageInput<'a> {
        MessageInput { template, copy: None, shop_name: "Demo Store", checkout, discount: None }
    }

    fn email(message: MessageInput<'_>) -> RenderedEmail {
        render_email(&EmailInput {
            message,
            restore_url: "https://r.example/r/TOKEN",
            unsubscribe_url: "https://r.example/u/UNSUB",
        })
        .unwrap()
    }

    /// The HTML as a browser reads it (minijinja writes `/` as `&#x2f;`).
    fn readable(html: &str) -> String {
        html.replace("&#x2f;", "/")
    }

    #[test]
    fn email_has_name_items_total_and_both_links() {
        let c = checkout("Mug");
        let email = email(MessageInput { discount: Some(("BACK-7Q2X9", 10)), ..message("reminder", &c) });
        for part in [&readable(&email.html), &email.text] {
            for needle in [
                "Hi Ada,",
                "Mug",
                "Large",
                "$19.99",
                "$39.98",
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
    fn a_german_shopper_reads_german_with_euros_written_the_german_way_and_sees_the_images() {
        let mut c = checkout("Leinendecke");
        c.locale = Some("de-DE".into());
        let euro = Currency::parse("EUR").unwrap();
        c.line_items[0].unit_price = Money { minor: 8900, currency: euro };
        c.line_items[0].quantity = 1;
        c.line_items[0].image_url = Some("https://cdn.shop.example/linen.jpg".into());
        c.total = Money { minor: 8900, currency: euro };
        let email = email(message("reminder", &c));
        let html = readable(&email.html);
        assert_eq!(email.subject, "Du hast etwas in deinem Warenkorb vergessen");
        assert!(html.contains("<html lang=\"de\">"));
        assert!(html.contains("Hallo Ada,") && html.contains("Zurück zum Warenkorb"), "{html}");
        assert!(html.contains("89,00\u{a0}€") && email.text.contains("Gesamt: 89,00\u{a0}€"), "{}", email.text);
        assert!(html.contains(r#"<img src="https://cdn.shop.example/linen.jpg" alt="Leinendecke""#), "{html}");
        assert!(!html.contains("EUR 89.00") && !html.contains("Hi "));
    }

    #[test]
    fn no_greeting_without_a_first_name() {
        let mut c = checkout("Mug");
        c.contact.first_name = None;
        let email = email(message("follow_up", &c));
        assert!(!email.html.contains("Hi ") && !email.text.contains("Hi "), "{}", email.text);
    }

    #[test]
    fn the_merchants_copy_replaces_the_templates_and_cannot_add_markup() {
        let c = checkout("Mug");
        let mut copy = StepCopy::default();
        copy.email.insert(
            Language::En,
            [
                (CopyField::Subject, CopyText::known("{{ first_name }}, your\n{{ item_count }} items")),
                (CopyField::Body, CopyText::known("<script>alert(1)</script>{{ shop_name }}")),
            ]
            .into(),
        );
        let email = email(MessageInput { copy: Some(&copy), shop_name: "<b>Shop</b>", ..message("reminder", &c) });
        assert_eq!(email.subject, "Ada, your 2 items", "one line");
        assert!(!email.html.contains("<script>") && !email.html.contains("<b>Shop"), "{}", email.html);
        assert!(email.html.contains("&lt;script&gt;"));
        assert!(email.html.contains("Your cart is waiting"), "the template's heading stays");
    }

    #[test]
    fn sms_carries_the_link_and_the_opt_out_in_the_shoppers_language() {
        let mut c = checkout("Mug");
        let text = render_sms(&message("sms_reminder", &c), "https://r.example/s/abc123").unwrap();
        assert!(text.starts_with("Demo Store:"), "{text}");
        assert!(text.contains(" https://r.example/s/abc123 ") && text.ends_with("Reply STOP to opt out"), "{text}");
        assert_eq!(
            sms_segments(&text),
            SmsSegments { encoding: "GSM-7", segments: 1, characters: text.chars().count() }
        );
        c.locale = Some("fr".into());
        let mut copy = StepCopy::default();
        copy.sms.insert(Language::Fr, [(CopyField::Text, CopyText::known("{{ shop_name }} : votre panier 🛒"))].into());
        let text =
            render_sms(&MessageInput { copy: Some(&copy), ..message("sms_reminder", &c) }, "https://r.example/s/x")
                .unwrap();
        assert!(
            text.starts_with("Demo Store : votre panier 🛒 https://r.example/s/x ") && text.contains("STOP"),
            "{text}"
        );
        assert_eq!(sms_segments(&text).encoding, "UCS-2", "an emoji needs UCS-2");
        assert!(render_sms(&message("push_reminder", &c), "x").is_err());
    }

    #[test]
    fn sms_segments_follow_gsm_03_38() {
        let cases = [
            ("a".repeat(160), "GSM-7", 1),
            ("a".repeat(161), "GSM-7", 2),
            ("ê".repeat(70), "UCS-2", 1),
            ("ê".repeat(71), "UCS-2", 2),
        ];
        for (text, encoding, segments) in cases {
            let counted = sms_segments(&text);
            assert_eq!((counted.encoding, counted.segments), (encoding, segments), "{} chars", text.chars().count());
        }
        // é is in GSM-7 (lower case); ê is not.
        assert_eq!(sms_segments("café").encoding, "GSM-7");
        assert_eq!(sms_segments("fenêtre").encoding, "UCS-2");
    }

    #[test]
    fn push_has_a_title_and_a_body() {
        let c = checkout("Mug");
        let push = render_push(&message("push_reminder", &c)).unwrap();
        assert_eq!(push.title, "Demo Store");
        assert!(push.body.contains("cart"), "{}", push.body);
    }

    #[test]
    fn html_is_escaped() {
        let c = checkout("<script>alert(1)</script>");
        let email = email(message("follow_up", &c));
        assert!(!email.html.contains("<script>"));
        assert!(email.html.contains("&lt;script&gt;"));
    }

    #[test]
    fn every_template_renders_in_every_language_and_unknown_is_refused() {
        let mut c = checkout("Mug");
        for language in Language::ALL {
            c.locale = Some(language.code().into());
            for template in copy::templates(Channel::Email) {
                let rendered = email(message(template, &c));
                assert!(rendered.html.contains(&format!("lang=\"{language}\"")));
            }
            for template in copy::templates(Channel::Sms) {
                assert!(render_sms(&message(template, &c), "https://x.example/s/1").unwrap().contains("STOP"));
            }
            for template in copy::templates(Channel::Push) {
                assert!(render_push(&message(template, &c)).is_ok());
            }
        }
        let input = EmailInput { message: message("nope", &c), restore_url: "x", unsubscribe_url: "y" };
        assert!(render_email(&input).is_err());
    }
}
