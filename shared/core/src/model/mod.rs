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

pub use address::{AddressError, Email, PhoneE164};
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
        let cases = [("379.69", 37969), ("0.5", 50), ("12", 1200), ("10.500", 1050), ("-3.20", -320)];
        for (text, minor) in cases {
            assert_eq!(Money::parse("total", text, &usd()).unwrap().minor, minor, "{text}");
        }
        let jpy = Currency::parse("JPY").unwrap();
        assert_eq!(Money::parse("total", "1200", &jpy).unwrap().minor, 1200);
        assert_eq!(Money::parse("total", "12", &jpy).unwrap().display(), "JPY 12");
    }

    #[test]
    fn money_refuses_garbage() {
        for text in ["", "abc", "1.2.3", "10.505", "1e3", ".5", " "] {
            assert!(Money::parse("total", text, &usd()).is_err(), "{text:?}");
        }
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
