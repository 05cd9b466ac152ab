//! The message editor's live preview: one step's email, SMS and push, rendered by the real
//! renderer from the draft settings, for an example shopper in a chosen language and currency.
//!
//! The example cart is Reclaim's own (two products, a first name), with the shop's own product
//! images when its recent checkouts have any, so the merchant sees the email as it will arrive
//! in their shop. Nothing is sent and nothing is stored.

use super::admin::get_settings;
use super::{Ports, UseCaseError};
use crate::model::Channel;
use crate::model::{CheckoutSnapshot, Currency, LineItem, Money, ShopDomain};
use crate::ports::{Checkouts, Clock, EmailSender, SettingsStore, Shops};
use crate::render::copy::{self, CopyField, VARIABLES};
use crate::render::{
    EmailInput, Language, MessageInput, RenderedEmail, RenderedPush, SmsSegments, render_email, render_push,
    render_sms, sms_segments,
};
use crate::rules::RecoverySettings;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How far back the preview looks for the shop's product images.
const IMAGE_DAYS: i64 = 30;

/// A preview request, parsed at the edge.
#[derive(Debug, Clone)]
pub struct MessagePreviewRequest {
    /// The draft to render (the shop's saved settings when absent).
    pub settings: Option<RecoverySettings>,
    /// The step to render (the first enabled one when absent).
    pub step: Option<usize>,
    pub language: Language,
    pub currency: Currency,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Body {
    #[serde(default)]
    settings: Option<serde_json::Value>,
    #[serde(default)]
    step: Option<usize>,
    #[serde(default)]
    language: Option<Language>,
    #[serde(default)]
    currency: Option<String>,
}

impl MessagePreviewRequest {
    /// Parses `{"settings": {…}?, "step": 0?, "language": "de"?, "currency": "EUR"?}` (an empty
    /// body is `{}`); the language defaults to English, the currency to the language's usual one
    /// (USD for English, else EUR). Invalid draft settings list every problem with its path, as a
    /// save would.
    pub fn from_json(body: &[u8]) -> Result<Self, UseCaseError> {
        let body = if body.iter().all(u8::is_ascii_whitespace) { b"{}" } else { body };
        let body: Body = serde_json::from_slice(body).map_err(|e| {
            UseCaseError::BadRequest(format!(
                "expected {{\"step\": n, \"language\": \"en|de|fr|es|pt|it|nl\", \"currency\": \"EUR\"?, \"settings\": {{…}}?}}: {e}"
            ))
        })?;
        let language = body.language.unwrap_or(Language::En);
        let currency = match body.currency {
            Some(code) => Currency::parse(&code).map_err(|e| UseCaseError::BadRequest(format!("currency: {e}")))?,
            None => Currency::parse(if language == Language::En { "USD" } else { "EUR" }).expect("a currency"),
        };
        let settings = body
            .settings
            .map(|value| RecoverySettings::from_json(&value.to_string()).map_err(UseCaseError::InvalidSettings))
            .transpose()?;
        Ok(Self { settings, step: body.step, language, currency })
    }
}

/// One step's messages as they will arrive.
#[derive(Debug, Clone, Serialize)]
pub struct MessagePreview {
    pub step: usize,
    pub language: Language,
    pub email: RenderedEmail,
    pub sms: SmsPreview,
    pub push: RenderedPush,
    /// The variables copy may use, with what each holds.
    pub variables: Vec<Variable>,
    /// Each channel's copy fields, as an editor shows them.
    pub fields: Fields,
    /// The step's templates' own words in this language, field by field (what a field the
    /// merchant leaves empty says).
    pub template_copy: BTreeMap<&'static str, BTreeMap<CopyField, String>>,
}

/// The SMS with how it travels.
#[derive(Debug, Clone, Serialize)]
pub struct SmsPreview {
    pub text: String,
    #[serde(flatten)]
    pub segments: SmsSegments,
}

#[derive(Debug, Clone, Serialize)]
pub struct Variable {
    pub name: &'static str,
    pub meaning: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct Fields {
    pub email: &'static [CopyField],
    pub sms: &'static [CopyField],
    pub push: &'static [CopyField],
}

/// Renders step `request.step` of the draft (or the saved settings) for an example shopper.
pub async fn preview_messages<P: Ports<Store: SettingsStore + Checkouts>>(
    ports: &P,
    shop: &ShopDomain,
    request: MessagePreviewRequest,
) -> Result<MessagePreview, UseCaseError> {
    let settings = match request.settings {
        Some(settings) => settings,
        None => get_settings(ports, shop).await?.settings,
    };
    let index = request.step.unwrap_or_else(|| settings.enabled_steps().next().map_or(0, |(i, _)| i as usize));
    let step = settings.steps.get(index).ok_or_else(|| {
        UseCaseError::BadRequest(format!("step: there is no step {index} (the settings have {})", settings.steps.len()))
    })?;
    let now = ports.clock().now();
    let images = shop_images(ports, shop, now).await?;
    let cart = example_cart(request.language, request.currency, &images, now);
    let shop_name = super::shop_display_name(shop.as_str());
    let base = ports.config().public_base_url.trim_end_matches('/');
    let message = |template| MessageInput {
        template,
        copy: Some(&step.copy),
        shop_name: &shop_name,
        checkout: &cart,
        discount: step.incentive.map(|offer| ("EXAMPLE-CODE", offer.percent)),
    };
    let email = render_email(&EmailInput {
        message: message(step.templates.email.as_str()),
        restore_url: &format!("{base}/r/example"),
        unsubscribe_url: &format!("{base}/u/example"),
    })?;
    // A short link as long as a real one (its code is ten characters), so the count is the real one.
    let short_link = format!("{base}/s/{}", crate::links::short_code("example"));
    let sms = render_sms(&message(step.templates.sms.as_str()), &short_link)?;
    let mut template_copy = BTreeMap::new();
    for channel in [Channel::Email, Channel::Sms, Channel::Push] {
        let template = step.templates.for_channel(channel);
        let mut fields = BTreeMap::new();
        for field in CopyField::of(channel) {
            fields.insert(*field, copy::field(channel, template, request.language, None, *field)?.as_str().to_owned());
        }
        template_copy.insert(channel.as_str(), fields);
    }
    Ok(MessagePreview {
        step: index,
        language: request.language,
        email,
        sms: SmsPreview { segments: sms_segments(&sms), text: sms },
        push: render_push(&message(step.templates.push.as_str()))?,
        variables: VARIABLES.iter().map(|(name, meaning)| Variable { name, meaning }).collect(),
        fields: Fields {
            email: CopyField::of(Channel::Email),
            sms: CopyField::of(Channel::Sms),
            push: CopyField::of(Channel::Push),
        },
        template_copy,
    })
}

/// "Send me a test": the step's email exactly as the preview shows it (the draft or the saved
/// settings, the chosen language and currency), mailed to the shop's own contact address and
/// never to anyone else. Returns where it went; a shop that has not installed the app (no contact
/// address) is told so.
pub async fn send_test_email<P: Ports<Store: SettingsStore + Shops + Checkouts, Messenger: EmailSender>>(
    ports: &P,
    shop: &ShopDomain,
    request: MessagePreviewRequest,
) -> Result<crate::model::Email, UseCaseError> {
    let to =
        ports.store().shop_state(shop).await?.installation.and_then(|i| i.contact_email).ok_or_else(|| {
            UseCaseError::BadRequest("the shop has no contact address yet: install the app first".into())
        })?;
    let email = preview_messages(ports, shop, request).await?.email;
    let email = crate::ports::OutgoingEmail {
        from: ports.config().sender.clone(),
        to: to.clone(),
        subject: format!("[Test] {}", email.subject),
        html: email.html,
        text: email.text,
        unsubscribe_url: String::new(),
        tags: vec![("shop".into(), shop.as_str().replace('.', "_")), ("kind".into(), "test".into())],
        attachment: None,
        reply_to: None,
    };
    ports.messenger().send_email(&email).await?;
    let now = ports.clock().now();
    ports
        .store()
        .update_shop_state(shop, |state| {
            state.test_email_sent_at = Some(now);
            true
        })
        .await?;
    Ok(to)
}

/// Up to two product images (https) from the shop's recent checkouts, newest first.
async fn shop_images<P: Ports<Store: Checkouts>>(
    ports: &P,
    shop: &ShopDomain,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<String>, UseCaseError> {
    let recent = ports.store().recent_checkouts(shop, now - chrono::Duration::days(IMAGE_DAYS), 50).await?;
    let mut images: Vec<String> = Vec::new();
    for url in recent.iter().flat_map(|record| &record.snapshot.line_items).filter_map(|item| item.image_url.as_ref()) {
        if url.starts_with("https://") && !images.contains(url) && images.len() < 2 {
            images.push(url.clone());
        }
    }
    Ok(images)
}

/// The example shopper's cart: Alex, in `language` (its locale), two products priced in
/// `currency`, with `images` in order.
fn example_cart(
    language: Language,
    currency: Currency,
    images: &[String],
    now: chrono::DateTime<chrono::Utc>,
) -> CheckoutSnapshot {
    let mut cart = CheckoutSnapshot::example_for_merchant(
        crate::model::Email::parse("alex@example.com").expect("an address"),
        currency,
        now,
    );
    cart.contact.first_name = Some("Alex".into());
    cart.locale = Some(language.code().into());
    let price = |whole: i64| Money { minor: whole * 10_i64.pow(currency.exponent()), currency };
    cart.line_items = vec![
        LineItem {
            title: "Linen Throw Blanket".into(),
            variant_title: Some("Oat".into()),
            variant_id: None,
            product_id: None,
            quantity: 1,
            unit_price: price(89),
            image_url: images.first().cloned(),
        },
        LineItem {
            title: "Stoneware Mug".into(),
            variant_title: Some("Sand".into()),
            variant_id: None,
            product_id: None,
            quantity: 2,
            unit_price: price(24),
            image_url: images.get(1).cloned(),
        },
    ];
    let total = Money::sum(
        currency,
        cart.line_items.iter().map(|item| Money { minor: item.unit_price.minor * i64::from(item.quantity), currency }),
    )
    .expect("a small total");
    cart.subtotal = total.clone();
    cart.total = total;
    cart
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_cart_is_priced_in_the_chosen_currency_whatever_its_minor_units() {
        let now = chrono::Utc::now();
        for (code, minor) in [("EUR", 8900), ("USD", 8900), ("JPY", 89), ("KWD", 89000)] {
            let cart = example_cart(Language::De, Currency::parse(code).unwrap(), &[], now);
            assert_eq!(cart.line_items[0].unit_price.minor, minor, "{code}");
            assert_eq!(cart.total.minor, minor * 137 / 89, "{code}: 89 + 2 × 24");
        }
    }

    #[test]
    fn a_request_defaults_to_the_languages_currency_and_refuses_nonsense() {
        let request = MessagePreviewRequest::from_json(br#"{"step": 1, "language": "de"}"#).unwrap();
        assert_eq!((request.step, request.language, request.currency.as_str()), (Some(1), Language::De, "EUR"));
        for empty in [&b"{}"[..], b"", b" \n"] {
            let request = MessagePreviewRequest::from_json(empty).unwrap();
            assert_eq!((request.step, request.language, request.currency.as_str()), (None, Language::En, "USD"));
        }
        for bad in
            [&br#"{"language": "xx"}"#[..], br#"{"currency": "EURO"}"#, br#"{"step": -1}"#, br#"{"surprise": 1}"#]
        {
            assert!(MessagePreviewRequest::from_json(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
        let invalid = br#"{"settings": {"steps": [{"name": "a", "delay": "1h", "copy": {"email": {"de": {"subject": "{{ secret }}"}}}}]}}"#;
        let Err(UseCaseError::InvalidSettings(problems)) = MessagePreviewRequest::from_json(invalid) else {
            panic!("invalid copy is refused with its path");
        };
        assert_eq!(problems[0].path, "steps[0].copy.email.de.subject", "{problems:?}");
    }
}
