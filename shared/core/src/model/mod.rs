//! The domain model: validated identifiers, money in integer minor units, and the snapshots and
//! records that the use cases read and write. Parsing into these types is where bad input stops.

mod address;
mod channel;
mod checkout;
mod contact;
mod ids;
mod message;
mod money;
mod shop;

pub use address::{AddressError, Email, PhoneE164, WrittenPhone};
pub use channel::Channel;
pub use checkout::*;
pub use contact::*;
pub use ids::*;
pub use message::*;
pub use money::*;
pub use shop::*;

#[cfg(test)]
mod tests {
    use super::*;

    fn usd() -> Currency {
        Currency::parse("usd").unwrap()
    }

    #[test]
    fn money_parses_exactly() {
        let cases = [("379.69", 37969), ("0.5", 50), ("12", 1200), ("10.500", 1050), ("0", 0)];
        for (text, minor) in cases {
            assert_eq!(Money::parse("total", text, &usd()).unwrap().minor, minor, "{text}");
        }
        let jpy = Currency::parse("JPY").unwrap();
        assert_eq!(Money::parse("total", "1200", &jpy).unwrap().minor, 1200);
        assert_eq!(Money::parse("total", "12", &jpy).unwrap().display(), "JPY 12");
    }

    #[test]
    fn money_refuses_garbage() {
        for text in ["", "abc", "1.2.3", "10.505", "1e3", ".5", " ", "-3.20", "-0", "+1", "99999999999999999999"] {
            assert!(Money::parse("total", text, &usd()).is_err(), "{text:?}");
        }
    }

    #[test]
    fn money_arithmetic_is_checked() {
        let huge = Money { minor: i64::MAX / 2, currency: usd() };
        assert_eq!(huge.times(2).map(|m| m.minor), Some(i64::MAX - 1));
        assert_eq!(huge.times(3), None, "a line total that overflows is refused, not wrapped");
        assert_eq!(Money::sum(usd(), [huge.clone(), huge.clone()]).map(|m| m.minor), Some(i64::MAX - 1));
        assert_eq!(Money::sum(usd(), [huge.clone(), huge.clone(), huge]), None);
    }

    #[test]
    fn a_checkout_whose_lines_overflow_without_a_total_is_refused() {
        let body = serde_json::json!({
            "token": "chk-big", "currency": "USD", "created_at": "2026-06-01T09:00:00Z",
            "line_items": [{"title": "Everything", "quantity": 4_000_000_000u32, "price": "99999999999.00"}]
        });
        let refused = crate::platform::shopify::parse_event("checkouts/create", body.to_string().as_bytes());
        assert!(matches!(refused, Err(crate::platform::DeliveryError::MalformedPayload(_))), "{refused:?}");
    }

    #[test]
    fn money_displays_minor_units() {
        assert_eq!(Money::parse("t", "379.69", &usd()).unwrap().display(), "USD 379.69");
        assert_eq!(Money::parse("t", "0.05", &usd()).unwrap().display(), "USD 0.05");
    }

    #[test]
    fn shop_domain_only_myshopify() {
        assert!(ShopDomain::parse("Demo-Store.myshopify.com").is_ok());
        for bad in ["evil.com", "myshopify.com", ".myshopify.com", "a.b.myshopify.com", "x.myshopify.com.evil.com"] {
            assert!(ShopDomain::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn contact_key_is_case_insensitive_and_per_shop() {
        let a = ShopDomain::parse("a.myshopify.com").unwrap();
        let b = ShopDomain::parse("b.myshopify.com").unwrap();
        assert_eq!(ContactKey::for_email(&a, "Bob@X.com"), ContactKey::for_email(&a, "bob@x.com"));
        assert_ne!(ContactKey::for_email(&a, "bob@x.com"), ContactKey::for_email(&b, "bob@x.com"));
        assert!(!ContactKey::for_email(&a, "bob@x.com").as_str().contains('@'));
    }
}
