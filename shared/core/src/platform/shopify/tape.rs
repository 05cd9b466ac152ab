//! The checkout hot path: a `checkouts/*` body read straight off simd-json's tape.
//!
//! simd-json validates the whole body (structure and UTF-8) and lays it out as a tape in which
//! every object and array knows how many nodes it spans. Serde's visitors over that tape walk
//! every node, also of the values Reclaim never keeps (a line item's taxes, discounts, properties,
//! the addresses' other fields, the order's notes): on a 10 KB checkout that walk cost as much as
//! the parse itself. Here each field the model keeps is matched by name and read with its type
//! checked, and every other value is stepped over in one move.
//!
//! The raw shapes and their normalisation are the module's own (`RawCheckout` and friends), so
//! this module decides only how the JSON becomes them; the derive-based reading it replaced is kept
//! in the tests as the oracle that both agree.

use super::{RawAddress, RawCheckout, RawClientDetails, RawCustomer, RawDiscountCode, RawImage, RawLineItem};
use chrono::{DateTime, FixedOffset, Utc};
use simd_json::prelude::*;
use simd_json::tape::{Tape, Value};
use std::borrow::Cow;

/// Why a body is not the shape its topic promises, naming the field.
pub(super) type Malformed = String;

/// Runs `read` on the tape of `body`. The copy simd-json parses in place, its scratch buffers and
/// the tape itself are kept per thread and reused, so a call allocates nothing of its own.
pub(super) fn with_tape<T>(
    body: &[u8],
    read: impl FnOnce(Value<'_, '_>) -> Result<T, Malformed>,
) -> Result<T, Malformed> {
    struct Scratch {
        copy: Vec<u8>,
        buffers: simd_json::Buffers,
        tape: Option<Tape<'static>>,
    }
    thread_local! {
        static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::new(Scratch {
            copy: Vec::new(),
            buffers: simd_json::Buffers::default(),
            tape: None,
        });
    }
    fn parse<T>(
        body: &[u8],
        copy: &mut Vec<u8>,
        buffers: &mut simd_json::Buffers,
        tape: Tape<'static>,
        read: impl FnOnce(Value<'_, '_>) -> Result<T, Malformed>,
    ) -> (Result<T, Malformed>, Tape<'static>) {
        copy.clear();
        copy.extend_from_slice(body);
        copy.resize(body.len() + simd_json::INPUT_PADDING, b' ');
        let mut tape = tape.reset();
        let result = match simd_json::fill_tape_padded(copy, body.len(), buffers, &mut tape) {
            Ok(()) => read(tape.as_value()),
            Err(e) => Err(e.to_string()),
        };
        (result, tape.reset())
    }
    SCRATCH.with(|scratch| match scratch.try_borrow_mut() {
        Ok(mut scratch) => {
            let Scratch { copy, buffers, tape } = &mut *scratch;
            let (result, emptied) = parse(body, copy, buffers, tape.take().unwrap_or_else(Tape::null), read);
            *tape = Some(emptied);
            result
        }
        // Re-entered on this thread (never on the hot path): fresh buffers.
        Err(_) => parse(body, &mut Vec::new(), &mut simd_json::Buffers::new(body.len()), Tape::null(), read).0,
    })
}

/// `value`'s fields, or why it is not an object. Each value spans its own nodes only, so a
/// field that is not read costs nothing.
fn fields<'t, 'i>(value: Value<'t, 'i>, field: &str) -> Result<simd_json::tape::object::Iter<'t, 'i>, Malformed> {
    Ok(value.as_object().ok_or_else(|| format!("{field}: expected an object"))?.iter())
}

/// An optional object: `null` is absent.
fn object<'t, 'i, T>(
    value: Value<'t, 'i>,
    field: &str,
    read: impl FnOnce(Value<'t, 'i>) -> Result<T, Malformed>,
) -> Result<Option<T>, Malformed> {
    if value.is_null() { Ok(None) } else { read(value).map(Some).map_err(|e| format!("{field}.{e}")) }
}

/// An optional array, each element read by `read`: `null` is empty.
fn array<'t, 'i, T>(
    value: Value<'t, 'i>,
    field: &str,
    mut read: impl FnMut(Value<'t, 'i>) -> Result<T, Malformed>,
) -> Result<Vec<T>, Malformed> {
    if value.is_null() {
        return Ok(Vec::new());
    }
    let items = value.as_array().ok_or_else(|| format!("{field}: expected an array"))?;
    items.iter().map(|item| read(item).map_err(|e| format!("{field}[].{e}"))).collect()
}

/// Optional text, borrowed from the body: `null` is absent.
fn text<'i>(value: Value<'_, 'i>, field: &str) -> Result<Option<Cow<'i, str>>, Malformed> {
    match value.into_string() {
        Some(text) => Ok(Some(Cow::Borrowed(text))),
        None if value.is_null() => Ok(None),
        None => Err(format!("{field}: expected a string")),
    }
}

/// Optional text, owned.
fn owned_text(value: Value<'_, '_>, field: &str) -> Result<Option<String>, Malformed> {
    text(value, field).map(|text| text.map(Cow::into_owned))
}

/// `true`/`false`; `null` is `false`.
fn flag(value: Value<'_, '_>, field: &str) -> Result<bool, Malformed> {
    match value.as_bool() {
        Some(flag) => Ok(flag),
        None if value.is_null() => Ok(false),
        None => Err(format!("{field}: expected true or false")),
    }
}

/// An optional whole number that fits `T`.
fn whole<T: TryFrom<u64>>(value: Value<'_, '_>, field: &str) -> Result<Option<T>, Malformed> {
    if value.is_null() {
        return Ok(None);
    }
    value
        .as_u64()
        .and_then(|n| T::try_from(n).ok())
        .map(Some)
        .ok_or_else(|| format!("{field}: expected a whole number in range"))
}

/// An id Shopify sends as a string or a number; `null` and `""` are absent.
fn id(value: Value<'_, '_>, field: &str) -> Result<Option<String>, Malformed> {
    if let Some(text) = value.as_str() {
        return Ok((!text.is_empty()).then(|| text.to_owned()));
    }
    if let Some(n) = value.as_u64() {
        return Ok(Some(n.to_string()));
    }
    if let Some(n) = value.as_i64() {
        return Ok(Some(n.to_string()));
    }
    if value.is_null() { Ok(None) } else { Err(format!("{field}: expected a string or a number")) }
}

/// An optional RFC 3339 instant.
fn instant(value: Value<'_, '_>, field: &str) -> Result<Option<DateTime<Utc>>, Malformed> {
    text(value, field)?
        .map(|text| {
            text.parse::<DateTime<FixedOffset>>()
                .map(|at| at.with_timezone(&Utc))
                .map_err(|e| format!("{field}: not a date and time ({e})"))
        })
        .transpose()
}

/// A required field's value, or why it is missing.
fn required<T>(value: Option<T>, field: &str) -> Result<T, Malformed> {
    value.ok_or_else(|| format!("missing field `{field}`"))
}

impl<'i> RawCheckout<'i> {
    /// Reads a checkout off the tape.
    pub(super) fn from_tape(value: Value<'_, 'i>) -> Result<Self, Malformed> {
        let (mut token, mut created_at) = (None, None);
        let mut checkout = RawCheckout {
            token: String::new(),
            cart_token: None,
            email: None,
            phone: None,
            sms_marketing_phone: None,
            buyer_accepts_marketing: false,
            buyer_accepts_sms_marketing: false,
            customer_locale: None,
            currency: None,
            presentment_currency: None,
            line_items: Vec::new(),
            subtotal_price: None,
            total_price: None,
            abandoned_checkout_url: None,
            created_at: DateTime::<Utc>::MIN_UTC,
            updated_at: None,
            completed_at: None,
            shipping_address: None,
            billing_address: None,
            customer: None,
            shipping_lines: Vec::new(),
            discount_codes: Vec::new(),
            client_details: None,
        };
        for (name, value) in fields(value, "checkout")? {
            match name {
                "token" => token = id(value, name)?,
                "cart_token" => checkout.cart_token = id(value, name)?,
                "email" => checkout.email = text(value, name)?,
                "phone" => checkout.phone = text(value, name)?,
                "sms_marketing_phone" => checkout.sms_marketing_phone = text(value, name)?,
                "buyer_accepts_marketing" => checkout.buyer_accepts_marketing = flag(value, name)?,
                "buyer_accepts_sms_marketing" => checkout.buyer_accepts_sms_marketing = flag(value, name)?,
                "customer_locale" => checkout.customer_locale = text(value, name)?,
                "currency" => checkout.currency = text(value, name)?,
                "presentment_currency" => checkout.presentment_currency = text(value, name)?,
                "line_items" => checkout.line_items = array(value, name, RawLineItem::from_tape)?,
                "subtotal_price" => checkout.subtotal_price = text(value, name)?,
                "total_price" => checkout.total_price = text(value, name)?,
                "abandoned_checkout_url" => checkout.abandoned_checkout_url = owned_text(value, name)?,
                "created_at" => created_at = instant(value, name)?,
                "updated_at" => checkout.updated_at = instant(value, name)?,
                "completed_at" => checkout.completed_at = instant(value, name)?,
                "shipping_address" => checkout.shipping_address = object(value, name, RawAddress::from_tape)?,
                "billing_address" => checkout.billing_address = object(value, name, RawAddress::from_tape)?,
                "customer" => checkout.customer = object(value, name, RawCustomer::from_tape)?,
                "shipping_lines" => checkout.shipping_lines = array(value, name, |_| Ok(serde::de::IgnoredAny))?,
                "discount_codes" => checkout.discount_codes = array(value, name, RawDiscountCode::from_tape)?,
                "client_details" => checkout.client_details = object(value, name, RawClientDetails::from_tape)?,
                _ => {}
            }
        }
        checkout.token = required(token, "token")?;
        checkout.created_at = required(created_at, "created_at")?;
        Ok(checkout)
    }
}

impl<'i> RawLineItem<'i> {
    fn from_tape(value: Value<'_, 'i>) -> Result<Self, Malformed> {
        let (mut quantity, mut price) = (None, None);
        let mut line = RawLineItem {
            title: None,
            presentment_title: None,
            variant_title: None,
            variant_id: None,
            product_id: None,
            quantity: 0,
            price: Cow::Borrowed(""),
            image_url: None,
            image: None,
        };
        for (name, value) in fields(value, "line item")? {
            match name {
                "title" => line.title = text(value, name)?,
                "presentment_title" => line.presentment_title = text(value, name)?,
                "variant_title" => line.variant_title = text(value, name)?,
                "variant_id" => line.variant_id = whole(value, name)?,
                "product_id" => line.product_id = whole(value, name)?,
                "quantity" => quantity = whole(value, name)?,
                "price" => price = text(value, name)?,
                "image_url" => line.image_url = owned_text(value, name)?,
                "image" => line.image = RawImage::from_tape(value)?,
                _ => {}
            }
        }
        line.quantity = required(quantity, "quantity")?;
        line.price = required(price, "price")?;
        Ok(line)
    }
}

impl RawImage {
    /// A URL, an object with `src`, or `null`.
    fn from_tape(value: Value<'_, '_>) -> Result<Option<Self>, Malformed> {
        if let Some(url) = value.as_str() {
            return Ok(Some(RawImage::Url(url.to_owned())));
        }
        object(value, "image", |image| {
            let mut src = None;
            for (name, value) in fields(image, "image")? {
                if name == "src" {
                    src = owned_text(value, name)?;
                }
            }
            Ok(RawImage::Object { src })
        })
    }
}

impl<'i> RawAddress<'i> {
    fn from_tape(value: Value<'_, 'i>) -> Result<Self, Malformed> {
        let mut address = RawAddress { first_name: None, phone: None, country_code: None, province_code: None };
        for (name, value) in fields(value, "address")? {
            match name {
                "first_name" => address.first_name = text(value, name)?,
                "phone" => address.phone = text(value, name)?,
                "country_code" => address.country_code = text(value, name)?,
                "province_code" => address.province_code = text(value, name)?,
                _ => {}
            }
        }
        Ok(address)
    }
}

impl<'i> RawCustomer<'i> {
    fn from_tape(value: Value<'_, 'i>) -> Result<Self, Malformed> {
        let mut customer = RawCustomer { first_name: None, email: None, phone: None, orders_count: None };
        for (name, value) in fields(value, "customer")? {
            match name {
                "first_name" => customer.first_name = text(value, name)?,
                "email" => customer.email = text(value, name)?,
                "phone" => customer.phone = text(value, name)?,
                "orders_count" => customer.orders_count = whole(value, name)?,
                _ => {}
            }
        }
        Ok(customer)
    }
}

impl RawDiscountCode {
    fn from_tape(value: Value<'_, '_>) -> Result<Self, Malformed> {
        let mut code = None;
        for (name, value) in fields(value, "discount code")? {
            if name == "code" {
                code = owned_text(value, name)?;
            }
        }
        Ok(RawDiscountCode { code: required(code, "code")? })
    }
}

impl<'i> RawClientDetails<'i> {
    fn from_tape(value: Value<'_, 'i>) -> Result<Self, Malformed> {
        let mut details = RawClientDetails { user_agent: None };
        for (name, value) in fields(value, "client_details")? {
            if name == "user_agent" {
                details.user_agent = text(value, name)?;
            }
        }
        Ok(details)
    }
}

#[cfg(test)]
mod tests {
    //! The tape reader against the derive-based reader it replaced (serde over the same structs):
    //! whatever serde reads, the tape reads to the same snapshot; whatever the tape refuses, serde
    //! refuses too. The tape is only more lenient where a `null` means "none" (a `null` flag or
    //! list) and where a key repeats (the last wins, as in `JSON.parse`).

    use super::super::{RawCheckout, parse_event};
    use crate::model::CheckoutSnapshot;
    use crate::platform::PlatformEvent;
    use proptest::prelude::*;
    use serde_json::{Value as Json, json};

    const FIXTURE: &str = include_str!("../../../../../infra/fixtures/shopify/checkout.json");

    fn by_tape(body: &[u8]) -> Result<CheckoutSnapshot, String> {
        match parse_event("checkouts/update", body) {
            Ok(PlatformEvent::CheckoutUpserted(snapshot)) => Ok(snapshot),
            Ok(other) => panic!("not a checkout: {other:?}"),
            Err(e) => Err(e.to_string()),
        }
    }

    fn by_serde(body: &[u8]) -> Result<CheckoutSnapshot, String> {
        let raw: RawCheckout = serde_json::from_slice(body).map_err(|e| e.to_string())?;
        raw.normalise().map_err(|e| e.to_string())
    }

    /// What a field may be turned into.
    fn replacement() -> impl Strategy<Value = Option<Json>> {
        prop_oneof![
            4 => Just(None),
            1 => Just(Some(Json::Null)),
            1 => Just(Some(json!(7))),
            1 => Just(Some(json!(-3))),
            1 => Just(Some(json!(2.5))),
            1 => Just(Some(json!("0"))),
            1 => Just(Some(json!("Zoë \"quoted\" \\ \u{1F600} \n"))),
            1 => Just(Some(json!("2026-11-20T10:00:00-05:00"))),
            1 => Just(Some(json!(true))),
            1 => Just(Some(json!([]))),
            1 => Just(Some(json!({"src": "https://cdn.example/x.png", "code": "SAVE"}))),
        ]
    }

    /// The fixture with fields of the checkout, its first line item, its address and its
    /// customer removed (`"remove"`) or replaced.
    fn checkouts() -> impl Strategy<Value = Json> {
        let fixture: Json = serde_json::from_str(FIXTURE).unwrap();
        // The fixture's keys and every key the reader knows, present in the fixture or not.
        let keys = |value: &Json, known: &[&str]| {
            let mut keys: Vec<String> = value.as_object().map(|o| o.keys().cloned().collect()).unwrap_or_default();
            keys.extend(known.iter().map(|k| k.to_string()).filter(|k| value.get(k).is_none()));
            keys
        };
        let (top, line, address, customer) = (
            keys(
                &fixture,
                &["client_details", "shipping_lines", "discount_codes", "completed_at", "sms_marketing_phone"],
            ),
            keys(&fixture["line_items"][0], &["image_url", "image"]),
            keys(&fixture["shipping_address"], &[]),
            keys(&fixture["customer"], &["orders_count"]),
        );
        let edits = |names: Vec<String>| {
            proptest::collection::vec((proptest::sample::select(names), any::<bool>(), replacement()), 0..4)
        };
        (edits(top), edits(line), edits(address), edits(customer)).prop_map(move |(top, line, address, customer)| {
            let mut checkout = fixture.clone();
            let apply = |target: &mut Json, edits: &[(String, bool, Option<Json>)]| {
                for (name, remove, value) in edits {
                    let Some(object) = target.as_object_mut() else { return };
                    match (remove, value) {
                        (true, _) => {
                            object.remove(name);
                        }
                        (false, Some(value)) => {
                            object.insert(name.clone(), value.clone());
                        }
                        (false, None) => {}
                    }
                }
            };
            apply(&mut checkout["line_items"][0], &line);
            apply(&mut checkout["shipping_address"], &address);
            apply(&mut checkout["customer"], &customer);
            apply(&mut checkout, &top);
            checkout
        })
    }

    /// Whether the body holds a `null` where serde wants a flag or a list (the tape reads "none").
    fn lenient_nulls(checkout: &Json) -> bool {
        ["buyer_accepts_marketing", "buyer_accepts_sms_marketing", "line_items", "shipping_lines", "discount_codes"]
            .iter()
            .any(|name| checkout.get(*name).is_some_and(Json::is_null))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]
        #[test]
        fn the_tape_reads_what_serde_reads_and_refuses_what_it_refuses(checkout in checkouts()) {
            let body = serde_json::to_vec(&checkout).unwrap();
            let (tape, serde) = (by_tape(&body), by_serde(&body));
            match (&tape, &serde) {
                (Ok(a), Ok(b)) => prop_assert_eq!(a, b),
                (Err(_), Err(_)) => {}
                (Ok(_), Err(_)) => prop_assert!(lenient_nulls(&checkout), "the tape accepted {checkout} that serde refused: {serde:?}"),
                (Err(e), Ok(_)) => prop_assert!(false, "the tape refused {checkout} that serde read: {e}"),
            }
        }
    }

    #[test]
    fn a_field_of_the_wrong_type_is_named() {
        let mut checkout: Json = serde_json::from_str(FIXTURE).unwrap();
        checkout["line_items"][0]["quantity"] = json!("two");
        let error = by_tape(&serde_json::to_vec(&checkout).unwrap()).unwrap_err();
        assert!(error.contains("line_items[].quantity"), "{error}");
        let mut checkout: Json = serde_json::from_str(FIXTURE).unwrap();
        checkout.as_object_mut().unwrap().remove("created_at");
        assert!(by_tape(&serde_json::to_vec(&checkout).unwrap()).unwrap_err().contains("created_at"));
        assert!(by_tape(b"[1, 2]").unwrap_err().contains("expected an object"));
        assert!(by_tape(b"{\"token\": \"t\"").is_err(), "not JSON");
        assert!(by_tape(b"{\"token\": \"\xff\"}").is_err(), "not UTF-8");
    }

    #[test]
    fn escaped_text_is_read_unescaped_and_the_buffers_serve_the_next_body() {
        let mut checkout: Json = serde_json::from_str(FIXTURE).unwrap();
        checkout["line_items"][0]["title"] = json!("Linen \"Throw\" \u{e9}\u{1F600}");
        let first = by_tape(&serde_json::to_vec(&checkout).unwrap()).unwrap();
        assert_eq!(first.line_items[0].title, "Linen \"Throw\" \u{e9}\u{1F600}");
        let again = by_tape(FIXTURE.as_bytes()).unwrap();
        assert_eq!(again, by_serde(FIXTURE.as_bytes()).unwrap());
    }
}
